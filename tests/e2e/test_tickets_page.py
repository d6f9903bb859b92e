"""The Support Tickets pages in Chromium, against the production build, a real SMTP server
(aiosmtpd, from the harness) and a real IMAP server (Dovecot, started here)."""
from __future__ import annotations

import re
from email.message import EmailMessage
from email.utils import make_msgid

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from tests.dovecot_server import DovecotServer
from tests.e2e.conftest import (DESKTOP, PHONE, body_text, check_accessibility, login, new_page,
                                snap, wait_ready)

pytestmark = pytest.mark.e2e

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
       b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
       b"\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture()
def page(browser, portal):
    """In English whatever language an earlier test saved for the demo user."""
    page = new_page(browser, portal, lang="en")
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def mailbox(portal):
    """The ISP's support mailbox on a real Dovecot; the app is pointed at it."""
    from rxportal import db
    from rxportal.services import settings as isp_settings
    from rxportal.services import tickets  # noqa: F401 - declares the IMAP settings

    server = DovecotServer(user="support@example.net").start()
    with db.session_scope() as session:
        for key, value in server.settings().items():
            isp_settings.put(session, key, value)
        isp_settings.put(session, "imap_state", {})
    yield server
    with db.session_scope() as session:
        isp_settings.put(session, "imap_host", "")
    server.stop()


def ticket_rows(subject: str):
    from rxportal import db
    from rxportal.models.tickets import Ticket

    with db.session_scope() as session:
        return session.exec(select(Ticket).where(Ticket.subject == subject)).all()


def demo_ticket(subject: str):
    from rxportal import db
    from rxportal.models import Account
    from rxportal.models.tickets import Ticket

    with db.session_scope() as session:
        return session.exec(select(Ticket).join(Account, Account.id == Ticket.account_id)
                            .where(Account.number == "100001", Ticket.subject == subject)).one()


def poll_and_check(portal, message_id: str) -> None:
    """Read the mailbox now (the worker may also have read it: either way, it is in)."""
    from rxportal import db
    from rxportal.models.tickets import InboundMail

    portal.cli("tickets-poll")
    with db.session_scope() as session:
        row = session.exec(select(InboundMail).where(InboundMail.message_id == message_id)).one()
        assert row.outcome == "added", row


