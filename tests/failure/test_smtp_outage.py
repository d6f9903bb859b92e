"""The SMTP server stopped during a registration: the customer is told the mail is on its way,
the mail waits in the outbox, and it is sent once (and only once) when the server is back."""
from __future__ import annotations

import time
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import wait_ready
from tests.e2e.test_recovery_pages import new_account


def _outbox(email: str):
    from sqlmodel import select

    from rxportal import db
    from rxportal.models import OutboxMail

    with db.session_scope() as session:
        return session.exec(select(OutboxMail).where(OutboxMail.to_addr == email)).all()


def _wait(check, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout}s"
        time.sleep(0.5)


def test_registration_mail_is_sent_once_the_smtp_server_is_back(page, portal):
    email = f"smtp-{uuid.uuid4().hex[:6]}@example.org"
    new_account(email)
    page.goto("/register")
    wait_ready(page)
    portal.stop_smtp()
    try:
        page.get_by_label("E-mail address").fill(email)
        page.get_by_role("button", name="Lookup Email Address").click()
        expect(page.get_by_role("status")).to_contain_text("We found your account")
        # The job tried, failed, and keeps the mail for a later attempt.
        _wait(lambda: any(m.attempts >= 1 for m in _outbox(email)), "a first delivery attempt",
              30)
        [queued] = _outbox(email)
        assert queued.status == "queued" and queued.last_error, queued
        assert portal.mail.to(email) == []
    finally:
        portal.start_smtp()
    # The retry is due after its backoff (minutes): bring that moment forward instead of waiting.
    from rxportal import db
    from rxportal.models import OutboxMail, utcnow

    with db.session_scope() as session:
        mail = session.get(OutboxMail, queued.id)
        mail.next_attempt_at = utcnow()
        session.add(mail)
    # The periodic job (every minute) sends it.
    portal.mail.wait_for(email, "customer portal account", timeout=90)
    _wait(lambda: _outbox(email)[0].status == "sent", "the outbox row marked sent", 10)
    time.sleep(2)
    assert len(portal.mail.to(email)) == 1
    assert len(_outbox(email)) == 1
