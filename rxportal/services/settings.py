"""ISP settings, stored in the database so staff change them without a restart, in every worker.

Each key has a default and a type here; features add their own keys with `register`.
Secret keys are never returned in full by `masked`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from rxportal.models import Setting, utcnow


@dataclass(frozen=True)
class SettingSpec:
    default: Any
    secret: bool = False


SPECS: dict[str, SettingSpec] = {
    "isp_name": SettingSpec("Example Internet"),
    "logo_path": SettingSpec(""),  # a file under the data folder; empty: the bundled logo
    "login_message": SettingSpec(
        "<b>Welcome to your customer portal.</b> Log in to see your bill, pay, and get help."
    ),
    "login_message_fr": SettingSpec(
        "<b>Bienvenue sur votre portail client.</b> Connectez-vous pour voir votre facture, "
        "payer et obtenir de l'aide."
    ),
    "public_url": SettingSpec(""),  # empty: RXPORTAL_PUBLIC_URL
    "default_language": SettingSpec("en"),
    "currency": SettingSpec("CAD"),
    "country": SettingSpec("CA"),
    "timezone": SettingSpec("America/Toronto"),
    "page_usage": SettingSpec(True),
    "page_contracts": SettingSpec(True),
    "page_tickets": SettingSpec(True),
    "support_email": SettingSpec("support@example.net"),
    "support_phone": SettingSpec("+1 613 555 0100"),
    "reset_token_minutes": SettingSpec(60),
    "temporary_password_days": SettingSpec(7),
}


def register(key: str, default: Any, secret: bool = False) -> None:
    """Declare a setting from a feature module (idempotent)."""
    SPECS.setdefault(key, SettingSpec(default, secret))


def get(session: Session, key: str) -> Any:
    spec = SPECS[key]
    row = session.get(Setting, key)
    if row is None or row.value is None:
        return spec.default
    return json.loads(row.value)


def get_many(session: Session, keys: list[str] | None = None) -> dict[str, Any]:
    keys = keys or list(SPECS)
    stored = {
        row.key: row.value
        for row in session.exec(select(Setting).where(Setting.key.in_(keys)))
    }
    return {
        key: json.loads(stored[key]) if stored.get(key) is not None else SPECS[key].default
        for key in keys
    }


def put(session: Session, key: str, value: Any) -> None:
    if key not in SPECS:
        raise KeyError(key)
    row = session.get(Setting, key) or Setting(key=key)
    row.value = json.dumps(value)
    row.updated_at = utcnow()
    session.add(row)


def mask(value: str) -> str:
    """Show a secret as its last four characters only."""
    value = str(value or "")
    return "" if not value else "••••" + value[-4:] if len(value) > 8 else "••••"


def masked(session: Session) -> dict[str, Any]:
    values = get_many(session)
    return {k: mask(v) if SPECS[k].secret else v for k, v in values.items()}
