"""Personal data encrypted at rest: the SealedField column type and its key.

Two ciphers, both deterministic (the same phone number always seals to the same text, so
`Account.phone == "138…"` still finds its row while the column holds only ciphertext) and authenticated:
- "s1:" AES-SIV (RFC 5297, from `cryptography`) — the default;
- "s2:" SM4 (国密, GB/T 32907) in the same synthetic-IV construction: IV = HMAC-SM3(mac key, text)[:16],
  ciphertext = SM4-CTR(enc key, IV, text); opening recomputes the IV and compares. SM4 and SM3 come
  from OpenSSL through `cryptography` (no extra package). Chosen with PERSONAL_DATA_CIPHER=sm4 (for 密评).
Each value carries its cipher's prefix, so both read side by side; `flask reseal` re-seals every value
with the configured cipher after a switch. Values without a prefix (rows written before sealing) are read
as they are; migration 0006 seals them. The key comes from configuration (PERSONAL_DATA_KEY, 64 bytes as
hex or base64; without it one is derived from SECRET_KEY); create_app calls configure().
"""
import base64
import hashlib
import hmac

from peewee import CharField

PREFIX = "s1:"     # AES-SIV
SM4_PREFIX = "s2:"
CIPHERS = ("aes", "sm4")
_state = {"key": None, "cipher": "aes"}


def configure(key_material, secret_key="", cipher="aes"):
    """Set the key: PERSONAL_DATA_KEY (hex or base64 of 64 bytes), else derived from SECRET_KEY; and the
    cipher new values are sealed with (aes or sm4)."""
    key = _decode(key_material) if key_material else hmac.new(
        str(secret_key).encode(), b"daibiao personal data key", hashlib.sha512).digest()
    if len(key) != 64:
        raise SystemExit("PERSONAL_DATA_KEY must be 64 bytes (128 hex digits or base64)")
    if (cipher or "aes") not in CIPHERS:
        raise SystemExit(f"PERSONAL_DATA_CIPHER must be one of {', '.join(CIPHERS)}")
    _state.update(key=key, cipher=cipher or "aes")


def _decode(text):
    text = text.strip()
    try:
        return bytes.fromhex(text)
    except ValueError:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if "-" in text or "_" in text else None)


def _key():
    if _state["key"] is None:
        raise RuntimeError("personal-data key not configured (create_app calls models.sealing.configure)")
    return _state["key"]


def _b64(raw):
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sm4(key, iv, data):
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    worker = Cipher(algorithms.SM4(key), modes.CTR(iv)).encryptor()
    return worker.update(data) + worker.finalize()


def _sm4_iv(key, data):
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives import hmac as chmac
    mac = chmac.HMAC(key, hashes.SM3())
    mac.update(data)
    return mac.finalize()[:16]


def sealed(text):
    """Is this value already sealed (by either cipher)?"""
    return bool(text) and text.startswith((PREFIX, SM4_PREFIX))


def seal(text):
    if not text or sealed(text):
        return text
    key, data = _key(), text.encode("utf-8")
    if _state["cipher"] == "sm4":
        iv = _sm4_iv(key[:32], data)
        return SM4_PREFIX + _b64(iv + _sm4(key[32:48], iv, data))
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV
    return PREFIX + _b64(AESSIV(key).encrypt(data, None))


def unseal(text):
    if not sealed(text):
        return text
    key = _key()
    if text.startswith(SM4_PREFIX):
        raw = _unb64(text[len(SM4_PREFIX):])
        iv, data = raw[:16], _sm4(key[32:48], raw[:16], raw[16:])
        if not hmac.compare_digest(iv, _sm4_iv(key[:32], data)):
            raise ValueError("sealed value does not match its key")
        return data.decode("utf-8")
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV
    return AESSIV(key).decrypt(_unb64(text[len(PREFIX):]), None).decode("utf-8")


def current(text):
    """Is this value sealed with the configured cipher (else `flask reseal` has work to do)?"""
    return not text or text.startswith(SM4_PREFIX if _state["cipher"] == "sm4" else PREFIX)


class SealedField(CharField):
    """A short text (a phone number) kept encrypted in the database and plain in Python. Empty stays
    empty, so `field == ""` still means "none given". 128 characters hold 60 characters of plain text."""

    def __init__(self, max_length=128, **kwargs):
        super().__init__(max_length=max_length, **kwargs)

    def db_value(self, value):
        return seal(super().db_value(value))

    def python_value(self, value):
        return unseal(value)


COLUMNS = (("account", "phone"), ("case", "contact_phone"), ("booking", "phone"))  # every SealedField column


def reseal(db, is_mysql):
    """Seal every value not yet sealed with the configured cipher (plain rows from before sealing, or rows
    sealed with the other cipher). Returns how many values changed. Used by migration 0006 and
    `flask reseal`."""
    q, mark = ("`", "%s") if is_mysql else ('"', "?")
    changed = 0
    for table, column in COLUMNS:
        if not db.table_exists(table):  # a migration older than the table (0006 runs before 0013 made booking)
            continue
        rows = db.execute_sql(f"SELECT id, {q}{column}{q} FROM {q}{table}{q} WHERE {q}{column}{q} != ''").fetchall()
        for row_id, value in rows:
            if not current(value):
                db.execute_sql(f"UPDATE {q}{table}{q} SET {q}{column}{q} = {mark} WHERE id = {mark}",
                               (seal(unseal(value)), row_id))
                changed += 1
    return changed
