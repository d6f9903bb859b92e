"""Support tickets: the list with the New ticket form (/tickets) and one conversation
(/tickets/[id]). Thin: every handler re-checks the session and calls services/tickets.py."""
from __future__ import annotations

import dataclasses
import secrets
import time
from pathlib import Path

import reflex as rx

from rxportal import config, db
from rxportal.services import i18n, tickets
from rxportal.services import settings as isp_settings
from rxportal.state.session import HOME_ROUTE, SessionState, page_load

@dataclasses.dataclass
class AttachmentRow:
    id: str = ""
    filename: str = ""
    size: str = ""


@dataclasses.dataclass
class MessageRow:
    id: str = ""
    kind: str = ""
    author: str = ""
    via_email: bool = False
    when: str = ""
    text: str = ""
    quoted: str = ""
    html: str = ""
    attachments: list[AttachmentRow] = dataclasses.field(default_factory=list)


STATUS_FILTERS = ("all", "open", "awaiting_response", "waiting_for_isp", "closed")


def _new_key() -> str:
    return secrets.token_urlsafe(18)


def _uploads_dir() -> Path:
    """Where a chosen attachment waits for its form to be sent; abandoned ones go after a day."""
    path = config.get().data_dir / "ticket-uploads"
    path.mkdir(parents=True, exist_ok=True)
    cutoff = time.time() - 24 * 3600
    for old in path.glob("*.bin"):
        try:
            if old.stat().st_mtime < cutoff:
                old.unlink()
        except OSError:
            pass
    return path


def _moment(value, lang: str, country: str, tz: str) -> str:
    """A date with a short time, in the ISP's time zone: "Nov 25, 2026, 2:54 PM"."""
    from zoneinfo import ZoneInfo

    from babel.dates import format_date, format_time

    local = value.astimezone(ZoneInfo(tz or "UTC"))
    locale = i18n.locale_for(lang, country)
    return (format_date(local.date(), "medium", locale=locale) + ", "
            + format_time(local.time(), "short", locale=locale))


def _size_text(size: int, lang: str) -> str:
    if size >= 1024 * 1024:
        return i18n.format_number(round(size / (1024 * 1024), 1), lang) + " MB"
    return i18n.format_number(max(1, round(size / 1024)), lang) + " KB"


class AttachmentMixin(rx.State, mixin=True):
    """One optional attachment, uploaded when chosen and checked on the server (by content)."""
    attachment_name: str = ""
    attachment_error: str = ""
    _attachment_path: str = ""

    def _clear_attachment(self) -> None:
        if self._attachment_path:
            Path(self._attachment_path).unlink(missing_ok=True)
        self._attachment_path, self.attachment_name = "", ""

    def _take_attachment(self) -> tickets.Upload | None:
        if not self._attachment_path or not Path(self._attachment_path).exists():
            return None
        return tickets.Upload(self.attachment_name, Path(self._attachment_path).read_bytes())

    @rx.event
    async def choose_attachment(self, files: list[rx.UploadFile]):
        self.attachment_error = ""
        if self.require_user() is None:
            return
        if not files:
            return
        upload = files[0]
        with db.session_scope() as session:
            limit = int(isp_settings.get(session, "ticket_attachment_max_bytes"))
            data = await upload.read(limit + 1)
            try:
                _type, name = tickets.check_attachment(
                    session, tickets.Upload(upload.name or "attachment", data))
            except tickets.TicketError as error:
                self._clear_attachment()
                self.attachment_error = self._(error.message)
                if error.message == "The file is too large.":
                    self.attachment_error += " " + self._(
                        "At most {size}.", size=_size_text(limit, self.ui_lang))
                return
        self._clear_attachment()
        path = _uploads_dir() / f"{secrets.token_hex(16)}.bin"
        path.write_bytes(data)
        self._attachment_path, self.attachment_name = str(path), name

    @rx.event
    def remove_attachment(self):
        self._clear_attachment()
        self.attachment_error = ""


