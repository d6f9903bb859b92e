"""Shared fixtures: a fresh, migrated SQLite file per test, and a real SMTP server (aiosmtpd)."""
from __future__ import annotations

import os
import socket
import sqlite3
from email import message_from_bytes, policy
from pathlib import Path

import pytest

os.environ.setdefault("RXPORTAL_BCRYPT_ROUNDS", "4")  # fast hashes in unit tests only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture()
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("RXPORTAL_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'test.db'}")
    monkeypatch.setenv("RXPORTAL_SECRET_KEY", "test-secret-key")
    monkeypatch.delenv("SMTP_HOST", raising=False)
    return tmp_path


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """One SQLite file built by the real migrations for the whole run: each test starts from a
    copy of it (running the migrations again took 0.7 s a test, a third of the unit tests)."""
    from rxportal import db
    from rxportal.services import migrations

    folder = tmp_path_factory.mktemp("migrated")
    path = folder / "migrated.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RXPORTAL_DATA_DIR", str(folder))
        patch.setenv("DATABASE_URL", f"sqlite:///{path}")
        patch.setenv("RXPORTAL_SECRET_KEY", "test-secret-key")
        migrations.upgrade()
        db.engine_for(f"sqlite:///{path}").dispose()
    return path


def copy_database(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite database (its write-ahead log included)."""
    with sqlite3.connect(source) as origin, sqlite3.connect(target) as copy:
        origin.backup(copy)
    origin.close()
    copy.close()


@pytest.fixture()
def session(data_dir, migrated_database):
    """A session on a new database built by the real migrations (a copy of the run's one)."""
    from rxportal import db

    copy_database(migrated_database, data_dir / "test.db")
    with db.session_scope() as s:
        yield s


class SmtpCapture:
    """Collects what a real aiosmtpd server receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's API
        message = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(message)
        return "250 OK"

    def to(self, address: str):
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]


class SmtpServer(SmtpCapture):
    """A real aiosmtpd server on a free loopback port that tests can stop and start again."""

    def __init__(self):
        super().__init__()
        self.port = free_port()
        self.controller = None

    def start(self):
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture()
def smtp_server(monkeypatch):
    server = SmtpServer()
    server.start()
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_PORT", str(server.port))
    yield server
    server.stop()
