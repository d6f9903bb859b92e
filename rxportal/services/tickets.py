"""Support tickets: the rules, with no Reflex.

A ticket is a conversation between one account and the ISP's support mailbox. The customer
writes from the portal or by e-mail; ISP staff answer from their mail client. Every message
from the portal is mailed to the support mailbox (Reply-To: the customer and the ticket's
reply address) and copied to the customer; mail read back from the support mailbox (see
services/ticket_mail.py) lands in the conversation.

Status: Waiting for ISP when the customer wrote last, Awaiting Response when the ISP answered
last, Closed. Replying to a closed ticket reopens it within `ticket_reopen_days`, otherwise it
starts a new ticket that refers to the old one.

Every function that takes an account id only ever sees that account's tickets: another
account's ticket is NotFound, exactly like a missing one.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.utils import formataddr

from sqlalchemy import func
from sqlmodel import Session, select

from rxportal import config
from rxportal.models import Account, utcnow
from rxportal.models.tickets import (STATUS_AWAITING_RESPONSE, STATUS_CLOSED,
                                     STATUS_WAITING_FOR_ISP, Ticket, TicketAttachment,
                                     TicketMessage)
from rxportal.services import audit, mail, secrets_store
from rxportal.services.i18n import N_
from rxportal.services import settings as isp_settings

settings_register = isp_settings.register
settings_register("ticket_reopen_days", 14)  # a reply within this many days reopens a ticket
settings_register("ticket_attachment_max_bytes", 5 * 1024 * 1024)
# Who answers for the ISP: addresses or "@domain" entries, comma-separated. Empty: anyone at the
# support address's domain. An address that belongs to a customer account is never staff.
settings_register("support_staff_addresses", "")
# The support mailbox, read over IMAP by services/ticket_mail.py.
settings_register("imap_host", "")  # empty: the support mailbox is not read
settings_register("imap_port", 993)
settings_register("imap_user", "")
settings_register("imap_password", "", secret=True)
settings_register("imap_folder", "INBOX")
settings_register("imap_tls", "ssl")  # ssl | starttls | none (none: loopback only)
settings_register("imap_state", {})  # internal: UIDVALIDITY and the last UID read
settings_register("ticket_mail_max_bytes", 25 * 1024 * 1024)

STATUSES = (STATUS_AWAITING_RESPONSE, STATUS_WAITING_FOR_ISP, STATUS_CLOSED)
STATUS_LABELS = {
    STATUS_AWAITING_RESPONSE: N_("Awaiting Response"),
    STATUS_WAITING_FOR_ISP: N_("Waiting for ISP"),
    STATUS_CLOSED: N_("Closed"),
}
PAGE_SIZE = 10
SUBJECT_MAX = 200
BODY_MAX = 20_000
FILENAME_MAX = 120
MESSAGE_ID_MAX = 255
HTML_VIEW_MAX = 200_000  # longer HTML is shown as its text only


class TicketError(ValueError):
    """Bad input; `field` says where to show it, `message` is an English msgid."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


class NotFound(LookupError):
    pass


@dataclass
class Upload:
    filename: str
    data: bytes


@dataclass
class MessageView:
    id: int
    author_kind: str
    author_name: str
    via: str
    created_at: datetime
    text: str  # what is shown
    quoted: str  # earlier text quoted by the writer, folded away in the view
    html: str  # the mail's HTML, sanitized, when it had one and it is not huge
    attachments: list[dict] = field(default_factory=list)


# --- validation ---------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean_subject(subject: str) -> str:
    subject = " ".join(_CONTROL.sub(" ", subject or "").split())
    if not subject:
        raise TicketError("subject", N_("Enter a subject."))
    if len(subject) > SUBJECT_MAX:
        raise TicketError("subject", N_("The subject is too long (200 characters at most)."))
    return subject


def clean_body(body: str) -> str:
    body = _CONTROL.sub("", (body or "").replace("\r\n", "\n")).strip()
    if not body:
        raise TicketError("body", N_("Enter your message."))
    if len(body) > BODY_MAX:
        raise TicketError("body", N_("The message is too long (20,000 characters at most)."))
    return body


def clean_client_key(key: str | None) -> str | None:
    key = (key or "").strip()
    return key[:64] if re.fullmatch(r"[A-Za-z0-9_-]{8,64}", key) else None


