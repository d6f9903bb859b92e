"""Signing at the same moment from several workers, on the real PostgreSQL (127.0.0.1:5432):
one contract signed from two places gives one signature; two contracts signed together both
get their place in the log, and the chain verifies."""
from __future__ import annotations

import threading
import uuid
from datetime import date

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import select

from rxportal.models.contracts import ContractSignature, SignatureLogEntry
from rxportal.services import contracts
from tests.unit.test_contracts import PASSWORD, drawn_signature, make_customer

ADMIN_URL = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"


@pytest.fixture()
def pg_session(data_dir, monkeypatch):
    """A new PostgreSQL database for this test only, built by the real migrations."""
    name = f"rxp_contracts_{uuid.uuid4().hex[:10]}"
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001 - say clearly what is missing
        pytest.fail(f"PostgreSQL at 127.0.0.1:5432 is required for this test: {error}")
    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
    from rxportal import db
    from rxportal.services import migrations

    migrations.upgrade()
    try:
        yield db
    finally:
        db.get_engine().dispose()
        db.engine_for.cache_clear()
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def run_together(*jobs):
    """Run the jobs in threads released at the same instant; their results or errors."""
    barrier = threading.Barrier(len(jobs))
    results: list = [None] * len(jobs)

    def runner(index, job):
        barrier.wait()
        try:
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - the test looks at it
            results[index] = error

    threads = [threading.Thread(target=runner, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def sign_job(db, account_id, user_id, contract_id):
    def job():
        with db.session_scope() as session:
            return contracts.sign(
                session, account_id=account_id, user_id=user_id, contract_id=contract_id,
                lang="en", typed_name="Pat Doe", consent=True,
                consent_version=contracts.CONSENT_VERSION, password=PASSWORD,
                signature_data_url=drawn_signature(), ip="127.0.0.1", user_agent="test")
    return job


def setup_contracts(db, count):
    with db.session_scope() as session:
        account, user = make_customer(session, "300001", "Pat Doe", "pat")
        template = contracts.create_template(session, "terms", "Terms", "Conditions",
                                             "Terms for $account_name.",
                                             "Conditions pour $account_name.")
        ids = [contracts.issue(session, template.id, account.id, date(2026, 11, 1)).id
               for _ in range(count)]
        return account.id, user.id, ids


def test_one_contract_signed_from_two_workers_at_once_gives_one_signature(pg_session):
    db = pg_session
    account_id, user_id, [contract_id] = setup_contracts(db, 1)
    results = run_together(*[sign_job(db, account_id, user_id, contract_id)] * 2)
    wins = [r for r in results if isinstance(r, contracts.SignedContract)]
    losses = [r for r in results if isinstance(r, contracts.ContractError)]
    assert len(wins) == 1 and len(losses) == 1, results
    assert losses[0].msgid == contracts.ALREADY_SIGNED
    with db.session_scope() as session:
        assert len(session.exec(select(ContractSignature)).all()) == 1
        assert contracts.verify(session).ok
    assert len(list(contracts.pdf_root().rglob("*.pdf"))) == 1


def test_contracts_signed_together_each_get_a_place_in_the_chain(pg_session):
    db = pg_session
    account_id, user_id, ids = setup_contracts(db, 4)
    results = run_together(*[sign_job(db, account_id, user_id, cid) for cid in ids])
    assert all(isinstance(r, contracts.SignedContract) for r in results), results
    with db.session_scope() as session:
        entries = session.exec(select(SignatureLogEntry).order_by(SignatureLogEntry.seq)).all()
        assert [e.seq for e in entries] == [1, 2, 3, 4]
        result = contracts.verify(session)
        assert result.ok, [str(p) for p in result.problems]
