"""The demo's payment methods in localstripe (also when it was down at load time, or restarted),
and webhooks really delivered and signed by localstripe to the portal's route."""
from __future__ import annotations

import threading
import time
import urllib.request
from urllib.parse import urlencode

import pytest
from sqlmodel import select

from rxportal.models.billing import Payment, PaymentMethod
from rxportal.services import ledger, payments
from tests.billing_factory import card_from_number, make_account
from tests.conftest import free_port
from tests.integration.localstripe_fixture import localstripe, stripe_env  # noqa: F401


def test_demo_methods_stored_while_the_gateway_is_down_then_synced(session, stripe_env,
                                                                     monkeypatch):
    from rxportal.demo import load_all
    from rxportal.demo.billing import sync_local_gateway

    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")  # nobody there
    ctx = load_all(session)
    session.commit()
    demo, demo2 = ctx["demo"], ctx["demo2"]
    methods = payments.list_methods(session, demo.id)
    assert [(m.kind, m.last4, m.autopay) for m in methods] == [
        ("card", "4242", True), ("sepa_debit", "3000", False)]
    assert all(m.gateway_ref.startswith("pm_demo_") for m in methods)
    monkeypatch.setenv("STRIPE_API_BASE", stripe_env.url)
    assert "3 payment methods recreated" in sync_local_gateway(session)
    session.commit()
    card = payments.autopay_method(session, demo.id)
    assert not card.gateway_ref.startswith("pm_demo_")
    outcome = payments.pay(session, demo.id, attempt_id=payments.new_attempt_id(),
                           purpose="amount_due", method_id=card.id)
    assert (outcome.status, outcome.amount_minor) == ("succeeded", 11000)
    assert ledger.amount_due(session, demo.id) == (0, 0)
    assert ledger.amount_due(session, demo2.id)[0] == 8999
    # localstripe restarted (emptied): the next sync recreates them again.
    stripe_env.clear()
    assert "3 payment methods recreated" in sync_local_gateway(session)
    assert "0 payment methods recreated" in sync_local_gateway(session)


def test_demo_loads_its_methods_into_a_running_localstripe(session, stripe_env):
    from rxportal.demo import load_all

    ctx = load_all(session)
    session.commit()
    methods = session.exec(select(PaymentMethod).where(
        PaymentMethod.account_id == ctx["demo"].id)).all()
    assert all(m.gateway_ref.startswith("pm_") and not m.gateway_ref.startswith("pm_demo_")
               for m in methods)
    assert {m.kind for m in methods} == {"card", "sepa_debit"}


@pytest.fixture()
def webhook_server(session, stripe_env, monkeypatch):
    """The portal's webhook route served over HTTP (uvicorn), registered in localstripe."""
    import uvicorn
    from starlette.applications import Starlette

    from rxportal.api import billing as billing_api

    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_integration")
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(Starlette(routes=billing_api.routes),
                                           host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    stripe_env.register_webhook("portal", f"http://127.0.0.1:{port}{billing_api.WEBHOOK_PATH}",
                                "whsec_integration")
    yield
    server.should_exit = True
    thread.join(5)


def test_a_3d_secure_payment_completed_in_the_browser_is_applied_by_the_webhook(
        session, stripe_env, webhook_server):
    account = make_account(session, invoices=(6500,))
    card = payments.register_method(session, account.id, card_from_number("4000002500003155"))
    session.commit()
    outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                           purpose="amount_due", method_id=card.id)
    assert outcome.status == "requires_action"
    # The customer completes 3-D Secure, then closes the tab: only the webhook tells us.
    intent = outcome.client_secret.split("_secret_")[0]
    data = urlencode({"client_secret": outcome.client_secret, "success": "true",
                      "key": "pk_test_x"}).encode()
    urllib.request.urlopen(f"{stripe_env.url}/v1/payment_intents/{intent}/_authenticate",
                           data=data, timeout=5).read()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        session.expire_all()
        if session.get(Payment, outcome.payment_id).status == "succeeded":
            break
        time.sleep(0.2)
    assert session.get(Payment, outcome.payment_id).status == "succeeded"
    assert ledger.amount_due(session, account.id) == (0, 0)
    # The page coming back later (resume) finds it done and records nothing more.
    again = payments.resume_attempt(session, account.id, outcome.attempt_id)
    assert again.status == "succeeded"
    assert ledger.total_balance(session, account.id) == 0


def test_stripe_config_route_gives_only_public_values(session, stripe_env):
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from rxportal.api import billing as billing_api

    answer = TestClient(Starlette(routes=billing_api.routes)).get("/api/billing/stripe-config")
    assert answer.status_code == 200
    assert answer.json() == {"publishable_key": "pk_test_localstripe",
                             "js_url": f"{stripe_env.url}/js.stripe.com/v3/"}
