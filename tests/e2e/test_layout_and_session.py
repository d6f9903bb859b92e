"""The layout on a phone and a desktop, logging out, and one customer never seeing another's data."""
import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORD, PHONE, login, look_at, new_page, wait_ready


def test_billing_placeholder_page_looks_right_everywhere(browser, portal):
    look_at(browser, portal, "/billing", "billing", user="demo", ready_selector="#main h1")


def test_pages_need_a_login_and_lead_back_after_it(page):
    page.goto("/billing")
    page.wait_for_url(re.compile(r".*/$"))
    wait_ready(page)
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    # Any other page (a link from an e-mail) is returned to once logged in.
    page.goto("/details")
    page.wait_for_url("**/?next=%2Fdetails")
    wait_ready(page)
    page.locator("#username").fill("demo")
    page.locator("#password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/details")
    expect(page.get_by_role("heading", name="My Details", level=1)).to_be_visible()


@pytest.mark.journey
def test_after_logging_out_the_back_button_shows_the_login_page(page):
    login(page, "demo")
    page.goto("/details")
    wait_ready(page)
    page.get_by_role("button", name="Log out").first.click()
    page.wait_for_url(re.compile(r".*/$"))
    wait_ready(page)
    page.go_back()
    page.wait_for_url(re.compile(r".*/$"))
    wait_ready(page)
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_text("Alex Martin")).to_have_count(0)


def test_the_avatar_menu_opens_details_and_logs_out(page):
    login(page, "demo")
    avatar = page.get_by_role("button", name="Account menu")
    menu = page.locator("#account-menu")
    expect(menu).to_be_hidden()
    avatar.click()
    expect(menu).to_be_visible()
    page.keyboard.press("Escape")
    expect(menu).to_be_hidden()
    avatar.click()
    menu.get_by_role("link", name="My Details").click()
    page.wait_for_url("**/details")
    page.get_by_role("button", name="Account menu").click()
    page.locator("#account-menu").get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r".*/$"))


def test_on_a_phone_the_menu_drawer_navigates(browser, portal):
    page = new_page(browser, portal, PHONE)
    login(page, "demo")
    expect(page.get_by_role("navigation", name="Main navigation")).to_have_count(0)
    page.get_by_role("button", name="Menu").click()
    drawer = page.locator("#mobile-menu")
    drawer.get_by_role("link", name="My Details").click()
    page.wait_for_url("**/details")
    wait_ready(page)
    expect(page.get_by_role("heading", name="My Details")).to_be_visible()
    expect(page.locator("#mobile-menu")).to_have_count(0)
    page.context.close()


def test_hidden_pages_leave_the_navigation(browser, portal):
    from rxportal import db
    from rxportal.services import settings

    with db.session_scope() as session:
        settings.put(session, "page_usage", False)
    try:
        page = new_page(browser, portal)
        login(page, "demo")
        nav = page.get_by_role("navigation", name="Main navigation")
        expect(nav.get_by_role("link", name="Billing")).to_be_visible()
        expect(nav.get_by_role("link", name="Data Usage")).to_have_count(0)
        page.context.close()
    finally:
        with db.session_scope() as session:
            settings.put(session, "page_usage", True)


@pytest.mark.journey
def test_demo2_sees_only_its_own_account(browser, portal):
    page = new_page(browser, portal)
    login(page, "demo2")
    for route in ("/billing", "/details"):
        page.goto(route)
        wait_ready(page)
        expect(page.get_by_text("Alex Martin")).to_have_count(0)
        assert "demo@example.net" not in page.content()
    expect(page.get_by_label("Name", exact=True)).to_have_value("Camille Roy")
    page.context.close()


def test_pages_are_served_with_security_headers(page):
    answer = page.goto("/")
    headers = answer.all_headers()
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("x-frame-options") == "DENY"
    assert headers.get("referrer-policy") == "strict-origin-when-cross-origin"
