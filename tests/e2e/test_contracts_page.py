"""The Contracts page and signing, in Chromium: the demo customer signs the pending contract in
the new tab with a drawn signature, downloads the PDF (its text, record and hash are checked),
and every refusal shows a clear message; demo2 cannot reach demo's contracts by URL."""
from __future__ import annotations

import hashlib
import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlmodel import select

from tests.e2e.conftest import (PHONE, check_accessibility, login, look_at, new_page, snap,
                                wait_ready)

pytestmark = pytest.mark.e2e


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture()
def page(browser, portal):
    """A desktop page in English, whatever language the demo users chose in earlier tests."""
    page = new_page(browser, portal, lang="en")
    yield page
    page.context.close()


def issue_contract(portal, account: str = "100001", code: str = "terms") -> int:
    """A fresh pending contract for the account, through the CLI (as an ISP would)."""
    out = portal.cli("contracts", "assign", "--code", code, "--account", account).stdout
    return int(re.search(r"contract (\d+) issued", out).group(1))


def signatures_of(contract_id: int):
    from rxportal import db
    from rxportal.models.contracts import ContractSignature

    with db.session_scope() as session:
        return session.exec(select(ContractSignature)
                            .where(ContractSignature.contract_id == contract_id)).all()


def contract_ids(account_number: str) -> dict[str, list[int]]:
    from rxportal import db
    from rxportal.models import Account
    from rxportal.models.contracts import Contract

    with db.session_scope() as session:
        account = session.exec(select(Account).where(Account.number == account_number)).one()
        rows = session.exec(select(Contract).where(Contract.account_id == account.id)
                            .order_by(Contract.id)).all()
        result: dict[str, list[int]] = {"pending": [], "signed": []}
        for row in rows:
            result[row.status].append(row.id)
        return result


def open_sign_page(page, contract_id: int):
    page.goto(f"/contracts/{contract_id}/sign")
    wait_ready(page)
    expect(page.locator("#contract-text")).to_be_visible()


def draw_with_mouse(page) -> None:
    canvas = page.locator("canvas.signature-canvas")
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    box = canvas.bounding_box()
    x, y = box["x"] + 30, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, 25):
        page.mouse.move(x + step * 14, y + (30 if step % 2 else -30), steps=3)
    page.mouse.up()


