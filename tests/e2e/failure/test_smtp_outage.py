"""The SMTP server stopped during a registration, and while a ticket is opened: the customer is
told the mail is on its way (the ticket is saved), the mails wait in the outbox, and each is sent
once (and only once) when the server is back."""
from __future__ import annotations

import time
import uuid

from playwright.sync_api import expect

from tests.e2e.conftest import login, wait_ready
from tests.e2e.test_recovery_pages import new_account
from tests.e2e.test_tickets_page import demo_ticket, open_new_ticket_form


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
    _send_now([queued.id])
    # The retry job sends it.
    portal.mail.wait_for(email, "customer portal account", timeout=90)
    _wait(lambda: _outbox(email)[0].status == "sent", "the outbox row marked sent", 10)
    time.sleep(2)
    assert len(portal.mail.to(email)) == 1
    assert len(_outbox(email)) == 1


def _send_now(mail_ids) -> None:
    """The retry is due after its backoff (minutes), and the retry job runs every minute:
    bring the moment forward, and put the job on the app's queue (Redis) for its worker now
    instead of waiting for the minute."""
    from rxportal import db
    from rxportal.models import OutboxMail, utcnow

    with db.session_scope() as session:
        for mail_id in mail_ids:
            mail = session.get(OutboxMail, mail_id)
            mail.next_attempt_at = utcnow()
            session.add(mail)
    from rxportal import jobs

    assert jobs.huey.__class__.__name__ == "RedisHuey"  # the app's own queue, not a local one
    jobs.send_due_mail()


def test_a_ticket_opened_while_the_smtp_server_is_down_is_kept_and_mailed_once(page, portal):
    subject = f"No dial tone {uuid.uuid4().hex[:6]}"
    login(page)
    open_new_ticket_form(page)
    portal.stop_smtp()
    try:
        page.get_by_label("Subject").fill(subject)
        page.get_by_label("Details").fill("The phone line is silent since this morning.")
        page.get_by_role("button", name="Send ticket").click()
        page.get_by_role("status").filter(has_text="was sent").wait_for()
        page.locator("li.ticket-row").filter(has_text=subject).wait_for()
        assert demo_ticket(subject).subject == subject
        _wait(lambda: sum(m.attempts >= 1 for m in _ticket_mails(subject)) == 2,
              "a first attempt for the mail to support and the copy to the customer", 30)
        assert all(m.status == "queued" for m in _ticket_mails(subject))
    finally:
        portal.start_smtp()
    _send_now([m.id for m in _ticket_mails(subject)])
    portal.mail.wait_for("support@example.net", subject, timeout=90)
    portal.mail.wait_for("demo@example.net", subject, timeout=30)
    _wait(lambda: all(m.status == "sent" for m in _ticket_mails(subject)), "both marked sent", 10)
    time.sleep(2)
    assert len([m for m in portal.mail.messages if subject in str(m["Subject"])]) == 2
    assert page.locator("li.ticket-row").filter(has_text=subject).count() == 1


def _ticket_mails(subject: str):
    from sqlmodel import select

    from rxportal import db
    from rxportal.models import OutboxMail

    with db.session_scope() as session:
        return session.exec(select(OutboxMail).where(OutboxMail.subject.contains(subject))).all()
