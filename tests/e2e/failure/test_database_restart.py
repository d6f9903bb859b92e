"""PostgreSQL restarted and Redis restarted while a customer uses the portal: a clear message
while it is down, the portal works again after, and nothing is lost or half-saved."""
from __future__ import annotations

import time

from playwright.sync_api import expect

from tests.e2e.conftest import login, wait_ready
from tests.e2e.test_details_page import make_customer
from tests.e2e.failure.conftest import postgres_stopped, redis_stopped

OUTAGE = "briefly unavailable"


def _name_in_database(username: str) -> str:
    from sqlmodel import select

    from rxportal import db
    from rxportal.models import Account, PortalUser

    with db.session_scope() as session:
        user = session.exec(select(PortalUser).where(PortalUser.username == username)).one()
        return session.get(Account, user.account_id).name


def _open_details(page):
    username, password, _ = make_customer()
    login(page, username, password)
    page.goto("/details")
    wait_ready(page)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Dee Tails", timeout=20_000)
    return username


def test_postgresql_restart_shows_a_message_then_saves(page, portal):
    username = _open_details(page)
    page.get_by_label("Name", exact=True).fill("Dee Outage")
    started = time.monotonic()
    with postgres_stopped():
        page.get_by_role("button", name="Update Details").click()
        expect(page.get_by_text(OUTAGE).first).to_be_visible(timeout=15_000)
    # Nothing half-saved while it was down.
    assert _name_in_database(username) == "Dee Tails"
    # The customer tries again once it is back (after the double-click window).
    time.sleep(max(0.0, 5.5 - (time.monotonic() - started)))
    page.get_by_role("button", name="Update Details").click()
    expect(page.get_by_role("status")).to_contain_text("Your details were updated")
    assert _name_in_database(username) == "Dee Outage"
    page.reload()
    wait_ready(page)
    assert "/details" in page.url, "the customer had to log in again"
    expect(page.get_by_label("Name", exact=True)).to_have_value("Dee Outage")


def test_redis_restart_shows_a_message_then_works(page, portal):
    username = _open_details(page)
    page.get_by_label("Name", exact=True).fill("Dee Redis")
    with redis_stopped():
        page.get_by_role("button", name="Update Details").click()
        expect(page.get_by_text(OUTAGE).first).to_be_visible(timeout=15_000)
    assert _name_in_database(username) == "Dee Tails"
    # Redis kept nothing: the page reloads and rebuilds its state from the browser's cookie,
    # still logged in; the customer enters the change again.
    page.wait_for_load_state("load")
    expect(page.get_by_label("Name", exact=True)).to_have_value("Dee Tails", timeout=30_000)
    assert "/details" in page.url, "the customer had to log in again"
    expect(page.locator("nav")).to_contain_text("Amount due")
    page.get_by_label("Name", exact=True).fill("Dee Redis")
    page.get_by_role("button", name="Update Details").click()
    expect(page.get_by_role("status")).to_contain_text("Your details were updated",
                                                       timeout=15_000)
    assert _name_in_database(username) == "Dee Redis"