def draw_with_finger(page) -> None:
    """Touch events through the DevTools protocol (synthetic pointer events do not draw)."""
    canvas = page.locator("canvas.signature-canvas")
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(200)
    box = canvas.bounding_box()
    cdp = page.context.new_cdp_session(page)
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                          "touchPoints": [{"x": x, "y": y}]})
    for step in range(1, 20):
        cdp.send("Input.dispatchTouchEvent", {
            "type": "touchMove",
            "touchPoints": [{"x": x + step * 14, "y": y + (25 if step % 2 else -25)}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def fill_form(page, name: str = "Alex Martin", password: str = "correct-horse-demo",
              consent: bool = True) -> None:
    if consent:
        page.locator("#consent").check()
    page.get_by_label("Your full name").fill(name)
    page.get_by_label("Your password").fill(password)


def press_sign(page) -> None:
    page.get_by_role("button", name="Sign", exact=True).click()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- the story ----------------------------------------------------------------------------


@pytest.mark.journey
def test_demo_signs_the_pending_contract_in_a_new_tab_and_downloads_the_pdf(page, portal):
    login(page, "demo")
    page.goto("/contracts")
    wait_ready(page)
    pending_row = page.get_by_role("row").filter(has_text="Pending Signature")
    expect(pending_row).to_have_count(1)
    expect(pending_row).to_contain_text("Terms & Conditions")
    expect(page.get_by_role("row").filter(has_text="Signed")).to_contain_text(
        "Acceptable Use Policy")
    check_accessibility(page)
    snap(page, "contracts-desktop-en")

    with page.context.expect_page() as new_tab:
        pending_row.get_by_role("link", name="Sign Contract").click()
    sign = new_tab.value
    wait_ready(sign)
    contract_id = int(re.search(r"/contracts/(\d+)/sign", sign.url).group(1))
    expect(sign.locator("#contract-text")).to_contain_text("Alex Martin, account 100001")
    expect(sign.locator("#contract-status")).to_have_text("Pending Signature")
    check_accessibility(sign)
    snap(sign, "contract-sign-desktop-en")

    draw_with_mouse(sign)
    fill_form(sign)
    press_sign(sign)
    expect(sign.locator("#contract-status")).to_have_text("Signed", timeout=30_000)
    expect(sign.get_by_text("Thank you. The contract is signed")).to_be_visible()
    snap(sign, "contract-signed-desktop-en")

    # Back in the first tab, the status has changed and the PDF downloads.
    page.reload()
    wait_ready(page)
    expect(page.get_by_role("row").filter(has_text="Pending Signature")).to_have_count(0)
    row = page.get_by_role("row").filter(has_text="Terms & Conditions")
    expect(row).to_contain_text("Signed")
    with page.expect_download() as download_info:
        row.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename == f"terms-conditions-{contract_id}.pdf"
    content = open(download.path(), "rb").read()

    [signature] = signatures_of(contract_id)
    assert sha256(content) == signature.pdf_sha256
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(content)).pages]
    assert "Alex Martin, account 100001" in " ".join(pages[0].split())
    assert "Typed name: Alex Martin" in pages[-2] or "Typed name: Alex Martin" in pages[0]
    record = pages[-1]
    assert "Signature record" in record
    assert "100001 — Alex Martin" in record and "demo" in record
    assert "127.0.0.1" in record and "Chrom" in record
    assert signature.consent_version in record
    assert signature.text_sha256 in record.replace("\n", "")
    assert sha256(signature.text.encode("utf-8")) == signature.text_sha256

    # A copy arrived by e-mail with the same PDF, and the whole record verifies.
    message = portal.mail.wait_for("demo@example.net", "signed contract")
    [attachment] = list(message.iter_attachments())
    assert sha256(attachment.get_content()) == signature.pdf_sha256
    verify = portal.cli("contracts", "verify")
    assert verify.stdout.startswith("OK:")


def test_every_refusal_has_a_clear_message(page, portal):
    contract_id = issue_contract(portal)
    login(page, "demo")
    open_sign_page(page, contract_id)

    press_sign(page)
    expect(page.locator("#consent-error")).to_have_text(
        "Tick the box to agree to sign electronically.")

    page.locator("#consent").check()
    press_sign(page)
    expect(page.locator("#typed_name-error")).to_have_text("Type your full name.")

    page.get_by_label("Your full name").fill("A" * 121)
    press_sign(page)
    expect(page.locator("#typed_name-error")).to_have_text(
        "Your name is too long (at most 120 characters).")

    page.get_by_label("Your full name").fill("<script>alert('x')</script> Alex")
    press_sign(page)
    expect(page.locator("#signature-error")).to_have_text("Draw your signature in the box.")

    draw_with_mouse(page)
    page.get_by_role("button", name="Clear").click()
    press_sign(page)
    expect(page.locator("#signature-error")).to_have_text("Draw your signature in the box.")

    draw_with_mouse(page)
    press_sign(page)
    expect(page.locator("#password-error")).to_have_text("Enter your password.")

    page.get_by_label("Your password").fill("not-my-password")
    press_sign(page)
    expect(page.locator("#password-error")).to_have_text("The password is incorrect.")
    expect(page.locator("#contract-status")).to_have_text("Pending Signature")
    assert signatures_of(contract_id) == []
    check_accessibility(page)

    # The hostile name was kept as text: nothing ran, and it is what gets signed.
    page.get_by_label("Your password").fill("correct-horse-demo")
    press_sign(page)
    expect(page.locator("#contract-status")).to_have_text("Signed", timeout=30_000)
    [signature] = signatures_of(contract_id)
    assert signature.typed_name == "<script>alert('x')</script> Alex"


@pytest.mark.journey
def test_a_double_click_on_sign_gives_one_signature(page, portal):
    contract_id = issue_contract(portal)
    login(page, "demo")
    open_sign_page(page, contract_id)
    draw_with_mouse(page)
    fill_form(page)
    page.get_by_role("button", name="Sign", exact=True).dblclick()
    expect(page.locator("#contract-status")).to_have_text("Signed", timeout=30_000)
    page.wait_for_timeout(1500)
    assert len(signatures_of(contract_id)) == 1
    expect(page.get_by_role("alert").filter(has_text="already signed")).to_have_count(0)


@pytest.mark.journey
def test_a_contract_signed_in_another_tab_is_refused_as_already_signed(page, portal):
    contract_id = issue_contract(portal)
    login(page, "demo")
    open_sign_page(page, contract_id)
    other = page.context.new_page()
    open_sign_page(other, contract_id)
    draw_with_mouse(other)
    fill_form(other)
    press_sign(other)
    expect(other.locator("#contract-status")).to_have_text("Signed", timeout=30_000)

    page.bring_to_front()
    draw_with_mouse(page)
    fill_form(page)
    press_sign(page)
    expect(page.get_by_text("This contract is already signed.")).to_be_visible(timeout=15_000)
    expect(page.locator("#contract-status")).to_have_text("Signed")
    assert len(signatures_of(contract_id)) == 1


def test_a_signed_contract_shows_download_instead_of_the_form(page, portal):
    signed_id = contract_ids("100001")["signed"][0]
    login(page, "demo")
    open_sign_page(page, signed_id)
    expect(page.locator("#contract-status")).to_have_text("Signed")
    expect(page.get_by_role("button", name="Sign", exact=True)).to_have_count(0)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    content = open(download_info.value.path(), "rb").read()
    assert sha256(content) == signatures_of(signed_id)[0].pdf_sha256


@pytest.mark.journey
def test_demo2_cannot_open_demos_contract_by_url(page, portal):
    demo_contracts = contract_ids("100001")
    login(page, "demo2")
    page.goto("/contracts")
    wait_ready(page)
    expect(page.get_by_role("row").filter(has_text="Terms & Conditions")).to_have_count(1)

    for contract_id in [demo_contracts["signed"][0], *demo_contracts["pending"][:1], 999999,
                        "abc"]:
        page.goto(f"/contracts/{contract_id}/sign")
        wait_ready(page)
        expect(page.get_by_text("This contract was not found.")).to_be_visible()
        expect(page.locator("#contract-text")).to_have_count(0)
        expect(page.get_by_text("Alex Martin")).to_have_count(0)


def test_phone_in_french_signs_with_a_finger(browser, portal):
    contract_id = issue_contract(portal)
    page = new_page(browser, portal, PHONE, lang="fr")
    try:
        login(page, "demo")
        page.goto("/contracts")
        wait_ready(page)
        expect(page.get_by_role("link", name="Signer le contrat").first).to_be_visible()
        check_accessibility(page)
        snap(page, "contracts-phone-fr")

        open_sign_page(page, contract_id)
        expect(page.locator("#contract-text")).to_contain_text("compte 100001")
        expect(page.locator("#contract-status")).to_have_text("En attente de signature")
        check_accessibility(page)
        snap(page, "contract-sign-phone-fr")
        draw_with_finger(page)
        page.locator("#consent").check()
        page.get_by_label("Votre nom complet").fill("Alex Martin")
        page.get_by_label("Votre mot de passe").fill("correct-horse-demo")
        page.get_by_role("button", name="Signer", exact=True).click()
        expect(page.locator("#contract-status")).to_have_text("Signé", timeout=30_000)
        snap(page, "contract-signed-phone-fr")
        [signature] = signatures_of(contract_id)
        assert signature.language == "fr" and "compte 100001" in signature.text
    finally:
        page.context.close()


def test_contracts_pages_in_each_size_and_language(browser, portal):
    look_at(browser, portal, "/contracts", "contracts", user="demo",
            ready_selector="text=Acceptable >> visible=true")
    signed_id = contract_ids("100001")["signed"][0]
    look_at(browser, portal, f"/contracts/{signed_id}/sign", "contract-signed", user="demo",
            ready_selector="#contract-text")
    pending = issue_contract(portal)
    look_at(browser, portal, f"/contracts/{pending}/sign", "contract-sign", user="demo",
            ready_selector="canvas.signature-canvas")


def test_the_page_says_so_when_the_isp_turns_contracts_off(page, portal):
    from rxportal import db
    from rxportal.services import settings

    signed_id = contract_ids("100001")["signed"][0]
    with db.session_scope() as session:
        settings.put(session, "page_contracts", False)
    try:
        login(page, "demo")
        expect(page.get_by_role("link", name="Contracts")).to_have_count(0)
        page.goto("/contracts")
        wait_ready(page)
        expect(page.get_by_text("Contracts are not available in this portal.")).to_be_visible()
        expect(page.get_by_role("row")).to_have_count(0)
        page.goto(f"/contracts/{signed_id}/sign")
        wait_ready(page)
        expect(page.get_by_text("This contract was not found.")).to_be_visible()
    finally:
        with db.session_scope() as session:
            settings.put(session, "page_contracts", True)
