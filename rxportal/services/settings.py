"""ISP settings, stored in the database so staff change them without a restart, in every worker.

Each key has a default and a type here; features add their own keys with `register`.
Secret keys are never returned in full by `masked`.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession
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


# The stored settings, read once per transaction: a page view asks for several of them
# (the branding, the country for each amount, the page switches) and each read was a statement.
_CACHE = "rxportal.settings"


def _stored(session: Session) -> dict[str, str | None]:
    stored = session.info.get(_CACHE)
    if stored is None:
        stored = dict(session.exec(select(Setting.key, Setting.value)).all())
        session.info[_CACHE] = stored
    return stored


def _value(key: str, stored: dict[str, str | None]) -> Any:
    raw = stored.get(key)
    return SPECS[key].default if raw is None else json.loads(raw)


@event.listens_for(OrmSession, "after_transaction_end")
def _forget_stored(session: OrmSession, _transaction) -> None:
    """A new transaction reads them again (another worker may have changed them)."""
    session.info.pop(_CACHE, None)


def get(session: Session, key: str) -> Any:
    if key not in SPECS:
        raise KeyError(key)
    return _value(key, _stored(session))


def get_many(session: Session, keys: list[str] | None = None) -> dict[str, Any]:
    stored = _stored(session)
    return {key: _value(key, stored) for key in keys or list(SPECS)}


def put(session: Session, key: str, value: Any) -> None:
    if key not in SPECS:
        raise KeyError(key)
    row = session.get(Setting, key) or Setting(key=key)
    row.value = json.dumps(value)
    row.updated_at = utcnow()
    session.add(row)
    if _CACHE in session.info:  # later reads in this session see the new value
        session.info[_CACHE][key] = row.value


def mask(value: str) -> str:
    """Show a secret as its last four characters only."""
    value = str(value or "")
    return "" if not value else "••••" + value[-4:] if len(value) > 8 else "••••"


def masked(session: Session) -> dict[str, Any]:
    values = get_many(session)
    return {k: mask(v) if SPECS[k].secret else v for k, v in values.items()}
