"""The payment gateway (localstripe, in its own process) stopped and started again on the same
port with its data, in the scaled-out mode: while a customer pays on /billing/pay (in English on
a desktop, in French on a phone) and while the billing run charges autopay. The customer is told
in their language that nothing was recorded, the form works again, and once the gateway is back
the retry charges once: one PaymentIntent in the gateway, one payment in our ledger."""
from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.e2e.conftest import DESKTOP, PHONE, login, new_page, snap
from tests.e2e.test_billing_page import customer, go_pay, ledger

OUTAGE = {"en": "The payment service is not answering. Nothing was recorded",
          "fr": "Le service de paiement ne répond pas. Rien n'a été enregistré"}
RECEIVED = {"en": "your payment of $60.00 was received", "fr": "votre paiement de 60,00"}


def succeeded_intents(localstripe, account_id: int) -> list[dict]:
    """The PaymentIntents that succeeded in the gateway for this account's customer."""
    from rxportal import db
    from rxportal.models.billing import GatewayCustomer

    with db.session_scope() as session:
        ref = session.exec(select(GatewayCustomer.customer_ref).where(
            GatewayCustomer.account_id == account_id)).one()
    return [i for i in localstripe.objects("payment_intents")
            if i["customer"] == ref and i["status"] == "succeeded"]


@pytest.mark.parametrize("lang, viewport", [("en", DESKTOP), ("fr", PHONE)])
def test_paying_while_the_gateway_is_down_then_again_once_it_is_back(browser, portal, localstripe,
                                                                     lang, viewport):
    who = customer(portal)
    page = new_page(browser, portal, viewport, lang=lang)
    try:
        login(page, who["username"])
        go_pay(page)
        localstripe.stop()
        try:
            page.locator("#pay-button").click()
            expect(page.get_by_role("alert")).to_contain_text(OUTAGE[lang])
            snap(page, f"failure-gateway-down-{lang}")
            assert ledger(who["account_id"]) == (6000, 0, ["interrupted"])
            expect(page.locator("#pay-button")).to_be_enabled()
        finally:
            localstripe.start()
        page.locator("#pay-button").click()
        page.get_by_text(RECEIVED[lang]).wait_for()
        expect(page.get_by_role("alert").filter(has_text=OUTAGE[lang])).to_have_count(0)
        page.wait_for_timeout(1000)
        # One payment, applied to the customer's two invoices (one ledger entry for each).
        assert ledger(who["account_id"]) == (0, 2, ["succeeded"])
        assert len(succeeded_intents(localstripe, who["account_id"])) == 1
    finally:
        page.context.close()


def _free_billing_day() -> int:
    """A billing day no other account has, so that the run bills only this test's customer."""
    from rxportal import db
    from rxportal.models import Account

    with db.session_scope() as session:
        taken = set(session.exec(select(Account.billing_day)).all())
    return min(set(range(1, 29)) - taken)


def test_billing_run_while_the_gateway_is_down_charges_autopay_once_it_is_back(portal,
                                                                              localstripe):
    from rxportal import db
    from rxportal.models import Account
    from rxportal.services import payments

    day = date(2026, 12, _free_billing_day())
    who = customer(portal, invoices=())
    with db.session_scope() as session:
        account = session.get(Account, who["account_id"])
        account.billing_day = day.day
        session.add(account)
        session.commit()
        [card] = payments.list_methods(session, account.id)
        payments.set_autopay(session, account.id, card.id)
        session.commit()
    localstripe.stop()
    try:
        down = portal.cli("billing-run", "--date", day.isoformat())
        assert "1 invoices issued, 0 autopay charges, 0 failed" in down.stdout
        assert "1 autopay charges not made: the payment gateway did not answer" in down.stdout
        due, entries, attempts = ledger(who["account_id"])
        assert (due > 0, entries, attempts) == (True, 0, ["interrupted"])
    finally:
        localstripe.start()
    back = portal.cli("billing-run", "--date", day.isoformat())
    assert "0 invoices issued, 1 autopay charges, 0 failed" in back.stdout
    again = portal.cli("billing-run", "--date", day.isoformat())
    assert "0 invoices issued, 0 autopay charges, 0 failed" in again.stdout
    assert ledger(who["account_id"]) == (0, 1, ["succeeded"])
    assert len(succeeded_intents(localstripe, who["account_id"])) == 1
    assert not [m for m in portal.mail.to(who["email"]) if "did not go through" in str(m["Subject"])]
