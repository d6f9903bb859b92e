"""Top-offs paid by card through the billing payments against localstripe: a saved card or a new
one, paid once, declined changes nothing, 3-D Secure completed or failed, an abandoned
authentication cancelled, another account's card or purchase refused; refunds and disputes of
a top-off's payment (webhook events) reach the purchase once."""
from __future__ import annotations

from datetime import date

from sqlmodel import select

import pytest

from tests.billing_factory import card_from_number, collect_card
from tests.integration.localstripe_fixture import localstripe, stripe_env  # noqa: F401
from tests.integration.test_payments import _authenticate, _charges
from tests.unit.test_usage import GB, add, make_account, make_product
from rxportal.models import OutboxMail, Transaction
from rxportal.models.billing import Payment
from rxportal.services import ledger, payments, usage, usage_payments
from rxportal.services.gateway import GatewayEvent

TODAY = date(2026, 11, 20)


def buy(session, account, product, card, key, charge=None):
    return usage.purchase_topoff(session, account.id, product.id, key,
                                 charge or usage_payments.topoff_charge(session, account.id),
                                 payment_method_id=card.id, today=TODAY)


def entries(session, account):
    return sorted(t.amount_minor for t in session.exec(
        select(Transaction).where(Transaction.account_id == account.id)))


def cap(session, account):
    return usage.current(session, account.id, today=TODAY).cap


def paid_topoff(session, account=None, gb_used=0):
    account = account or make_account(session, cap_gb=500)
    if gb_used:
        add(session, account, TODAY, gb_used * GB)
    product = make_product(session)
    purchase = buy(session, account, product, collect_card(session, account.id), "paid")
    session.commit()
    assert purchase.status == "paid"
    return account, purchase


def gateway_event(event_id, kind, purchase, amount):
    return GatewayEvent(id=event_id, type=kind, object_ref=purchase.payment_reference, created=1,
                        amount_minor=amount)


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


def test_a_top_off_paid_with_a_new_card_that_is_not_kept(session, stripe_env):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    # what the dialog's Card Element gives the server: a payment method id, never the number
    card = payments.register_method(session, account.id, card_from_number("4242424242424242"),
                                    save=False)
    session.commit()
    purchase = buy(session, account, product, card, "new-card")
    session.commit()
    assert purchase.status == "paid"
    assert cap(session, account) == 550 * GB
    assert usage_payments.topoff_methods(session, account.id) == []  # not saved
    payment = session.exec(select(Payment).where(Payment.attempt_id == purchase.attempt_id)).one()
    assert (payment.purpose, payment.status, payment.amount_minor) == ("topoff", "succeeded", 1500)
    # billing applied nothing to invoices: the ledger holds the top-off's charge and payment
    assert entries(session, account) == [-1500, 1500]


@pytest.mark.parametrize("passes", [True, False])
def test_a_card_needing_3d_secure(session, stripe_env, passes):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    card = payments.register_method(session, account.id, card_from_number("4000002500003155"))
    session.commit()
    charge = usage_payments.topoff_charge(session, account.id)
    purchase = buy(session, account, product, card, "3ds", charge)
    session.commit()
    assert purchase.status == "authenticating" and "_secret_" in charge.client_secret
    assert cap(session, account) == 500 * GB and entries(session, account) == []
    # a second click while the dialog is open charges nothing more
    assert buy(session, account, product, card, "3ds").status == "authenticating"
    # the browser runs confirmCardPayment(client_secret): localstripe's dialog
    _authenticate(stripe_env.url, charge.client_secret.split("_secret_")[0],
                  charge.client_secret, passes)
    purchase = usage_payments.finish_authentication(session, account.id, "3ds")
    session.commit()
    mails = session.exec(select(OutboxMail).where(OutboxMail.to_addr == account.email)).all()
    if passes:
        assert purchase.status == "paid"
        assert cap(session, account) == 550 * GB
        assert entries(session, account) == [-1500, 1500]
        assert [m.subject for m in mails] == ["Receipt for your data top-off"]
        assert _charges(stripe_env.url) == 1
    else:
        assert purchase.status == "declined"
        assert "3-D Secure" in usage_payments.decline_reason(purchase)
        assert cap(session, account) == 500 * GB and entries(session, account) == []
        assert mails == []
    # finishing again (a reload, a second callback) changes nothing
    again = usage_payments.finish_authentication(session, account.id, "3ds")
    assert again.status == purchase.status and entries(session, account) == (
        [-1500, 1500] if passes else [])


