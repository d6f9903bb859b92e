"""E-mail: every message is written to the outbox first (in the caller's transaction), then
delivered by a job through SMTP, with retries and backoff while the server is down. Without an
SMTP server (the demo), messages are written as .eml files to the mail folder instead.

Templates live in rxportal/mail_templates/<lang>/<name>.txt: a "Subject:" line, a blank line,
then the body, with $placeholders. The HTML part is made from the same text.
"""
from __future__ import annotations

import html
import re
import smtplib
import ssl
import string
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path
from typing import Callable

from sqlalchemy import event, insert
from sqlmodel import Session, select

from rxportal import config
from rxportal.models import OutboxMail, utcnow
from rxportal.models.base import bulk_rows
from rxportal.services import i18n
from rxportal.services import settings as isp_settings

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "mail_templates"
MAX_ATTEMPTS = 12

# Set by rxportal.jobs: called with an outbox id after the transaction that queued it commits.
dispatcher: Callable[[int], None] | None = None


class TemplateMissing(LookupError):
    pass


def render(name: str, lang: str, values: dict) -> tuple[str, str, str]:
    """(subject, text, html) of a template in a language (English when not translated)."""
    path = TEMPLATES_DIR / lang / f"{name}.txt"
    if not path.exists():
        path = TEMPLATES_DIR / i18n.SOURCE_LANGUAGE / f"{name}.txt"
    if not path.exists():
        raise TemplateMissing(name)
    header, _, body = path.read_text(encoding="utf-8").partition("\n\n")
    subject = string.Template(header.removeprefix("Subject:").strip()).substitute(values)
    text = string.Template(body).substitute(values)
    escaped = {k: html.escape(str(v)) for k, v in values.items()}
    html_body = _html_layout(string.Template(html.escape(body)).substitute(escaped),
                             escaped.get("isp_name", ""))
    return subject, text, html_body


def _html_layout(escaped_text: str, isp_name: str) -> str:
    linked = re.sub(r"(https?://[^\s<]+)", r'<a href="\1">\1</a>', escaped_text)
    paragraphs = "".join(
        f"<p>{p.replace(chr(10), '<br>')}</p>" for p in linked.split("\n\n") if p.strip()
    )
    return (
        "<!doctype html><html><body style=\"font-family:sans-serif;max-width:600px\">"
        f"<h2 style=\"color:#3e63dd\">{isp_name}</h2>{paragraphs}</body></html>"
    )


def queue(session: Session, to_addr: str, template: str, lang: str,
          headers: dict | None = None, attachments: list[dict] | None = None,
          **values) -> OutboxMail:
    """Add a message to the outbox; it is sent once the caller's transaction commits.

    `attachments`: files already stored under the data folder, as
    [{"path": "relative/to/data_dir.pdf", "filename": "name.pdf", "mime": "application/pdf"}];
    they are read when the message is sent."""
    mail = OutboxMail(**compose(to_addr, template, lang, shared_values(session), headers,
                                attachments, **values))
    session.add(mail)
    session.flush()
    session.info.setdefault("queued_mail", []).append(mail.id)
    return mail


def shared_values(session: Session) -> dict:
    """What every template may use (the ISP's name, contacts, the portal's address)."""
    branding = isp_settings.get_many(session, ["isp_name", "support_email", "support_phone"])
    return {**branding, "portal_url": public_url(session)}


def compose(to_addr: str, template: str, lang: str, shared: dict, headers: dict | None = None,
            attachments: list[dict] | None = None, **values) -> dict:
    """The columns of an outbox message (`queue` adds one; `queue_rows` many at once)."""
    subject, text, html_body = render(template, i18n.normalize_language(lang),
                                      {**shared, **values})
    return {"to_addr": to_addr, "subject": subject[:300], "text_body": text,
            "html_body": html_body, "headers": headers or {},
            "attachments": [_attachment_spec(a) for a in attachments] if attachments else None}


def queue_rows(session: Session, rows: list[dict]) -> None:
    """Insert composed messages in one statement; they are sent once the transaction commits."""
    if not rows:
        return
    ids = session.scalars(insert(OutboxMail).returning(OutboxMail.id,
                                                       sort_by_parameter_order=True),
                          bulk_rows(OutboxMail, rows)).all()
    session.info.setdefault("queued_mail", []).extend(ids)


def _attachment_spec(attachment: dict) -> dict:
    path = Path(str(attachment["path"]))
    if path.is_absolute() or ".." in path.parts:
        raise ValueError("attachment paths are relative to the data folder")
    return {"path": path.as_posix(),
            "filename": str(attachment.get("filename") or path.name),
            "mime": str(attachment.get("mime") or "application/octet-stream")}


