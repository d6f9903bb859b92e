"""The same migrations, demo data and ledger on the real PostgreSQL this machine runs
(127.0.0.1:5432), in a database made for this test and dropped after it."""
import uuid

import pytest
from sqlalchemy import create_engine, text

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture()
def postgres_url(monkeypatch, data_dir):
    name = f"rxportal_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    monkeypatch.setenv("DATABASE_URL", url)
    yield url
    from rxportal import db

    db.engine_for(url).dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_demo_data_and_ledger_work_on_postgresql(postgres_url):
    from rxportal import db
    from rxportal.demo import load_all
    from rxportal.services import auth, ledger, migrations

    migrations.upgrade()
    assert migrations.pending_differences() == []
    with db.session_scope() as session:
        ctx = load_all(session)
        demo_id = ctx["demo"].id
    with db.session_scope() as session:
        figures = ledger.figures(session, demo_id)
        assert figures.amount_due == 11000 and figures.open_invoices == 2
        result = auth.login(session, "demo", "correct-horse-demo", ip="127.0.0.1")
        assert auth.current_user(session, result.token).account_id == demo_id
        assert auth.register(session, "demo2@example.net") is True
