"""The billing and payment pages in Chromium, against a real localstripe and its Stripe.js:
figures and tables, the phone layout, the invoice PDF, paying with a saved card, a new card in
the Card Element, a decline, 3-D Secure, the double click, managing methods, and demo2 never
seeing demo's invoices or cards. Paying tests use their own fresh customers, so the demo
accounts stay as other tests expect them."""
from __future__ import annotations

import io
import itertools

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlmodel import select

from tests.e2e.conftest import (DESKTOP, PHONE, check_accessibility, login, new_page, snap,
                                wait_ready)

_n = itertools.count(1)
PASSWORD = "correct-horse-demo"


@pytest.fixture()
def page(browser, portal):
    """A desktop page in English (another test may have left the demo user in French)."""
    page = new_page(browser, portal, DESKTOP, lang="en")
    yield page
    page.context.close()


def customer(portal, *, card: str | None = "pm_card_visa", invoices=(4200, 1800),
             currency: str = "CAD") -> dict:
    """A fresh customer with open invoices (and a saved card), straight into the app's database
    and localstripe."""
    from rxportal import db
    from rxportal.models import PortalUser
    from rxportal.services import passwords
    from tests.billing_factory import collect_card, make_account

    username = f"payer{next(_n)}"
    with db.session_scope() as session:
        account = make_account(session, invoices=invoices, email=f"{username}@example.net",
                               currency=currency)
        session.add(PortalUser(account_id=account.id, username=username,
                               password_hash=passwords.hash_password(PASSWORD)))
        session.commit()
        if card:
            collect_card(session, account.id, card)
        return {"username": username, "account_id": account.id, "email": account.email}


def ledger(account_id: int):
    from rxportal import db
    from rxportal.models import Transaction
    from rxportal.models.billing import Payment
    from rxportal.services import ledger as figures

    with db.session_scope() as session:
        paid = session.exec(select(Transaction).where(Transaction.account_id == account_id,
                                                      Transaction.kind == "payment")).all()
        attempts = session.exec(select(Payment).where(Payment.account_id == account_id)).all()
        return figures.amount_due(session, account_id)[0], len(paid), \
            [p.status for p in attempts]


def go_pay(page, symbol: str = "$"):
    page.goto("/billing/pay")
    wait_ready(page)
    expect(page.locator("#pay-amount-due")).to_contain_text(symbol)


def choose(page, label: str):
    """Pick a radio whose checked state comes back from the server (a round trip)."""
    radio = page.get_by_label(label)
    radio.click()
    expect(radio).to_be_checked()


def fill_card(page, element: str, number: str):
    box = page.locator(f"#{element}")
    box.locator("input[placeholder=number]").wait_for()
    box.locator("input[placeholder=number]").fill(number)
    box.locator("input[placeholder=exp_month]").fill("12")
    box.locator("input[placeholder=exp_year]").fill("30")
    box.locator("input[placeholder=cvc]").fill("123")
    box.locator("input[placeholder=postal_code]").fill("12345")


def notice(page):
    return page.locator("[role=status], [role=alert]").filter(has_text="payment")


def test_billing_page_shows_the_demo_account(page):
    login(page)
    for selector, text in (("#amount-due", "$110.00"), ("#total-balance", "$110.00"),
                           ("#next-cycle", "$65.00"), ("#open-invoices", "2")):
        expect(page.locator(selector)).to_contain_text(text)
    expect(page.locator("#cards")).to_contain_text("4242")
    expect(page.locator("#cards")).to_contain_text("Autopay")
    expect(page.locator("#banks")).to_contain_text("3000")
    expect(page.locator("#invoices")).to_contain_text("INV-100001-0012")
    expect(page.locator("#transactions")).to_contain_text("Fibre 100")
    page.get_by_role("button", name="Next page").last.click()
    page.locator("#invoices").get_by_text("INV-100001-0001").wait_for()
    check_accessibility(page)
    snap(page, "billing-desktop-en")


