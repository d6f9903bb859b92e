"""Mail read from the ISP's support mailbox over IMAP, added to ticket conversations.

Each mail is looked at once (by Message-ID, recorded in InboundMail with what was done).
The ticket is found by, in this order: the signed reply address it was sent to
(support+t42-<signature>@...), the In-Reply-To/References headers (our own signed
Message-IDs, or a stored message's), the "[Ticket #42]" subject. The sender must then be the
ticket's customer (a customer message) or ISP staff (an ISP message: Awaiting Response, and the
customer is mailed); an address of another account, or anyone else, is refused. Automatic
replies and bounces are not added. Mail from a customer's address that names no ticket opens
a new ticket, and so does staff mail that names none, addressed to one customer. HTML is
sanitized with nh3 and its remote images are removed.
"""
from __future__ import annotations

import hashlib
import html as html_lib
import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import getaddresses, parseaddr

import nh3
from sqlalchemy import func
from sqlmodel import Session, select

from rxportal import config
from rxportal.models import Account, utcnow
from rxportal.models.tickets import (STATUS_CLOSED, InboundMail, Ticket, TicketAttachment,
                                     TicketMessage)
from rxportal.services import audit
from rxportal.services import settings as isp_settings
from rxportal.services import tickets

log = logging.getLogger(__name__)

TEXT_MAX = 200_000  # characters of a mail's text kept for the view
HTML_MAX = 2_000_000

# The IMAP settings (imap_host, ...) are declared in services/tickets.py.


@dataclass
class Outcome:
    outcome: str  # see InboundMail.outcome
    ticket_id: int | None = None
    detail: str = ""


# --- reading a mail -----------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response)|out of (the )?office|absence|"
    r"r[ée]ponse automatique|undeliver|undelivered mail|delivery status notification|"
    r"mail delivery (failed|system)|returned mail|failure notice|non remis)", re.IGNORECASE)


def automatic_kind(msg: EmailMessage) -> str | None:
    """'bounce' or 'auto_reply' for mail no person wrote, else None."""
    content_type = msg.get_content_type()
    sender = parseaddr(str(msg.get("From", "")))[1].lower()
    if content_type == "multipart/report" or msg.get("X-Failed-Recipients"):
        return "bounce"
    if sender.split("@")[0] in ("mailer-daemon", "postmaster"):
        return "bounce"
    if str(msg.get("Return-Path", "")).strip() == "<>":
        return "bounce"
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    if auto and auto != "no":
        return "auto_reply"
    if msg.get("X-Autoreply") or msg.get("X-Autorespond"):
        return "auto_reply"
    if str(msg.get("Precedence", "")).strip().lower() in ("bulk", "junk", "auto_reply", "list"):
        return "auto_reply"
    if _AUTO_SUBJECT.match(str(msg.get("Subject", ""))):
        return "auto_reply"
    return None


_BLOCK_END = re.compile(r"(?i)<\s*(br\s*/?|/p|/div|/tr|/li|/h[1-6]|/blockquote|/table)\s*>")


def html_to_text(markup: str) -> str:
    """Plain text of an HTML mail (scripts and styles dropped with their content)."""
    text = _BLOCK_END.sub("\n", markup)
    text = nh3.clean(text, tags=set(), clean_content_tags={"script", "style", "head", "title"})
    text = html_lib.unescape(text)
    lines = [line.rstrip() for line in text.replace("\r", "").split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _keep_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src" and not value.lower().startswith(("cid:", "data:image/")):
        return None  # a remote image would tell the sender the mail was read
    return value


def sanitize_html(markup: str) -> str:
    """HTML safe to show: no scripts, handlers, styles or remote images."""
    tags = set(nh3.ALLOWED_TAGS) - {"img", "map", "area"}
    return nh3.clean(markup, tags=tags,
                     clean_content_tags={"script", "style", "head", "title"},
                     attribute_filter=_keep_attribute, url_schemes={"http", "https", "mailto"},
                     link_rel="noopener noreferrer nofollow")


def bodies(msg: EmailMessage) -> tuple[str, str]:
    """(text, sanitized html) of a mail."""
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    markup = ""
    if html_part is not None:
        try:
            markup = html_part.get_content()
        except (LookupError, ValueError):
            markup = html_part.get_payload(decode=True).decode("utf-8", "replace")
    if text_part is not None:
        try:
            text = text_part.get_content()
        except (LookupError, ValueError):
            text = text_part.get_payload(decode=True).decode("utf-8", "replace")
    elif markup:
        text = html_to_text(markup)
    elif not msg.is_multipart():
        text = str(msg.get_payload(decode=True) or b"", "utf-8", "replace")
    else:
        text = ""
    text = text.replace("\r\n", "\n").strip()
    if len(text) > TEXT_MAX:  # the original stays whole in the raw mail
        text = text[:TEXT_MAX] + "\n[…]"
    return text, sanitize_html(markup[:HTML_MAX]) if markup else ""


def attachments(msg: EmailMessage, limit: int) -> list[tickets.Upload]:
    """The images and PDFs attached to a mail (by content), each within the size limit."""
    found = []
    for part in msg.iter_attachments():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        if data and len(data) <= limit and tickets.sniff(data):
            found.append(tickets.Upload(part.get_filename() or "attachment", data))
    return found


def _addresses(msg: EmailMessage, *names: str) -> list[str]:
    values = []
    for name in names:
        values.extend(str(v) for v in msg.get_all(name, []) or [])
    return [addr.lower() for _name, addr in getaddresses(values) if addr]


def _message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]{1,500}>", value or "")