def wait_for_body(portal, to: str, text: str, timeout: float = 30.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for message in portal.mail.to(to):
            if text in body_text(message):
                return message
        time.sleep(0.2)
    raise AssertionError(f"no mail to {to} containing {text!r}")


def open_new_ticket_form(page):
    page.goto("/tickets")
    wait_ready(page)
    page.get_by_role("button", name="New ticket").click()
    page.get_by_role("dialog").wait_for()


@pytest.mark.journey
def test_a_ticket_created_in_the_browser_is_listed_and_mailed(page, portal):
    login(page)
    open_new_ticket_form(page)
    check_accessibility(page)
    page.get_by_label("Subject").fill("Router keeps rebooting")
    page.get_by_label("Details").fill("It reboots every ten minutes since the storm.")
    page.get_by_role("button", name="Send ticket").click()
    page.get_by_role("status").filter(has_text="was sent").wait_for()
    row = page.locator("li.ticket-row").filter(has_text="Router keeps rebooting")
    row.wait_for()
    assert "Waiting for ISP" in row.inner_text()
    to_support = portal.mail.wait_for("support@example.net", "Router keeps rebooting")
    number = demo_ticket("Router keeps rebooting").number
    assert str(to_support["Subject"]) == f"[Ticket #{number}] Router keeps rebooting"
    assert "demo@example.net" in str(to_support["Reply-To"])
    assert f"support+t{number}-" in str(to_support["Reply-To"])
    assert "every ten minutes" in body_text(to_support)
    copy = portal.mail.wait_for("demo@example.net", "Router keeps rebooting")
    assert str(copy["Reply-To"]).startswith(f"support+t{number}-")
    check_accessibility(page)


def test_the_form_says_what_is_missing_and_keeps_hostile_text_as_text(page, portal):
    login(page)
    open_new_ticket_form(page)
    page.get_by_role("button", name="Send ticket").click()
    page.get_by_text("Enter a subject.").wait_for()
    page.get_by_label("Subject").fill("x" * 201)
    page.get_by_label("Details").fill("text")
    page.get_by_role("button", name="Send ticket").click()
    page.get_by_text("The subject is too long (200 characters at most).").wait_for()
    hostile = "<img src=x onerror=alert(1)><script>alert(2)</script>'; DROP TABLE ticket;--"
    page.get_by_label("Subject").fill(hostile)
    page.get_by_label("Details").fill("")
    page.get_by_role("button", name="Send ticket").click()
    page.get_by_text("Enter your message.").wait_for()
    page.get_by_label("Details").fill(hostile)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.get_by_role("button", name="Send ticket").click()
    page.locator("li.ticket-row").filter(has_text="DROP TABLE").wait_for()
    page.locator("li.ticket-row a").filter(has_text="DROP TABLE").click()
    page.locator(".ticket-message-text").first.wait_for()
    assert page.locator(".ticket-message-text").first.inner_text() == hostile
    assert dialogs == []
    assert len(ticket_rows(hostile)) == 1


@pytest.mark.journey
def test_a_double_click_creates_one_ticket_and_one_mail(page, portal):
    login(page)
    open_new_ticket_form(page)
    page.get_by_label("Subject").fill("Double click check")
    page.get_by_label("Details").fill("Clicked twice.")
    page.get_by_role("button", name="Send ticket").dblclick()
    page.locator("li.ticket-row").filter(has_text="Double click check").wait_for()
    page.wait_for_timeout(1500)
    assert len(ticket_rows("Double click check")) == 1
    portal.mail.wait_for("support@example.net", "Double click check")
    page.wait_for_timeout(1000)
    assert len([m for m in portal.mail.to("support@example.net")
                if "Double click check" in str(m["Subject"])]) == 1


@pytest.mark.journey
def test_a_staff_reply_put_in_the_mailbox_appears_with_the_status_change(page, portal, mailbox):
    login(page)
    open_new_ticket_form(page)
    page.get_by_label("Subject").fill("No dial tone")
    page.get_by_label("Details").fill("The phone line is silent.")
    page.get_by_role("button", name="Send ticket").click()
    page.locator("li.ticket-row").filter(has_text="No dial tone").wait_for()
    to_support = portal.mail.wait_for("support@example.net", "No dial tone")
    ticket = demo_ticket("No dial tone")

    staff = EmailMessage()
    staff["From"] = "Jamie at Support <jamie@example.net>"
    # Addressed to the ticket's reply address only: the portal mails the customer.
    staff["To"] = next(a.strip() for a in str(to_support["Reply-To"]).split(",")
                       if "support+t" in a)
    staff["Subject"] = "Re: " + str(to_support["Subject"])
    staff["Message-ID"] = make_msgid(domain="example.net")
    staff["In-Reply-To"] = str(to_support["Message-ID"])
    staff.set_content("We found a fault at the exchange; it is fixed now.\n\n"
                      "On Wed, Example Internet wrote:\n> The phone line is silent.\n")
    mailbox.deliver(bytes(staff))
    poll_and_check(portal, staff["Message-ID"])

    page.goto(f"/tickets/{ticket.id}")
    wait_ready(page)
    messages = page.locator("article.ticket-message")
    messages.nth(1).wait_for()
    assert "The phone line is silent." in messages.nth(0).inner_text()
    second = messages.nth(1).inner_text()
    assert "We found a fault at the exchange" in second and "Jamie at Support" in second
    assert page.get_by_text("Awaiting Response").first.is_visible()
    # The quoted text is folded away, and there when asked for.
    quoted = messages.nth(1).locator("details")
    assert not quoted.locator("p, span").last.is_visible()
    quoted.locator("summary").click()
    assert "> The phone line is silent." in quoted.inner_text()
    wait_for_body(portal, "demo@example.net", "fault at the exchange")
    check_accessibility(page)

    # The customer answers from the page, with a picture: back to Waiting for ISP.
    page.get_by_label("Your reply").fill("Thank you, it works.")
    page.locator("#reply_attachment input[type=file]").set_input_files(
        files=[{"name": "line.png", "mimeType": "image/png", "buffer": PNG}])
    page.get_by_text("line.png").wait_for()
    page.get_by_role("button", name="Send reply").click()
    page.get_by_text("Your reply was sent.").wait_for()
    assert messages.count() == 3
    assert "Thank you, it works." in messages.nth(2).inner_text()
    assert page.get_by_text("Waiting for ISP").first.is_visible()
    link = messages.nth(2).get_by_role("link", name=re.compile("line.png"))
    response = page.request.get(link.get_attribute("href"))
    assert response.status == 200 and response.body() == PNG
    # Staff read mail, not the portal: the support mail links the file with a signature.
    to_support = wait_for_body(portal, "support@example.net", "line.png: http")
    signed = re.search(r"\[line\.png: (\S+)\]", body_text(to_support)).group(1)
    outsider = page.context.browser.new_context(ignore_https_errors=True)  # behind the proxy
    try:
        assert outsider.request.get(signed).body() == PNG
        assert outsider.request.get(signed[:-1] + ("0" if signed[-1] != "0" else "1")).status == 404
        assert outsider.request.get(signed.split("?")[0]).status == 404
    finally:
        outsider.close()


def test_hostile_html_mail_is_shown_without_scripts_or_remote_images(page, portal, mailbox):
    login(page)
    ticket = demo_ticket("Internet drops every evening")
    from rxportal.services import tickets
    from rxportal import db

    with db.session_scope() as session:
        reply_address = tickets.reply_address(session, ticket.number)
    hostile = EmailMessage()
    hostile["From"] = "Jamie at Support <jamie@example.net>"
    hostile["To"] = reply_address
    hostile["Subject"] = f"Re: [Ticket #{ticket.number}] Internet drops every evening"
    hostile["Message-ID"] = make_msgid(domain="example.net")
    hostile.set_content(
        "<html><head><script>window.hacked=1;alert('x')</script></head><body>"
        "<p onmouseover=\"window.hacked=2\">We <b>replaced</b> the line card.</p>"
        "<img src=\"http://track.example/pixel.gif\" onerror=\"window.hacked=3\">"
        "<a href=\"javascript:window.hacked=4\">details</a>"
        "<iframe src=\"http://evil.example/\"></iframe></body></html>", subtype="html")
    mailbox.deliver(bytes(hostile))
    poll_and_check(portal, hostile["Message-ID"])
    remote, dialogs = [], []
    page.on("request", lambda r: remote.append(r.url) if "example/" in r.url and
            "127.0.0.1" not in r.url else None)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"/tickets/{ticket.id}")
    wait_ready(page)
    last = page.locator("article.ticket-message").last
    last.wait_for()
    assert "We replaced the line card." in last.inner_text()
    last.get_by_text("Show the formatted message").click()
    formatted = last.locator(".ticket-message-html")
    formatted.wait_for()
    assert formatted.locator("b").inner_text() == "replaced"
    assert formatted.locator("script, img, iframe, [onmouseover]").count() == 0
    formatted.locator("p").hover()
    formatted.get_by_text("details").click()
    page.wait_for_timeout(500)
    assert page.evaluate("window.hacked === undefined")
    assert dialogs == [] and remote == []
    assert "Awaiting Response" in page.locator("h1 + *").first.inner_text() or \
        page.get_by_text("Awaiting Response").first.is_visible()