# Which of the figures (#amount-due) and the tables (#invoices) the page holds, each time that
# changes, seen by a MutationObserver (it runs after each commit's DOM changes).
WATCH_MOUNTS = """
window.__mounts = [];
new MutationObserver(() => {
  const seen = ["amount-due", "invoices"].filter((id) => document.getElementById(id));
  const last = window.__mounts[window.__mounts.length - 1];
  if (!last || last.join() !== seen.join()) window.__mounts.push(seen);
}).observe(document, {childList: true, subtree: true});
"""


def test_the_tables_come_after_the_figures_on_the_first_load_only(page):
    """The first load mounts the figures, then the tables in a later task (one commit each,
    components/render_later.py); back on the page from another, everything comes at once."""
    page.add_init_script(WATCH_MOUNTS)
    login(page)
    expect(page.locator("#invoices")).to_contain_text("INV-100001-0012")
    mounts = page.evaluate("window.__mounts")
    assert ["amount-due"] in mounts, mounts  # the figures alone, for a moment
    assert mounts[-1] == ["amount-due", "invoices"]

    page.get_by_role("link", name="Support Tickets").click()
    page.wait_for_url("**/tickets*")
    expect(page.locator("#invoices")).to_have_count(0)
    page.evaluate("window.__mounts = []")
    page.get_by_role("link", name="Billing").click()
    expect(page.locator("#invoices")).to_contain_text("INV-100001-0012")
    mounts = page.evaluate("window.__mounts")
    assert ["amount-due"] not in mounts and mounts[-1] == ["amount-due", "invoices"], mounts


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_on_a_phone_what_is_unpaid_and_the_pay_button_come_first(browser, portal, lang):
    page = new_page(browser, portal, PHONE, lang=lang)
    login(page)
    button = page.locator("#make-payment")
    expect(page.locator("#amount-due")).to_contain_text("110")
    box = button.bounding_box()
    assert box and box["y"] + box["height"] <= PHONE["height"]
    assert page.locator("#amount-due").bounding_box()["y"] < box["y"]
    if lang == "fr":
        expect(page.locator("#amount-due")).to_contain_text("110,00")
        expect(page.locator("#make-payment")).to_contain_text("Effectuer un paiement")
    check_accessibility(page)
    snap(page, f"billing-phone-{lang}")
    go_pay(page)
    check_accessibility(page)
    snap(page, f"billing-pay-phone-{lang}")
    page.context.close()


def test_invoice_pdf_downloads_through_the_session(page):
    login(page)
    expect(page.locator("#invoices")).to_contain_text("INV-100001-0012")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download invoice INV-100001-0012").click()
    data = open(download.value.path(), "rb").read()
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(data)).pages)
    assert "INV-100001-0012" in text and "Alex Martin" in text and "$65.00" in text
    assert download.value.suggested_filename == "INV-100001-0012.pdf"


@pytest.mark.journey
def test_pay_the_amount_due_with_a_saved_card(page, portal):
    who = customer(portal)
    login(page, who["username"])
    go_pay(page)
    expect(page.locator("#pay-amount-due")).to_contain_text("$60.00")
    page.locator("#pay-button").click()
    page.get_by_text("your payment of $60.00 was received").wait_for()
    expect(page.locator("#pay-amount-due")).to_contain_text("$0.00")
    assert ledger(who["account_id"])[:2] == (0, 2)
    assert "60.00" in str(portal.mail.wait_for(who["email"], "Payment received", timeout=120)["Subject"])


@pytest.mark.journey
def test_double_click_charges_once(page, portal):
    who = customer(portal)
    login(page, who["username"])
    go_pay(page)
    page.locator("#pay-button").dblclick()
    page.get_by_text("was received").wait_for()
    page.wait_for_timeout(1000)
    due, entries, attempts = ledger(who["account_id"])
    assert (due, entries, attempts) == (0, 2, ["succeeded"])


