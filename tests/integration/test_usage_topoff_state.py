"""The top-off dialog's handlers, called as the websocket calls them, against localstripe with
the demo data: a saved card, a new card from the Card Element (what Stripe.js answers), 3-D
Secure handed to the browser and finished after it, bad and hostile input, the double click,
and demo2 refused every one of demo's cards and purchases."""
from __future__ import annotations

import pytest
from sqlmodel import select

from tests.billing_factory import card_from_number
from tests.integration.localstripe_fixture import localstripe, stripe_env  # noqa: F401
from tests.integration.test_payments import _authenticate, _charges
from tests.unit.test_billing_state import call, state_for
from rxportal.models.billing import Payment, PaymentMethod
from rxportal.models.usage import TopOffPurchase
from rxportal.services.gateway import get_gateway


@pytest.fixture()
def demo(session, stripe_env):
    from rxportal.demo import load_all

    ctx = load_all(session)
    session.commit()
    return ctx


def dialog(session, username="demo"):
    from rxportal.state.usage import UsageState

    state = state_for(UsageState, session, username)
    state.lang = "en"  # this browser chose English (demo2's own language is French)
    call(state, "load_usage")
    call(state, "open_topoff")
    call(state, "to_confirm")
    return state


def scripts(events) -> str:
    return " ".join(str(e) for e in (events or []))


def purchases(session, account_id):
    return session.exec(select(TopOffPurchase).where(
        TopOffPurchase.account_id == account_id)).all()


def test_a_saved_card_pays_once_whatever_the_clicks(session, demo, stripe_env):
    state = dialog(session)
    before = state.cap_text
    for _ in range(3):  # the busy flag aside, the same confirmation is one purchase
        call(state, "pay_topoff")
        state.topoff_step = "confirm" if state.topoff_step == "done" else state.topoff_step
    assert "data cap is now" in state.topoff_notice and state.cap_text != before
    assert _charges(stripe_env.url) == 1
    assert [p.status for p in purchases(session, demo["demo"].id)] == ["paid"]
    assert state.purchase_rows[0]["label"] == "Paid"


def test_a_new_card_from_the_card_element_and_the_choice_to_keep_it(session, demo, stripe_env):
    state = dialog(session)
    call(state, "choose_method", "new")
    assert state.paying_with_new_card
    call(state, "set_save_card", False)
    events = call(state, "pay_topoff")
    assert "confirmCardSetup" in scripts(events) and state.busy  # Stripe.js collects the card
    call(state, "card_collected", {"payment_method": card_from_number("4242424242424242")})
    assert state.topoff_step == "done" and not state.busy
    new = session.exec(select(PaymentMethod).where(PaymentMethod.account_id == demo["demo"].id,
                                                   PaymentMethod.last4 == "4242",
                                                   PaymentMethod.saved.is_(False))).one()
    assert session.exec(select(Payment).where(Payment.method_id == new.id)).one().status == \
        "succeeded"
    assert len(state.methods) == 1  # the new card was not kept


@pytest.mark.parametrize("passes", [True, False])
def test_3d_secure_is_handed_to_the_browser_then_finished(session, demo, stripe_env, passes):
    from rxportal.services import payments

    state = dialog(session)
    card = payments.register_method(session, demo["demo"].id, card_from_number("4000002500003155"))
    session.commit()
    call(state, "load_usage")
    call(state, "open_topoff")
    call(state, "to_confirm")
    call(state, "choose_method", str(card.id))
    events = call(state, "pay_topoff")
    assert "confirmCardPayment" in scripts(events)
    # the dialog steps aside for the bank's window; the page says what is going on
    assert (state.topoff_step, state.topoff_open, state.busy) == ("authenticating", False, True)
    purchase = purchases(session, demo["demo"].id)[0]
    assert purchase.status == "authenticating"
    secret = get_gateway().get_payment(purchase.payment_reference).client_secret
    assert secret in scripts(events).replace("\\", "")
    _authenticate(stripe_env.url, purchase.payment_reference, secret, passes)
    call(state, "authenticated", {})
    assert state.topoff_open and not state.busy
    session.refresh(purchase)
    if passes:
        assert purchase.status == "paid" and state.topoff_step == "done"
    else:
        assert purchase.status == "declined" and state.topoff_step == "confirm"
        assert "3-D Secure" in state.topoff_error
        assert state.purchase_rows == []