def sniff(data: bytes) -> str | None:
    """The content type of an accepted attachment from its bytes, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:5] == b"%PDF-":
        return "application/pdf"
    return None


_EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif",
               "image/webp": ".webp", "application/pdf": ".pdf"}


def safe_filename(name: str, content_type: str) -> str:
    name = unicodedata.normalize("NFKC", (name or "").replace("\\", "/").rsplit("/", 1)[-1])
    name = re.sub(r"[^\w.\- ]+", "_", name).strip(" ._")[:FILENAME_MAX]
    extension = _EXTENSIONS[content_type]
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return f"{stem or 'attachment'}{extension}"


def check_attachment(session: Session, upload: Upload) -> tuple[str, str]:
    """(content type, safe file name) of an acceptable upload, or TicketError."""
    limit = int(isp_settings.get(session, "ticket_attachment_max_bytes"))
    if not upload.data:
        raise TicketError("attachment", N_("The file is empty."))
    if len(upload.data) > limit:
        raise TicketError("attachment", N_("The file is too large."))
    content_type = sniff(upload.data)
    if content_type is None:
        raise TicketError("attachment", N_("Attach an image (PNG, JPEG, GIF, WebP) or a PDF."))
    return content_type, safe_filename(upload.filename, content_type)


# --- addresses and Message-IDs ------------------------------------------------------------

def _split_address(address: str) -> tuple[str, str]:
    local, _, domain = address.strip().rpartition("@")
    return local, domain


def support_address(session: Session) -> str:
    return str(isp_settings.get(session, "support_email") or "").strip()


def reply_signature(number: int) -> str:
    return secrets_store.sign(f"ticket-reply:{number}", 16)


def reply_address(session: Session, number: int) -> str:
    """support+t42-<signature>@domain: mail sent here is added to ticket #42; cannot be forged."""
    local, domain = _split_address(support_address(session))
    return f"{local}+t{number}-{reply_signature(number)}@{domain}"


def parse_reply_address(session: Session, address: str) -> tuple[int | None, bool]:
    """(ticket number, signature valid) of a reply address, or (None, False) if it is not one."""
    local, domain = _split_address(support_address(session))
    match = re.fullmatch(
        re.escape(local.lower()) + r"\+t(\d{1,12})-([0-9a-f]{1,64})@" + re.escape(domain.lower()),
        (address or "").strip().lower())
    if not match:
        return None, False
    number = int(match.group(1))
    return number, secrets_store.verify(f"ticket-reply:{number}", match.group(2), 16)


def _mail_domain() -> str:
    return config.get().mail_from.rpartition("@")[2].strip("> ") or "localhost"


def new_message_id(number: int, kind: str) -> str:
    """Our own Message-IDs name their ticket (signed), so a reply's In-Reply-To finds it."""
    # From the system's randomness: make_msgid() draws on the `random` module, which anything
    # in the process may seed (hypothesis does), and then repeats ids (the column is unique).
    token = secrets.token_hex(8)
    body = f"rxportal.t{number}.{kind}.{token}"
    return f"<{body}.{secrets_store.sign(body, 12)}@{_mail_domain()}>"


def parse_message_id(message_id: str) -> int | None:
    match = re.fullmatch(r"<?(rxportal\.t(\d{1,12})\.[a-z]+\.[A-Za-z0-9]+)\.([0-9a-f]{12})@[^>]*>?",
                         (message_id or "").strip())
    if match and secrets_store.verify(match.group(1), match.group(3), 12):
        return int(match.group(2))
    return None


def normalize_message_id(message_id: str) -> str:
    message_id = (message_id or "").strip()
    if len(message_id) > MESSAGE_ID_MAX:
        return "<sha256." + hashlib.sha256(message_id.encode()).hexdigest() + "@long>"
    return message_id


# --- queries ------------------------------------------------------------------------------

def get_ticket(session: Session, account_id: int, ticket_id: int) -> Ticket:
    ticket = session.exec(
        select(Ticket).where(Ticket.id == ticket_id, Ticket.account_id == account_id)
    ).first()
    if ticket is None:
        raise NotFound(ticket_id)
    return ticket


def list_tickets(session: Session, account_id: int, status: str = "all", page: int = 1,
                 page_size: int = PAGE_SIZE) -> tuple[list[dict], int]:
    """One page of the account's tickets, newest activity first, and the total count."""
    where = [Ticket.account_id == account_id]
    if status == "open":
        where.append(Ticket.status != STATUS_CLOSED)
    elif status in STATUSES:
        where.append(Ticket.status == status)
    total = session.exec(select(func.count()).select_from(Ticket).where(*where)).one()
    page = max(1, int(page))
    rows = session.exec(
        select(Ticket).where(*where)
        .order_by(Ticket.last_activity_at.desc(), Ticket.id.desc())
        .offset((page - 1) * page_size).limit(page_size)
    ).all()
    return [
        {"id": t.id, "number": t.number, "subject": t.subject, "status": t.status,
         "last_activity_at": t.last_activity_at, "created_at": t.created_at}
        for t in rows
    ], int(total)


