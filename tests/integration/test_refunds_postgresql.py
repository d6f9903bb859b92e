"""Refunds and the batched billing run on the real PostgreSQL (127.0.0.1:5432), in a database made
for this test: the refund migration matches the models, the refund row lock (SELECT ... FOR
UPDATE) and the bulk inserts with RETURNING work there, and the webhook of a recorded refund
changes nothing. The gateway is the FAKE one (tests/fake_gateway.py)."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from tests.fake_gateway import fake  # noqa: F401
from tests.integration.test_postgresql import postgres_url  # noqa: F401


def test_refund_webhook_and_billing_run_on_postgresql(postgres_url, fake):  # noqa: F811
    from rxportal import db
    from rxportal.models import Invoice, OutboxMail, Transaction
    from rxportal.services import billing_run, ledger, migrations, payments, refunds
    from rxportal.services.gateway import GatewayEvent
    from tests.billing_factory import make_account
    from tests.unit.test_refunds import ACTOR, paid

    migrations.upgrade()
    assert migrations.pending_differences() == []
    with db.session_scope() as session:
        account, payment = paid(session)
        row = refunds.refund(session, account.id, payment.id, attempt_id="pg-attempt-1",
                             amount_minor=2500, reason="Outage", actor=ACTOR)
        assert row.status == "succeeded"
        assert payments.handle_event(session, GatewayEvent(
            id="evt_pg", type="charge.refunded", object_ref=payment.gateway_ref, created=1,
            amount_minor=2500)) == "already"
        assert ledger.amount_due(session, account.id) == (2500, 1)
        for _ in range(3):
            make_account(session, invoices=(), billing_day=1)
        session.commit()
    result = billing_run.run(date(2026, 3, 1))
    assert (result.invoiced, result.errors) == (4, [])  # the paid account is billed too
    assert billing_run.run(date(2026, 3, 1)).invoiced == 0
    with db.session_scope() as session:
        issued = session.exec(select(Invoice).where(Invoice.period_start == date(2026, 3, 1))).all()
        assert len(issued) == 4
        assert len(session.exec(select(OutboxMail)).all()) >= 4
        refunded = session.exec(select(Transaction).where(Transaction.kind == "refund")).all()
        assert [r.amount_minor for r in refunded] == [2500]
