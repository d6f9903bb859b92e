"""Top-offs paid with a saved card through the real gateway code against localstripe: paid
once, declined changes nothing, another account's card is refused."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

from tests.billing_factory import collect_card
from tests.integration.localstripe_fixture import localstripe, stripe_env  # noqa: F401
from tests.integration.test_payments import _charges
from tests.unit.test_usage import GB, make_account, make_product
from rxportal.models import OutboxMail, Transaction
from rxportal.services import usage, usage_payments

TODAY = date(2026, 11, 20)


def buy(session, account, product, card, key):
    return usage.purchase_topoff(session, account.id, product.id, key,
                                 usage_payments.topoff_charge(session, account.id),
                                 payment_method_id=card.id, today=TODAY)


def test_a_top_off_paid_with_a_saved_card_once_whatever_the_clicks(session, stripe_env):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    card = collect_card(session, account.id)
    assert usage_payments.topoff_methods(session, account.id) == [
        {"id": str(card.id), "label": "Visa •••• 4242"}]
    before = _charges(stripe_env.url)
    for _ in range(3):
        purchase = buy(session, account, product, card, "confirm-1")
        session.commit()
    assert purchase.status == "paid" and purchase.payment_reference.startswith("pi_")
    assert _charges(stripe_env.url) == before + 1
    assert usage.current(session, account.id, today=TODAY).cap == 550 * GB
    ledger = session.exec(select(Transaction).where(Transaction.account_id == account.id)).all()
    assert sorted(t.amount_minor for t in ledger) == [-1500, 1500]
    assert session.exec(select(OutboxMail).where(
        OutboxMail.subject == "Receipt for your data top-off")).one()


def test_a_declined_card_changes_nothing(session, stripe_env):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    card = collect_card(session, account.id, "pm_card_chargeCustomerFail")
    purchase = buy(session, account, product, card, "confirm-2")
    session.commit()
    assert purchase.status == "declined"
    assert usage.current(session, account.id, today=TODAY).cap == 500 * GB
    assert session.exec(select(Transaction).where(Transaction.account_id == account.id)).all() == []


def test_another_accounts_card_is_refused(session, stripe_env):
    demo = make_account(session, number="1", cap_gb=500)
    demo2 = make_account(session, number="2", cap_gb=500)
    product = make_product(session)
    demos_card = collect_card(session, demo.id)
    before = _charges(stripe_env.url)
    purchase = buy(session, demo2, product, demos_card, "confirm-3")
    session.commit()
    assert purchase.status == "declined" and _charges(stripe_env.url) == before
    assert usage_payments.topoff_methods(session, demo2.id) == []
    assert usage.current(session, demo2.id, today=TODAY).cap == 500 * GB