def test_an_attachment_that_is_not_an_image_or_pdf_is_refused(page, portal):
    login(page)
    open_new_ticket_form(page)
    page.locator("#ticket_attachment input[type=file]").set_input_files(
        files=[{"name": "photo.png", "mimeType": "image/png", "buffer": b"MZ\x90\x00 program"}])
    page.get_by_text("Attach an image (PNG, JPEG, GIF, WebP) or a PDF.").wait_for()


@pytest.mark.journey
def test_demo2_gets_not_found_for_demos_ticket_by_url(browser, portal):
    ticket = demo_ticket("Internet drops every evening")
    page = new_page(browser, portal, lang="en")
    try:
        login(page, "demo2")
        page.goto(f"/tickets/{ticket.id}")
        wait_ready(page)
        page.locator("#ticket-not-found").wait_for()
        assert "Internet drops every evening" not in page.content()
        page.goto("/tickets/999999")
        wait_ready(page)
        page.locator("#ticket-not-found").wait_for()
        from rxportal import db
        from rxportal.models.tickets import TicketAttachment

        with db.session_scope() as session:
            attachment = session.exec(select(TicketAttachment)).first()
        if attachment is not None:
            answer = page.request.get(f"/ticket-files/{attachment.id}")
            assert answer.status == 404
    finally:
        page.context.close()