class TicketsState(AttachmentMixin, SessionState):
    rows: list[dict[str, str]] = []
    rows_loaded: bool = False  # until the first load, the page shows placeholders
    total: int = 0
    page: int = 1
    status_filter: str = "all"
    dialog_open: bool = False
    form_key: str = ""
    errors: dict[str, str] = {}
    notice: str = ""
    busy: bool = False
    form_version: int = 0

    @rx.var
    def page_count(self) -> int:
        return max(1, -(-self.total // tickets.PAGE_SIZE))

    @rx.var
    def subject_error(self) -> str:
        return self.errors.get("subject", "")

    @rx.var
    def body_error(self) -> str:
        return self.errors.get("body", "")

    @rx.var
    def form_error(self) -> str:
        return self.errors.get("", "")

    @rx.var
    def page_text(self) -> str:
        return self._("Page {page} of {count}", page=self.page, count=self.page_count)

    def _load_rows(self, account_id: int) -> None:
        with db.session_scope() as session:
            tz = str(isp_settings.get(session, "timezone"))
            country = str(isp_settings.get(session, "country"))
            rows, total = tickets.list_tickets(session, account_id, self.status_filter, self.page)
            if not rows and self.page > 1:
                self.page = max(1, -(-total // tickets.PAGE_SIZE))
                rows, total = tickets.list_tickets(session, account_id, self.status_filter,
                                                   self.page)
        self._assign_changed(total=total, rows_loaded=True, rows=[
            {"id": str(r["id"]), "number": str(r["number"]), "subject": r["subject"],
             "status": r["status"],
             "when": _moment(r["last_activity_at"], self.ui_lang, country, tz)}
            for r in rows
        ])

    @rx.event
    @page_load()
    def load_tickets(self, user):
        self._assign_changed(notice="", errors={}, dialog_open=False)
        # Always sent: after a failed event the browser may still hold its busy = True, which
        # the server, not keeping a failed event's changes, does not have (see forms_ready).
        self.busy = False
        if not self.show_tickets:  # the ISP turned the page off
            return rx.redirect(HOME_ROUTE, replace=True)
        if self.rows_loaded and self._unchanged(user, "tickets", self.page, self.status_filter):
            return  # nothing it shows changed since this tab read it
        self._assign_changed(page=1)
        self._load_rows(user.account_id)
        self._mark_read(user, "tickets", self.page, self.status_filter)

    @rx.event
    def set_status_filter(self, value: str):
        user = self.require_user()
        if user is None:
            return
        self.status_filter = value if value in STATUS_FILTERS else "all"
        self.page = 1
        self._load_rows(user.account_id)

    @rx.event
    def go_to_page(self, page: int):
        user = self.require_user()
        if user is None:
            return
        self.page = max(1, min(int(page), self.page_count))
        self._load_rows(user.account_id)

    @rx.event
    def open_new_ticket(self):
        self.errors, self.notice, self.attachment_error = {}, "", ""
        self._clear_attachment()
        self.form_key = _new_key()
        self.form_version += 1
        self.dialog_open = True

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = bool(value) if not self.busy else True

    @rx.event
    def create_ticket(self, form: dict):
        if self.busy:
            return
        self.busy = True
        self.errors = {}
        yield
        user = self.require_user()
        if user is None:
            self.busy = False
            yield self._to_login()
            return
        try:
            with db.session_scope() as session:
                ticket = tickets.create_ticket(
                    session, user.account_id, form.get("subject", ""), form.get("body", ""),
                    client_key=form.get("form_key") or self.form_key,
                    upload=self._take_attachment(), actor_id=user.user_id, ip=self.client_ip)
                number = ticket.number
        except tickets.TicketError as error:
            self.errors = {error.field: self._(error.message)}
            if error.field == "attachment":
                self.attachment_error = self._(error.message)
            self.busy = False
            return
        except Exception:  # noqa: BLE001 - the database is down: say so, keep the form
            self.errors = {"": self._("The ticket could not be saved. Please try again.")}
            self.busy = False
            return
        self._clear_attachment()
        self.dialog_open = False
        self.form_key = _new_key()
        self.form_version += 1
        self.notice = self._("Ticket #{number} was sent. We will answer by e-mail and here.",
                             number=number)
        self.status_filter, self.page = "all", 1
        self._load_rows(user.account_id)
        self.busy = False


class TicketState(AttachmentMixin, SessionState):
    found: bool = True
    loaded: bool = False
    ticket_id: int = 0
    number: str = ""
    subject: str = ""
    status: str = ""
    previous_id: str = ""
    previous_number: str = ""
    messages: list[MessageRow] = []
    reply_key: str = ""
    reply_error: str = ""
    notice: str = ""
    busy: bool = False
    form_version: int = 0
    reopen_days: int = 14

    def _ticket_param(self) -> int:
        """The ticket id from the address /tickets/<id>."""
        parts = [p for p in str(self.router.url.path or "").split("/") if p]
        value = parts[1] if len(parts) == 2 and parts[0] == "tickets" else ""
        return int(value) if value.isdecimal() and len(value) < 12 else 0

    def _load(self, account_id: int, ticket_id: int) -> None:
        with db.session_scope() as session:
            try:
                ticket = tickets.get_ticket(session, account_id, ticket_id)
                views = tickets.conversation(session, account_id, ticket_id)
            except tickets.NotFound:
                self.found, self.loaded, self.messages = False, True, []
                self.number = self.subject = self.status = ""
                return
            previous = (session.get(tickets.Ticket, ticket.previous_ticket_id)
                        if ticket.previous_ticket_id else None)
            tz = str(isp_settings.get(session, "timezone"))
            country = str(isp_settings.get(session, "country"))
            self.reopen_days = int(isp_settings.get(session, "ticket_reopen_days"))
        self.found, self.loaded = True, True
        self.ticket_id, self.number, self.subject = ticket.id, str(ticket.number), ticket.subject
        self.status = ticket.status
        same_account = previous is not None and previous.account_id == account_id
        self.previous_id = str(previous.id) if same_account else ""
        self.previous_number = str(previous.number) if same_account else ""
        self.messages = [
            MessageRow(id=str(m.id), kind=m.author_kind, author=m.author_name,
                       via_email=m.via == "email",
                       when=_moment(m.created_at, self.ui_lang, country, tz),
                       text=m.text, quoted=m.quoted, html=m.html,
                       attachments=[AttachmentRow(id=str(a["id"]), filename=a["filename"],
                                                  size=_size_text(a["size"], self.ui_lang))
                                    for a in m.attachments])
            for m in views
        ]

    @rx.event
    @page_load()
    def load_ticket(self, user):
        self.notice, self.reply_error, self.attachment_error, self.busy = "", "", "", False
        self._clear_attachment()
        self.loaded = False
        if not self.show_tickets:
            return rx.redirect(HOME_ROUTE, replace=True)
        self.reply_key = _new_key()
        self.form_version += 1
        self._load(user.account_id, self._ticket_param())

    @rx.event
    def send_reply(self, form: dict):
        if self.busy:
            return
        self.busy = True
        self.reply_error, self.notice = "", ""
        yield
        user = self.require_user()
        if user is None:
            self.busy = False
            yield self._to_login()
            return
        try:
            with db.session_scope() as session:
                target, _message = tickets.reply(
                    session, user.account_id, self._ticket_param(), form.get("body", ""),
                    client_key=form.get("reply_key") or self.reply_key,
                    upload=self._take_attachment(), actor_id=user.user_id, ip=self.client_ip)
                target_id = target.id
        except tickets.NotFound:
            self.found, self.busy = False, False
            return
        except tickets.TicketError as error:
            if error.field == "attachment":
                self.attachment_error = self._(error.message)
            else:
                self.reply_error = self._(error.message)
            self.busy = False
            return
        except Exception:  # noqa: BLE001 - the database is down: say so, keep the text
            self.reply_error = self._("Your reply could not be saved. Please try again.")
            self.busy = False
            return
        self._clear_attachment()
        self.reply_key = _new_key()
        self.form_version += 1
        self.busy = False
        if target_id != self._ticket_param():
            yield rx.redirect(f"/tickets/{target_id}")
            return
        self._load(user.account_id, target_id)
        self.notice = self._("Your reply was sent.")
