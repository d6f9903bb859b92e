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