def test_bad_and_hostile_input_changes_nothing(session, demo, stripe_env):
    state = dialog(session)
    for value in ("", "<script>alert(1)</script>", "1 OR 1=1", "9" * 300):
        call(state, "choose_product", value)
        call(state, "choose_method", value)
    assert state.selected_product == str(state.products[0]["id"])
    assert state.selected_method == state.methods[0]["id"]
    call(state, "choose_method", "new")
    call(state, "pay_topoff")
    for answer in ({"payment_method": "<script>"}, {"error": "x" * 5000}, None, "garbage",
                   {"payment_method": "pm_' OR 1=1 --"}):
        state.busy = True
        call(state, "card_collected", answer)
        assert state.topoff_error and not state.busy and len(state.topoff_error) < 300
    state.selected_product = "<b>1</b>"
    call(state, "to_confirm")
    assert state.topoff_error == "Choose a top-off."
    assert purchases(session, demo["demo"].id) == [] and _charges(stripe_env.url) == 0


def test_demo2_is_refused_demos_cards_and_purchases(session, demo, stripe_env):
    demo_card = session.exec(select(PaymentMethod).where(
        PaymentMethod.account_id == demo["demo"].id, PaymentMethod.kind == "card")).first()
    paid = dialog(session)
    call(paid, "pay_topoff")
    demo_purchase = purchases(session, demo["demo"].id)[0]
    # demo2 has no cap: no dialog at all, and none of demo's purchases on her page
    state = dialog(session, "demo2")
    assert not state.has_cap and not state.topoff_open and state.purchase_rows == []
    call(state, "choose_method", str(demo_card.id))
    assert state.selected_method != str(demo_card.id)
    # a tampered state: demo's card, demo's confirmation key, a product
    state.products = paid.products
    state.selected_product, state.selected_method = paid.selected_product, str(demo_card.id)
    call(state, "pay_topoff")
    assert state.topoff_error == "Choose a payment method."
    state.request_key, state.topoff_step, state.busy = demo_purchase.request_key, "authenticating", True
    call(state, "authenticated", {})
    assert state.topoff_error == "Not found."
    state.busy = True
    call(state, "card_collected", {"payment_method": demo_card.gateway_ref})
    assert state.topoff_error == "Not found."
    assert purchases(session, demo["demo2"].id) == [] and _charges(stripe_env.url) == 1


def test_nothing_is_bought_once_the_isp_turned_the_page_off(session, demo, stripe_env):
    from rxportal.services import settings

    state = dialog(session)
    settings.put(session, "page_usage", False)
    session.commit()
    assert "redirect" in scripts(call(state, "pay_topoff")).lower()
    assert not state.busy and purchases(session, demo["demo"].id) == []
    assert _charges(stripe_env.url) == 0


def test_a_reload_during_the_bank_step_settles_the_purchase(session, demo, stripe_env):
    from rxportal.services import payments

    card = payments.register_method(session, demo["demo"].id, card_from_number("4000002500003155"))
    session.commit()
    state = dialog(session)
    call(state, "choose_method", str(card.id))
    call(state, "pay_topoff")
    purchase = purchases(session, demo["demo"].id)[0]
    secret = get_gateway().get_payment(purchase.payment_reference).client_secret
    _authenticate(stripe_env.url, purchase.payment_reference, secret, True)
    call(state, "load_usage")  # the tab reloaded: the callback never comes
    session.refresh(purchase)
    assert purchase.status == "paid" and state.topoff_step == "choose" and not state.busy
    assert state.purchase_rows[0]["label"] == "Paid"
