"""API tokens for the ISP's own systems (the JSON API). A token is shown once, when created;
only its SHA-256 is stored, with its first characters to recognise it in a list."""
from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlmodel import Session, select

from rxportal.models import utcnow
from rxportal.models.usage import ApiToken
from rxportal.services import audit

PREFIX = "rxp_"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create(session: Session, name: str, scope: str = "usage") -> tuple[ApiToken, str]:
    """A new token: (its row, the token itself, to show once)."""
    name = (name or "").strip()
    if not name or len(name) > 100:
        raise ValueError("a token needs a name of 1 to 100 characters")
    token = PREFIX + secrets.token_urlsafe(32)  # 256 random bits
    row = ApiToken(name=name, token_hash=_hash(token), prefix=token[:12], scope=scope)
    session.add(row)
    session.flush()
    audit.record(session, "api_token.created", actor_type="staff", target=f"api_token:{row.id}",
                 name=name, scope=scope)
    return row, token


def authenticate(session: Session, token: str | None, scope: str) -> ApiToken | None:
    """The token's row when it is valid, not revoked and allows `scope`; else None."""
    token = (token or "").strip()
    if not token.startswith(PREFIX) or len(token) > 200:
        return None
    digest = _hash(token)
    row = session.exec(select(ApiToken).where(ApiToken.token_hash == digest)).first()
    if row is None or row.revoked_at is not None or not hmac.compare_digest(row.token_hash, digest):
        return None
    if scope not in (row.scope or "").split():
        return None
    row.last_used_at = utcnow()
    session.add(row)
    return row


def revoke(session: Session, token_id: int) -> bool:
    row = session.get(ApiToken, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    session.add(row)
    audit.record(session, "api_token.revoked", actor_type="staff", target=f"api_token:{token_id}")
    return True


def listing(session: Session) -> list[ApiToken]:
    return list(session.exec(select(ApiToken).order_by(ApiToken.id)))
