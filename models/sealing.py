"""Personal data encrypted at rest: the SealedField column type and its key.

AES-SIV (RFC 5297, from `cryptography`): authenticated, and deterministic — the same phone number always
seals to the same text — so `Account.phone == "138…"` still finds its row while the column holds only
ciphertext. Stored as "s1:" + base64url. Values without the prefix (rows written before sealing was turned
on) are read as they are; migration 0006 seals them. The key comes from configuration (PERSONAL_DATA_KEY,
64 bytes as hex or base64; without it one is derived from SECRET_KEY); create_app calls configure().
"""
import base64
import hashlib
import hmac

from peewee import CharField

PREFIX = "s1:"
_state = {"cipher": None}


def configure(key_material, secret_key=""):
    """Set the key: PERSONAL_DATA_KEY (hex or base64 of 64 bytes), else derived from SECRET_KEY."""
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV
    key = _decode(key_material) if key_material else hmac.new(
        str(secret_key).encode(), b"daibiao personal data key", hashlib.sha512).digest()
    if len(key) != 64:
        raise SystemExit("PERSONAL_DATA_KEY must be 64 bytes (128 hex digits or base64)")
    _state["cipher"] = AESSIV(key)


def _decode(text):
    text = text.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)


def seal(text):
    if not text or text.startswith(PREFIX):
        return text
    cipher = _state["cipher"]
    if cipher is None:
        raise RuntimeError("personal-data key not configured (create_app calls models.sealing.configure)")
    return PREFIX + base64.urlsafe_b64encode(cipher.encrypt(text.encode("utf-8"), None)).decode().rstrip("=")


def unseal(text):
    if not text or not text.startswith(PREFIX):
        return text
    raw = text[len(PREFIX):]
    return _state["cipher"].decrypt(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)), None).decode("utf-8")


class SealedField(CharField):
    """A short text (a phone number) kept encrypted in the database and plain in Python. Empty stays
    empty, so `field == ""` still means "none given". 128 characters hold 60 characters of plain text."""

    def __init__(self, max_length=128, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def db_value(self, value):
        return seal(super().db_value(value))

    def python_value(self, value):
        return unseal(value)
