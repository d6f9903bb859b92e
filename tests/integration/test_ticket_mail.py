"""Tickets by e-mail, against real servers: aiosmtpd receives what the portal sends, a real
Dovecot (started here, on loopback) holds the ISP's support mailbox that the portal reads."""
from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from sqlmodel import select

from tests.dovecot_server import DovecotServer
from rxportal.models import Account, OutboxMail
from rxportal.models.tickets import InboundMail, Ticket, TicketAttachment, TicketMessage
from rxportal.services import mail
from rxportal.services import settings as isp_settings
from rxportal.services import ticket_mail, tickets


@pytest.fixture()
def dovecot():
    server = DovecotServer().start()
    yield server
    server.stop()


@pytest.fixture()
def world(session, dovecot, smtp_server):
    demo = Account(number="100001", name="Alex Martin", email="demo@example.net")
    demo2 = Account(number="100002", name="Camille Roy", email="demo2@example.net", language="fr")
    session.add_all([demo, demo2])
    isp_settings.put(session, "support_email", "support@isp.example")
    for key, value in dovecot.settings().items():
        isp_settings.put(session, key, value)
    session.commit()
    return {"session": session, "demo": demo, "demo2": demo2, "imap": dovecot,
            "smtp": smtp_server}


def flush_outbox(session) -> int:
    """What the mail job does: send every queued message through SMTP."""
    session.commit()
    sent = 0
    for outbox_id in session.exec(select(OutboxMail.id).where(OutboxMail.status == "queued")).all():
        sent += mail.deliver(session, outbox_id)
    session.commit()
    return sent


def poll(session) -> dict:
    session.commit()
    counts = ticket_mail.poll_once()
    session.expire_all()
    return counts


def open_ticket(world, subject="No internet", body="The light is red."):
    session = world["session"]
    ticket = tickets.create_ticket(session, world["demo"].id, subject, body)
    flush_outbox(session)
    to_support = world["smtp"].to("support@isp.example")[-1]
    copy = world["smtp"].to("demo@example.net")[-1]
    return ticket, to_support, copy


def reply_to(original, sender: str, body: str, to: str | None = None,
             **headers) -> EmailMessage:
    """A reply as a mail client writes it: to the Reply-To, quoting, In-Reply-To."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to if to is not None else str(original["Reply-To"])
    message["Subject"] = "Re: " + str(original["Subject"])
    message["Message-ID"] = make_msgid(domain=sender.split("@")[-1].strip(">"))
    message["In-Reply-To"] = str(original["Message-ID"])
    message["References"] = str(original["Message-ID"])
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    quoted = "\n".join("> " + line for line in original.get_body(("plain",)).get_content().splitlines())
    message.set_content(f"{body}\n\nOn Tue, 24 Nov 2026, support wrote:\n{quoted}\n")
    return message


def messages_of(session, ticket):
    return session.exec(select(TicketMessage).where(TicketMessage.ticket_id == ticket.id)
                        .order_by(TicketMessage.id)).all()


def test_new_ticket_mails_the_support_mailbox_and_a_copy_to_the_customer(world):
    ticket, to_support, copy = open_ticket(world)
    assert to_support["Subject"] == f"[Ticket #{ticket.number}] No internet"
    reply_to_header = str(to_support["Reply-To"])
    assert "demo@example.net" in reply_to_header
    assert f"support+t{ticket.number}-" in reply_to_header
    assert "The light is red." in to_support.get_body(("plain",)).get_content()
    assert copy["Reply-To"] == tickets.reply_address(world["session"], ticket.number)
    assert copy["In-Reply-To"] == to_support["Message-ID"]


def test_staff_reply_lands_sets_awaiting_response_and_mails_the_customer(world):
    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    staff = reply_to(to_support, "Jamie at Support <jamie@isp.example>", "Please restart the modem.",
                     to=tickets.reply_address(session, ticket.number))
    world["imap"].deliver(bytes(staff))
    assert poll(session) == {"added": 1}
    ticket = session.get(Ticket, ticket.id)
    assert ticket.status == "awaiting_response"
    conversation = tickets.conversation(session, world["demo"].id, ticket.id)
    assert [(m.author_kind, m.text) for m in conversation] == [
        ("customer", "The light is red."), ("isp", "Please restart the modem.")]
    assert conversation[1].author_name == "Jamie at Support"
    assert "The light is red." in conversation[1].quoted  # folded, and kept
    stored = messages_of(session, ticket)[1]
    assert stored.raw == bytes(staff).replace(b"\n", b"\r\n") or b"restart the modem" in stored.raw
    before = len(world["smtp"].to("demo@example.net"))
    flush_outbox(session)
    notices = world["smtp"].to("demo@example.net")[before:]
    assert len(notices) == 1
    assert "Please restart the modem." in notices[0].get_body(("plain",)).get_content()
    assert notices[0]["Reply-To"] == tickets.reply_address(session, ticket.number)


def test_staff_reply_to_all_reaches_the_customer_once(world):
    """Replying to all (Reply-To: the customer and the reply address) already mails the
    customer: the portal adds the message without a second copy."""
    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    staff = reply_to(to_support, "jamie@isp.example", "Fixed on our side.")
    world["imap"].deliver(bytes(staff))
    assert poll(session) == {"added": 1}
    assert session.get(Ticket, ticket.id).status == "awaiting_response"
    assert session.exec(select(OutboxMail).where(OutboxMail.status == "queued")).all() == []


def test_customer_reply_by_mail_lands_as_the_customers_message(world):
    session = world["session"]
    ticket, to_support, copy = open_ticket(world)
    staff = reply_to(to_support, "jamie@isp.example", "Restart it.",
                     to=tickets.reply_address(session, ticket.number))
    world["imap"].deliver(bytes(staff))
    poll(session)
    flush_outbox(session)
    notice = world["smtp"].to("demo@example.net")[-1]
    customer = reply_to(notice, "Alex Martin <Demo@Example.net>", "Done, it works now.")
    world["imap"].deliver(bytes(customer))
    assert poll(session) == {"added": 1}
    ticket = session.get(Ticket, ticket.id)
    assert ticket.status == "waiting_for_isp"
    assert [m.author_kind for m in tickets.conversation(session, world["demo"].id, ticket.id)] == [
        "customer", "isp", "customer"]
    assert tickets.conversation(session, world["demo"].id, ticket.id)[-1].text == "Done, it works now."


def test_the_same_message_delivered_twice_is_stored_once(world):
    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    staff = reply_to(to_support, "jamie@isp.example", "Once only.",
                     to=tickets.reply_address(session, ticket.number))
    world["imap"].deliver(bytes(staff))
    world["imap"].deliver(bytes(staff))
    assert poll(session) == {"added": 1, "duplicate": 1}
    session.commit()
    isp_settings.put(session, "imap_state", {})  # read the whole mailbox again
    assert poll(session) == {"duplicate": 2}
    assert len(messages_of(session, ticket)) == 2


def test_our_own_mail_in_the_support_mailbox_is_not_added_again(world):
    """The portal's message to support lands in the very mailbox it reads."""
    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    world["imap"].deliver(bytes(to_support))
    assert poll(session) == {"own": 1}
    assert len(messages_of(session, ticket)) == 1