def public_url(session: Session) -> str:
    return (isp_settings.get(session, "public_url") or config.get().public_url).rstrip("/")


@event.listens_for(Session, "after_commit")
def _dispatch_after_commit(session: Session) -> None:
    queued = session.info.pop("queued_mail", [])
    if dispatcher is not None:
        for outbox_id in queued:
            try:
                dispatcher(outbox_id)
            except Exception:  # noqa: BLE001 - the periodic job sends it later anyway
                pass


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("queued_mail", None)


def build_message(mail: OutboxMail, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to_addr
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id or make_msgid(domain=sender.split("@")[-1].strip(">"))
    for name, value in (mail.headers or {}).items():
        message[name] = value
    message.set_content(mail.text_body)
    if mail.html_body:
        message.add_alternative(mail.html_body, subtype="html")
    for attachment in mail.attachments or []:
        # A missing file raises OSError: deliver() keeps the message queued and retries.
        content = (config.get().data_dir / attachment["path"]).read_bytes()
        maintype, _, subtype = attachment.get("mime", "application/octet-stream").partition("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype or "octet-stream",
                               filename=attachment.get("filename") or Path(attachment["path"]).name)
    return message


SMTP_KEYS = ("smtp_host", "smtp_port", "smtp_user", "smtp_password", "smtp_security", "mail_from")


def smtp_options(session: Session) -> dict:
    """The SMTP server staff set in the console (read at each use, so a change applies at
    once), or else the one from the environment (SMTP_HOST...); host "" means no server."""
    cfg = config.get()
    stored = isp_settings.get_many(session, [k for k in SMTP_KEYS if k in isp_settings.SPECS])
    if stored.get("smtp_host"):
        return {"host": stored["smtp_host"], "port": int(stored.get("smtp_port") or 587),
                "user": stored.get("smtp_user", ""), "password": stored.get("smtp_password", ""),
                "security": stored.get("smtp_security", "starttls"),
                "mail_from": stored.get("mail_from") or cfg.mail_from}
    return {"host": cfg.smtp_host, "port": cfg.smtp_port, "user": cfg.smtp_user,
            "password": cfg.smtp_password, "security": "starttls" if cfg.smtp_starttls else "none",
            "mail_from": stored.get("mail_from") or cfg.mail_from}


def sender_address(session: Session) -> str:
    isp_name = isp_settings.get(session, "isp_name")
    return formataddr((isp_name, smtp_options(session)["mail_from"]))


def deliver(session: Session, outbox_id: int) -> bool:
    """Try to send one queued message now; True when it went out."""
    mail = session.get(OutboxMail, outbox_id)
    if mail is None or mail.status != "queued":
        return False
    try:
        message = build_message(mail, sender_address(session))
        mail.message_id = message["Message-ID"]
        _transmit(message, smtp_options(session))
    except (OSError, smtplib.SMTPException) as error:
        mail.attempts += 1
        mail.last_error = f"{type(error).__name__}: {error}"[:500]
        mail.status = "failed" if mail.attempts >= MAX_ATTEMPTS else "queued"
        mail.next_attempt_at = utcnow() + timedelta(minutes=min(2 ** mail.attempts, 60))
        session.add(mail)
        return False
    mail.status, mail.sent_at, mail.last_error = "sent", utcnow(), ""
    mail.attempts += 1
    session.add(mail)
    return True


def _transmit(message: EmailMessage, options: dict | None = None) -> None:
    cfg = config.get()
    options = options or {"host": cfg.smtp_host, "port": cfg.smtp_port, "user": cfg.smtp_user,
                          "password": cfg.smtp_password,
                          "security": "starttls" if cfg.smtp_starttls else "none"}
    if not options["host"]:
        cfg.mail_dir.mkdir(parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%d-%H%M%S}-{abs(hash(message['Message-ID'])) % 10**8:08d}.eml"
        (cfg.mail_dir / name).write_bytes(bytes(message))
        return
    smtp_class = smtplib.SMTP_SSL if options["security"] == "tls" else smtplib.SMTP
    kwargs = {"context": ssl.create_default_context()} if options["security"] == "tls" else {}
    with smtp_class(options["host"], options["port"], timeout=20, **kwargs) as smtp:
        if options["security"] == "starttls":
            smtp.starttls(context=ssl.create_default_context())
        if options["user"]:
            smtp.login(options["user"], options["password"])
        smtp.send_message(message)


def due_ids(session: Session, limit: int = 100) -> list[int]:
    return list(session.exec(
        select(OutboxMail.id)
        .where(OutboxMail.status == "queued", OutboxMail.next_attempt_at <= utcnow())
        .order_by(OutboxMail.id).limit(limit)
    ))
