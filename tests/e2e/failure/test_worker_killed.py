"""A backend worker killed mid-session: the customer's next action works on another worker,
without logging in again (Reflex's state lives in Redis, the session in the database)."""
from __future__ import annotations

import os
import signal
import time

import psutil
from playwright.sync_api import expect

from tests.e2e.conftest import login, wait_ready


def _workers(portal) -> list[psutil.Process]:
    """The processes that serve the app's port: granian's workers (not the supervisor). The
    app's own port, not the URL's: with the proxy in front, the browser talks to nginx."""
    root = psutil.Process(portal.process.pid)
    port = int(portal.env["RXPORTAL_PORT"])
    serving = []
    for proc in root.children(recursive=True):
        try:
            if any(c.status == psutil.CONN_ESTABLISHED and c.laddr.port == port
                   for c in proc.net_connections(kind="tcp")):
                serving.append(proc)
        except psutil.Error:
            continue
    return serving


def test_a_killed_worker_does_not_log_the_customer_out(page, portal):
    login(page)
    expect(page.locator("#amount-due")).not_to_have_text("")
    due = page.locator("#amount-due").inner_text()
    page.goto("/details")
    wait_ready(page)
    expect(page.get_by_label("Name", exact=True)).to_have_value("Alex Martin")
    holding = _workers(portal)
    assert holding, "no backend worker holds the browser's connections"
    before = set(psutil.Process(portal.process.pid).children(recursive=True))
    for proc in holding:  # the one holding the websocket is among them
        os.kill(proc.pid, signal.SIGKILL)
    time.sleep(1)
    assert portal.process.poll() is None, "the app stopped when one of its workers died"
    # The customer's next action, in the same page (no reload): the menu's Billing link. The
    # page's websocket reconnects to a live worker, which finds the state in Redis.
    page.get_by_role("navigation", name="Main navigation").get_by_role(
        "link", name="Billing").click()
    page.wait_for_url("**/billing")
    expect(page.locator("#amount-due")).to_have_text(due, timeout=20_000)
    assert "/billing" in page.url, f"sent to {page.url}: the customer had to log in again"
    # And a full load of another page still knows the customer.
    page.goto("/details")
    wait_ready(page)
    assert "/details" in page.url, f"sent to {page.url}: the customer had to log in again"
    expect(page.get_by_label("Name", exact=True)).to_have_value("Alex Martin")
    after = set(psutil.Process(portal.process.pid).children(recursive=True))
    assert after - before, "the dead worker was not replaced"
