"""Mini-program codes (小程序码) from wxacode.getUnlimited, as an alternative image for each public code.

The scene is "<kind>=<code>" (e.g. "d=DB0001", at most 32 characters); the mini-program page named by
WECHAT_MP_SCAN_PAGE (its home page when empty) reads it from `decodeURIComponent(query.scene)`.
WeChat's codes never expire, so each is fetched once and kept under UPLOAD_FOLDER/wxacode/. WeChat sends
JPEG (PNG only for transparent codes); the image is kept and served with the type it has.
"""
import os

from flask import current_app

from services.errors import ServiceError


def scene(kind, code):
    value = f"{kind}={code}"
    if len(value) > 32:
        raise ValueError(f"scene longer than 32 characters: {value}")
    return value


EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png"}


def image(kind, code, width=430):
    """(bytes, mimetype) of the mini-program code; 503 when WeChat cannot be reached, 502 when it refuses."""
    from wechat import client
    from wechat.errors import WeChatAPIError, WeChatUnavailable
    cfg = current_app.config
    folder = os.path.join(cfg["UPLOAD_FOLDER"], "wxacode", cfg.get("WECHAT_MP_APP_ID") or "none")
    base = os.path.join(folder, f"{kind}-{code}-{width}")
    for mimetype, extension in EXTENSIONS.items():
        if os.path.exists(f"{base}.{extension}"):
            with open(f"{base}.{extension}", "rb") as fh:
                return fh.read(), mimetype
    try:
        data = client.get_wxacode_unlimited(scene(kind, code), page=cfg.get("WECHAT_MP_SCAN_PAGE") or None,
                                            width=width)
    except WeChatUnavailable:
        raise ServiceError("wechat_unavailable", "暂时连不上微信，请稍后再试，或使用普通二维码", status=503) from None
    except WeChatAPIError as err:
        raise ServiceError("wechat_error", f"微信未能生成小程序码（错误码 {err.errcode}），请使用普通二维码",
                           status=502) from None
    mimetype = client.image_type(data) if isinstance(data, bytes) else None
    if mimetype is None:
        raise ServiceError("wechat_error", "微信返回的不是图片，请使用普通二维码", status=502)
    path = f"{base}.{EXTENSIONS[mimetype]}"
    os.makedirs(folder, exist_ok=True)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "wb") as fh:
        fh.write(data)
    os.replace(temporary, path)
    return data, mimetype