def test_auto_replies_and_bounces_are_not_added(world):
    session = world["session"]
    ticket, to_support, copy = open_ticket(world)
    away = reply_to(copy, "demo@example.net", "I am on holidays until Monday.",
                    Auto_Submitted="auto-replied")
    away.replace_header("Subject", "Automatic reply: " + str(copy["Subject"]))
    world["imap"].deliver(bytes(away))
    bounce = EmailMessage()
    bounce["From"] = "MAILER-DAEMON@isp.example"
    bounce["To"] = tickets.reply_address(session, ticket.number)
    bounce["Subject"] = "Undelivered Mail Returned to Sender"
    bounce["Message-ID"] = make_msgid()
    bounce.set_content("This is the mail system. I'm sorry to have to inform you...")
    bounce.make_mixed()
    world["imap"].deliver(bytes(bounce))
    assert poll(session) == {"auto_reply": 1, "bounce": 1}
    assert len(messages_of(session, ticket)) == 1
    assert session.get(Ticket, ticket.id).status == "waiting_for_isp"


def test_a_forged_reply_address_does_not_reach_the_ticket(world):
    session = world["session"]
    ticket, _, _ = open_ticket(world)
    forged = EmailMessage()
    forged["From"] = "attacker@evil.example"
    forged["To"] = f"support+t{ticket.number}-0123456789abcdef@isp.example"
    forged["Subject"] = "Click here"
    forged["Message-ID"] = make_msgid()
    forged.set_content("Pay at http://evil.example")
    world["imap"].deliver(bytes(forged))
    # Even staff's domain with a forged address and no other reference finds no ticket.
    staff_forged = EmailMessage()
    staff_forged["From"] = "jamie@isp.example"
    staff_forged["To"] = f"support+t{ticket.number}-ffffffffffffffff@isp.example"
    staff_forged["Subject"] = "Hello"
    staff_forged["Message-ID"] = make_msgid()
    staff_forged.set_content("text")
    world["imap"].deliver(bytes(staff_forged))
    assert poll(session) == {"no_ticket": 2}
    rows = session.exec(select(InboundMail).order_by(InboundMail.id)).all()
    assert [r.detail for r in rows] == ["forged reply address"] * 2
    assert len(messages_of(session, ticket)) == 1