# --- deciding where it goes ---------------------------------------------------------------

def staff_rules(session: Session) -> list[str]:
    configured = str(isp_settings.get(session, "support_staff_addresses") or "")
    rules = [r.strip().lower() for r in configured.split(",") if r.strip()]
    if not rules:
        domain = tickets.support_address(session).rpartition("@")[2].lower()
        rules = [f"@{domain}"] if domain else []
    return rules


def is_staff(session: Session, address: str) -> bool:
    address = address.lower()
    if address == tickets.support_address(session).lower():
        return True
    for rule in staff_rules(session):
        if rule.startswith("@") and address.endswith(rule):
            return True
        if rule == address:
            return True
    return False


def accounts_with_address(session: Session, address: str) -> list[Account]:
    return list(session.exec(
        select(Account).where(func.lower(Account.email) == address.lower())).all())


def find_ticket(session: Session, msg: EmailMessage) -> tuple[Ticket | None, str]:
    """The ticket a mail belongs to, and how it was found (or why not)."""
    forged = False
    for address in _addresses(msg, "To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"):
        number, valid = tickets.parse_reply_address(session, address)
        if number is not None and valid:
            ticket = tickets.find_by_number(session, number)
            if ticket is not None:
                return ticket, "reply address"
        elif number is not None:
            forged = True
    ids = _message_ids(str(msg.get("In-Reply-To", ""))) + list(
        reversed(_message_ids(str(msg.get("References", "")))))
    for message_id in ids:
        number = tickets.parse_message_id(message_id)
        if number is not None:
            ticket = tickets.find_by_number(session, number)
            if ticket is not None:
                return ticket, "our message id"
        stored = session.exec(select(TicketMessage.ticket_id).where(
            TicketMessage.message_id == tickets.normalize_message_id(message_id))).first()
        if stored is not None:
            return session.get(Ticket, stored), "stored message id"
    match = re.search(r"\[Ticket #(\d{1,12})\]", str(msg.get("Subject", "")), re.IGNORECASE)
    if match:
        ticket = tickets.find_by_number(session, int(match.group(1)))
        if ticket is not None:
            return ticket, "subject"
    return None, "forged reply address" if forged else "no reference"


def _clean_subject(subject: str) -> str:
    subject = re.sub(r"^\s*((re|fwd?|tr|aw)\s*:\s*)+", "", subject or "", flags=re.IGNORECASE)
    try:
        return tickets.clean_subject(subject)
    except tickets.TicketError:
        return "(no subject)" if not subject.strip() else subject.strip()[: tickets.SUBJECT_MAX]


