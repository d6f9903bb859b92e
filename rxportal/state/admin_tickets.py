"""Support tickets in the staff console (administrators and support staff)."""
from __future__ import annotations

import reflex as rx

from rxportal import db
from rxportal.services import staff_tickets, tickets
from rxportal.services.staff_customers import StaffActionError
from rxportal.state.admin import StaffState
from rxportal.state.admin_customers import _moment

AREA = "tickets"


class AdminTicketsState(StaffState):
    status: str = "open"
    query: str = ""
    page: int = 1
    pages: int = 1
    total: int = 0
    rows: list[dict[str, str]] = []

    def _load(self) -> None:
        lang = self.ui_lang
        with db.session_scope() as session:
            result = staff_tickets.inbox(session, self.status, self.query, self.page)
            self.rows = [{"id": str(r.ticket_id), "number": f"#{r.number}", "subject": r.subject,
                          "status": self._(tickets.STATUS_LABELS.get(r.status, r.status)),
                          "account": r.account_name,
                          "last": _moment(r.last_activity_at, lang, session),
                          "opened": _moment(r.created_at, lang, session)}
                         for r in result.rows]
        self.page, self.pages, self.total = result.page, result.pages, result.total

    @rx.event
    def load_inbox(self):
        if self._require_staff(AREA) is None:
            return self._denied()
        self._load()
        return None

    @rx.event
    def filter(self, form: dict):
        if self._require_staff(AREA) is None:
            return self._denied()
        status = str(form.get("status", "open"))
        self.status = status if status in staff_tickets.FILTERS else "open"
        self.query = str(form.get("q", ""))[:100]
        self.page = 1
        self._load()
        return None

    @rx.event
    def go_to_page(self, page: int):
        if self._require_staff(AREA) is None:
            return self._denied()
        self.page = int(page)
        self._load()
        return None


class AdminTicketState(StaffState):
    found: bool = False
    ticket: dict[str, str] = {}
    messages: list[dict[str, str]] = []
    notes: list[dict[str, str]] = []
    notice: str = ""
    errors: dict[str, str] = {}
    form_version: int = 0

    def _ticket_id(self) -> int | None:
        raw = str(self.router.page.params.get("ticket_id", ""))
        return int(raw) if raw.isdecimal() and len(raw) < 12 else None

    def _load(self) -> None:
        lang = self.ui_lang
        with db.session_scope() as session:
            try:
                ticket, account = staff_tickets.get(session, self._ticket_id() or 0)
            except LookupError:
                self.found = False
                return
            self.found = True
            self.ticket = {"id": str(ticket.id), "number": f"#{ticket.number}",
                           "subject": ticket.subject, "raw_status": ticket.status,
                           "status": self._(tickets.STATUS_LABELS.get(ticket.status, ticket.status)),
                           "account": account.name if account else "",
                           "account_id": str(ticket.account_id),
                           "email": account.email if account else ""}
            self.messages = [{"id": str(m.id), "who": m.author_name or (
                                  self._("Support") if m.author_kind == "isp" else ""),
                              "kind": m.author_kind, "when": _moment(m.created_at, lang, session),
                              "text": m.text,
                              "files": ", ".join(a["filename"] for a in m.attachments)}
                             for m in staff_tickets.conversation(session, ticket.id)]
            self.notes = [{"id": str(n.id), "who": n.author_name,
                           "when": _moment(n.created_at, lang, session), "text": n.body}
                          for n in staff_tickets.notes(session, ticket.id)]
        self.form_version += 1

    def _act(self, action, notice: str, form_key: str = ""):
        current = self._require_staff(AREA)
        if current is None:
            return self._denied()
        self.notice, self.errors = "", {}
        try:
            with db.session_scope() as session:
                action(session, current, self._ticket_id() or 0)
        except StaffActionError as problem:
            self.errors = {problem.field or form_key: self._(problem.msgid)}
            return None
        except LookupError:
            self.errors = {form_key or "body": self._("Not found.")}
            return None
        self.notice = self._(notice)
        self._load()
        return None

    @rx.event
    def load_ticket(self):
        self.notice, self.errors = "", {}
        if self._require_staff(AREA) is None:
            return self._denied()
        self._load()
        return None

    @rx.event
    def send_reply(self, form: dict):
        if self._is_repeat("ticket_reply", form, 5.0):
            return None
        body = str(form.get("body", ""))
        return self._act(lambda s, c, i: staff_tickets.reply(s, c, i, body, self.client_ip),
                         "Your reply was sent to the customer.", "body")

    @rx.event
    def add_note(self, form: dict):
        if self._is_repeat("ticket_note", form, 5.0):
            return None
        body = str(form.get("note", ""))
        return self._act(lambda s, c, i: staff_tickets.add_note(s, c, i, body, self.client_ip),
                         "The note was added.", "note")

    @rx.event
    def close_ticket(self):
        return self._act(lambda s, c, i: staff_tickets.close(s, c, i, self.client_ip),
                         "The ticket was closed.")

    @rx.event
    def reopen_ticket(self):
        return self._act(lambda s, c, i: staff_tickets.reopen(s, c, i, self.client_ip),
                         "The ticket was reopened.")