def test_an_unknown_sender_does_not_enter_the_conversation(world):
    session = world["session"]
    ticket, to_support, copy = open_ticket(world)
    stranger = reply_to(copy, "someone@elsewhere.example", "Hi, I found this mail.")
    world["imap"].deliver(bytes(stranger))
    assert poll(session) == {"unknown_sender": 1}
    assert len(messages_of(session, ticket)) == 1


def test_demo2_is_refused_demos_ticket_by_reply_address_and_by_subject(world):
    session = world["session"]
    ticket, to_support, copy = open_ticket(world)
    by_address = reply_to(copy, "demo2@example.net", "I can write here?")
    world["imap"].deliver(bytes(by_address))
    by_subject = EmailMessage()
    by_subject["From"] = "demo2@example.net"
    by_subject["To"] = "support@isp.example"
    by_subject["Subject"] = f"Re: [Ticket #{ticket.number}] No internet"
    by_subject["Message-ID"] = make_msgid()
    by_subject.set_content("And here?")
    world["imap"].deliver(bytes(by_subject))
    assert poll(session) == {"other_account": 2}
    assert len(messages_of(session, ticket)) == 1
    assert session.exec(select(Ticket).where(Ticket.account_id == world["demo2"].id)).all() == []


def test_staff_reply_found_by_in_reply_to_or_by_subject(world):
    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    by_thread = reply_to(to_support, "jamie@isp.example", "By thread.", to="support@isp.example")
    world["imap"].deliver(bytes(by_thread))
    by_subject = EmailMessage()
    by_subject["From"] = "jamie@isp.example"
    by_subject["To"] = "support@isp.example"
    by_subject["Subject"] = f"[Ticket #{ticket.number}] No internet"
    by_subject["Message-ID"] = make_msgid()
    by_subject.set_content("By subject.")
    world["imap"].deliver(bytes(by_subject))
    assert poll(session) == {"added": 2}
    rows = session.exec(select(InboundMail).order_by(InboundMail.id)).all()
    assert [r.detail for r in rows] == ["our message id", "subject"]
    assert [m.text for m in tickets.conversation(session, world["demo"].id, ticket.id)][1:] == [
        "By thread.", "By subject."]


def test_a_customer_mail_with_no_ticket_opens_a_new_ticket(world):
    session = world["session"]
    fresh = EmailMessage()
    fresh["From"] = "Alex Martin <demo@example.net>"
    fresh["To"] = "support@isp.example"
    fresh["Subject"] = "Fwd: Moving house"
    fresh["Message-ID"] = make_msgid()
    fresh.set_content("I move on the 1st, can you move my service?")
    world["imap"].deliver(bytes(fresh))
    assert poll(session) == {"added": 1}
    rows, total = tickets.list_tickets(session, world["demo"].id)
    assert total == 1 and rows[0]["subject"] == "Moving house"
    assert rows[0]["status"] == "waiting_for_isp"


