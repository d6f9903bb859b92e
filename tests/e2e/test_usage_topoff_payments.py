"""Paying a top-off in Chromium against localstripe and its Stripe.js: a new card typed into the
Card Element of the dialog, a 3-D Secure card completing and failing the bank's step, the
double click (one charge), the purchase's status after a refund, demo2 seeing none of another
customer's purchases; the dialog with the Card Element at phone and desktop size in English
and French, with axe-core. Each paying test has its own fresh customer with a 500 GB cap."""
from __future__ import annotations

import itertools

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.e2e.conftest import DESKTOP, PHONE, check_accessibility, login, new_page, snap, wait_ready
from tests.e2e.test_billing_page import fill_card

_n = itertools.count(1)
PASSWORD = "correct-horse-demo"
GB = 1000**3


def capped_customer(language="en") -> dict:
    """A fresh customer with a 500 GB plan and no saved card, in the app's database."""
    from datetime import date

    from rxportal import db
    from rxportal.models import Account, AccountService, Plan, PortalUser
    from rxportal.services import passwords

    n = next(_n)
    username = f"topoff{n}"
    with db.session_scope() as session:
        account = Account(number=f"77{n:04d}", name=f"Top-off Customer {n}", currency="CAD",
                          email=f"{username}@example.net", billing_day=1, language=language)
        plan = Plan(name="Fibre 500", price_minor=6500, currency="CAD", data_cap_bytes=500 * GB)
        session.add_all([account, plan])
        session.flush()
        session.add(AccountService(account_id=account.id, plan_id=plan.id, name=plan.name,
                                   price_minor=6500, started_on=date(2026, 1, 1)))
        session.add(PortalUser(account_id=account.id, username=username,
                               password_hash=passwords.hash_password(PASSWORD)))
        session.commit()
        return {"username": username, "account_id": account.id, "email": account.email}


def bought(account_id: int):
    """(purchase statuses, payment statuses, top-off charges in the ledger) of an account."""
    from rxportal import db
    from rxportal.models import Transaction
    from rxportal.models.billing import Payment
    from rxportal.models.usage import TopOffPurchase

    with db.session_scope() as session:
        return ([p.status for p in session.exec(select(TopOffPurchase).where(
                    TopOffPurchase.account_id == account_id))],
                [p.status for p in session.exec(select(Payment).where(
                    Payment.account_id == account_id))],
                len(session.exec(select(Transaction).where(
                    Transaction.account_id == account_id, Transaction.kind == "charge")).all()))


def open_dialog(page, who, continue_label="Continue", topoff="Top-Off"):
    login(page, who["username"])
    page.goto("/usage")
    wait_ready(page)
    page.get_by_role("button", name=topoff).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name=continue_label).click()
    dialog.locator("#topoff-card-element input[placeholder=number]").wait_for()
    return dialog


@pytest.fixture()
def page(browser, portal):
    page = new_page(browser, portal, DESKTOP, lang="en")
    yield page
    page.context.close()


@pytest.mark.journey
def test_a_new_card_typed_into_the_dialog_pays_once_and_is_kept(page):
    who = capped_customer()
    dialog = open_dialog(page, who)
    expect(dialog.get_by_label("Pay with")).to_have_value("new")
    expect(dialog.get_by_label("Save this card for later payments")).to_be_checked()
    fill_card(page, "topoff-card-element", "4242424242424242")
    dialog.get_by_role("button", name="Confirm and pay").dblclick()
    expect(dialog).to_contain_text("Your data cap is now 525 GB", timeout=30_000)
    dialog.get_by_role("button", name="Close").click()
    expect(page.locator("#usage-cap")).to_have_text("525 GB")
    expect(page.locator("#topoff-purchases")).to_contain_text("Paid")
    page.wait_for_timeout(1000)  # anything a second click could still have started
    assert bought(who["account_id"]) == (["paid"], ["succeeded"], 1)
    # the card was kept: the next top-off offers it
    page.get_by_role("button", name="Top-Off").click()
    page.get_by_role("dialog").get_by_role("button", name="Continue").click()
    expect(page.get_by_label("Pay with")).to_contain_text("Visa •••• 4242")


def _bank_step(page, choice: str):
    button = page.get_by_role("button", name=choice)
    button.wait_for(timeout=30_000)
    button.click()


def test_a_3d_secure_card_completing_the_bank_step(page):
    who = capped_customer()
    dialog = open_dialog(page, who)
    keep = dialog.get_by_label("Save this card for later payments")
    keep.click()  # its state comes back from the server: wait for the round trip
    expect(keep).not_to_be_checked()
    fill_card(page, "topoff-card-element", "4000002500003155")
    dialog.get_by_role("button", name="Confirm and pay").click()
    _bank_step(page, "Complete authentication")  # saving the card asks the bank once
    # then the payment: the dialog steps aside for the bank's window
    expect(page.locator("#topoff-authenticating")).to_be_visible(timeout=30_000)
    snap(page, "usage-topoff-3ds-en-desktop")
    _bank_step(page, "Complete authentication")
    expect(page.get_by_role("dialog")).to_contain_text("Your data cap is now 525 GB",
                                                       timeout=30_000)
    expect(page.locator("#topoff-authenticating")).to_have_count(0)
    assert bought(who["account_id"]) == (["paid"], ["succeeded"], 1)


