"""Staff console in Chromium: contract templates edited (a new version) and issued, the customer
signs, the administrator reads the signature record and downloads the signed PDF; a staff member
changes their own password and logs in with it; the ISP's password rules on the forms."""
from __future__ import annotations

import hashlib
import io
import re
import uuid

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlmodel import select

from tests.e2e.conftest import check_accessibility, login, new_page, snap, wait_ready
from tests.e2e.test_admin_pages import (PASSWORD, _db, admin_page,  # noqa: F401 - fixture
                                        fresh_code, look_at_staff_pages, make_staff, setting,
                                        staff_login)
from tests.e2e.test_contracts_page import draw_with_mouse, fill_form, press_sign

CUSTOMER_PASSWORD = "a customer's own phrase"


def new_customer() -> tuple[str, str]:
    """An account with a portal login: (account number, username)."""
    from rxportal.models import Account, PortalUser
    from rxportal.services import passwords

    number, username = uuid.uuid4().hex[:8], f"signer-{uuid.uuid4().hex[:6]}"
    with _db() as session:
        account = Account(number=number, name="Sam Signer", email=f"{username}@example.org")
        session.add(account)
        session.flush()
        session.add(PortalUser(account_id=account.id, username=username,
                               password_hash=passwords.hash_password(CUSTOMER_PASSWORD)))
    return number, username


def contract_of(number: str):
    from rxportal.models import Account
    from rxportal.models.contracts import Contract, ContractTemplate

    with _db() as session:
        contract, template = session.exec(
            select(Contract, ContractTemplate)
            .join(ContractTemplate, ContractTemplate.id == Contract.template_id)
            .join(Account, Account.id == Contract.account_id)
            .where(Account.number == number)).one()
        return contract.id, template.code, template.version


def signature_of(contract_id: int):
    from rxportal.models.contracts import ContractSignature

    with _db() as session:
        return session.exec(select(ContractSignature)
                            .where(ContractSignature.contract_id == contract_id)).one()


@pytest.mark.journey
def test_admin_edits_a_template_issues_it_the_customer_signs_and_the_admin_reads_the_record(
        admin_page, browser, portal):
    page = admin_page
    marker = f"Edited in the console {uuid.uuid4().hex[:6]}."
    page.goto("/admin/contracts")
    wait_ready(page)
    page.get_by_role("link", name="Terms & Conditions", exact=True).click()
    page.wait_for_url("**/admin/contracts/template/terms")
    wait_ready(page)
    old_version = int(re.search(r"latest version (\d+)",
                                page.locator("#template-version").inner_text()).group(1))
    body = page.locator("#body_en")
    # Hostile and bad input first: an unknown placeholder is refused, nothing saved.
    body.fill(body.input_value() + "\nHello $password_hash")
    page.get_by_role("button", name="Save as a new version").click()
    expect(page.locator("#body_en-error")).to_contain_text("Unknown placeholders: $password_hash")
    expect(page.locator("#template-version")).to_contain_text(f"latest version {old_version}")
    page.reload()
    wait_ready(page)
    body = page.locator("#body_en")
    body.fill(body.input_value() + "\n" + marker)
    page.get_by_role("button", name="Save as a new version").dblclick()
    expect(page.get_by_role("status").filter(has_text=f"version {old_version + 1}")).to_be_visible()
    expect(page.locator("#template-version")).to_contain_text(f"latest version {old_version + 1}")
    from rxportal.services import staff_contracts

    with _db() as session:  # the double click made one version
        assert staff_contracts.versions(session, "terms")[0].version == old_version + 1

    number, username = new_customer()
    page.goto("/admin/contracts")
    wait_ready(page)
    page.locator("#template").select_option(label=f"Terms & Conditions (v{old_version + 1})")
    page.locator("#accounts").fill(f"{number} nosuchaccount")
    page.get_by_role("button", name="Issue contract").click()
    expect(page.locator("#accounts-error")).to_contain_text("No account has the number nosuchaccount")
    page.locator("#template").select_option(label=f"Terms & Conditions (v{old_version + 1})")
    page.locator("#accounts").fill(number)
    page.get_by_role("button", name="Issue contract").click()
    expect(page.get_by_role("status").filter(has_text="Issued to 1 accounts")).to_be_visible()
    contract_id, code, version = contract_of(number)
    assert (code, version) == ("terms", old_version + 1)

    customer = new_page(browser, portal)
    try:
        login(customer, username, CUSTOMER_PASSWORD)
        customer.goto(f"/contracts/{contract_id}/sign")
        wait_ready(customer)
        expect(customer.locator("#contract-text")).to_contain_text(marker)
        draw_with_mouse(customer)
        fill_form(customer, name="Sam Signer", password=CUSTOMER_PASSWORD)
        press_sign(customer)
        expect(customer.locator("#contract-status")).to_have_text("Signed", timeout=30_000)
    finally:
        customer.context.close()

    page.goto("/admin/contracts")
    wait_ready(page)
    page.get_by_role("row").filter(has_text=number).get_by_role("link").click()
    page.wait_for_url(f"**/admin/contracts/record/{contract_id}")
    wait_ready(page)
    signature = signature_of(contract_id)
    expect(page.locator("#record-typed_name")).to_have_text("Sam Signer")
    expect(page.locator("#record-username")).to_have_text(username)
    expect(page.locator("#record-signed_utc")).to_contain_text("UTC")
    expect(page.locator("#record-signed_local")).to_contain_text("America/Toronto")
    expect(page.locator("#record-ip")).to_have_text("127.0.0.1")
    expect(page.locator("#record-user_agent")).to_contain_text("Chrom")
    expect(page.locator("#record-consent_version")).to_have_text(signature.consent_version)
    expect(page.locator("#record-text_sha256")).to_have_text(signature.text_sha256)
    expect(page.locator("#record-pdf_sha256")).to_have_text(signature.pdf_sha256)
    check_accessibility(page)
    snap(page, "admin-contract-record-signed-desktop-en")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download signed PDF").click()
    content = open(download_info.value.path(), "rb").read()
    assert hashlib.sha256(content).hexdigest() == signature.pdf_sha256
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages).split())
    assert marker in text


