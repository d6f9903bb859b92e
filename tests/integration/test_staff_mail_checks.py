"""The "send a test mail" and "check the mailbox" buttons against real servers: aiosmtpd and
Dovecot on loopback, and ports where nothing listens."""
from __future__ import annotations

import pytest

from rxportal.services import staff_mail, staff_settings
from rxportal.services import settings as isp_settings
from rxportal.services.staff_mail import MailCheckFailed

from tests.conftest import free_port
from tests.dovecot_server import DovecotServer


def set_values(session, **values):
    for key, value in values.items():
        isp_settings.put(session, key, value)
    session.commit()


@pytest.fixture()
def dovecot():
    server = DovecotServer("support@example.net", "mailbox-pass").start()
    yield server
    server.stop()


def test_test_mail_goes_through_the_smtp_server_set_in_the_console(session, smtp_server, monkeypatch):
    monkeypatch.delenv("SMTP_HOST")  # only the console's setting
    set_values(session, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none",
               mail_from="portal@isp.example")
    staff_mail.send_test_mail(session, "admin@isp.example")
    [message] = smtp_server.to("admin@isp.example")
    assert "test message" in message["Subject"]
    assert "portal@isp.example" in message["From"]


def test_test_mail_reports_a_closed_port_and_a_wrong_name_clearly(session):
    set_values(session, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none")
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.send_test_mail(session, "admin@isp.example")
    assert "refused the connection" in error.value.msgid
    assert "ConnectionRefusedError" in error.value.detail
    set_values(session, smtp_host="no-such-host.invalid")
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.send_test_mail(session, "admin@isp.example")
    assert "could not be found" in error.value.msgid


def test_test_mail_reports_missing_starttls(session, smtp_server):
    set_values(session, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="starttls")
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.send_test_mail(session, "admin@isp.example")
    assert "STARTTLS" in error.value.msgid


def test_test_mail_needs_a_server_and_a_valid_address(session, monkeypatch):
    monkeypatch.delenv("SMTP_HOST", raising=False)
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.send_test_mail(session, "admin@isp.example")
    assert "No SMTP server" in error.value.msgid
    for bad in ["", "not-an-address", "<script>@x", "a" * 300 + "@example.net"]:
        with pytest.raises(MailCheckFailed):
            staff_mail.send_test_mail(session, bad)


def test_outbox_delivery_uses_the_console_smtp_settings_without_restart(session, smtp_server, monkeypatch):
    from rxportal.services import mail

    monkeypatch.delenv("SMTP_HOST")
    queued = mail.queue(session, "cust@example.net", "password_changed", "en", username="x")
    session.commit()
    set_values(session, smtp_host="127.0.0.1", smtp_port=smtp_server.port, smtp_security="none")
    assert mail.deliver(session, queued.id)
    assert smtp_server.to("cust@example.net")


def test_check_mailbox_counts_messages(session, dovecot):
    set_values(session, imap_host="127.0.0.1", imap_port=dovecot.port, imap_tls="none",
               imap_user=dovecot.user, imap_password=dovecot.password, imap_folder="INBOX")
    assert staff_mail.check_mailbox(session).messages == 0
    dovecot.deliver_plain("Help, no internet")
    report = staff_mail.check_mailbox(session)
    assert report.messages == 1 and report.unseen == 1 and report.folder == "INBOX"


def test_check_mailbox_reports_errors_clearly(session, dovecot):
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.check_mailbox(session)
    assert "No IMAP server" in error.value.msgid
    set_values(session, imap_host="127.0.0.1", imap_port=dovecot.port, imap_tls="none",
               imap_user=dovecot.user, imap_password="wrong-password", imap_folder="INBOX")
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.check_mailbox(session)
    assert "user name or password" in error.value.msgid
    set_values(session, imap_password=dovecot.password, imap_folder='No"Such')
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.check_mailbox(session)
    assert error.value.msgid == "The folder {folder} does not exist in the mailbox."
    set_values(session, imap_folder="INBOX", imap_tls="ssl")
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.check_mailbox(session)
    assert "TLS" in error.value.msgid
    set_values(session, imap_tls="none", imap_port=free_port())
    with pytest.raises(MailCheckFailed) as error:
        staff_mail.check_mailbox(session)
    assert "refused the connection" in error.value.msgid


def test_mail_settings_are_registered():
    assert "imap_password" in isp_settings.SPECS and isp_settings.SPECS["imap_password"].secret
    assert staff_settings.SECTIONS["mail"]