_ATTRIBUTION = re.compile(
    r"^(On .{1,200} wrote:|Le .{1,200} a écrit\s?:|-{2,}\s*Original Message\s*-{2,}|"
    r"-{2,}\s*Message d'origine\s*-{2,}|_{20,})\s*$", re.IGNORECASE)


def split_quoted(text: str) -> tuple[str, str]:
    """(what the writer wrote, the earlier text they quoted below it)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        stripped = line.strip()
        if _ATTRIBUTION.match(stripped):
            return "\n".join(lines[:index]).rstrip(), "\n".join(lines[index:]).strip()
    # A trailing block of "> " lines (with blank lines among them).
    end = len(lines)
    start = end
    while start > 0 and (lines[start - 1].startswith(">") or not lines[start - 1].strip()):
        start -= 1
    if any(line.startswith(">") for line in lines[start:end]) and start > 0:
        return "\n".join(lines[:start]).rstrip(), "\n".join(lines[start:]).strip()
    return text.strip(), ""


def conversation(session: Session, account_id: int, ticket_id: int) -> list[MessageView]:
    """The ticket's messages, oldest first, with quoted earlier text split off."""
    ticket = get_ticket(session, account_id, ticket_id)
    messages = session.exec(
        select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.created_at, TicketMessage.id)
    ).all()
    attachments: dict[int, list[dict]] = {}
    if messages:
        for att in session.exec(
            select(TicketAttachment.id, TicketAttachment.message_id, TicketAttachment.filename,
                   TicketAttachment.content_type, TicketAttachment.size)
            .where(TicketAttachment.message_id.in_([m.id for m in messages]))
            .order_by(TicketAttachment.id)
        ).all():
            attachments.setdefault(att.message_id, []).append(
                {"id": att.id, "filename": att.filename, "content_type": att.content_type,
                 "size": att.size})
    views = []
    for message in messages:
        text, quoted = split_quoted(message.body_text)
        views.append(MessageView(
            id=message.id, author_kind=message.author_kind, author_name=message.author_name,
            via=message.via, created_at=message.created_at, text=text, quoted=quoted,
            html=message.body_html if len(message.body_html) <= HTML_VIEW_MAX else "",
            attachments=attachments.get(message.id, [])))
    return views


def get_attachment(session: Session, account_id: int, attachment_id: int) -> TicketAttachment:
    attachment = session.exec(
        select(TicketAttachment)
        .join(TicketMessage, TicketMessage.id == TicketAttachment.message_id)
        .join(Ticket, Ticket.id == TicketMessage.ticket_id)
        .where(TicketAttachment.id == attachment_id, Ticket.account_id == account_id)
    ).first()
    if attachment is None:
        raise NotFound(attachment_id)
    return attachment


# --- changes ------------------------------------------------------------------------------

def _open_ticket(session: Session, account: Account, subject: str, client_key: str | None,
                 previous: Ticket | None = None) -> Ticket:
    ticket = Ticket(account_id=account.id, subject=subject, client_key=client_key,
                    previous_ticket_id=previous.id if previous else None)
    session.add(ticket)
    session.flush()
    ticket.number = ticket.id
    session.add(ticket)
    session.flush()
    return ticket


def _add_message(session: Session, ticket: Ticket, *, author_kind: str, author_name: str,
                 author_email: str, body: str, via: str, message_id: str,
                 client_key: str | None = None, in_reply_to: str = "", body_html: str = "",
                 raw: bytes | None = None, at: datetime | None = None) -> TicketMessage:
    message = TicketMessage(
        ticket_id=ticket.id, author_kind=author_kind, author_name=author_name[:200],
        author_email=author_email[:254], via=via, body_text=body, body_html=body_html,
        message_id=normalize_message_id(message_id), in_reply_to=in_reply_to[:255],
        raw=raw, client_key=client_key, created_at=at or utcnow())
    session.add(message)
    session.flush()
    ticket.last_activity_at = message.created_at
    if author_kind == "customer":
        ticket.status = STATUS_WAITING_FOR_ISP
    else:
        ticket.status = STATUS_AWAITING_RESPONSE
    ticket.closed_at = None
    session.add(ticket)
    return message


