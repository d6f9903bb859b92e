"""Refunds from the staff console in Chromium: an administrator refunds part of a customer's card
payment (made through the test run's localstripe), a bad amount first gets a message, and the
customer then sees the refund on /billing. The page is looked at on a phone and a desktop, in
English and French, with axe-core."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import DESKTOP, PHONE, check_accessibility, login, new_page, snap, \
    wait_ready
from tests.e2e.test_admin_pages import PASSWORD, _db, _login_fr, make_staff, staff_login


def customer_who_paid(amount_text: str = "40.00") -> tuple[int, str, int]:
    """A customer with a login who paid ahead with a card: (account id, username, payment id)."""
    from rxportal.models import Account, PortalUser
    from rxportal.services import passwords, payments
    from tests.billing_factory import collect_card

    username = f"refund-{uuid.uuid4().hex[:6]}"
    with _db() as session:
        account = Account(number=uuid.uuid4().hex[:8], name="Refund Customer",
                          email=f"{username}@example.org", currency="CAD", billing_day=1)
        session.add(account)
        session.flush()
        session.add(PortalUser(account_id=account.id, username=username,
                               password_hash=passwords.hash_password(PASSWORD)))
        session.commit()
        card = collect_card(session, account.id)
        outcome = payments.pay(session, account.id, attempt_id=payments.new_attempt_id(),
                               purpose="other", amount_text=amount_text, method_id=card.id)
        assert outcome.status == "succeeded"
        return account.id, username, outcome.payment_id


def open_refund(page, account_id: int, payment_id: int) -> None:
    page.goto(f"/admin/customers/{account_id}")
    wait_ready(page)
    page.locator(f"#refund-{payment_id}").click()
    expect(page.locator("#refund-amount")).to_have_value("40.00")


def test_an_administrator_refunds_a_payment_and_the_customer_sees_it(browser, portal):
    account_id, username, payment_id = customer_who_paid()
    page = new_page(browser, portal)
    staff_login(page, make_staff("administrator"))
    open_refund(page, account_id, payment_id)
    page.locator("#refund-amount").fill("40.001")
    page.locator("#refund-reason").fill("Outage on <b>Monday</b>")
    page.locator("#refund-submit").click()
    expect(page.locator("#refund-amount-error")).to_have_text("Enter an amount, like 500.00.")
    expect(page.locator("#amount-error")).to_have_text("")  # not the charge form's field
    page.locator("#refund-amount").fill("15.00")
    page.locator("#refund-submit").dblclick()  # a double click refunds once
    expect(page.get_by_role("status").filter(has_text="refund was made")).to_be_visible()
    expect(page.locator("#refund-form")).to_have_count(0)
    expect(page.get_by_role("cell", name="$15.00").first).to_be_visible()
    page.context.close()

    from sqlmodel import select

    from rxportal.models import Transaction
    with _db() as session:
        refunds = session.exec(select(Transaction).where(Transaction.account_id == account_id,
                                                         Transaction.kind == "refund")).all()
        assert [r.amount_minor for r in refunds] == [1500]

    customer = new_page(browser, portal)
    login(customer, username, PASSWORD)
    expect(customer.locator("#transactions")).to_contain_text("Refund")
    expect(customer.locator("#transactions")).to_contain_text("$15.00")
    expect(customer.locator("#total-balance")).to_have_text("-$25.00")
    customer.context.close()


def test_the_refund_form_on_a_phone_and_a_desktop_in_both_languages(browser, portal):
    account_id, _username, payment_id = customer_who_paid()
    for lang in ("en", "fr"):
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = new_page(browser, portal, viewport, lang=lang)
            username = make_staff("administrator")  # a TOTP code works once: a user per size
            try:
                staff_login(page, username) if lang == "en" else _login_fr(page, username)
                open_refund(page, account_id, payment_id)
                expect(page.locator("#refund-form")).to_contain_text(
                    "Montant à rembourser" if lang == "fr" else "Amount to refund")
                assert page.locator("html").evaluate(
                    "el => el.scrollWidth <= window.innerWidth + 1"), "the page scrolls sideways"
                page.locator("#refund-form").scroll_into_view_if_needed()
                snap(page, f"admin-refund-{lang}-{size}")
                check_accessibility(page)
            finally:
                page.context.close()
