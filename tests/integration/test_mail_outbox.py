"""The outbox against a real SMTP server (aiosmtpd): nothing is lost while the server is down."""
from email.utils import parseaddr

from sqlmodel import select

from rxportal.models import OutboxMail
from rxportal.services import mail


def queue_welcome(session, lang="en"):
    row = mail.queue(session, "cust@example.org", "welcome", lang, name="Cust <b>&</b>",
                     username="cust", temporary_password="abc-def", days=7)
    session.commit()
    return row


def test_a_queued_mail_is_delivered_in_text_and_html(session, smtp_server):
    row = queue_welcome(session)
    assert mail.deliver(session, row.id) is True
    [message] = smtp_server.to("cust@example.org")
    assert "customer portal" in message["Subject"]
    assert parseaddr(message["From"])[1] == "portal@example.net"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "abc-def" in text and "Cust <b>&</b>" in text
    assert "Cust &lt;b&gt;&amp;&lt;/b&gt;" in html  # values are escaped in the HTML part
    assert session.get(OutboxMail, row.id).status == "sent"


def test_french_customers_get_french_mail(session, smtp_server):
    row = queue_welcome(session, lang="fr")
    mail.deliver(session, row.id)
    assert "Votre compte" in smtp_server.to("cust@example.org")[0]["Subject"]


def test_a_down_server_keeps_the_mail_queued_with_backoff_until_it_is_back(session, smtp_server):
    row = queue_welcome(session)
    smtp_server.stop()
    assert mail.deliver(session, row.id) is False
    stored = session.get(OutboxMail, row.id)
    assert stored.status == "queued" and stored.attempts == 1 and stored.last_error
    assert mail.due_ids(session) == []  # waits for its backoff
    stored.next_attempt_at = stored.created_at
    smtp_server.start()
    assert mail.due_ids(session) == [row.id]
    assert mail.deliver(session, row.id) is True
    assert len(smtp_server.to("cust@example.org")) == 1
    assert mail.deliver(session, row.id) is False  # sent once only


def test_without_smtp_mail_is_written_to_the_mail_folder(session, data_dir):
    row = queue_welcome(session)
    assert mail.deliver(session, row.id) is True
    [eml] = list((data_dir / "mail").glob("*.eml"))
    assert b"abc-def" in eml.read_bytes()


def test_a_rolled_back_transaction_sends_nothing(session):
    mail.queue(session, "cust@example.org", "welcome", "en", name="x", username="x",
               temporary_password="x", days=1)
    session.rollback()
    assert session.exec(select(OutboxMail)).all() == []