def process(session: Session, raw: bytes) -> Outcome:
    """Read one mail from the support mailbox; add it to a ticket if it belongs in one."""
    try:
        msg = message_from_bytes(raw, policy=policy.default)
        message_id = str(msg.get("Message-ID", "") or "").strip()
    except Exception:  # noqa: BLE001 - a mail we cannot parse is recorded, never fatal
        msg, message_id = None, ""
    if not message_id:
        message_id = "<sha256." + hashlib.sha256(raw).hexdigest() + "@no-message-id>"
    message_id = tickets.normalize_message_id(message_id)
    if session.exec(select(InboundMail.id).where(InboundMail.message_id == message_id)).first():
        return Outcome("duplicate")
    if msg is None:
        return _record(session, message_id, None, Outcome("unreadable"))
    if session.exec(select(TicketMessage.id).where(
            TicketMessage.message_id == message_id)).first():
        return _record(session, message_id, msg, Outcome("own", detail="already in a ticket"))
    sender = parseaddr(str(msg.get("From", "")))[1].lower()
    if len(raw) > int(isp_settings.get(session, "ticket_mail_max_bytes")):
        return _record(session, message_id, msg, Outcome("too_large"))
    kind = automatic_kind(msg)
    if kind:
        return _record(session, message_id, msg, Outcome(kind))
    # The portal's own mail: its sender, or one of its signed Message-IDs. (Staff often answer
    # from the support address itself: that is staff, not the portal.)
    if sender == config.get().mail_from.lower() or tickets.parse_message_id(message_id):
        return _record(session, message_id, msg, Outcome("own"))
    ticket, how = find_ticket(session, msg)
    sender_accounts = accounts_with_address(session, sender)
    if ticket is None:
        if len(sender_accounts) == 1:
            account = sender_accounts[0]
            ticket = tickets._open_ticket(session, account, _clean_subject(str(msg["Subject"] or "")),
                                          None)
            return _add(session, ticket, msg, raw, message_id, "customer", sender, how="new")
        if not sender_accounts and is_staff(session, sender):
            # Staff wrote to a customer first (copying the support mailbox): a new ticket.
            recipients = {a.id: a for address in _addresses(msg, "To", "Cc")
                          for a in accounts_with_address(session, address)}
            if len(recipients) == 1:
                account = next(iter(recipients.values()))
                ticket = tickets._open_ticket(
                    session, account, _clean_subject(str(msg["Subject"] or "")), None)
                return _add(session, ticket, msg, raw, message_id, "isp", sender, how="new")
        return _record(session, message_id, msg, Outcome("no_ticket", detail=how))
    if any(a.id == ticket.account_id for a in sender_accounts):
        target = tickets.reopen_or_new(session, ticket)
        return _add(session, target, msg, raw, message_id, "customer", sender, how=how)
    if sender_accounts:
        return _record(session, message_id, msg,
                       Outcome("other_account", ticket.id, f"matched by {how}"))
    if is_staff(session, sender):
        return _add(session, ticket, msg, raw, message_id, "isp", sender, how=how)
    return _record(session, message_id, msg, Outcome("unknown_sender", ticket.id,
                                                     f"matched by {how}"))


def _add(session: Session, ticket: Ticket, msg: EmailMessage, raw: bytes, message_id: str,
         author_kind: str, sender: str, how: str) -> Outcome:
    text, markup = bodies(msg)
    if not text:
        text = "(empty message)"
    name = parseaddr(str(msg.get("From", "")))[0] or sender
    if author_kind == "customer":
        account = session.get(Account, ticket.account_id)
        name = account.name if account else name
    in_reply_to = (_message_ids(str(msg.get("In-Reply-To", ""))) or [""])[0]
    message = tickets._add_message(
        session, ticket, author_kind=author_kind, author_name=name, author_email=sender,
        body=text, body_html=markup, via="email", message_id=message_id,
        in_reply_to=tickets.normalize_message_id(in_reply_to), raw=raw)
    limit = int(isp_settings.get(session, "ticket_attachment_max_bytes"))
    for upload in attachments(msg, limit):
        content_type = tickets.sniff(upload.data)
        session.add(TicketAttachment(
            message_id=message.id, filename=tickets.safe_filename(upload.filename, content_type),
            content_type=content_type, size=len(upload.data), data=upload.data))
    session.flush()
    if author_kind == "isp":
        account = session.get(Account, ticket.account_id)
        recipients = _addresses(msg, "To", "Cc")
        if account is not None and account.email.lower() not in recipients:
            tickets.mail_customer_staff_reply(session, ticket, message)
    audit.record(session, "ticket.mail_in", actor_type="customer" if author_kind == "customer"
                 else "staff", actor_name=sender, target=f"ticket:{ticket.number}", how=how)
    return _record(session, message_id, msg, Outcome("added", ticket.id, how))


def _record(session: Session, message_id: str, msg: EmailMessage | None,
            outcome: Outcome) -> Outcome:
    sender = parseaddr(str(msg.get("From", "")))[1] if msg is not None else ""
    subject = str(msg.get("Subject", "") or "") if msg is not None else ""
    session.add(InboundMail(message_id=message_id, from_addr=sender[:254], subject=subject[:300],
                            outcome=outcome.outcome, ticket_id=outcome.ticket_id,
                            detail=outcome.detail[:300], received_at=utcnow()))
    session.flush()
    return outcome


# --- the IMAP side ------------------------------------------------------------------------

class MailboxError(RuntimeError):
    pass


