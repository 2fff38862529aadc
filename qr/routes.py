"""GET /qr/… — codes, printables and mini-program codes, with ETag and Cache-Control so repeats are cheap.

  /qr/d/<code>.png|.svg   (also /qr/p/, /qr/s/)   ?size=<pixels>  64…2048, default 360
  /qr/card/<deputy>.svg|.png|.pdf, /qr/plaque/<project>.…, /qr/board/<station>.…   ?dpi= (PNG)  ?download=1
  /qr/d/<code>.wxa.png    (also p, s)   mini-program code from WeChat (wxacode.getUnlimited)
"""
import hashlib
import re

from flask import Blueprint, Response, current_app, request

from qr import codes, printables, wxa
from services.errors import NotFound

bp = Blueprint("qr", __name__, url_prefix="/qr")
VERSION = "1"  # bump when the drawing changes, so cached copies are revalidated
CODE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
MIME = {"png": "image/png", "svg": "image/svg+xml", **printables.FORMATS}


def _code(code):
    if not CODE.match(code):
        raise NotFound("code_not_found", "未找到该二维码对应的代表、项目或联络站")
    return code.upper()


def _send(data_or_build, key, fmt, max_age, filename=None):  # fmt: a key of MIME, or a mimetype
    """Answer 304 when the client has `key`'s version, otherwise build the bytes and send them."""
    etag = hashlib.sha1(f"{VERSION}|{key}".encode()).hexdigest()[:20]
    if request.if_none_match.contains(etag):
        response = Response(status=304)
    else:
        data = data_or_build() if callable(data_or_build) else data_or_build
        response = Response(data, mimetype=MIME.get(fmt, fmt))
        if filename:
            disposition = "attachment" if request.args.get("download") else "inline"
            response.headers["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response.set_etag(etag)
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.get("/<any(d,p,s):kind>/<code>.<any(png,svg):fmt>")
def code_image(kind, code, fmt):
    found = codes.lookup(kind, _code(code))
    url = codes.public_url(kind, found.code)
    size = codes.clamp_size(request.args.get("size", codes.DEFAULT_SIZE))
    build = codes.png if fmt == "png" else codes.svg
    return _send(lambda: build(url, size), f"code|{url}|{size}|{fmt}", fmt, 86400)


@bp.get("/<any(card,plaque,board):kind>/<code>.<any(svg,png,pdf):fmt>")
def printable(kind, code, fmt):
    letter, build = printables.SHEETS[kind]
    found = codes.lookup(letter, _code(code))
    sheet = build(found)
    svg = sheet.svg()  # cheap; PNG/PDF rendering is what the ETag saves
    try:
        dpi = max(72, min(600, int(request.args.get("dpi", printables.PREVIEW_DPI))))
    except ValueError:
        dpi = printables.PREVIEW_DPI
    key = f"{kind}|{hashlib.sha1(svg).hexdigest()}|{fmt}|{dpi if fmt == 'png' else ''}"
    return _send(lambda: svg if fmt == "svg" else printables.render(sheet, fmt, dpi), key, fmt, 300,
                 filename=f"{found.code}-{kind}.{fmt}")


@bp.get("/<any(d,p,s):kind>/<code>.wxa.png")
def wxacode(kind, code):
    found = codes.lookup(kind, _code(code))
    width = max(280, min(1280, codes.clamp_size(request.args.get("size", 430))))
    data, mimetype = wxa.image(kind, found.code, width)
    key = f"wxa|{current_app.config.get('WECHAT_MP_APP_ID')}|{kind}|{found.code}|{width}"
    return _send(data, key, mimetype, 86400)
