"""Tickets in the staff console: inbox across accounts, reply mailed to the customer, close
and reopen, internal notes the customer never sees."""
from __future__ import annotations

import pytest
from sqlmodel import select

from rxportal.models import OutboxMail
from rxportal.models.tickets import Ticket
from rxportal.services import staff_tickets, tickets
from rxportal.services.staff import CurrentStaff
from rxportal.services.staff_customers import StaffActionError
from tests.factories import make_account

ADMIN = CurrentStaff(staff_id=1, username="alice", role="administrator", session_id=1)


@pytest.fixture()
def two_tickets(session):
    from rxportal.models.staff import StaffUser

    session.add(StaffUser(id=1, username="alice", role="administrator"))
    a = make_account(session, "100001", "pat@example.org", name="Pat Doe")
    b = make_account(session, "100002", "kim@example.org", name="Kim Lee")
    first = tickets.create_ticket(session, a.id, "No internet since Monday", "Please help")
    second = tickets.create_ticket(session, b.id, "Invoice question", "Why $5 more?")
    session.commit()
    return first, second


def test_inbox_lists_every_account_and_filters(session, two_tickets):
    first, second = two_tickets
    page = staff_tickets.inbox(session, "open")
    assert {r.account_name for r in page.rows} == {"Pat Doe", "Kim Lee"}
    assert staff_tickets.inbox(session, "open", "invoice").rows[0].number == second.number
    assert staff_tickets.inbox(session, "open", f"#{first.number}").rows[0].subject.startswith("No internet")
    assert staff_tickets.inbox(session, "open", "' OR 1=1 --").total == 0
    assert staff_tickets.inbox(session, "closed").total == 0


def test_staff_reply_is_mailed_to_the_customer_and_changes_the_status(session, two_tickets):
    first, _ = two_tickets
    before = len(session.exec(select(OutboxMail)).all())
    staff_tickets.reply(session, ADMIN, first.id, "We are sending a technician.")
    session.commit()
    mails = session.exec(select(OutboxMail).order_by(OutboxMail.id)).all()[before:]
    assert [m.to_addr for m in mails] == ["pat@example.org"]
    assert "We are sending a technician." in mails[0].text_body
    assert session.get(Ticket, first.id).status == tickets.STATUS_AWAITING_RESPONSE
    views = tickets.conversation(session, first.account_id, first.id)
    assert views[-1].author_kind == "isp" and views[-1].text == "We are sending a technician."
    for bad in ["", "   ", "x" * 20_001]:
        with pytest.raises(StaffActionError):
            staff_tickets.reply(session, ADMIN, first.id, bad)
    with pytest.raises(LookupError):
        staff_tickets.reply(session, ADMIN, 99999, "hello")


def test_close_and_reopen(session, two_tickets):
    first, _ = two_tickets
    staff_tickets.close(session, ADMIN, first.id)
    assert session.get(Ticket, first.id).status == tickets.STATUS_CLOSED
    assert staff_tickets.inbox(session, "closed").total == 1
    staff_tickets.reopen(session, ADMIN, first.id)
    assert session.get(Ticket, first.id).status == tickets.STATUS_WAITING_FOR_ISP


def test_internal_notes_are_never_shown_or_mailed_to_the_customer(session, two_tickets):
    first, _ = two_tickets
    before = len(session.exec(select(OutboxMail)).all())
    staff_tickets.add_note(session, ADMIN, first.id, "Customer is rude; <b>line</b> fault in zone 3")
    session.commit()
    assert len(session.exec(select(OutboxMail)).all()) == before
    views = tickets.conversation(session, first.account_id, first.id)
    assert all("zone 3" not in v.text for v in views)
    [note] = staff_tickets.notes(session, first.id)
    assert note.author_name == "alice" and "zone 3" in note.body
    with pytest.raises(StaffActionError):
        staff_tickets.add_note(session, ADMIN, first.id, "")
    with pytest.raises(StaffActionError):
        staff_tickets.add_note(session, ADMIN, first.id, "x" * 5001)