@pytest.mark.parametrize("viewport,lang", [(PHONE, "en"), (DESKTOP, "fr"), (PHONE, "fr")])
def test_the_pages_in_both_languages_and_sizes(browser, portal, viewport, lang):
    page = new_page(browser, portal, viewport, lang=lang)
    try:
        login(page)
        page.goto("/tickets")
        wait_ready(page)
        page.locator("li.ticket-row").first.wait_for()
        if lang == "fr":
            assert page.get_by_role("heading", name="Demandes d'assistance").is_visible()
            assert page.locator("li.ticket-row").get_by_text("En attente de votre réponse").first.is_visible()
        name = f"tickets-{lang}-{viewport['width']}"
        snap(page, name)
        check_accessibility(page)
        page.locator("li.ticket-row a").filter(has_text="Modem light blinking orange").click()
        page.locator("article.ticket-message").nth(1).wait_for()
        snap(page, f"ticket-{lang}-{viewport['width']}")
        check_accessibility(page)
    finally:
        page.context.close()


def test_replying_to_a_ticket_closed_long_ago_starts_a_new_ticket(page, portal):
    old = demo_ticket("Moving to a new address")
    login(page)
    page.goto(f"/tickets/{old.id}")
    wait_ready(page)
    page.get_by_text("This ticket is closed.").wait_for()
    page.get_by_label("Your reply").fill("I am moving again, same question.")
    page.get_by_role("button", name="Send reply").click()
    page.wait_for_url(re.compile(r"/tickets/(?!%d/?$)\d+/?$" % old.id))
    wait_ready(page)
    page.get_by_text("Continues ticket").wait_for()
    assert page.get_by_role("link", name=f"#{old.number}").is_visible()
    assert "I am moving again" in page.locator("article.ticket-message").first.inner_text()
    assert len(ticket_rows("Moving to a new address")) == 2


def test_the_list_is_paged_and_filtered_by_status(browser, portal):
    from rxportal import db
    from rxportal.models import Account
    from rxportal.services import tickets

    with db.session_scope() as session:
        demo2 = session.exec(select(Account).where(Account.number == "100002")).one()
        for index in range(10):
            tickets.create_ticket(session, demo2.id, f"Paging {index:02d}", "x",
                                  client_key=f"paging-key-{index:02d}")
    page = new_page(browser, portal, lang="en")
    try:
        login(page, "demo2")
        page.goto("/tickets")
        wait_ready(page)
        rows = page.locator("li.ticket-row")
        rows.first.wait_for()
        assert rows.count() == 10
        assert "Paging 09" in rows.first.inner_text()  # newest activity first
        page.get_by_text("Page 1 of 2").wait_for()
        page.get_by_role("button", name="Next page").click()
        page.get_by_text("Page 2 of 2").wait_for()
        expect(rows).to_have_count(2)
        assert page.get_by_role("button", name="Next page").is_disabled()
        page.get_by_label("Show").select_option("awaiting_response")
        expect(rows).to_have_count(1)
        assert "Facture en double" in rows.first.inner_text()
        assert "Awaiting Response" in rows.first.inner_text()
        page.get_by_label("Show").select_option("closed")
        page.locator("#ticket-list-empty").wait_for()
    finally:
        page.context.close()
