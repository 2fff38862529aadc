"""QR codes for the public links: PUBLIC_BASE_URL/d/<deputy>, /p/<project>, /s/<station>.

Error correction M, a 4-module quiet zone, whole pixels per module. The same input always gives the same
bytes. Speed: the mask pattern is fixed (choosing the "best" of eight masks costs two thirds of the time and
every decoder reads any mask), and the image is built straight from the module matrix with Pillow.
"""
import io

import qrcode
from flask import current_app
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

from models import Deputy, Project, Station
from services.errors import NotFound

QUIET = 4            # modules of white around the symbol (ISO/IEC 18004)
MASK = 2             # fixed mask pattern (see module docstring)
DEFAULT_SIZE = 360   # pixels
MIN_SIZE, MAX_SIZE = 64, 2048
KINDS = {"d": "deputy", "p": "project", "s": "station"}


def public_url(kind, code):
    """The URL a code encodes, e.g. public_url("d", "DB0001") -> "http://host/d/DB0001"."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/{kind}/{code}"


def lookup(kind, code):
    """The deputy / published project / station behind a public code; NotFound (404) otherwise."""
    code = str(code or "").strip().upper()
    if kind == "d":
        found = Deputy.get_or_none(Deputy.code == code)
    elif kind == "p":
        found = Project.get_or_none(Project.code == code, Project.published == True)  # noqa: E712
    elif kind == "s":
        found = Station.get_or_none(Station.code == code)
    else:
        found = None
    if found is None:
        raise NotFound("code_not_found", "未找到该二维码对应的代表、项目或联络站")
    return found


def matrix(text, best_mask=False):
    """The QR symbol's modules (rows of booleans, True = dark), without the quiet zone."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=None if best_mask else MASK)
    code.add_data(text.encode("utf-8"))
    code.make(fit=True)
    return code.modules


def clamp_size(size):
    try:
        size = int(size)
    except (TypeError, ValueError):
        return DEFAULT_SIZE
    return max(MIN_SIZE, min(MAX_SIZE, size))


def png(text, size=DEFAULT_SIZE):
    """A black-and-white PNG at most `size` pixels wide (at least one pixel per module)."""
    modules = matrix(text)
    width = len(modules) + 2 * QUIET
    margin, pad = b"\xff" * (width * QUIET), b"\xff" * QUIET
    raw = margin + b"".join(pad + bytes(0 if dark else 255 for dark in row) + pad for row in modules) + margin
    image = Image.frombytes("L", (width, width), raw).convert("1", dither=Image.Dither.NONE)
    scale = max(1, clamp_size(size) // width)
    image = image.resize((width * scale, width * scale), Image.NEAREST)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def svg_path(modules):
    """Path data drawing the dark modules, one unit per module, horizontal runs merged."""
    parts = []
    for y, row in enumerate(modules):
        x, n = 0, len(row)
        while x < n:
            if row[x]:
                start = x
                while x < n and row[x]:
                    x += 1
                parts.append(f"M{start + QUIET} {y + QUIET}h{x - start}v1h{start - x}z")
            else:
                x += 1
    return "".join(parts)


def svg(text, size=DEFAULT_SIZE):
    """A standalone SVG of the code (scales without loss; `size` sets its nominal width in pixels)."""
    modules = matrix(text)
    width = len(modules) + 2 * QUIET
    size = clamp_size(size)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" viewBox="0 0 {width} {width}"'
            f' shape-rendering="crispEdges"><title>{escape(text)}</title>'
            f'<rect width="{width}" height="{width}" fill="#fff"/>'
            f'<path fill="#000" d="{svg_path(modules)}"/></svg>\n').encode("utf-8")


def escape(text):
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))
