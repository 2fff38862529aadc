"""Uploaded images: type sniffed from the bytes, size and pixel limits, EXIF and GPS stripped by re-encoding.

Files live under UPLOAD_FOLDER/<year>/<month>/<token>.<ext>; GET /uploads/<token> serves them.
"""
import io
import os
import secrets

from flask import current_app
from PIL import Image, ImageOps, UnidentifiedImageError

from models import Upload, utcnow
from services.errors import InvalidInput, ServiceError

FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
MAX_BYTES = 8 * 1024 * 1024
MAX_PIXELS = 40_000_000
MAX_SIDE = 2560  # larger photos are scaled down: plenty for a pothole, far less storage


def _read(source):
    if isinstance(source, (bytes, bytearray)):
        return bytes(source)
    stream = getattr(source, "stream", source)
    return stream.read(current_app.config.get("UPLOAD_MAX_BYTES", MAX_BYTES) + 1)


def save_image(source, account=None):
    """Check, clean and store one image; returns its Upload row. Raises InvalidInput / 413 with a code."""
    limit = current_app.config.get("UPLOAD_MAX_BYTES", MAX_BYTES)
    data = _read(source)
    if not data:
        raise InvalidInput("empty_file", "请选择要上传的图片")
    if len(data) > limit:
        raise ServiceError("too_large", f"图片不能超过{limit // (1024 * 1024)}MB", status=413)
    try:
        image = Image.open(io.BytesIO(data))
        kind = image.format
        if kind not in FORMATS:
            raise InvalidInput("not_an_image", "只能上传 JPG、PNG 或 WebP 图片")
        if image.width * image.height > MAX_PIXELS:
            raise InvalidInput("too_many_pixels", "图片尺寸过大，请压缩后再上传")
        image.load()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        raise InvalidInput("not_an_image", "只能上传 JPG、PNG 或 WebP 图片") from None
    image = ImageOps.exif_transpose(image)  # keep the photo upright, then drop every metadata block
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    mime, ext = FORMATS[kind]
    if kind == "JPEG" and image.mode not in ("RGB", "L"):
        image = image.convert("RGB")
    out = io.BytesIO()
    image.save(out, format=kind, **({"quality": 85, "optimize": True} if kind == "JPEG" else {}))
    return _store(out.getvalue(), ext, mime, account, width=image.width, height=image.height)


def _store(data, ext, mime, account, **size):
    """Write the bytes under UPLOAD_FOLDER/<year>/<month>/<token>.<ext> and record the Upload."""
    token = secrets.token_urlsafe(16)
    now = utcnow()
    relative = os.path.join(f"{now:%Y}", f"{now:%m}", f"{token}.{ext}")
    path = os.path.join(current_app.config["UPLOAD_FOLDER"], relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(data)
    return Upload.create(token=token, account=account, path=relative, mime=mime, size=len(data), **size)


def url_for_upload(token):
    return f"/uploads/{token}"


PDF_MAX_BYTES = 10 * 1024 * 1024


def save_attachment(source, account=None):
    """An answer letter or an update's attachment: a PDF (答复函, checked by its bytes: a %PDF- header and an
    %%EOF trailer, at most PDF_MAX_BYTES) kept as it is, or an image cleaned by save_image."""
    limit = current_app.config.get("PDF_MAX_BYTES", PDF_MAX_BYTES)
    stream = getattr(source, "stream", source)
    head = stream.read(5) if not isinstance(source, (bytes, bytearray)) else bytes(source[:5])
    if head != b"%PDF-":
        if not isinstance(source, (bytes, bytearray)):
            stream.seek(0)
        return save_image(source, account)
    data = bytes(source) if isinstance(source, (bytes, bytearray)) else head + stream.read(limit)
    if len(data) > limit:
        raise ServiceError("too_large", f"PDF 文件不能超过{limit // (1024 * 1024)}MB", status=413)
    if b"%%EOF" not in data[-2048:]:
        raise InvalidInput("not_a_pdf", "PDF 文件不完整或已损坏，请重新导出后上传")
    return _store(data, "pdf", "application/pdf", account)
