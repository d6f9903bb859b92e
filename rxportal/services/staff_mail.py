"""The "send a test mail" and "check the mailbox" buttons of the mail settings: they try the
servers set in the console right now and say clearly what went wrong."""
from __future__ import annotations

import imaplib
import smtplib
import socket
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

from sqlmodel import Session

from rxportal.services import mail
from rxportal.services import settings as isp_settings
from rxportal.services import staff_settings  # noqa: F401 - registers the mail settings

TIMEOUT = 15


class MailCheckFailed(Exception):
    """msgid: what to tell the staff member (English msgid); detail: the server's own words."""

    def __init__(self, msgid: str, detail: str = "", **values):
        super().__init__(msgid)
        self.msgid = msgid
        self.detail = detail[:300]
        self.values = values


@dataclass(frozen=True)
class MailboxReport:
    folder: str
    messages: int
    unseen: int


def _explain(error: BaseException, server: str) -> MailCheckFailed:
    detail = f"{type(error).__name__}: {error}"
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return MailCheckFailed("The {server} server refused the user name or password.",
                               detail, server=server)
    if isinstance(error, smtplib.SMTPNotSupportedError):
        return MailCheckFailed("The {server} server does not offer STARTTLS: choose another "
                               "security setting.", detail, server=server)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return MailCheckFailed("The SMTP server refused the recipient address.", detail)
    if isinstance(error, smtplib.SMTPSenderRefused):
        return MailCheckFailed("The SMTP server refused the sender address.", detail)
    if isinstance(error, socket.gaierror):
        return MailCheckFailed("The {server} server name could not be found.", detail,
                               server=server)
    if isinstance(error, ConnectionRefusedError):
        return MailCheckFailed("The {server} server refused the connection: check the server "
                               "name and port.", detail, server=server)
    if isinstance(error, (TimeoutError, socket.timeout)):
        return MailCheckFailed("The {server} server did not answer in time: check the server "
                               "name, port and firewall.", detail, server=server)
    if isinstance(error, ssl.SSLError):
        return MailCheckFailed("The secure (TLS) connection to the {server} server failed: "
                               "check the security setting and port.", detail, server=server)
    return MailCheckFailed("The {server} server answered with an error.", detail, server=server)


def send_test_mail(session: Session, to_addr: str) -> None:
    """Send one message now through the SMTP server set in the console (not the outbox)."""
    from rxportal.services.auth import AuthError, normalize_email

    try:
        to_addr = normalize_email(to_addr)
    except AuthError as error:
        raise MailCheckFailed(error.msgid) from None
    options = mail.smtp_options(session)
    if not options["host"]:
        raise MailCheckFailed("No SMTP server is set: e-mails are only written to the mail "
                              "folder on the server.")
    isp_name = isp_settings.get(session, "isp_name")
    message = EmailMessage()
    message["From"] = mail.sender_address(session)
    message["To"] = to_addr
    message["Subject"] = f"{isp_name}: test message from the customer portal"
    message["Message-ID"] = make_msgid(domain=options["mail_from"].split("@")[-1])
    message.set_content("This test message shows that the customer portal can send e-mail.\n")
    try:
        mail._transmit(message, options)
    except (OSError, smtplib.SMTPException) as error:
        raise _explain(error, "SMTP") from None


def check_mailbox(session: Session) -> MailboxReport:
    """Log in to the support mailbox set in the console and count its messages."""
    values = isp_settings.get_many(session, ["imap_host", "imap_port", "imap_user",
                                             "imap_password", "imap_tls", "imap_folder"])
    if not values["imap_host"]:
        raise MailCheckFailed("No IMAP server is set for the support mailbox.")
    folder = values["imap_folder"] or "INBOX"
    try:
        mode = str(values["imap_tls"] or "ssl").lower()  # as services/ticket_mail.py reads it
        if mode == "ssl":
            client = imaplib.IMAP4_SSL(values["imap_host"], int(values["imap_port"]),
                                       ssl_context=ssl.create_default_context(), timeout=TIMEOUT)
        else:
            client = imaplib.IMAP4(values["imap_host"], int(values["imap_port"]), timeout=TIMEOUT)
            if mode == "starttls":
                try:
                    client.starttls(ssl_context=ssl.create_default_context())
                except imaplib.IMAP4.error as error:
                    raise MailCheckFailed("The {server} server does not offer STARTTLS: choose "
                                          "another security setting.", str(error),
                                          server="IMAP") from None
    except (OSError, imaplib.IMAP4.error) as error:
        raise _explain(error, "IMAP") from None
    try:
        try:
            client.login(values["imap_user"], values["imap_password"])
        except imaplib.IMAP4.error as error:
            raise MailCheckFailed("The {server} server refused the user name or password.",
                                  str(error), server="IMAP") from None
        status, data = client.select(_quote(folder), readonly=True)
        if status != "OK":
            raise MailCheckFailed("The folder {folder} does not exist in the mailbox.",
                                  b" ".join(d for d in data if d).decode(errors="replace"),
                                  folder=folder)
        messages = int(data[0] or 0)
        status, found = client.search(None, "UNSEEN")
        unseen = len(found[0].split()) if status == "OK" and found and found[0] else 0
        return MailboxReport(folder=folder, messages=messages, unseen=unseen)
    except (OSError, imaplib.IMAP4.error) as error:
        raise _explain(error, "IMAP") from None
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - already failed or closed
            pass


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'
