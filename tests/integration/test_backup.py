"""Backup and restore round trips, on SQLite and on the real PostgreSQL."""
from sqlmodel import select

from rxportal import db
from rxportal.models import Account
from rxportal.services import backup, migrations
from tests.factories import make_account
from tests.integration.test_postgresql import postgres_url  # noqa: F401 - fixture


def _names():
    with db.session_scope() as session:
        return sorted(a.name for a in session.exec(select(Account)))


def test_sqlite_backup_restores_the_database_and_data_files(session, data_dir, tmp_path):
    make_account(session, name="Kept Customer")
    session.commit()
    (data_dir / "contracts").mkdir()
    (data_dir / "contracts" / "signed.pdf").write_bytes(b"%PDF-1.4 signed")
    archive = backup.create(tmp_path / "backup.tar.gz")
    make_account(session, number="late", email="late@example.org", name="Added Later")
    session.commit()
    (data_dir / "contracts" / "signed.pdf").write_bytes(b"tampered")
    assert backup.restore(archive) == "sqlite"
    assert _names() == ["Kept Customer"]
    assert (data_dir / "contracts" / "signed.pdf").read_bytes() == b"%PDF-1.4 signed"


def test_postgresql_backup_restores_the_database(postgres_url, tmp_path):  # noqa: F811
    migrations.upgrade()
    with db.session_scope() as session:
        make_account(session, name="Kept Customer")
    archive = backup.create(tmp_path / "backup.tar.gz")
    with db.session_scope() as session:
        make_account(session, number="late", email="late@example.org", name="Added Later")
    assert backup.restore(archive) == "postgresql"
    assert _names() == ["Kept Customer"]
