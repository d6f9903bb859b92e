"""The login page: good and bad logins, first login with a temporary password, languages."""
import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (DEMO_PASSWORD, check_accessibility, login, look_at, new_page,
                                snap, wait_ready)


def test_login_page_looks_right_everywhere(browser, portal):
    look_at(browser, portal, "/", "login", ready_selector="#username")


@pytest.mark.journey
def test_demo_customer_logs_in_and_lands_on_billing(page):
    login(page, "demo")
    expect(page.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
    expect(page.locator("#layout-amount-due")).to_have_text("$110.00")


@pytest.mark.journey
def test_wrong_password_and_unknown_user_get_the_same_message(page):
    page.goto("/")
    wait_ready(page)
    page.get_by_label("Username").fill("demo2")
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Log in").click()
    alert = page.get_by_role("alert").filter(has_text="incorrect")
    expect(alert).to_have_text("The username or password is incorrect.")
    page.get_by_label("Username").fill(f"nobody-{uuid.uuid4().hex[:6]}")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(alert).to_have_text("The username or password is incorrect.")
    assert page.url.endswith("/")


def test_empty_login_asks_for_both_fields(page):
    page.goto("/")
    wait_ready(page)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert").filter(has_text="Enter")).to_have_text(
        "Enter your username and password.")


def test_login_message_markup_is_sanitized(page, portal):
    from rxportal import db
    from rxportal.services import settings

    with db.session_scope() as session:
        settings.put(session, "login_message",
                     "<b>Hello</b> <script>window.pwned=1</script><img src=x onerror=window.pwned=2>")
    try:
        page.goto("/")
        wait_ready(page)
        expect(page.locator("#login-message b")).to_have_text("Hello")
        assert page.evaluate("() => window.pwned") is None
        assert page.locator("#login-message script, #login-message img").count() == 0
    finally:
        with db.session_scope() as session:
            settings.put(session, "login_message", settings.SPECS["login_message"].default)


def test_first_login_with_a_temporary_password_requires_a_new_one(browser, portal):
    from rxportal import db
    from rxportal.models import Account
    from rxportal.services import auth

    email = f"first-{uuid.uuid4().hex[:6]}@example.org"
    with db.session_scope() as session:
        account = Account(number=uuid.uuid4().hex[:8], name="First Timer", email=email)
        session.add(account)
        session.flush()
        user, temporary = auth.create_login(session, account)
        username = user.username
    page = new_page(browser, portal)
    login(page, username, temporary, expect="/set-password")
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    snap(page, "set-password-en-desktop")
    check_accessibility(page)
    page.goto("/details")  # cannot go around it
    page.wait_for_url("**/set-password")
    wait_ready(page)
    page.get_by_label("New password", exact=True).fill("password")
    page.get_by_label("Confirm new password").fill("password")
    page.get_by_role("button", name="Save password").click()
    expect(page.get_by_text("This password is too common")).to_be_visible()
    page.get_by_label("New password", exact=True).fill("my very own phrase")
    page.get_by_label("Confirm new password").fill("my very own phrase")
    page.get_by_role("button", name="Save password").click()
    page.wait_for_url("**/billing")
    page.context.close()


def test_language_choice_is_kept_after_logging_out_and_in(browser, portal):
    page = new_page(browser, portal, lang=None)
    page.goto("/")
    wait_ready(page)
    page.get_by_label("Language").select_option("fr")
    expect(page.get_by_role("heading", name="Connectez-vous à votre compte")).to_be_visible()
    expect(page.get_by_label("Nom d'utilisateur")).to_be_visible()
    login(page, "demo2")
    expect(page.get_by_role("heading", name="Facturation", exact=True)).to_be_visible()
    page.get_by_role("button", name="Se déconnecter").first.click()
    page.wait_for_url(re.compile(r".*/$"))
    wait_ready(page)
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
    login(page, "demo2")
    expect(page.get_by_role("heading", name="Facturation", exact=True)).to_be_visible()
    # A new browser gets the language saved for the user at login.
    other = new_page(browser, portal, lang=None)
    login(other, "demo2")
    expect(other.get_by_role("heading", name="Facturation", exact=True)).to_be_visible()
    other.context.close()
    page.context.close()


def test_the_browser_tab_title_follows_the_language(browser, portal):
    page = new_page(browser, portal, lang="fr")
    page.goto("/register")
    wait_ready(page)
    expect(page).to_have_title("Inscription · Example Internet")
    page.get_by_label("Langue").select_option("en")
    expect(page).to_have_title("Register · Example Internet")
    page.context.close()