def _store_upload(session: Session, message: TicketMessage,
                  upload: Upload | None) -> TicketAttachment | None:
    if upload is None:
        return None
    content_type, filename = check_attachment(session, upload)
    attachment = TicketAttachment(message_id=message.id, filename=filename,
                                  content_type=content_type, size=len(upload.data),
                                  data=upload.data)
    session.add(attachment)
    session.flush()
    return attachment


def attachment_signature(attachment_id: int) -> str:
    return secrets_store.sign(f"ticket-attachment:{attachment_id}", 32)


def attachment_link(session: Session, attachment: TicketAttachment) -> str:
    """A link for the support mailbox: staff read mail, not the portal, so the link carries
    a signature instead of a login."""
    return (f"{mail.public_url(session)}/ticket-files/{attachment.id}"
            f"?sig={attachment_signature(attachment.id)}")


def get_attachment_signed(session: Session, attachment_id: int, signature: str) -> TicketAttachment:
    if not secrets_store.verify(f"ticket-attachment:{attachment_id}", signature, 32):
        raise NotFound(attachment_id)
    attachment = session.get(TicketAttachment, attachment_id)
    if attachment is None:
        raise NotFound(attachment_id)
    return attachment


def _thread_ids(session: Session, ticket: Ticket) -> list[str]:
    return list(session.exec(
        select(TicketMessage.message_id).where(TicketMessage.ticket_id == ticket.id)
        .order_by(TicketMessage.created_at, TicketMessage.id)
    ).all())


def ticket_subject(ticket: Ticket) -> str:
    return f"[Ticket #{ticket.number}] {ticket.subject}"


def ticket_url(session: Session, ticket: Ticket) -> str:
    return f"{mail.public_url(session)}/tickets/{ticket.id}"


def _mail_customer_message(session: Session, ticket: Ticket, account: Account,
                           message: TicketMessage,
                           attachment: TicketAttachment | None = None) -> None:
    """A portal message goes to the support mailbox, and a copy to the customer."""
    thread = [mid for mid in _thread_ids(session, ticket) if mid != message.message_id]
    threading = {"In-Reply-To": thread[-1], "References": " ".join(thread[-10:])} if thread else {}
    reply_to = reply_address(session, ticket.number)
    note = staff_note = ""
    if attachment is not None:
        note = f"\n\n[{attachment.filename}]"
        staff_note = f"\n\n[{attachment.filename}: {attachment_link(session, attachment)}]"
    values = dict(number=ticket.number, subject=ticket.subject, ticket_subject=ticket_subject(ticket),
                  customer_name=account.name, customer_email=account.email,
                  account_number=account.number, body=message.body_text + note,
                  ticket_url=ticket_url(session, ticket), name=account.name)
    support = support_address(session)
    if support:
        to_support = mail.queue(
            session, support, "ticket_to_support",
            str(isp_settings.get(session, "default_language")),
            headers={"Reply-To": ", ".join(
                a for a in (formataddr((account.name, account.email)) if account.email else "",
                            reply_to) if a),
                **threading, "X-Rxportal-Ticket": str(ticket.number)},
            **{**values, "body": message.body_text + staff_note})
        to_support.message_id = message.message_id
        session.add(to_support)
    if account.email:
        copy = mail.queue(
            session, account.email, "ticket_copy_customer", account.language,
            headers={"Reply-To": reply_to,
                     "In-Reply-To": message.message_id,
                     "References": " ".join((thread[-9:] + [message.message_id])),
                     "X-Rxportal-Ticket": str(ticket.number)},
            **values)
        copy.message_id = new_message_id(ticket.number, "c")
        session.add(copy)


def mail_customer_staff_reply(session: Session, ticket: Ticket, message: TicketMessage) -> None:
    """An ISP reply read from the support mailbox is mailed to the customer."""
    account = session.get(Account, ticket.account_id)
    if account is None or not account.email:
        return
    text, _quoted = split_quoted(message.body_text)
    names = session.exec(select(TicketAttachment.filename)
                         .where(TicketAttachment.message_id == message.id)).all()
    if names:  # the files themselves are in the portal
        text += "\n\n[" + ", ".join(names) + "]"
    copy = mail.queue(
        session, account.email, "ticket_reply_customer", account.language,
        headers={"Reply-To": reply_address(session, ticket.number),
                 "In-Reply-To": message.message_id,
                 "References": " ".join(_thread_ids(session, ticket)[-10:]),
                 "X-Rxportal-Ticket": str(ticket.number)},
        number=ticket.number, subject=ticket.subject, ticket_subject=ticket_subject(ticket),
        name=account.name, staff_name=message.author_name or "Support", body=text,
        ticket_url=ticket_url(session, ticket))
    copy.message_id = new_message_id(ticket.number, "n")
    session.add(copy)


