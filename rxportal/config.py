"""Deployment settings, read from the environment (documented in the README's settings table).

ISP-facing settings (logo, login message, default language, enabled pages...) live in the
database instead (services/settings.py) so staff can change them without a restart.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _env(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def _env_int(name: str, default: int) -> int:
    value = _env(name)
    return int(value) if value else default


@dataclass(frozen=True)
class Config:
    database_url: str
    redis_url: str
    public_url: str
    secret_key: str
    data_dir: Path
    smtp_host: str
    smtp_port: int
    smtp_user: str
    smtp_password: str
    smtp_starttls: bool
    mail_from: str
    mail_dir: Path
    bcrypt_rounds: int
    session_idle_minutes: int
    session_absolute_hours: int

    @property
    def smtp_configured(self) -> bool:
        return bool(self.smtp_host)


def load() -> Config:
    data_dir = Path(_env("RXPORTAL_DATA_DIR", str(PROJECT_ROOT / "data")))
    return Config(
        database_url=_env("DATABASE_URL", f"sqlite:///{data_dir / 'rxportal.db'}"),
        redis_url=_env("REDIS_URL"),
        public_url=_env("RXPORTAL_PUBLIC_URL", "http://127.0.0.1:3000").rstrip("/"),
        secret_key=_env("RXPORTAL_SECRET_KEY"),
        data_dir=data_dir,
        smtp_host=_env("SMTP_HOST"),
        smtp_port=_env_int("SMTP_PORT", 25),
        smtp_user=_env("SMTP_USER"),
        smtp_password=_env("SMTP_PASSWORD"),
        smtp_starttls=_env("SMTP_STARTTLS", "0") in ("1", "true", "yes"),
        mail_from=_env("MAIL_FROM", "portal@example.net"),
        mail_dir=Path(_env("RXPORTAL_MAIL_DIR", str(data_dir / "mail"))),
        # Cost 12 is the rule; tests may lower it through the environment to stay fast.
        bcrypt_rounds=_env_int("RXPORTAL_BCRYPT_ROUNDS", 12),
        session_idle_minutes=_env_int("RXPORTAL_SESSION_IDLE_MINUTES", 60),
        session_absolute_hours=_env_int("RXPORTAL_SESSION_ABSOLUTE_HOURS", 24 * 7),
    )


_SETTINGS = ("RXPORTAL_DATA_DIR", "DATABASE_URL", "REDIS_URL", "RXPORTAL_PUBLIC_URL",
             "RXPORTAL_SECRET_KEY", "SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD",
             "SMTP_STARTTLS", "MAIL_FROM", "RXPORTAL_MAIL_DIR", "RXPORTAL_BCRYPT_ROUNDS",
             "RXPORTAL_SESSION_IDLE_MINUTES", "RXPORTAL_SESSION_ABSOLUTE_HOURS")
_loaded: tuple[tuple, Config] | None = None


def get() -> Config:
    """The current configuration: read again whenever one of its variables changed (tests change
    the environment), otherwise the one already read (every event asks for it)."""
    global _loaded
    key = tuple(os.environ.get(name) for name in _SETTINGS)
    if _loaded is None or _loaded[0] != key:
        _loaded = (key, load())
    return _loaded[1]
