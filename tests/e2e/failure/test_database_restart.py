"""PostgreSQL restarted and Redis restarted while a customer uses the portal: a clear message
while it is down, the portal works again after, and nothing is lost or half-saved."""
from __future__ import annotations

import os
import time

from playwright.sync_api import expect

from tests.e2e.conftest import login, wait_ready
from tests.e2e.test_details_page import make_customer
from tests.e2e.failure.conftest import postgres_stopped, redis_stopped

OUTAGE = "briefly unavailable"


def _oplock_hold_seconds() -> float:
    """How long a worker keeps a tab's state after taking it from Redis (rxconfig.py)."""
    from reflex_base.environment import interpret_timedelta_env

    import rxconfig

    value = os.environ.get("REFLEX_OPLOCK_HOLD_TIME", rxconfig.OPLOCK_HOLD_TIME)
    return interpret_timedelta_env(value, "REFLEX_OPLOCK_HOLD_TIME").total_seconds()


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
    # The customer reads the page for a while: the worker has written the tab's state back to
    # Redis, so the click needs Redis.
    time.sleep(_oplock_hold_seconds() + 1)
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


def test_redis_lost_just_after_a_save_keeps_the_save_and_works_again(page, portal):
    """Redis goes while the worker still holds the tab's state (the opportunistic lock): the
    save already made is in the database; the page's state of those seconds is lost with Redis,
    and the page rebuilds it from the session cookie once Redis is back."""
    username = _open_details(page)
    page.get_by_label("Name", exact=True).fill("Dee Kept")
    page.get_by_role("button", name="Update Details").click()
    expect(page.get_by_role("status")).to_contain_text("Your details were updated")
    with redis_stopped():
        # The worker's write-back, at the end of its hold, fails while Redis is down.
        time.sleep(_oplock_hold_seconds() + 1)
    assert _name_in_database(username) == "Dee Kept"
    # The tab's state went with Redis: the next click finds the page logged out, the login
    # page logs it back in from its cookie and brings it back here, with what was saved.
    page.get_by_label("Name", exact=True).fill("Dee Lost")
    page.get_by_role("button", name="Update Details").click()
    name = page.get_by_label("Name", exact=True)
    expect(name).to_have_value("Dee Kept", timeout=30_000)
    assert page.url.endswith("/details"), "not back on the page the customer was on"
    assert _name_in_database(username) == "Dee Kept"
    name.fill("Dee After")
    page.get_by_role("button", name="Update Details").click()
    expect(page.get_by_role("status")).to_contain_text("Your details were updated",
                                                       timeout=15_000)
    assert _name_in_database(username) == "Dee After"
