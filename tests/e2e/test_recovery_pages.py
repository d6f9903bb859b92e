"""Registration, forgotten password (the whole e-mailed link loop) and forgotten username."""
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import body_text, first_link, login, look_at, new_page, wait_ready


def new_account(email: str, name: str = "Reg Istrant") -> None:
    from rxportal import db
    from rxportal.models import Account

    with db.session_scope() as session:
        session.add(Account(number=uuid.uuid4().hex[:8], name=name, email=email))


def test_register_and_recover_pages_look_right_everywhere(browser, portal):
    look_at(browser, portal, "/register", "register", ready_selector="#email")
    look_at(browser, portal, "/recover", "recover", ready_selector="#reset-email")


def test_reset_and_confirmation_pages_with_a_bad_link_look_right_everywhere(browser, portal):
    look_at(browser, portal, "/reset/not-a-real-token", "reset-expired",
            ready_selector="[role=alert]")
    look_at(browser, portal, "/confirm-email/not-a-real-token", "confirm-email-expired",
            ready_selector="[role=alert]")


def test_registration_with_a_known_address_mails_credentials_that_work(page, portal, browser):
    email = f"reg-{uuid.uuid4().hex[:6]}@example.org"
    new_account(email)
    page.goto("/")
    wait_ready(page)
    page.get_by_role("link", name="New portal user? Register an account here!").click()
    page.wait_for_url("**/register")
    wait_ready(page)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Lookup Email Address").click()
    expect(page.get_by_role("status")).to_contain_text("We found your account")
    message = portal.mail.wait_for(email, "customer portal account")
    text = body_text(message)
    username = text.split("Username: ")[1].split()[0]
    temporary = text.split("Temporary password: ")[1].split()[0]
    fresh = new_page(browser, portal)
    login(fresh, username, temporary, expect="/set-password")
    fresh.context.close()


def test_registration_with_an_unknown_address_shows_the_guides_message(page):
    page.goto("/register")
    wait_ready(page)
    page.get_by_label("E-mail address").fill(f"nobody-{uuid.uuid4().hex[:6]}@example.org")
    page.get_by_role("button", name="Lookup Email Address").click()
    expect(page.get_by_role("alert").filter(has_text="could not find")).to_contain_text(
        "contact your Internet service provider")


def test_registration_refuses_a_malformed_address_next_to_the_field(page):
    page.goto("/register")
    wait_ready(page)
    page.get_by_label("E-mail address").fill("not-an-address")
    page.get_by_label("E-mail address").evaluate("el => el.type = 'text'")  # past the browser check
    page.get_by_role("button", name="Lookup Email Address").click()
    expect(page.locator("#email-error")).to_have_text(
        "Enter a valid e-mail address, like name@example.com.")


@pytest.mark.journey
def test_password_reset_loop_through_the_emailed_link(page, portal, browser):
    page.goto("/recover")
    wait_ready(page)
    page.locator("#reset-email").fill("demo2@example.net")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status")).to_contain_text("If this address is on file")
    link = first_link(portal.mail.wait_for("demo2@example.net", ("Reset your", "Réinitialisez")))
    assert link.startswith(portal.url + "/reset/")
    page.goto(link.replace(portal.url, ""))
    wait_ready(page)
    page.get_by_label("New password", exact=True).fill("short")
    page.get_by_label("Confirm new password").fill("short")
    page.get_by_role("button", name="Change Password").click()
    expect(page.locator("#new_password-error")).to_have_text("Use at least 8 characters.")
    page.get_by_label("New password", exact=True).fill("correct-horse-demo")
    page.get_by_label("Confirm new password").fill("correct-horse-demo")
    page.get_by_role("button", name="Change Password").click()
    expect(page.get_by_role("status")).to_contain_text("You can log in now")
    # The link works once.
    page.goto(link.replace(portal.url, ""))
    wait_ready(page)
    expect(page.get_by_role("alert").first).to_contain_text("expired or was already used")
    fresh = new_page(browser, portal)
    login(fresh, "demo2")
    fresh.context.close()


def test_forgot_username_mails_the_username(page, portal):
    page.goto("/recover")
    wait_ready(page)
    page.locator("#username-email").fill("demo@example.net")
    page.get_by_role("button", name="Send my username").click()
    expect(page.get_by_role("status")).to_contain_text("we have e-mailed it your username")
    assert "• demo" in body_text(portal.mail.wait_for("demo@example.net", "username"))


def test_recovery_says_the_same_for_an_unknown_address(page, portal):
    page.goto("/recover")
    wait_ready(page)
    page.locator("#reset-email").fill("stranger@example.org")
    page.get_by_role("button", name="Send reset link").click()
    expect(page.get_by_role("status")).to_contain_text("If this address is on file")


def test_a_double_click_on_register_sends_one_mail(page, portal):
    email = f"dbl-{uuid.uuid4().hex[:6]}@example.org"
    new_account(email)
    page.goto("/register")
    wait_ready(page)
    page.get_by_label("E-mail address").fill(email)
    page.get_by_role("button", name="Lookup Email Address").dblclick()
    portal.mail.wait_for(email, "customer portal account")
    page.wait_for_timeout(1500)
    assert len(portal.mail.to(email)) == 1