def test_a_3d_secure_card_failing_the_bank_step_changes_nothing(browser, portal):
    who = capped_customer(language="fr")
    page = new_page(browser, portal, DESKTOP, lang="fr")
    try:
        dialog = open_dialog(page, who, "Continuer", "Recharge")
        fill_card(page, "topoff-card-element", "4000002500003155")
        dialog.get_by_role("button", name="Confirmer et payer").click()
        _bank_step(page, "Complete authentication")
        expect(page.locator("#topoff-authenticating")).to_be_visible(timeout=30_000)
        _bank_step(page, "Fail authentication")
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_role("alert")).to_contain_text("3-D Secure", timeout=30_000)
        expect(dialog.get_by_role("alert")).to_contain_text("Rien n'a été prélevé")
        snap(page, "usage-topoff-3ds-failed-fr-desktop")
        dialog.get_by_role("button", name="Retour").click()
        dialog.get_by_role("button", name="Annuler").click()
        expect(page.locator("#usage-cap")).to_have_text("500\u202fGo")
        assert bought(who["account_id"]) == (["declined"], ["failed"], 0)
    finally:
        page.context.close()


@pytest.mark.parametrize("lang,size,viewport", [("en", "desktop", DESKTOP), ("en", "phone", PHONE),
                                                ("fr", "desktop", DESKTOP), ("fr", "phone", PHONE)])
def test_the_dialog_with_the_card_element_everywhere(browser, portal, lang, size, viewport):
    who = capped_customer(language=lang)
    page = new_page(browser, portal, viewport, lang=lang)
    try:
        fr = lang == "fr"
        open_dialog(page, who, "Continuer" if fr else "Continue", "Recharge" if fr else "Top-Off")
        box = page.get_by_role("dialog").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 1
        snap(page, f"usage-topoff-card-{lang}-{size}")
        check_accessibility(page)
    finally:
        page.context.close()


def test_a_refunded_top_off_shows_refunded_and_its_data_leaves_the_cap(page, portal):
    from rxportal import db
    from rxportal.models.usage import TopOffPurchase
    from rxportal.services import payments
    from rxportal.services.gateway import GatewayEvent

    who = capped_customer()
    dialog = open_dialog(page, who)
    fill_card(page, "topoff-card-element", "4242424242424242")
    dialog.get_by_role("button", name="Confirm and pay").click()
    expect(dialog).to_contain_text("Your data cap is now 525 GB", timeout=30_000)
    # localstripe sends no refund event: the test delivers the gateway's charge.refunded
    with db.session_scope() as session:
        purchase = session.exec(select(TopOffPurchase).where(
            TopOffPurchase.account_id == who["account_id"])).one()
        event = GatewayEvent(id=f"evt_e2e_refund_{purchase.id}", type="charge.refunded",
                             object_ref=purchase.payment_reference, created=1,
                             amount_minor=purchase.price_minor)
        assert payments.handle_event(session, event) == "refund"
        assert payments.handle_event(session, event) == "duplicate"
    page.reload()
    wait_ready(page)
    expect(page.locator("#topoff-purchases")).to_contain_text("Refunded")
    expect(page.locator("#topoff-purchases")).to_contain_text("25 GB taken off the cap")
    expect(page.locator("#usage-cap")).to_have_text("500 GB")
    page.locator("#topoff-purchases").scroll_into_view_if_needed()
    snap(page, "usage-topoffs-refunded-en-desktop")
    check_accessibility(page)
    # the same list on a phone, in French
    phone = new_page(page.context.browser, portal, PHONE, lang="fr")
    try:
        login(phone, who["username"])
        phone.goto("/usage")
        wait_ready(phone)
        expect(phone.locator("#topoff-purchases")).to_contain_text("Remboursée")
        phone.locator("#topoff-purchases").scroll_into_view_if_needed()
        snap(phone, "usage-topoffs-refunded-fr-phone")
        check_accessibility(phone)
    finally:
        phone.context.close()


def test_demo2_sees_no_top_off_of_anyone_else(browser, portal):
    page = new_page(browser, portal, DESKTOP, lang="en")
    try:
        login(page, "demo2")
        page.goto("/usage")
        wait_ready(page)
        page.locator("#usage-used").wait_for()
        expect(page.locator("#topoff-purchases")).to_have_count(0)
        expect(page.get_by_role("button", name="Top-Off")).to_have_count(0)
    finally:
        page.context.close()
