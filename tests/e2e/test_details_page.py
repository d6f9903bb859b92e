"""My Details: edits with bad input, e-mail change by confirmation link, password change."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, first_link, login, look_at, new_page, wait_ready


def make_customer(password="first good phrase"):
    """A customer of its own, so edits here do not disturb the demo accounts' other tests."""
    from rxportal import db
    from rxportal.models import Account, AccountPhone, PortalUser
    from rxportal.services import passwords

    suffix = uuid.uuid4().hex[:6]
    with db.session_scope() as session:
        account = Account(number=f"D{suffix}", name="Dee Tails", email=f"dee-{suffix}@example.org")
        session.add(account)
        session.flush()
        session.add(AccountPhone(account_id=account.id, number="+16135550142", label="Mobile"))
        session.add(PortalUser(account_id=account.id, username=f"dee{suffix}",
                               password_hash=passwords.hash_password(password)))
    return f"dee{suffix}", password, f"dee-{suffix}@example.org"


def open_details(browser, portal, password="first good phrase"):
    username, password, email = make_customer(password)
    page = new_page(browser, portal)
    login(page, username, password)
    page.goto("/details")
    wait_ready(page)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Dee Tails")
    return page, username, email


def test_details_page_looks_right_everywhere(browser, portal):
    look_at(browser, portal, "/details", "details", user="demo", ready_selector="#name")


@pytest.mark.journey
def test_name_and_phone_numbers_are_updated(browser, portal):
    page, _, _ = open_details(browser, portal)
    page.get_by_label("Name", exact=True).fill("Dee Tails-Smith 🚀")
    page.get_by_role("button", name="Add a phone number").click()
    page.locator("#phone_number_1").fill("514 555 0123")
    page.locator("#phone_label_1").fill("Work")
    page.get_by_role("button", name="Update Details").click()
    expect(page.get_by_role("status").filter(has_text="updated")).to_be_visible()
    page.reload()
    wait_ready(page)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Dee Tails-Smith 🚀")
    expect(page.locator("#phone_number_1")).to_have_value("(514) 555-0123")
    page.context.close()


def test_bad_details_show_messages_next_to_the_fields_and_save_nothing(browser, portal):
    page, _, _ = open_details(browser, portal)
    page.get_by_label("Name", exact=True).fill("x" * 10_000)
    page.locator("#phone_number_0").fill("12345")
    page.get_by_role("button", name="Update Details").click()
    expect(page.locator("#name-error")).to_have_text("Use at most 200 characters.")
    expect(page.locator("#phone_number_0-error")).to_contain_text("Enter a valid phone number")
    page.get_by_label("Name", exact=True).fill("")
    page.locator("#phone_number_0").fill("613 555 0142")
    page.get_by_role("button", name="Update Details").click()
    expect(page.locator("#name-error")).to_have_text("Enter your name.")
    page.reload()
    wait_ready(page)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Dee Tails")
    page.context.close()


def test_hostile_input_is_shown_as_text(browser, portal):
    page, _, _ = open_details(browser, portal)
    hostile = "<script>window.pwned=1</script><img src=x onerror=window.pwned=2> ' OR 1=1 --"
    page.get_by_label("Name", exact=True).fill(hostile)
    page.get_by_role("button", name="Update Details").click()
    expect(page.get_by_role("status").filter(has_text="updated")).to_be_visible()
    page.reload()
    wait_ready(page)
    expect(page.get_by_label("Name", exact=True)).to_have_value(hostile)
    assert page.evaluate("() => window.pwned") is None
    page.context.close()


def test_invalid_email_is_refused_next_to_the_field(browser, portal):
    page, _, _ = open_details(browser, portal)
    field = page.get_by_label("E-mail address")
    field.evaluate("el => el.type = 'text'")
    field.fill("not an address")
    page.get_by_role("button", name="Update Details").click()
    expect(page.locator("#email-error")).to_contain_text("Enter a valid e-mail address")
    page.context.close()


def test_a_new_email_address_takes_effect_after_its_confirmation_link(browser, portal):
    page, _, old_email = open_details(browser, portal)
    new_email = old_email.replace("dee-", "dee.new-")
    page.get_by_label("E-mail address").fill(new_email)
    page.get_by_role("button", name="Update Details").click()
    expect(page.get_by_role("status").filter(has_text="confirmation link")).to_be_visible()
    page.reload()
    wait_ready(page)
    expect(page.get_by_label("E-mail address")).to_have_value(old_email)
    link = first_link(portal.mail.wait_for(new_email, "Confirm"))
    page.goto(link.replace(portal.url, ""))
    wait_ready(page)
    expect(page.get_by_role("status")).to_contain_text("confirmed")
    portal.mail.wait_for(old_email, "was changed")
    page.goto("/details")
    wait_ready(page)
    expect(page.get_by_label("E-mail address")).to_have_value(new_email)
    page.context.close()


@pytest.mark.journey
def test_password_change_failures_and_success(browser, portal):
    page, username, email = open_details(browser, portal)
    other = new_page(browser, portal)
    login(other, username, "first good phrase")

    def change(current, new, confirm):
        page.get_by_label("Current password").fill(current)
        page.get_by_label("New password", exact=True).fill(new)
        page.get_by_label("Confirm new password").fill(confirm)
        page.get_by_role("button", name="Change Password").click()

    change("wrong one", "second good phrase", "second good phrase")
    expect(page.locator("#current_password-error")).to_have_text("The current password is incorrect.")
    change("first good phrase", "second good phrase", "second good phrasE")
    expect(page.locator("#confirm_password-error")).to_have_text("The two new passwords do not match.")
    change("first good phrase", "short", "short")
    expect(page.locator("#new_password-error")).to_have_text("Use at least 8 characters.")
    change("first good phrase", "iloveyou", "iloveyou")
    expect(page.locator("#new_password-error")).to_contain_text("too common")
    change("first good phrase", "second good phrase", "second good phrase")
    expect(page.get_by_role("status").filter(has_text="password was changed")).to_be_visible()
    portal.mail.wait_for(email, "password was changed")
    # The other session has ended: its next page load goes back to the login page.
    other.goto("/details")
    other.wait_for_url("**/?next=%2Fdetails")
    wait_ready(other)
    expect(other.get_by_role("button", name="Log in")).to_be_visible()
    other.context.close()
    page.context.close()


def test_language_dropdown_on_my_details_switches_the_page(browser, portal):
    page, _, _ = open_details(browser, portal)
    page.locator("#details-language").select_option("fr")
    expect(page.get_by_role("heading", name="Mes coordonnées")).to_be_visible()
    expect(page.get_by_role("button", name="Mettre à jour")).to_be_visible()
    page.context.close()
