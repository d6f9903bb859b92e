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
    return hmac.compare_digest(sign(message, length), signature or "")