def imap_configured(session: Session) -> bool:
    return bool(isp_settings.get(session, "imap_host"))


def connect(values: dict) -> imaplib.IMAP4:
    host, port = values["imap_host"], int(values["imap_port"])
    mode = str(values.get("imap_tls") or "ssl").lower()
    try:
        if mode == "ssl":
            client = imaplib.IMAP4_SSL(host, port, ssl_context=ssl.create_default_context(),
                                       timeout=30)
        else:
            client = imaplib.IMAP4(host, port, timeout=30)
            if mode == "starttls":
                client.starttls(ssl_context=ssl.create_default_context())
        client.login(values["imap_user"], values["imap_password"])
    except (OSError, imaplib.IMAP4.error) as error:
        raise MailboxError(f"{type(error).__name__}: {error}") from error
    return client


def poll_once(session_scope=None, batch: int = 200) -> dict[str, int]:
    """Read the support mailbox's new mail (by UID since the last run). Each mail is processed
    in its own transaction; returns how many had each outcome."""
    from rxportal import db

    session_scope = session_scope or db.session_scope
    keys = ["imap_host", "imap_port", "imap_user", "imap_password", "imap_folder", "imap_tls",
            "imap_state", "ticket_mail_max_bytes"]
    with session_scope() as session:
        values = isp_settings.get_many(session, keys)
    if not values["imap_host"]:
        return {}
    counts: dict[str, int] = {}
    max_bytes = int(values["ticket_mail_max_bytes"])
    client = connect(values)
    try:
        status, data = client.select(_quote(values["imap_folder"] or "INBOX"), readonly=True)
        if status != "OK":
            raise MailboxError(f"cannot open folder {values['imap_folder']!r}")
        uidvalidity = _untagged_int(client, "UIDVALIDITY")
        state = dict(values["imap_state"] or {})
        last_uid = int(state.get("last_uid", 0)) if state.get("uidvalidity") == uidvalidity else 0
        status, data = client.uid("SEARCH", None, f"UID {last_uid + 1}:*")
        uids = sorted(int(u) for u in (data[0] or b"").split() if int(u) > last_uid)[:batch]
        for uid in uids:
            if _size(client, uid) > max_bytes:
                # Too large to read: only its headers, so it is recorded (once) and skipped.
                status, fetched = client.uid("FETCH", str(uid), "(BODY.PEEK[HEADER])")
                header = next((part[1] for part in fetched if isinstance(part, tuple)), b"")
                with session_scope() as session:
                    outcome = record_too_large(session, header)
                counts[outcome] = counts.get(outcome, 0) + 1
                with session_scope() as session:
                    isp_settings.put(session, "imap_state",
                                     {"uidvalidity": uidvalidity, "last_uid": uid})
                continue
            status, fetched = client.uid("FETCH", str(uid), "(BODY.PEEK[])")
            raw = next((part[1] for part in fetched if isinstance(part, tuple)), None)
            if status == "OK" and raw is not None:
                try:
                    with session_scope() as session:
                        outcome = process(session, raw).outcome
                except Exception:  # noqa: BLE001 - one bad mail must not stop the others
                    log.exception("ticket mail UID %s could not be processed", uid)
                    outcome = "error"
                counts[outcome] = counts.get(outcome, 0) + 1
            with session_scope() as session:
                isp_settings.put(session, "imap_state",
                                 {"uidvalidity": uidvalidity, "last_uid": uid})
    finally:
        try:
            client.logout()
        except (OSError, imaplib.IMAP4.error):
            pass
    return counts


def _size(client: imaplib.IMAP4, uid: int) -> int:
    _status, data = client.uid("FETCH", str(uid), "(RFC822.SIZE)")
    match = re.search(rb"RFC822\.SIZE (\d+)", b" ".join(
        d if isinstance(d, bytes) else d[0] for d in data if d))
    return int(match.group(1)) if match else 0


def record_too_large(session: Session, header: bytes) -> str:
    msg = message_from_bytes(header, policy=policy.default)
    message_id = tickets.normalize_message_id(str(msg.get("Message-ID", "") or "").strip()) or (
        "<sha256." + hashlib.sha256(header).hexdigest() + "@no-message-id>")
    if session.exec(select(InboundMail.id).where(InboundMail.message_id == message_id)).first():
        return "duplicate"
    return _record(session, message_id, msg, Outcome("too_large")).outcome


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _untagged_int(client: imaplib.IMAP4, name: str) -> int:
    _typ, data = client.response(name)
    try:
        return int(data[0])
    except (TypeError, ValueError, IndexError):
        return 0
