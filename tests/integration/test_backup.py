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
        late = make_account(session, number="late", email="late@example.org", name="Added Later")
        session.flush()
        late_id = late.id
    seen = _version(late_id)
    assert backup.restore(archive) == "postgresql"
    assert _names() == ["Kept Customer"]
    assert _version(late_id) > seen  # past every version before the restore (next test)


def _version(account_id):
    from rxportal.services import change_stamps

    with db.session_scope() as session:
        return change_stamps.version(session, account_id)


def test_a_restored_database_gives_no_version_a_tab_saw_before(session, tmp_path):
    """A tab keeps the data version its page was read at (services/change_stamps.py). After a
    restore, the restored versions (older, smaller) could come back to one a tab read other data
    at: restoring moves every account's version past all of those before it."""
    from tests.factories import add_transaction

    account = make_account(session, name="Kept Customer")
    session.commit()
    archive = backup.create(tmp_path / "backup.tar.gz")
    at_backup = _version(account.id)
    for amount in (-100, -200, -300):  # writes after the backup, seen by an open tab
        add_transaction(session, account, amount)
        session.commit()
    seen = _version(account.id)
    assert seen > at_backup
    backup.restore(archive)
    after = _version(account.id)
    assert after > seen
    other = make_account(session, number="new", email="new@example.org", name="New")
    session.commit()
    assert _version(other.id) > seen  # the shared stamp: every account's version moved
