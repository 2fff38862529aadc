"""Uploaded images: type sniffed from the bytes, size and pixel limits, EXIF and GPS stripped by re-encoding.

Files live under UPLOAD_FOLDER/<year>/<month>/<token>.<ext>; GET /uploads/<token> serves them.
Decompression bombs: the header's width × height × channels is the memory decoding will take; it is
checked before a single pixel is decoded (JPEGs are first asked to decode at a reduced scale, which
libjpeg does for free). Uploads nothing refers to (a report that was refused, a form never sent) are
removed by the nightly sweep_orphans job once they are ORPHAN_HOURS old.
"""
import datetime as dt
import io
import logging
import math
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
MAX_DECODED = 64 * 1024 * 1024  # bytes of decoded pixels one image may take (before scaling down)
ORPHAN_HOURS = 24
ORPHAN_WINDOW_DAYS = 7  # the sweep looks at uploads between ORPHAN_HOURS and this old
log = logging.getLogger(__name__)


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
        if kind == "JPEG":   # decode at 1/2, 1/4 or 1/8 scale when the long side still reaches MAX_SIDE
            ratio = min(1.0, MAX_SIDE / max(image.size))
            image.draft(image.mode, (math.ceil(image.width * ratio), math.ceil(image.height * ratio)))
        if decoded_bytes(image) > current_app.config.get("UPLOAD_MAX_DECODED", MAX_DECODED):
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


def decoded_bytes(image):
    """The memory the decoded pixels will take, read from the header only."""
    return image.width * image.height * max(1, len(image.getbands())) * (2 if image.mode.endswith(";16") or
                                                                          image.mode in ("I", "F", "I;16") else 1)


def referenced(tokens):
    """Which of these upload tokens something refers to. Every place that keeps upload tokens is listed
    here — a new one must be added, or the sweep would remove its files."""
    from models import Answer, Case, CaseEvent, Deputy, ProjectUpdate
    tokens = set(tokens)
    since = Upload.select(Upload.created_at).where(Upload.token.in_(tokens)).order_by(Upload.created_at).scalar()
    found = set()
    for model, column, stamp in ((Case, Case.photos, Case.submitted_at), (Answer, Answer.attachments,
                                                                           Answer.created_at),
                                 (ProjectUpdate, ProjectUpdate.photos, ProjectUpdate.created_at),
                                 (CaseEvent, CaseEvent.data, CaseEvent.at)):
        for value in model.select(column).where(stamp >= since).tuples().iterator():   # refer only after upload
            found |= tokens & set(_strings(value[0]))
    found |= {p.rsplit("/", 1)[-1] for (p,) in Deputy.select(Deputy.photo).where(
        Deputy.photo.in_([url_for_upload(t) for t in tokens] + list(tokens))).tuples()}
    return found


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def sweep_orphans(now=None):
    """Remove uploads (file and row) that nothing refers to ORPHAN_HOURS after they came. Returns how many."""
    now = now or utcnow()
    young, old = now - dt.timedelta(hours=ORPHAN_HOURS), now - dt.timedelta(days=ORPHAN_WINDOW_DAYS)
    candidates = {u.token: u for u in Upload.select().where(Upload.created_at <= young, Upload.created_at >= old)}
    if not candidates:
        return 0
    orphans = [u for token, u in candidates.items() if token not in referenced(candidates)]
    folder = current_app.config["UPLOAD_FOLDER"]
    for upload in orphans:
        Upload.delete().where(Upload.id == upload.id).execute()
        try:
            os.remove(os.path.join(folder, upload.path))
        except FileNotFoundError:
            pass
    if orphans:
        log.info("removed %d uploads nothing refers to", len(orphans))
    return len(orphans)


def url_for_upload(token):
    return f"/uploads/{token}"


def described(tokens):
    """Uploads as pages show them: `url`, and `pdf` — a PDF is shown as a link, an image as a picture."""
    tokens = list(tokens or [])
    pdfs = {u.token for u in Upload.select(Upload.token).where(Upload.token.in_(tokens),
                                                                Upload.mime == "application/pdf")} if tokens else set()
    return [{"id": t, "url": url_for_upload(t), "pdf": t in pdfs} for t in tokens]


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
