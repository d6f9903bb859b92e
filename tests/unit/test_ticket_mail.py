"""Reading mail from the support mailbox: what counts as automatic, HTML made safe, bodies,
staff addresses, and process() decisions on a real database (no IMAP here)."""
from __future__ import annotations

from email.message import EmailMessage

import pytest
from sqlmodel import select

from rxportal.models import Account
from rxportal.models.tickets import InboundMail, TicketMessage
from rxportal.services import settings as isp_settings
from rxportal.services import ticket_mail, tickets


def mail(**headers) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "someone@example.org")
    message["Subject"] = headers.pop("Subject", "Hello")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Body")
    return message


@pytest.mark.parametrize("headers,kind", [
    ({"Auto_Submitted": "auto-replied"}, "auto_reply"),
    ({"Auto_Submitted": "auto-generated"}, "auto_reply"),
    ({"Auto_Submitted": "no"}, None),
    ({"X_Autoreply": "yes"}, "auto_reply"),
    ({"Precedence": "bulk"}, "auto_reply"),
    ({"Subject": "Out of Office: back Monday"}, "auto_reply"),
    ({"Subject": "Réponse automatique : absent"}, "auto_reply"),
    ({"From": "MAILER-DAEMON@mx.example.org"}, "bounce"),
    ({"Return_Path": "<>"}, "bounce"),
    ({"X_Failed_Recipients": "x@example.org"}, "bounce"),
    ({"Subject": "Re: out of office hours question"}, None),
    ({}, None),
])
def test_automatic_mail_is_recognized(headers, kind):
    assert ticket_mail.automatic_kind(mail(**headers)) == kind


def test_a_delivery_report_is_a_bounce():
    report = mail()
    report.make_mixed()
    report.replace_header("Content-Type", 'multipart/report; report-type=delivery-status; boundary="b"')
    assert ticket_mail.automatic_kind(report) == "bounce"


def test_html_is_sanitized_and_remote_images_dropped():
    dirty = ('<p style="background:url(http://t.example/x)" onclick="x()">Hi <b>there</b></p>'
             '<img src="https://t.example/p.gif" alt="pixel"><img src="cid:logo@x" alt="logo">'
             '<a href="javascript:alert(1)">bad</a><a href="https://ok.example/">good</a>'
             '<script>alert(1)</script><style>p{}</style><iframe src="https://e.example"></iframe>')
    clean = ticket_mail.sanitize_html(dirty)
    for bad in ("onclick", "style", "t.example", "<img", "javascript:", "<script", "alert",
                "<iframe"):
        assert bad not in clean
    assert "<b>there</b>" in clean
    assert 'href="https://ok.example/"' in clean and "nofollow" in clean


def test_html_to_text_keeps_lines_and_drops_scripts():
    text = ticket_mail.html_to_text(
        "<div>Hello&nbsp;Alex,</div><p>Line one<br>Line two</p><script>var x=1;</script>"
        "<style>.a{}</style><ul><li>A</li><li>B</li></ul>")
    assert "var x" not in text and ".a{}" not in text
    assert text.splitlines()[0] == "Hello\xa0Alex,"
    assert "Line one\nLine two" in text and "A\nB" in text


def test_bodies_prefers_the_text_part_and_keeps_sanitized_html():
    message = EmailMessage()
    message.set_content("Plain text version")
    message.add_alternative("<p>HTML <i>version</i><script>x()</script></p>", subtype="html")
    text, html = ticket_mail.bodies(message)
    assert text == "Plain text version"
    assert html.strip() == "<p>HTML <i>version</i></p>"


@pytest.fixture()
def customer(session):
    account = Account(number="1", name="Alex", email="alex@example.org")
    other = Account(number="2", name="Sam", email="sam@isp.example")
    session.add_all([account, other])
    isp_settings.put(session, "support_email", "help@isp.example")
    session.flush()
    return account


def test_staff_are_the_support_domain_unless_configured(session, customer):
    assert ticket_mail.is_staff(session, "jamie@isp.example")
    assert not ticket_mail.is_staff(session, "jamie@isp.example.evil.org")
    assert not ticket_mail.is_staff(session, "x@example.org")
    isp_settings.put(session, "support_staff_addresses", "boss@elsewhere.example, @team.example")
    assert ticket_mail.is_staff(session, "Boss@Elsewhere.example")
    assert ticket_mail.is_staff(session, "a@team.example")
    assert not ticket_mail.is_staff(session, "jamie@isp.example")