@pytest.mark.journey
def test_pay_with_a_new_card_in_the_card_element(page, portal):
    who = customer(portal, card=None)
    login(page, who["username"])
    go_pay(page)
    choose(page, "A new card")
    fill_card(page, "pay-card-element", "4242424242424242")
    page.locator("#pay-button").click()
    page.get_by_text("was received").wait_for()
    assert ledger(who["account_id"])[0] == 0
    expect(page.locator("#methods")).to_contain_text("4242")  # saved for later


def test_a_declined_card_gets_a_clear_message_and_nothing_is_recorded(page, portal):
    who = customer(portal, card="pm_card_chargeCustomerFail")
    login(page, who["username"])
    go_pay(page)
    page.locator("#pay-button").click()
    page.get_by_text("Your card was declined").wait_for()
    assert ledger(who["account_id"])[:2] == (6000, 0)


def test_a_card_needing_3d_secure(page, portal):
    who = customer(portal, card=None)
    login(page, who["username"])
    go_pay(page)
    choose(page, "A new card")
    fill_card(page, "pay-card-element", "4000002500003155")
    page.locator("#pay-button").click()
    # localstripe's 3-D Secure dialog: once to save the card, once for the payment.
    for _ in range(2):
        page.get_by_role("button", name="Complete authentication").click()
        page.wait_for_timeout(500)
        if page.get_by_text("was received").count():
            break
    page.get_by_text("was received").wait_for()
    assert ledger(who["account_id"])[0] == 0


def test_pay_another_amount_validates_the_field(page, portal):
    who = customer(portal)
    login(page, who["username"])
    go_pay(page)
    choose(page, "Another amount")
    for bad, message in (("", "Enter an amount"), ("12.345", "at most 2 decimals"),
                         ("<script>alert(1)</script>", "as a number"), ("0", "greater than zero"),
                         ("9" * 200, "as a number")):
        page.get_by_label("Amount to pay").fill(bad)
        page.locator("#pay-button").click()
        page.get_by_text(message).wait_for()
    assert ledger(who["account_id"])[1] == 0
    page.get_by_label("Amount to pay").fill("18.00")
    page.locator("#pay-button").click()
    page.get_by_text("your payment of $18.00 was received").wait_for()
    assert ledger(who["account_id"])[0] == 4200


def test_add_a_card_set_autopay_and_remove_it(page, portal):
    who = customer(portal, card=None)
    login(page, who["username"])
    go_pay(page)
    page.get_by_role("button", name="Add a card").click()
    fill_card(page, "add-card-element", "4242424242424242")
    page.get_by_label("Use it for autopay").check()
    page.locator("#save-method").click()
    page.get_by_text("Your payment method was saved").wait_for()
    page.locator("#methods").get_by_text("Autopay", exact=True).wait_for()
    page.get_by_role("button", name="Turn autopay off").click()
    page.get_by_text("Autopay is off.").wait_for()
    page.get_by_role("button", name="Remove •••• 4242").click()
    page.get_by_text("The payment method was removed").wait_for()
    expect(page.locator("#methods")).not_to_contain_text("4242")


def test_add_a_sepa_bank_account_for_a_euro_account(page, portal):
    """localstripe runs SEPA only; CAD (acss_debit) and USD (us_bank_account) are covered with
    the fake gateway in tests/unit/test_bank_account_types.py."""
    who = customer(portal, card=None, currency="EUR")
    login(page, who["username"])
    go_pay(page, "€")
    page.get_by_role("button", name="Add a bank account").click()
    page.get_by_label("Account holder").fill("Jeanne Payeur")
    page.get_by_label("IBAN").fill("DE89 3704 0044 0532 0130 00")
    page.locator("#save-method").click()
    page.get_by_text("Your payment method was saved").wait_for()
    expect(page.locator("#methods")).to_contain_text("3000")


def test_demo2_sees_none_of_demos_invoices_or_methods(page):
    login(page, "demo2")
    expect(page.locator("#invoices")).to_contain_text("INV-100002")
    text = page.locator("main").inner_text()
    assert "INV-100001" not in text and "4242" not in text and "3000" not in text
    assert "INV-100002" in text