def test_3d_secure_completed_then_the_tab_closed_is_finished_by_the_webhook(session, stripe_env):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    card = payments.register_method(session, account.id, card_from_number("4000002500003155"))
    session.commit()
    charge = usage_payments.topoff_charge(session, account.id)
    purchase = buy(session, account, product, card, "3ds-closed", charge)
    session.commit()
    _authenticate(stripe_env.url, purchase.payment_reference, charge.client_secret, True)
    event = gateway_event("evt_3ds_ok", "payment_intent.succeeded", purchase, 1500)
    assert payments.handle_event(session, event) == "applied"
    session.refresh(purchase)
    assert purchase.status == "paid" and cap(session, account) == 550 * GB
    assert usage_payments.finish_authentication(session, account.id, "3ds-closed").status == "paid"
    assert entries(session, account) == [-1500, 1500]


def test_an_abandoned_authentication_is_cancelled_before_the_next_top_off(session, stripe_env):
    account = make_account(session, cap_gb=500)
    product = make_product(session)
    card3ds = payments.register_method(session, account.id, card_from_number("4000002500003155"))
    session.commit()
    first = buy(session, account, product, card3ds, "abandoned")
    session.commit()
    assert first.status == "authenticating"
    second = buy(session, account, product, collect_card(session, account.id), "next")
    session.commit()
    session.refresh(first)
    assert (first.status, second.status) == ("declined", "paid")
    assert cap(session, account) == 550 * GB and _charges(stripe_env.url) == 1


def test_another_account_cannot_finish_or_see_a_purchase(session, stripe_env):
    demo = make_account(session, number="1", cap_gb=500)
    demo2 = make_account(session, number="2", cap_gb=500, email="b@example.net")
    product = make_product(session)
    card = payments.register_method(session, demo.id, card_from_number("4000002500003155"))
    session.commit()
    buy(session, demo, product, card, "demo-3ds")
    session.commit()
    with pytest.raises(payments.NotFound):
        usage_payments.finish_authentication(session, demo2.id, "demo-3ds")
    assert usage.find_purchase(session, demo2.id, "demo-3ds") is None
    assert usage.recent_purchases(session, demo2.id) == []


def test_a_full_refund_takes_the_data_back_once(session, stripe_env):
    account, purchase = paid_topoff(session)
    assert cap(session, account) == 550 * GB
    event = gateway_event("evt_r1", "charge.refunded", purchase, 1500)
    assert payments.handle_event(session, event) == "refund"
    session.refresh(purchase)
    assert (purchase.status, purchase.refunded_minor, purchase.removed_bytes) == \
        ("refunded", 1500, 50 * GB)
    assert cap(session, account) == 500 * GB
    # money back (+15.00 refund) and the top-off's charge cancelled (-15.00): nothing owed
    assert entries(session, account) == [-1500, -1500, 1500, 1500]
    assert ledger.total_balance(session, account.id) == 0
    # the same event redelivered, or another event with the same cumulative amount: once
    assert payments.handle_event(session, event) == "duplicate"
    again = gateway_event("evt_r1b", "charge.refunded", purchase, 1500)
    assert payments.handle_event(session, again) == "already"
    assert len(entries(session, account)) == 4 and cap(session, account) == 500 * GB
    assert [p.status for p in usage.recent_purchases(session, account.id)] == ["refunded"]


def test_a_partial_refund_keeps_the_data_and_the_rest_takes_it_back(session, stripe_env):
    account, purchase = paid_topoff(session)
    payments.handle_event(session, gateway_event("evt_p1", "charge.refunded", purchase, 500))
    session.refresh(purchase)
    assert (purchase.status, purchase.refunded_minor) == ("partly_refunded", 500)
    assert cap(session, account) == 550 * GB
    assert ledger.total_balance(session, account.id) == 0
    payments.handle_event(session, gateway_event("evt_p2", "charge.refunded", purchase, 1500))
    session.refresh(purchase)
    assert (purchase.status, purchase.refunded_minor) == ("refunded", 1500)
    assert cap(session, account) == 500 * GB
    assert ledger.total_balance(session, account.id) == 0


def test_a_refund_never_puts_the_cap_under_the_usage_already_recorded(session, stripe_env):
    account, purchase = paid_topoff(session, gb_used=520)
    payments.handle_event(session, gateway_event("evt_u", "charge.refunded", purchase, 1500))
    session.refresh(purchase)
    assert purchase.status == "refunded" and purchase.removed_bytes == 30 * GB
    assert cap(session, account) == 520 * GB


def test_a_dispute_keeps_the_data_and_the_price_is_owed_again(session, stripe_env):
    account, purchase = paid_topoff(session)
    event = gateway_event("evt_d", "charge.dispute.created", purchase, 1500)
    assert payments.handle_event(session, event) == "dispute"
    assert payments.handle_event(session, event) == "duplicate"
    session.refresh(purchase)
    assert purchase.status == "disputed" and cap(session, account) == 550 * GB
    assert ledger.total_balance(session, account.id) == 1500
