"""Support tickets in the staff console: an inbox of every account's tickets by status and age,
the conversation, a reply from the console (mailed to the customer exactly as a reply from the
support mailbox is), close and reopen, and internal notes the customer never sees.

The ticket rules themselves are in services/tickets.py; this module only adds the staff side.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_
from sqlmodel import Session, select

from rxportal.models import Account, utcnow
from rxportal.models.staff import StaffTicketNote
from rxportal.models.tickets import STATUS_CLOSED, STATUS_WAITING_FOR_ISP, Ticket
from rxportal.services import audit, tickets
from rxportal.services.i18n import N_
from rxportal.services.staff import CurrentStaff, actor_fields
from rxportal.services.staff_customers import StaffActionError, _like

PAGE_SIZE = 25
NOTE_MAX = 5_000
FILTERS = ("open", tickets.STATUS_WAITING_FOR_ISP, tickets.STATUS_AWAITING_RESPONSE,
           STATUS_CLOSED, "all")


@dataclass(frozen=True)
class InboxRow:
    ticket_id: int
    number: int
    subject: str
    status: str
    account_id: int
    account_name: str
    created_at: datetime
    last_activity_at: datetime


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    page: int
    pages: int


def inbox(session: Session, status: str = "open", query: str = "", page: int = 1,
          page_size: int = PAGE_SIZE) -> InboxPage:
    """Tickets of every account; those waiting longest for the ISP first."""
    where = []
    if status == "open":
        where.append(Ticket.status != STATUS_CLOSED)
    elif status in tickets.STATUSES:
        where.append(Ticket.status == status)
    query = (query or "").strip()[:100].lower()
    if query:
        pattern = _like(query)
        conditions = [func.lower(Ticket.subject).like(pattern, escape="\\"),
                      func.lower(Account.name).like(pattern, escape="\\"),
                      func.lower(Account.number).like(pattern, escape="\\")]
        if query.lstrip("#").isdecimal() and len(query) < 12:
            conditions.append(Ticket.number == int(query.lstrip("#")))
        where.append(or_(*conditions))
    base = select(Ticket, Account).join(Account, Account.id == Ticket.account_id).where(*where)
    total = int(session.exec(select(func.count()).select_from(base.subquery())).one())
    pages = max(1, -(-total // page_size))
    page = min(max(1, int(page)), pages)
    # Waiting for the ISP first, then the oldest activity first: what needs an answer soonest.
    waiting_first = (Ticket.status != STATUS_WAITING_FOR_ISP)
    rows = session.exec(base.order_by(waiting_first, Ticket.last_activity_at, Ticket.id)
                        .offset((page - 1) * page_size).limit(page_size)).all()
    return InboxPage(rows=[InboxRow(ticket_id=t.id, number=t.number or t.id, subject=t.subject,
                                    status=t.status, account_id=a.id, account_name=a.name,
                                    created_at=t.created_at, last_activity_at=t.last_activity_at)
                           for t, a in rows], total=total, page=page, pages=pages)


def get(session: Session, ticket_id: int) -> tuple[Ticket, Account]:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise LookupError("ticket not found")
    return ticket, session.get(Account, ticket.account_id)


def conversation(session: Session, ticket_id: int) -> list[tickets.MessageView]:
    ticket, _ = get(session, ticket_id)
    return tickets.conversation(session, ticket.account_id, ticket.id)


def notes(session: Session, ticket_id: int) -> list[StaffTicketNote]:
    return list(session.exec(select(StaffTicketNote).where(StaffTicketNote.ticket_id == ticket_id)
                             .order_by(StaffTicketNote.created_at, StaffTicketNote.id)))


def _clean_body(body: str) -> str:
    try:
        return tickets.clean_body(body)
    except tickets.TicketError as error:
        raise StaffActionError(error.message, "body") from None


def reply(session: Session, actor: CurrentStaff, ticket_id: int, body: str, ip: str = ""):
    """Answer the customer from the console: the message joins the conversation and is mailed
    to the customer as a reply from the support mailbox would be. A closed ticket reopens."""
    ticket, _ = get(session, ticket_id)
    body = _clean_body(body)
    message = tickets._add_message(
        session, ticket, author_kind="isp", author_name=actor.username,
        author_email=tickets.support_address(session), body=body, via="portal",
        message_id=tickets.new_message_id(ticket.number, "s"))
    tickets.mail_customer_staff_reply(session, ticket, message)
    audit.record(session, "ticket.staff_reply", target=f"ticket:{ticket.number}",
                 **actor_fields(actor, ip))
    return message


def close(session: Session, actor: CurrentStaff, ticket_id: int, ip: str = "") -> None:
    ticket, _ = get(session, ticket_id)
    if ticket.status == STATUS_CLOSED:
        return
    tickets.close_ticket(session, ticket.id, actor_type="staff", actor_name=actor.username)


def reopen(session: Session, actor: CurrentStaff, ticket_id: int, ip: str = "") -> None:
    ticket, _ = get(session, ticket_id)
    if ticket.status != STATUS_CLOSED:
        return
    ticket.status, ticket.closed_at = STATUS_WAITING_FOR_ISP, None
    ticket.last_activity_at = utcnow()
    session.add(ticket)
    audit.record(session, "ticket.reopen", target=f"ticket:{ticket.number}",
                 **actor_fields(actor, ip))


def add_note(session: Session, actor: CurrentStaff, ticket_id: int, body: str,
             ip: str = "") -> StaffTicketNote:
    ticket, _ = get(session, ticket_id)
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise StaffActionError(N_("Write the note first."), "note")
    if len(body) > NOTE_MAX:
        raise StaffActionError(N_("This note is too long."), "note")
    note = StaffTicketNote(ticket_id=ticket.id, staff_id=actor.staff_id,
                           author_name=actor.username, body=body)
    session.add(note)
    session.flush()
    audit.record(session, "ticket.note", target=f"ticket:{ticket.number}",
                 **actor_fields(actor, ip))
    return note
