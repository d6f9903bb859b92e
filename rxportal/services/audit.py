"""The audit log: who did what, when, from where. Secrets are masked before they are written."""
from __future__ import annotations

from sqlmodel import Session

from rxportal.models import AuditLog

SECRET_WORDS = ("password", "secret", "token", "key")


def _mask(detail: dict) -> dict:
    return {
        k: "••••" if any(word in k.lower() for word in SECRET_WORDS) else v
        for k, v in detail.items()
    }


def record(session: Session, action: str, *, actor_type: str, actor_id: int | None = None,
           actor_name: str = "", target: str = "", ip: str = "", **detail) -> None:
    session.add(AuditLog(**entry(action, actor_type=actor_type, actor_id=actor_id,
                                 actor_name=actor_name, target=target, ip=ip, **detail)))


def entry(action: str, *, actor_type: str, actor_id: int | None = None, actor_name: str = "",
          target: str = "", ip: str = "", **detail) -> dict:
    """The columns of one audit entry (`record` adds it; a batch job may insert many at once)."""
    return {"actor_type": actor_type, "actor_id": actor_id, "actor_name": actor_name,
            "action": action, "target": target, "ip": ip[:64], "detail": _mask(detail)}
