"""The server's signing key: RXPORTAL_SECRET_KEY, or one generated once into the data folder."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from rxportal import config


def secret_key() -> bytes:
    cfg = config.get()
    if cfg.secret_key:
        return cfg.secret_key.encode()
    path = cfg.data_dir / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip().encode()


def sign(message: str, length: int = 32) -> str:
    return hmac.new(secret_key(), message.encode(), hashlib.sha256).hexdigest()[:length]


def verify(message: str, signature: str, length: int = 32) -> bool:
    """Whether `signature` (from a cookie, a link or a mail: anything) signs `message`."""
    if not isinstance(signature, str) or not signature.isascii():
        return False  # compare_digest refuses non-ASCII text rather than saying "no"
    try:
        expected = sign(message, length)
    except UnicodeEncodeError:  # a lone surrogate in the message (it came from outside)
        return False
    return hmac.compare_digest(expected, signature)


# --- encryption at rest -----------------------------------------------------------------------
# Values such as staff TOTP secrets are stored as AES-256-GCM ciphertext under a key derived
# (HKDF-SHA256) from the signing key, one derived key per purpose. Changing RXPORTAL_SECRET_KEY
# makes them unreadable: staff then set up their authenticator again.

ENCRYPTED_PREFIX = "enc1:"


class Undecryptable(ValueError):
    """The stored value was encrypted with another key, or was altered."""


def _encryption_key(purpose: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"rxportal-encryption",
                info=f"rxportal:{purpose}".encode()).derive(secret_key())


def encrypt(plaintext: str, purpose: str) -> str:
    """`enc1:` + base64url(nonce + ciphertext + tag); empty stays empty."""
    import base64

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not plaintext:
        return ""
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_encryption_key(purpose)).encrypt(nonce, plaintext.encode(), purpose.encode())
    return ENCRYPTED_PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii")


def is_encrypted(stored: str) -> bool:
    return (stored or "").startswith(ENCRYPTED_PREFIX)


def decrypt(stored: str, purpose: str) -> str:
    import base64
    import binascii

    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if not stored:
        return ""
    if not is_encrypted(stored):
        raise Undecryptable("not an encrypted value")
    try:
        raw = base64.urlsafe_b64decode(stored[len(ENCRYPTED_PREFIX):].encode("ascii"))
        return AESGCM(_encryption_key(purpose)).decrypt(raw[:12], raw[12:],
                                                         purpose.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError, UnicodeError):
        raise Undecryptable("wrong key or altered value") from None