def test_support_staff_read_records_but_cannot_edit_or_issue(browser, portal):
    username = make_staff("support")
    page = new_page(browser, portal)
    try:
        staff_login(page, username)
        page.goto("/admin/contracts")
        wait_ready(page)
        expect(page.get_by_role("heading", name="Signature records")).to_be_visible()
        expect(page.get_by_role("link", name="New template")).to_have_count(0)
        expect(page.get_by_role("button", name="Issue contract")).to_have_count(0)
        page.goto("/admin/contracts/template/terms")
        page.wait_for_url("**/admin/customers")
    finally:
        page.context.close()


def _staff_password_login(page, username: str, password: str) -> None:
    page.goto("/admin")
    wait_ready(page)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.journey
def test_staff_change_their_own_password_and_log_in_with_it(browser, portal):
    username = make_staff("support")
    other = new_page(browser, portal)
    page = new_page(browser, portal)
    new_password = "my own staff phrase"
    try:
        staff_login(other, username)
        staff_login(page, username)
        page.get_by_role("link", name="My password").first.click()
        page.wait_for_url("**/admin/password")
        wait_ready(page)
        page.get_by_label("Current password").fill("wrong password")
        page.get_by_label("New password", exact=True).fill(new_password)
        page.get_by_label("Confirm new password").fill(new_password)
        page.get_by_role("button", name="Change Password").click()
        expect(page.locator("#current_password-error")).to_have_text(
            "The current password is incorrect.")
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password", exact=True).fill("short")
        page.get_by_label("Confirm new password").fill("short")
        page.get_by_role("button", name="Change Password").click()
        expect(page.locator("#new_password-error")).to_have_text("Use at least 8 characters.")
        page.get_by_label("New password", exact=True).fill(new_password)
        page.get_by_label("Confirm new password").fill(new_password)
        page.get_by_role("button", name="Change Password").dblclick()
        expect(page.get_by_role("status").filter(has_text="Your password was changed")).to_be_visible()
        # The other staff session was ended; this one goes on.
        other.goto("/admin/customers")
        other.wait_for_url(re.compile(r".*/admin$"))
        page.goto("/admin/customers")
        wait_ready(page)
        expect(page.get_by_role("heading", name="Customers")).to_be_visible()
        page.get_by_role("button", name="Log out").first.click()
        page.wait_for_url(re.compile(r".*/admin$"))
        _staff_password_login(page, username, PASSWORD)  # the old one no longer works
        expect(page.get_by_text("The username or password is incorrect.")).to_be_visible()
        _staff_password_login(page, username, new_password)
        page.wait_for_url("**/admin/verify")
        wait_ready(page)
        page.get_by_label("Code").fill(fresh_code(username))
        page.get_by_role("button", name="Verify").click()
        page.wait_for_url("**/admin/customers")
    finally:
        other.context.close()
        page.context.close()
    from rxportal.models import AuditLog

    with _db() as session:
        assert session.exec(select(AuditLog).where(AuditLog.action == "staff_password_changed",
                                                   AuditLog.actor_name == username)).one()


def test_the_isps_password_rules_apply_at_once_and_show_on_the_forms(admin_page, browser, portal):
    page = admin_page
    page.goto("/admin/settings")
    wait_ready(page)
    length = page.get_by_label("Minimum password length (characters)")
    # The form is filled in once the settings load (typing earlier would be lost).
    expect(length).to_have_value("8", timeout=30_000)
    try:
        length.fill("7")
        page.locator("#save-passwords").click()
        expect(page.get_by_text("Enter a number from 8 to 64.")).to_be_visible()
        length.fill("14")
        page.locator("#save-passwords").click()
        expect(page.locator("#section-passwords").get_by_text(
            "Saved. The change applies at once.")).to_be_visible()
        customer = new_page(browser, portal)
        try:
            login(customer, "demo2")
            customer.goto("/details")
            wait_ready(customer)
            expect(customer.get_by_text("At least 14 characters; common passwords are refused.",
                                        exact=False)).to_be_visible()
            customer.get_by_label("Current password").fill("correct-horse-demo")
            customer.get_by_label("New password", exact=True).fill("thirteen char")
            customer.get_by_label("Confirm new password").fill("thirteen char")
            customer.get_by_role("button", name="Change Password").click()
            expect(customer.locator("#new_password-error")).to_have_text(
                "Use at least 14 characters.")
        finally:
            customer.context.close()
    finally:
        setting("password_min_length", 8)


def test_new_staff_pages_look_right_everywhere(browser, portal):
    from rxportal.models.contracts import Contract

    with _db() as session:
        signed = session.exec(select(Contract.id).where(Contract.status == "signed")).first()
    look_at_staff_pages(browser, portal, "administrator", [
        ("/admin/contracts", "contracts", "tbody tr"),
        ("/admin/contracts/template/terms", "template", "#template-version"),
        ("/admin/contracts/new-template", "new-template", "#save-template"),
        (f"/admin/contracts/record/{signed}", "contract-record", "#download-signed"),
        ("/admin/password", "password", "#change-own-password")])
