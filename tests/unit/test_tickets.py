"""The ticket service: creating, listing, replying, reopening, attachments, isolation."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from rxportal.models import Account, OutboxMail, utcnow
from rxportal.models.tickets import Ticket, TicketAttachment, TicketMessage
from rxportal.services import settings as isp_settings
from rxportal.services import tickets

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n%%EOF\n"


@pytest.fixture()
def accounts(session):
    demo = Account(number="100001", name="Alex Martin", email="demo@example.net")
    demo2 = Account(number="100002", name="Camille Roy", email="demo2@example.net",
                    language="fr")
    session.add_all([demo, demo2])
    session.flush()
    return demo, demo2


def test_create_opens_a_ticket_waiting_for_the_isp_and_mails_support_and_customer(session, accounts):
    demo, _ = accounts
    ticket = tickets.create_ticket(session, demo.id, "  No internet  ", "The light is red.")
    assert ticket.number == ticket.id
    assert ticket.subject == "No internet"
    assert ticket.status == "waiting_for_isp"
    mails = session.exec(select(OutboxMail).order_by(OutboxMail.id)).all()
    to_support, copy = mails
    assert to_support.to_addr == "support@example.net"
    assert to_support.subject == f"[Ticket #{ticket.number}] No internet"
    reply_to = to_support.headers["Reply-To"]
    assert "demo@example.net" in reply_to
    assert tickets.reply_address(session, ticket.number) in reply_to
    assert "The light is red." in to_support.text_body
    message = session.exec(select(TicketMessage)).one()
    assert to_support.message_id == message.message_id
    assert copy.to_addr == "demo@example.net"
    assert copy.headers["Reply-To"] == tickets.reply_address(session, ticket.number)
    assert copy.headers["In-Reply-To"] == message.message_id


def test_copy_to_the_customer_is_in_their_language(session, accounts):
    _, demo2 = accounts
    tickets.create_ticket(session, demo2.id, "Facture", "Question sur ma facture.")
    copy = session.exec(select(OutboxMail).where(OutboxMail.to_addr == "demo2@example.net")).one()
    assert "Nous avons bien reçu" in copy.text_body


@pytest.mark.parametrize("subject,body,field", [
    ("", "text", "subject"),
    ("   ", "text", "subject"),
    ("x" * 201, "text", "subject"),
    ("Subject", "", "body"),
    ("Subject", " \n ", "body"),
    ("Subject", "x" * 20_001, "body"),
])
def test_empty_or_too_long_input_is_refused_and_nothing_is_saved(session, accounts, subject,
                                                                  body, field):
    demo, _ = accounts
    with pytest.raises(tickets.TicketError) as error:
        tickets.create_ticket(session, demo.id, subject, body)
    assert error.value.field == field
    assert session.exec(select(Ticket)).all() == []
    assert session.exec(select(OutboxMail)).all() == []


def test_hostile_input_is_stored_as_text(session, accounts):
    demo, _ = accounts
    subject = "<script>alert(1)</script>'; DROP TABLE ticket; --"
    ticket = tickets.create_ticket(session, demo.id, subject, "<img src=x onerror=alert(1)>")
    assert ticket.subject == subject
    view = tickets.conversation(session, demo.id, ticket.id)
    assert view[0].text == "<img src=x onerror=alert(1)>"
    assert session.exec(select(Ticket)).one().subject == subject


def test_header_injection_in_the_subject_is_flattened(session, accounts):
    demo, _ = accounts
    ticket = tickets.create_ticket(session, demo.id, "Hi\r\nBcc: evil@example.com", "x")
    assert "\n" not in ticket.subject and "\r" not in ticket.subject


def test_the_same_client_key_makes_one_ticket_and_one_message(session, accounts):
    demo, _ = accounts
    first = tickets.create_ticket(session, demo.id, "Slow", "Very slow", client_key="form-key-123")
    second = tickets.create_ticket(session, demo.id, "Slow", "Very slow", client_key="form-key-123")
    assert first.id == second.id
    assert len(session.exec(select(Ticket)).all()) == 1
    assert len(session.exec(select(TicketMessage)).all()) == 1
    assert len(session.exec(select(OutboxMail)).all()) == 2


def test_a_client_key_of_another_account_does_not_reach_its_ticket(session, accounts):
    demo, demo2 = accounts
    first = tickets.create_ticket(session, demo.id, "Slow", "Very slow", client_key="form-key-123")
    other = tickets.create_ticket(session, demo2.id, "Mine", "Mine", client_key="form-key-123")
    assert other.id != first.id and other.account_id == demo2.id


def test_list_is_paged_newest_activity_first_with_a_status_filter(session, accounts):
    demo, demo2 = accounts
    made = []
    for index in range(12):
        ticket = tickets.create_ticket(session, demo.id, f"T{index}", "x")
        ticket.last_activity_at = utcnow() - timedelta(hours=100 - index)
        made.append(ticket)
    tickets.create_ticket(session, demo2.id, "Other", "x")
    tickets.close_ticket(session, made[0].id)
    page1, total = tickets.list_tickets(session, demo.id, page=1)
    assert total == 12 and len(page1) == 10
    assert [r["subject"] for r in page1[:3]] == ["T11", "T10", "T9"]
    page2, _ = tickets.list_tickets(session, demo.id, page=2)
    assert [r["subject"] for r in page2] == ["T1", "T0"]
    closed, count = tickets.list_tickets(session, demo.id, status="closed")
    assert count == 1 and closed[0]["subject"] == "T0"
    open_rows, count = tickets.list_tickets(session, demo.id, status="open")
    assert count == 11


def test_another_accounts_ticket_is_not_found_like_a_missing_one(session, accounts):
    demo, demo2 = accounts
    ticket = tickets.create_ticket(session, demo.id, "Mine", "x", upload=tickets.Upload("a.png", PNG))
    for call in (lambda: tickets.get_ticket(session, demo2.id, ticket.id),
                 lambda: tickets.conversation(session, demo2.id, ticket.id),
                 lambda: tickets.reply(session, demo2.id, ticket.id, "hi"),
                 lambda: tickets.get_ticket(session, demo.id, 99999)):
        with pytest.raises(tickets.NotFound):
            call()
    attachment = session.exec(select(TicketAttachment)).one()
    with pytest.raises(tickets.NotFound):
        tickets.get_attachment(session, demo2.id, attachment.id)
    assert tickets.get_attachment(session, demo.id, attachment.id).data == PNG
    assert tickets.list_tickets(session, demo2.id) == ([], 0)


def test_reply_sets_waiting_for_isp_and_is_idempotent(session, accounts):
    demo, _ = accounts
    ticket = tickets.create_ticket(session, demo.id, "Slow", "x")
    ticket.status = "awaiting_response"
    target, message = tickets.reply(session, demo.id, ticket.id, "Still slow", client_key="reply-key-1")
    again, same = tickets.reply(session, demo.id, ticket.id, "Still slow", client_key="reply-key-1")
    assert target.id == ticket.id and same.id == message.id
    assert target.status == "waiting_for_isp"
    assert [m.text for m in tickets.conversation(session, demo.id, ticket.id)] == ["x", "Still slow"]


def test_reply_to_a_recently_closed_ticket_reopens_it(session, accounts):
    demo, _ = accounts
    ticket = tickets.create_ticket(session, demo.id, "Slow", "x")
    tickets.close_ticket(session, ticket.id)
    target, _ = tickets.reply(session, demo.id, ticket.id, "It is back")
    assert target.id == ticket.id and target.status == "waiting_for_isp"


def test_reply_to_a_ticket_closed_long_ago_starts_a_new_one_referring_to_it(session, accounts):
    demo, _ = accounts
    isp_settings.put(session, "ticket_reopen_days", 7)
    ticket = tickets.create_ticket(session, demo.id, "Slow", "x")
    tickets.close_ticket(session, ticket.id)
    ticket.closed_at = utcnow() - timedelta(days=8)
    target, message = tickets.reply(session, demo.id, ticket.id, "It is back")
    assert target.id != ticket.id
    assert target.previous_ticket_id == ticket.id and target.subject == "Slow"
    assert message.ticket_id == target.id
    assert ticket.status == "closed"


def test_attachments_are_checked_by_content_not_by_name(session, accounts):
    demo, _ = accounts
    with pytest.raises(tickets.TicketError) as error:
        tickets.create_ticket(session, demo.id, "S", "x",
                              upload=tickets.Upload("photo.png", b"MZ\x90\x00 not an image"))
    assert error.value.field == "attachment"
    ticket = tickets.create_ticket(session, demo.id, "S", "x",
                                   upload=tickets.Upload("../../etc/invoice.exe", PDF))
    attachment = session.exec(select(TicketAttachment)).one()
    assert attachment.content_type == "application/pdf"
    assert attachment.filename == "invoice.pdf"
    assert tickets.conversation(session, demo.id, ticket.id)[0].attachments[0]["filename"] == "invoice.pdf"


def test_attachment_size_limit_is_the_isps_setting(session, accounts):
    demo, _ = accounts
    isp_settings.put(session, "ticket_attachment_max_bytes", 100)
    with pytest.raises(tickets.TicketError):
        tickets.create_ticket(session, demo.id, "S", "x", upload=tickets.Upload("a.png", PNG + b"\0" * 100))
    assert session.exec(select(Ticket)).all() == []


def test_reply_address_is_signed_and_cannot_be_forged(session, accounts):
    address = tickets.reply_address(session, 42)
    assert address.startswith("support+t42-") and address.endswith("@example.net")
    assert tickets.parse_reply_address(session, address) == (42, True)
    forged = address.replace("+t42-", "+t43-")
    assert tickets.parse_reply_address(session, forged) == (43, False)
    assert tickets.parse_reply_address(session, "support@example.net") == (None, False)


def test_our_message_ids_name_their_ticket_and_are_signed():
    message_id = tickets.new_message_id(7, "m")
    assert tickets.parse_message_id(message_id) == 7
    assert tickets.parse_message_id(message_id.replace(".t7.", ".t8.")) is None


@pytest.mark.parametrize("text,visible,quoted", [
    ("Thanks!\n\nOn Mon, 1 Jan 2026 at 10:00, Support <s@x> wrote:\n> Try again\n",
     "Thanks!", "On Mon, 1 Jan 2026 at 10:00, Support <s@x> wrote:\n> Try again"),
    ("Merci\n\nLe lun. 1 janv. 2026, Support <s@x> a écrit :\n> Essayez\n", "Merci",
     "Le lun. 1 janv. 2026, Support <s@x> a écrit :\n> Essayez"),
    ("Yes\n> old line\n> older\n", "Yes", "> old line\n> older"),
    ("No quote here", "No quote here", ""),
    ("Reply\n\n-----Original Message-----\nFrom: x\n", "Reply", "-----Original Message-----\nFrom: x"),
])
def test_quoted_text_is_split_off(text, visible, quoted):
    assert tickets.split_quoted(text) == (visible, quoted)


def test_the_support_mail_links_the_attachment_with_a_signature(session, accounts):
    demo, _ = accounts
    tickets.create_ticket(session, demo.id, "Photo", "See the photo.",
                          upload=tickets.Upload("modem.png", PNG))
    attachment = session.exec(select(TicketAttachment)).one()
    to_support, copy = session.exec(select(OutboxMail).order_by(OutboxMail.id)).all()
    link = tickets.attachment_link(session, attachment)
    assert link in to_support.text_body and "modem.png" in to_support.text_body
    assert "sig=" not in copy.text_body and "modem.png" in copy.text_body
    signature = link.rsplit("sig=", 1)[1]
    assert tickets.get_attachment_signed(session, attachment.id, signature).data == PNG
    for bad in ("", "0" * 32, signature[:-1] + ("0" if signature[-1] != "0" else "1")):
        with pytest.raises(tickets.NotFound):
            tickets.get_attachment_signed(session, attachment.id, bad)
    with pytest.raises(tickets.NotFound):  # a signature is for one attachment only
        tickets.get_attachment_signed(session, attachment.id + 1, signature)


def test_staff_close_a_ticket_from_the_command_line(session, accounts, capsys):
    from rxportal.cli import main

    demo, _ = accounts
    ticket = tickets.create_ticket(session, demo.id, "Done", "x")
    session.commit()
    assert main(["tickets-close", str(ticket.number)]) == 0
    assert main(["tickets-close", "999999"]) == 1
    session.expire_all()
    assert session.get(Ticket, ticket.id).status == "closed"
    assert session.get(Ticket, ticket.id).closed_at is not None


def test_a_signed_attachment_link_with_a_non_ascii_or_odd_signature_is_not_found(session):
    """hmac.compare_digest raised TypeError on a non-ASCII signature (found by fuzzing)."""
    import pytest

    from rxportal.services import secrets_store, tickets

    for signature in ("\u202e", "é" * 32, "\ud800", None, 12):
        assert secrets_store.verify("ticket-attachment:1", signature) is False
        with pytest.raises(tickets.NotFound):
            tickets.get_attachment_signed(session, 1, signature)
    assert secrets_store.verify("x\ud800", "0" * 32) is False


def test_message_ids_do_not_repeat_when_the_random_module_is_seeded(session):
    """make_msgid() draws on `random`: seeded (as hypothesis does), staff replies got the same
    Message-ID and the unique column refused the second (found by fuzzing)."""
    import random

    from rxportal.services import tickets

    ids = set()
    for _ in range(3):
        random.seed(1)
        ids.add(tickets.new_message_id(7, "s"))
    assert len(ids) == 3
    assert all(tickets.parse_message_id(i) == 7 for i in ids)