def test_a_customer_address_at_the_isps_domain_is_a_customer_not_staff(session, customer):
    ticket = tickets.create_ticket(session, customer.id, "Hi", "Hello")
    message = mail(From="sam@isp.example", To=tickets.reply_address(session, ticket.number))
    outcome = ticket_mail.process(session, bytes(message))
    assert outcome.outcome == "other_account"


def test_mail_without_message_id_is_stored_once_by_its_content(session, customer):
    ticket = tickets.create_ticket(session, customer.id, "Hi", "Hello")
    message = mail(From="alex@example.org", To=tickets.reply_address(session, ticket.number))
    del message["Message-ID"]
    raw = bytes(message)
    assert ticket_mail.process(session, raw).outcome == "added"
    assert ticket_mail.process(session, raw).outcome == "duplicate"
    assert len(session.exec(select(TicketMessage)).all()) == 2


def test_garbage_is_recorded_not_fatal(session, customer):
    outcome = ticket_mail.process(session, b"\xff\xfe\x00 not a mail at all")
    assert outcome.outcome in ("no_ticket", "unreadable", "unknown_sender")
    assert len(session.exec(select(InboundMail)).all()) == 1


def test_a_customer_mail_to_a_closed_ticket_follows_the_reopen_rule(session, customer):
    from datetime import timedelta

    from rxportal.models import utcnow

    ticket = tickets.create_ticket(session, customer.id, "Old", "Hello")
    tickets.close_ticket(session, ticket.id)
    ticket.closed_at = utcnow() - timedelta(days=30)
    message = mail(From="alex@example.org", To=tickets.reply_address(session, ticket.number))
    outcome = ticket_mail.process(session, bytes(message))
    assert outcome.outcome == "added" and outcome.ticket_id != ticket.id
    new = session.get(tickets.Ticket, outcome.ticket_id)
    assert new.previous_ticket_id == ticket.id and new.status == "waiting_for_isp"


def test_poll_without_imap_settings_does_nothing(session):
    session.commit()
    assert ticket_mail.poll_once() == {}


def test_staff_answering_from_the_support_address_itself_is_the_isp(session, customer):
    ticket = tickets.create_ticket(session, customer.id, "Hi", "Hello")
    isp_settings.put(session, "support_staff_addresses", "@team.example")
    message = mail(From="Support <help@isp.example>", Subject=f"Re: [Ticket #{ticket.number}] Hi")
    assert ticket_mail.process(session, bytes(message)).outcome == "added"
    assert session.get(tickets.Ticket, ticket.id).status == "awaiting_response"


def test_the_portals_own_mail_is_not_added(session, customer):
    ticket = tickets.create_ticket(session, customer.id, "Hi", "Hello")
    from_portal = mail(From="portal@example.net", To="help@isp.example",
                       Subject=f"[Ticket #{ticket.number}] Hi")
    assert ticket_mail.process(session, bytes(from_portal)).outcome == "own"
    ours = mail(From="help@isp.example", Subject=f"[Ticket #{ticket.number}] Hi")
    ours["Message-ID"] = tickets.new_message_id(ticket.number, "c")
    assert ticket_mail.process(session, bytes(ours)).outcome == "own"


def test_staff_writing_first_to_a_customer_opens_a_ticket_awaiting_their_response(session,
                                                                                  customer):
    first = mail(From="jamie@isp.example", To="Alex <alex@example.org>", Cc="help@isp.example",
                 Subject="Planned maintenance on your line")
    outcome = ticket_mail.process(session, bytes(first))
    assert outcome.outcome == "added"
    ticket = session.get(tickets.Ticket, outcome.ticket_id)
    assert ticket.account_id == customer.id and ticket.status == "awaiting_response"
    assert ticket.subject == "Planned maintenance on your line"
    from rxportal.models import OutboxMail

    assert session.exec(select(OutboxMail)).all() == []  # they were addressed already
    stranger = mail(From="jamie@isp.example", To="nobody@example.org", Subject="Hello")
    assert ticket_mail.process(session, bytes(stranger)).outcome == "no_ticket"