def create_ticket(session: Session, account_id: int, subject: str, body: str, *,
                  client_key: str | None = None, upload: Upload | None = None,
                  actor_id: int | None = None, ip: str = "") -> Ticket:
    """Open a ticket with its first message from the portal; mail the support mailbox and a
    copy to the customer. The same client_key returns the ticket it made the first time."""
    account = session.get(Account, account_id)
    if account is None:
        raise NotFound(account_id)
    subject, body = clean_subject(subject), clean_body(body)
    key = clean_client_key(client_key)
    if key:
        existing = session.exec(
            select(Ticket).where(Ticket.account_id == account_id, Ticket.client_key == key)
        ).first()
        if existing is not None:
            return existing
    if upload is not None:
        check_attachment(session, upload)
    ticket = _open_ticket(session, account, subject, key)
    message = _add_message(session, ticket, author_kind="customer", author_name=account.name,
                           author_email=account.email, body=body, via="portal",
                           message_id=new_message_id(ticket.number, "m"), client_key=key)
    attachment = _store_upload(session, message, upload)
    _mail_customer_message(session, ticket, account, message, attachment)
    audit.record(session, "ticket.create", actor_type="customer", actor_id=actor_id,
                 target=f"ticket:{ticket.number}", ip=ip)
    return ticket


def reopen_or_new(session: Session, ticket: Ticket, now: datetime | None = None) -> Ticket:
    """The ticket a customer's new message goes to: this one, reopened if it was closed
    within the reopen period, or a new ticket that refers to it."""
    if ticket.status != STATUS_CLOSED:
        return ticket
    days = int(isp_settings.get(session, "ticket_reopen_days"))
    closed_at = ticket.closed_at or ticket.last_activity_at
    if closed_at.tzinfo is None:
        closed_at = closed_at.replace(tzinfo=timezone.utc)
    if (now or utcnow()) - closed_at <= timedelta(days=days):
        return ticket
    account = session.get(Account, ticket.account_id)
    return _open_ticket(session, account, ticket.subject, None, previous=ticket)


def reply(session: Session, account_id: int, ticket_id: int, body: str, *,
          client_key: str | None = None, upload: Upload | None = None,
          actor_id: int | None = None, ip: str = "") -> tuple[Ticket, TicketMessage]:
    """The customer replies from the portal. Returns the ticket the reply went to (a new one
    when the old ticket was closed too long ago) and the message."""
    ticket = get_ticket(session, account_id, ticket_id)
    body = clean_body(body)
    key = clean_client_key(client_key)
    if key:
        existing = session.exec(
            select(TicketMessage).join(Ticket, Ticket.id == TicketMessage.ticket_id)
            .where(Ticket.account_id == account_id, TicketMessage.client_key == key)
        ).first()
        if existing is not None:
            return session.get(Ticket, existing.ticket_id), existing
    if upload is not None:
        check_attachment(session, upload)
    account = session.get(Account, account_id)
    target = reopen_or_new(session, ticket)
    message = _add_message(session, target, author_kind="customer", author_name=account.name,
                           author_email=account.email, body=body, via="portal",
                           message_id=new_message_id(target.number, "m"), client_key=key)
    attachment = _store_upload(session, message, upload)
    _mail_customer_message(session, target, account, message, attachment)
    audit.record(session, "ticket.reply", actor_type="customer", actor_id=actor_id,
                 target=f"ticket:{target.number}", ip=ip,
                 reopened_from=ticket.number if target.id != ticket.id else None)
    return target, message


def close_ticket(session: Session, ticket_id: int, actor_type: str = "staff",
                 actor_name: str = "") -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(ticket_id)
    ticket.status = STATUS_CLOSED
    ticket.closed_at = utcnow()
    session.add(ticket)
    audit.record(session, "ticket.close", actor_type=actor_type, actor_name=actor_name,
                 target=f"ticket:{ticket.number}")
    return ticket


def find_by_number(session: Session, number: int) -> Ticket | None:
    return session.exec(select(Ticket).where(Ticket.number == number)).first()