def test_a_5_mb_mail_is_kept_whole_with_its_attachment(world):
    session = world["session"]
    ticket, _, copy = open_ticket(world)
    big = reply_to(copy, "demo@example.net", "Here is a photo of the modem.")
    photo = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * (3_800_000 // 256)
    big.add_attachment(photo, maintype="image", subtype="png", filename="modem.png")
    raw = bytes(big)
    assert len(raw) > 5_000_000
    world["imap"].deliver(raw)
    assert poll(session) == {"added": 1}
    stored = messages_of(session, ticket)[-1]
    assert len(stored.raw) >= len(raw)
    attachment = session.exec(select(TicketAttachment).where(
        TicketAttachment.message_id == stored.id)).one()
    assert attachment.data == photo and attachment.content_type == "image/png"
    assert tickets.conversation(session, world["demo"].id, ticket.id)[-1].text == (
        "Here is a photo of the modem.")


def test_hostile_html_is_sanitized_and_remote_images_are_not_loaded(world):
    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    hostile = EmailMessage()
    hostile["From"] = "jamie@isp.example"
    hostile["To"] = tickets.reply_address(session, ticket.number)
    hostile["Subject"] = "Re: [Ticket #%d] No internet" % ticket.number
    hostile["Message-ID"] = make_msgid()
    hostile.set_content(
        "<html><head><style>body{background:url(http://track.example/bg.png)}</style>"
        "<script>alert('x')</script></head><body>"
        "<p onclick=\"steal()\">Hello <b>Alex</b>,</p>"
        "<img src=\"http://track.example/pixel.gif?u=demo\" alt=\"tracker\">"
        "<a href=\"javascript:alert(1)\">click</a> <a href=\"https://isp.example/help\">help</a>"
        "<iframe src=\"http://evil.example\"></iframe><form><input name=pw></form>"
        "<p>We fixed it.</p></body></html>", subtype="html")
    world["imap"].deliver(bytes(hostile))
    assert poll(session) == {"added": 1}
    stored = messages_of(session, ticket)[-1]
    for bad in ("<script", "alert(", "onclick", "track.example", "javascript:", "<iframe",
                "<form", "<input", "<style"):
        assert bad not in stored.body_html
        assert bad not in stored.body_text
    assert "<b>Alex</b>" in stored.body_html
    assert 'href="https://isp.example/help"' in stored.body_html
    assert "We fixed it." in stored.body_text and "Hello Alex," in stored.body_text


def test_smtp_down_during_creation_loses_nothing(world):
    session = world["session"]
    smtp = world["smtp"]
    smtp.controller.stop()
    ticket = tickets.create_ticket(session, world["demo"].id, "Outage", "Nothing works.")
    assert flush_outbox(session) == 0
    queued = session.exec(select(OutboxMail).where(OutboxMail.status == "queued")).all()
    assert len(queued) == 2 and all(m.attempts == 1 and m.last_error for m in queued)
    assert session.get(Ticket, ticket.id) is not None
    with pytest.raises(OSError):
        smtplib.SMTP("127.0.0.1", smtp.port, timeout=2)
    smtp.controller.loop = asyncio.new_event_loop()  # aiosmtpd closes its loop on stop
    smtp.controller.start()
    assert flush_outbox(session) == 2
    assert smtp.to("support@isp.example")[-1]["Subject"] == f"[Ticket #{ticket.number}] Outage"
    assert len(smtp.to("demo@example.net")) == 1


def test_an_unreachable_mailbox_is_an_error_not_a_crash(world):
    session = world["session"]
    world["imap"].stop()
    with pytest.raises(ticket_mail.MailboxError):
        poll(session)


def test_the_cli_polls_once(world, capsys):
    from rxportal.cli import main

    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    world["imap"].deliver(bytes(reply_to(to_support, "jamie@isp.example", "From the CLI.")))
    session.commit()
    assert main(["tickets-poll"]) == 0
    assert "added: 1" in capsys.readouterr().out
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "awaiting_response"


def test_a_mail_over_the_size_limit_is_recorded_and_not_read(world):
    session = world["session"]
    isp_settings.put(session, "ticket_mail_max_bytes", 100_000)
    ticket, _, copy = open_ticket(world)
    big = reply_to(copy, "demo@example.net", "Huge.")
    big.add_attachment(b"%PDF-1.4\n" + b"x" * 200_000, maintype="application", subtype="pdf",
                       filename="big.pdf")
    world["imap"].deliver(bytes(big))
    world["imap"].deliver(bytes(reply_to(copy, "demo@example.net", "Small one.")))
    assert poll(session) == {"too_large": 1, "added": 1}
    assert [m.text for m in tickets.conversation(session, world["demo"].id, ticket.id)][1:] == [
        "Small one."]
    row = session.exec(select(InboundMail).where(InboundMail.outcome == "too_large")).one()
    assert row.from_addr == "demo@example.net"


def test_the_periodic_job_reads_the_mailbox(world):
    from rxportal.tasks.tickets import poll_support_mailbox

    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    world["imap"].deliver(bytes(reply_to(to_support, "jamie@isp.example", "From the job.")))
    session.commit()
    assert poll_support_mailbox.call_local() == {"added": 1}
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "awaiting_response"


def test_a_long_mail_text_is_cut_for_the_view_and_kept_whole_in_the_raw_mail(world):
    session = world["session"]
    ticket, _, copy = open_ticket(world)
    long_mail = reply_to(copy, "demo@example.net", "é" * 250_000)
    world["imap"].deliver(bytes(long_mail))
    assert poll(session) == {"added": 1}
    stored = messages_of(session, ticket)[-1]
    assert stored.body_text.endswith("[…]") and len(stored.body_text) <= 200_010
    assert len(stored.raw) > 500_000


def test_a_staff_attachment_is_kept_and_named_in_the_customers_mail(world):
    session = world["session"]
    ticket, to_support, _ = open_ticket(world)
    staff = reply_to(to_support, "jamie@isp.example", "The form to sign is attached.",
                     to=tickets.reply_address(session, ticket.number))
    staff.add_attachment(b"%PDF-1.4\n%%EOF\n", maintype="application", subtype="pdf",
                         filename="form.pdf")
    staff.add_attachment(b"MZ\x90\x00", maintype="application", subtype="octet-stream",
                         filename="tool.exe")
    world["imap"].deliver(bytes(staff))
    assert poll(session) == {"added": 1}
    views = tickets.conversation(session, world["demo"].id, ticket.id)
    assert [a["filename"] for a in views[-1].attachments] == ["form.pdf"]
    flush_outbox(session)
    notice = world["smtp"].to("demo@example.net")[-1]
    assert "[form.pdf]" in notice.get_body(("plain",)).get_content()
