"""The billing run against localstripe: invoices issued with credit applied, autopay charged
with a key fixed by invoice and attempt, failed autopay retried on schedule and mailed, and a
second run for the same date changes nothing, and autopay that the gateway did not answer (it
was down) made once when it is back, by the run again or by the settling job, without a
"payment failed" mail."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from rxportal.cli import main as cli_main
from rxportal.models import Invoice, OutboxMail, Transaction
from rxportal.models.billing import Payment, PaymentMethod
from rxportal.services import billing_run, ledger, payments
from rxportal.tasks.billing import settle_interrupted_payments
from tests.billing_factory import collect_card, make_account
from tests.integration.localstripe_fixture import gateway_proxy, localstripe, stripe_env  # noqa: F401

DAY = date(2026, 3, 1)


def snapshot(session):
    return (len(session.exec(select(Invoice)).all()), len(session.exec(select(Transaction)).all()),
            len(session.exec(select(Payment)).all()), len(session.exec(select(OutboxMail)).all()))


def test_invoice_issued_once_with_credit_applied(session, stripe_env):
    account = make_account(session, invoices=(), billing_day=1)
    other_day = make_account(session, invoices=(), billing_day=15)
    session.add(Transaction(account_id=account.id, kind="payment", description="Paid ahead",
                            amount_minor=-2000, currency="CAD"))
    session.commit()
    result = billing_run.run(DAY)
    assert (result.accounts, result.invoiced, result.errors) == (1, 1, [])
    invoice = session.exec(select(Invoice).where(Invoice.account_id == account.id)).one()
    assert (invoice.total_minor, invoice.period_start, invoice.period_end) == \
        (6500, DAY, date(2026, 3, 31))
    assert ledger.amount_due(session, account.id) == (4500, 1)
    assert ledger.total_balance(session, account.id) == 4500
    assert payments.unapplied_credit(session, account.id) == 0
    assert session.exec(select(Invoice).where(Invoice.account_id == other_day.id)).all() == []
    mail = session.exec(select(OutboxMail).where(OutboxMail.to_addr == account.email)).one()
    assert invoice.number in mail.subject and "45.00" in mail.text_body
    before = snapshot(session)
    again = billing_run.run(DAY)
    assert (again.invoiced, snapshot(session)) == (0, before)


def test_month_end_billing_day_is_clamped(session, stripe_env):
    account = make_account(session, invoices=(), billing_day=31)
    assert billing_run.run(date(2026, 2, 28)).invoiced == 1
    invoice = session.exec(select(Invoice).where(Invoice.account_id == account.id)).one()
    assert invoice.period_end == date(2026, 3, 30)


def test_autopay_charges_the_new_invoice_once(session, stripe_env):
    account = make_account(session, invoices=(), billing_day=1)
    collect_card(session, account.id, autopay=True)
    result = billing_run.run(DAY)
    assert (result.invoiced, result.charged, result.failed) == (1, 1, 0)
    assert ledger.amount_due(session, account.id) == (0, 0)
    payment = session.exec(select(Payment).where(Payment.account_id == account.id)).one()
    invoice = session.exec(select(Invoice).where(Invoice.account_id == account.id)).one()
    assert payment.idempotency_key == f"autopay-{invoice.id}-1"
    before = snapshot(session)
    assert billing_run.run(DAY).charged == 0
    assert snapshot(session) == before


def test_failed_autopay_is_mailed_and_retried_on_schedule(session, stripe_env):
    account = make_account(session, invoices=(), billing_day=1)
    card = collect_card(session, account.id, "pm_card_chargeCustomerFail", autopay=True)
    first = billing_run.run(DAY)
    assert (first.charged, first.failed) == (0, 1)
    failure = [m for m in session.exec(select(OutboxMail)).all() if "did not go through" in m.subject]
    assert len(failure) == 1
    assert billing_run.run(DAY).failed == 0  # same date: nothing new
    assert billing_run.run(date(2026, 3, 2)).failed == 0  # not yet time to retry
    # The customer fixes the card before the retry on day 3.
    good = collect_card(session, account.id)
    payments.set_autopay(session, account.id, good.id)
    session.commit()
    retry = billing_run.run(date(2026, 3, 4))
    assert (retry.charged, retry.failed) == (1, 0)
    keys = sorted(p.idempotency_key for p in session.exec(select(Payment)).all())
    assert [k.rsplit("-", 1)[1] for k in keys] == ["1", "2"]
    assert ledger.amount_due(session, account.id) == (0, 0)
    assert card.id != good.id


def test_retries_stop_after_the_last_scheduled_attempt(session, stripe_env):
    account = make_account(session, invoices=(), billing_day=1)
    collect_card(session, account.id, "pm_card_chargeCustomerFail", autopay=True)
    failed = [billing_run.run(date(2026, 3, d)).failed for d in range(1, 16)]
    assert sum(failed) == 3  # day 1, day 4 and day 8
    assert failed[0] == failed[3] == failed[7] == 1


def test_cli_billing_run_for_a_date(session, stripe_env, capsys):
    make_account(session, invoices=(), billing_day=1)
    assert cli_main(["billing-run", "--date", "2026-03-01"]) == 0
    assert "1 invoices issued" in capsys.readouterr().out
    assert cli_main(["billing-run", "--date", "2026-03-01"]) == 0
    assert "0 invoices issued" in capsys.readouterr().out


def _autopay_during_an_outage(session, gateway_proxy):
    account = make_account(session, invoices=(), billing_day=1)
    collect_card(session, account.id, autopay=True)
    gateway_proxy.down = True
    first = billing_run.run(DAY)
    assert (first.invoiced, first.charged, first.failed, first.interrupted) == (1, 0, 0, 1)
    assert ledger.amount_due(session, account.id)[0] > 0
    [payment] = session.exec(select(Payment).where(Payment.account_id == account.id)).all()
    assert (payment.status, payment.gateway_ref) == ("interrupted", "")
    # Still down: the next run and the settling job change nothing, and say nothing to anyone.
    assert billing_run.run(DAY).charged == 0
    settle_interrupted_payments.call_local()
    session.refresh(payment)
    assert payment.status == "interrupted"
    gateway_proxy.down = False
    return account, payment


def _charged_once(session, account, payment, localstripe):
    session.refresh(payment)
    assert payment.status == "succeeded"
    assert ledger.amount_due(session, account.id) == (0, 0)
    assert len(session.exec(select(Payment).where(Payment.account_id == account.id)).all()) == 1
    assert _succeeded_intents(localstripe, payment.gateway_ref) == 1
    assert not [m for m in session.exec(select(OutboxMail)).all()
                if "did not go through" in m.subject]
    before = snapshot(session)
    assert billing_run.run(DAY).charged == 0
    settle_interrupted_payments.call_local()
    assert snapshot(session) == before


def test_autopay_interrupted_by_an_outage_is_charged_once_by_the_next_run(session, gateway_proxy,
                                                                         localstripe):
    account, payment = _autopay_during_an_outage(session, gateway_proxy)
    again = billing_run.run(DAY)
    assert (again.charged, again.interrupted) == (1, 0)
    _charged_once(session, account, payment, localstripe)


def test_autopay_interrupted_by_an_outage_is_charged_once_by_the_settling_job(
        session, gateway_proxy, localstripe):
    account, payment = _autopay_during_an_outage(session, gateway_proxy)
    settle_interrupted_payments.call_local()
    _charged_once(session, account, payment, localstripe)


def test_autopay_interrupted_then_paid_by_the_customer_is_dropped_quietly(session, gateway_proxy,
                                                                         localstripe):
    account, payment = _autopay_during_an_outage(session, gateway_proxy)
    card = session.get(PaymentMethod, payment.method_id)
    payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                 purpose="amount_due", method_id=card.id)
    session.refresh(payment)
    assert (payment.status, payment.failure_code) == ("failed", "abandoned")
    assert ledger.amount_due(session, account.id) == (0, 0)
    assert billing_run.run(DAY).charged == 0
    assert not [m for m in session.exec(select(OutboxMail)).all()
                if "did not go through" in m.subject]


def _succeeded_intents(localstripe, ref: str) -> int:
    """PaymentIntents in localstripe that succeeded for the same customer as `ref`."""
    intents = localstripe.objects("payment_intents")
    customer = next(i["customer"] for i in intents if i["id"] == ref)
    return len([i for i in intents if i["customer"] == customer and i["status"] == "succeeded"])
