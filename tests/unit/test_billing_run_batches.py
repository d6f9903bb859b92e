"""The billing run bills accounts in batches (a few queries per batch, not per account): batches
smaller than the run, one account whose invoice cannot be written does not stop the others of
its batch, and a second run for the same date issues nothing."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from rxportal.models import Invoice, OutboxMail, Transaction
from rxportal.services import billing_run, ledger
from tests.billing_factory import make_account

DAY = date(2026, 3, 1)


def test_batches_bill_every_account_once_and_isolate_a_bad_one(session, monkeypatch):
    monkeypatch.setattr(billing_run, "BATCH_SIZE", 3)
    accounts = [make_account(session, invoices=(), billing_day=1) for _ in range(7)]
    bystander = make_account(session, invoices=(), billing_day=15)
    bad = accounts[4]
    for month, number in ((1, f"INV-{bad.number}-0001"), (2, f"INV-{bad.number}-{DAY:%Y%m%d}")):
        session.add(Invoice(account_id=bystander.id, number=number, issued_on=date(2026, month, 15),
                            due_on=date(2026, month, 28), period_start=date(2026, month, 15),
                            period_end=date(2026, month + 1, 14), currency="CAD", total_minor=1))
    session.add(Transaction(account_id=accounts[0].id, kind="payment", description="Ahead",
                            amount_minor=-2000, currency="CAD"))
    session.commit()
    done = []
    result = billing_run.run(DAY, progress=done.append)
    assert (result.accounts, result.invoiced) == (7, 6)
    assert done == [3, 6, 7]
    assert len(result.errors) == 1 and result.errors[0].startswith(f"account {bad.id}:")
    session.expire_all()
    billed = {i.account_id for i in session.exec(select(Invoice).where(Invoice.period_start == DAY))}
    assert billed == {a.id for a in accounts} - {bad.id}
    assert ledger.amount_due(session, accounts[0].id) == (4500, 1)  # credit applied
    assert ledger.amount_due(session, accounts[1].id) == (6500, 1)
    mails = session.exec(select(OutboxMail)).all()
    assert len(mails) == 6 and all("INV-" in m.subject for m in mails)
    again = billing_run.run(DAY)
    assert (again.invoiced, len(session.exec(select(OutboxMail)).all())) == (0, 6)
