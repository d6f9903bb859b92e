"""The bank account type follows the ISP's currency: SEPA Direct Debit (EUR), Canadian
pre-authorised debit (acss_debit, CAD) and US ACH (us_bank_account, USD). localstripe runs only
sepa_debit (tests/e2e/test_billing_page.py adds one in Chromium); the other two are covered here
with the FAKE gateway (tests/fake_gateway.py) at service and state level, plus the SetupIntent
parameters our Stripe implementation sends for each type."""
from __future__ import annotations

import inspect
from datetime import date

import pytest

from rxportal.models import Invoice
from rxportal.services import auth, billing, ledger, payments
from rxportal.services.gateway import GatewayEvent, MethodInfo, bank_kind
from rxportal.services.gateway.stripe_gateway import setup_intent_params
from tests.billing_factory import make_account
from tests.factories import make_user
from tests.fake_gateway import fake  # noqa: F401

PASSWORD = "a long enough secret"


@pytest.mark.parametrize("currency,kind", [("EUR", "sepa_debit"), ("CAD", "acss_debit"),
                                           ("USD", "us_bank_account"), ("cad", "acss_debit"),
                                           ("GBP", None), ("", None)])
def test_the_bank_type_is_chosen_from_the_currency(currency, kind):
    assert bank_kind(currency) == kind


def test_acss_setup_intent_carries_the_mandate_stripe_requires():
    params = setup_intent_params("cus_1", "acss_debit", "CAD")
    options = params["payment_method_options"]["acss_debit"]
    assert params["payment_method_types"] == ["acss_debit"] and params["usage"] == "off_session"
    assert options["currency"] == "cad"
    assert options["mandate_options"]["payment_schedule"] == "combined"  # invoices + pay now
    assert options["mandate_options"]["interval_description"]
    assert options["mandate_options"]["transaction_type"] == "personal"


def test_ach_setup_intent_links_the_account_through_financial_connections():
    params = setup_intent_params("cus_1", "us_bank_account", "USD")
    options = params["payment_method_options"]["us_bank_account"]
    assert params["payment_method_types"] == ["us_bank_account"]
    assert options["financial_connections"]["permissions"] == ["payment_method"]


def test_sepa_and_card_setup_intents_need_no_options():
    for kind in ("sepa_debit", "card"):
        assert "payment_method_options" not in setup_intent_params("cus_1", kind, "EUR")


@pytest.mark.parametrize("currency,kind", [("EUR", "sepa_debit"), ("CAD", "acss_debit"),
                                           ("USD", "us_bank_account")])
def test_adding_a_bank_account_starts_the_setup_of_the_currencys_type(session, fake, currency,
                                                                       kind):
    account = make_account(session, invoices=(), currency=currency)
    payments.start_method_setup(session, account.id, "bank")
    assert fake.setup_intents[-1]["kind"] == kind
    payments.start_method_setup(session, account.id, "card")
    assert fake.setup_intents[-1]["kind"] == "card"


def test_a_bank_type_of_another_currency_or_none_is_refused(session, fake):
    cad = make_account(session, invoices=(), currency="CAD")
    with pytest.raises(payments.PaymentError) as refused:
        payments.start_method_setup(session, cad.id, "sepa_debit")
    assert refused.value.code == "kind"
    gbp = make_account(session, invoices=(), currency="GBP")
    with pytest.raises(payments.PaymentError):
        payments.start_method_setup(session, gbp.id, "bank")
    assert billing.view(session, gbp.id, "en")["bank_kind"] == ""
    assert fake.setup_intents == []


@pytest.mark.parametrize("currency,kind,bank", [("CAD", "acss_debit", "TD Canada Trust"),
                                                ("USD", "us_bank_account", "STRIPE TEST BANK")])
def test_a_saved_bank_account_shows_its_bank_and_pays_by_autopay(session, fake, currency, kind,
                                                                 bank):
    account = make_account(session, invoices=(6500,), currency=currency)
    fake.methods["pm_bank_1"] = MethodInfo("pm_bank_1", kind, bank, "6789", None, None, None)
    method = payments.register_method(session, account.id, "pm_bank_1", autopay=True)
    session.commit()
    assert (method.kind, method.brand, method.last4, method.autopay) == (kind, bank, "6789", True)
    view = billing.view(session, account.id, "en")
    assert view["bank_kind"] == kind and view["cards"] == []
    assert [(b["brand"], b["masked"], b["autopay"]) for b in view["banks"]] == [
        (bank, "•••• 6789", "1")]
    # The billing run charges the autopay bank account; the debit stays "processing" until
    # the gateway's webhook says it went through.
    invoice_id = ledger_open_invoice(session, account.id)
    outcome = payments.charge_autopay(session, session.get(Invoice, invoice_id), 1,
                                      date(2026, 3, 1))
    assert outcome.status == "processing"
    assert fake.intents[next(iter(fake.intents))]["kind"] == kind
    ref = next(iter(fake.intents))
    fake.intents[ref]["status"] = "succeeded"
    assert payments.handle_event(session, GatewayEvent(
        id=f"evt_{kind}", type="payment_intent.succeeded", object_ref=ref, created=1)) == "applied"
    assert ledger.amount_due(session, account.id) == (0, 0)


def ledger_open_invoice(session, account_id) -> int:
    return payments.invoice_balances(session, account_id)[0][0].id


def _pay_state(session, account):
    from reflex.state import State

    from rxportal.state.billing import PayState

    username = f"u{account.id}x"
    make_user(session, account, username, PASSWORD)
    session.commit()
    root = State(_reflex_internal_init=True)
    state = root.get_substate(PayState.get_full_name().split("."))
    state.session_token = auth.login(session, username, PASSWORD).token
    session.commit()
    return state


def _run(state, name, *args):
    result = type(state).event_handlers[name].fn(state, *args)
    return list(result) if inspect.isgenerator(result) else result


@pytest.mark.parametrize("currency,function", [("EUR", "confirmSepaSetup"),
                                               ("CAD", "confirmAcssSetup"),
                                               ("USD", "confirmUsBankSetup")])
def test_the_page_calls_the_stripe_js_function_of_the_type(session, fake, currency, function):
    account = make_account(session, invoices=(), currency=currency)
    state = _pay_state(session, account)
    _run(state, "load_pay")
    assert state.bank_kind == bank_kind(currency)
    _run(state, "open_add", "bank")
    events = _run(state, "add_method", {"holder": "Jeanne Payeur"})
    script = str(events[-1])
    assert function in script and "Jeanne Payeur" in script
    assert state.methods_error == ""


def test_the_holder_is_required_for_every_bank_type(session, fake):
    account = make_account(session, invoices=(), currency="CAD")
    state = _pay_state(session, account)
    _run(state, "load_pay")
    _run(state, "open_add", "bank")
    _run(state, "add_method", {"holder": "  "})
    assert state.methods_error == "Enter the account holder's name."
    assert fake.setup_intents == []
