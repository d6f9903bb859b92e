"""Contracts: templates, signing and every refusal, the signed PDF, the hash-chained log and its
verification (which must find a changed PDF and an edited log entry), the download, the CLI."""
from __future__ import annotations

import base64
import io
import os
from datetime import date, datetime, timezone

import pytest
from PIL import Image, ImageDraw
from pypdf import PdfReader
from sqlalchemy import text
from sqlmodel import select

from rxportal import config, db
from rxportal.models import Account, AccountService, OutboxMail, Plan, PortalUser
from rxportal.models.contracts import (AppendOnlyViolation, Contract, ContractSignature,
                                       SignatureLogEntry)
from rxportal.services import contracts, passwords
from rxportal.services.contracts import ContractError

PASSWORD = "a-long-enough-passphrase"


def png_data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return contracts.DATA_URL_PREFIX + base64.b64encode(buffer.getvalue()).decode("ascii")


def drawn_signature() -> str:
    image = Image.new("RGBA", (500, 160), (0, 0, 0, 0))
    ImageDraw.Draw(image).line([(20, 120), (120, 30), (250, 130), (480, 40)],
                               fill=(0, 0, 0, 255), width=3)
    return png_data_url(image)


def make_customer(session, number: str, name: str, username: str) -> tuple[Account, PortalUser]:
    account = Account(number=number, name=name, email=f"{username}@example.net")
    session.add(account)
    session.flush()
    user = PortalUser(account_id=account.id, username=username,
                      password_hash=passwords.hash_password(PASSWORD))
    session.add(user)
    plan = Plan(name="Fibre 100", price_minor=6500)
    session.add(plan)
    session.flush()
    session.add(AccountService(account_id=account.id, plan_id=plan.id, name="Fibre 100",
                               price_minor=6500, started_on=date(2026, 1, 1)))
    session.flush()
    return account, user


@pytest.fixture()
def world(session):
    alice, alice_user = make_customer(session, "200001", "Alice Tremblay", "alice")
    bob, bob_user = make_customer(session, "200002", "Bob Gagnon", "bob")
    template = contracts.create_template(
        session, "terms", "Terms & Conditions", "Conditions générales",
        "Agreement between $isp_name and $account_name (account $account_number, "
        "$account_email) for $services, issued $issue_date. Price: $65.00.",
        "Accord entre $isp_name et $account_name (compte $account_number, $account_email) "
        "pour $services, émis le $issue_date. Prix : 65,00 $.")
    contract = contracts.issue(session, template.id, alice.id, date(2026, 11, 20))
    bob_contract = contracts.issue(session, template.id, bob.id, date(2026, 11, 20))
    session.commit()
    return dict(alice=alice, alice_user=alice_user, bob=bob, bob_user=bob_user,
                template=template, contract=contract, bob_contract=bob_contract)


def sign(session, world, **overrides):
    values = dict(account_id=world["alice"].id, user_id=world["alice_user"].id,
                  contract_id=world["contract"].id, lang="en", typed_name="Alice Tremblay",
                  consent=True, consent_version=contracts.CONSENT_VERSION, password=PASSWORD,
                  signature_data_url=drawn_signature(), ip="198.51.100.7",
                  user_agent="Mozilla/5.0 (Test) Chromium")
    values.update(overrides)
    return contracts.sign(session, **values)


def refused(session, world, msgid, **overrides):
    with pytest.raises(ContractError) as caught:
        sign(session, world, **overrides)
    assert caught.value.msgid == msgid
    session.rollback()
    contract = session.get(Contract, world["contract"].id)
    session.refresh(contract)
    assert contract.status == "pending"
    assert session.exec(select(ContractSignature)).all() == []
    assert session.exec(select(SignatureLogEntry)).all() == []
    return caught.value


def pdf_files():
    root = contracts.pdf_root()
    return sorted(root.rglob("*.pdf")) if root.exists() else []


# --- templates ---------------------------------------------------------------------------


def test_template_is_filled_with_the_account_details_in_each_language(session, world):
    english = contracts.view(session, world["alice"].id, world["contract"].id, "en")
    assert "Agreement between Example Internet and Alice Tremblay (account 200001, " \
           "alice@example.net) for Fibre 100, issued Nov 20, 2026. Price: $65.00." == english.text
    french = contracts.view(session, world["alice"].id, world["contract"].id, "fr")
    assert french.text.startswith("Accord entre Example Internet et Alice Tremblay")
    assert "20 nov. 2026" in french.text
    assert french.name == "Conditions générales" and english.name == "Terms & Conditions"
    assert french.consent_text != english.consent_text
    assert english.text_sha256 == contracts.sha256_hex(english.text)


def test_a_new_template_with_the_same_code_is_the_next_version(session, world):
    second = contracts.create_template(session, "terms", "Terms v2", "Conditions v2", "A", "B")
    assert second.version == 2
    assert contracts.latest_template(session, "terms").id == second.id
    assert [t.version for t in contracts.list_templates(session)] == [1, 2]


@pytest.mark.parametrize("code,name_en,body_en,reason", [
    ("", "Name", "text", "code"),
    ("Bad Code!", "Name", "text", "code"),
    ("ok", "", "text", "name_en:Enter a name of 1 to 120 characters."),
    ("ok", "x" * 121, "text", "name_en:Enter a name"),
    ("ok", "Name", "   ", "body_en:Enter the text"),
    ("ok", "Name", "Hello $password_hash", "body_en:Unknown placeholders: $password_hash"),
    ("ok", "Name", "x" * (contracts.MAX_BODY + 1), "body_en:The text is longer than 100000"),
])
def test_a_bad_template_is_refused_with_the_reason(session, code, name_en, body_en, reason):
    with pytest.raises(contracts.TemplateError) as caught:
        contracts.create_template(session, code, name_en, "Nom", body_en, "texte")
    assert reason in f"{caught.value.field}:{caught.value}"


def test_the_same_template_can_be_issued_twice_to_be_signed_again(session, world):
    contracts.issue(session, world["template"].id, world["alice"].id, date(2026, 11, 24))
    rows = contracts.list_for_account(session, world["alice"].id, "fr")
    assert [(r.name, r.issued_on, r.status) for r in rows] == [
        ("Conditions générales", date(2026, 11, 24), "pending"),
        ("Conditions générales", date(2026, 11, 20), "pending"),
    ]


def test_an_account_lists_only_its_own_contracts(session, world):
    rows = contracts.list_for_account(session, world["bob"].id, "en")
    assert [r.id for r in rows] == [world["bob_contract"].id]


@pytest.mark.parametrize("contract_id", ["bob", 999999, "abc", None, "1 OR 1=1"])
def test_another_accounts_contract_is_not_found_like_a_missing_one(session, world, contract_id):
    if contract_id == "bob":
        contract_id = world["bob_contract"].id
    with pytest.raises(ContractError) as caught:
        contracts.view(session, world["alice"].id, contract_id, "en")
    assert caught.value.msgid == contracts.NOT_FOUND
    with pytest.raises(ContractError) as caught:
        sign(session, world, contract_id=contract_id)
    assert caught.value.msgid == contracts.NOT_FOUND


def test_another_accounts_user_cannot_sign_with_his_own_password(session, world):
    # bob's session, asking for alice's contract: not found, and nothing signed.
    refused(session, world, contracts.NOT_FOUND, account_id=world["bob"].id,
            user_id=world["bob_user"].id)
    # A user id that is not on the account is refused as well.
    refused(session, world, contracts.NOT_FOUND, user_id=world["bob_user"].id)


# --- signing -----------------------------------------------------------------------------


def test_signing_stores_the_record_the_pdf_and_the_first_log_entry(session, world):
    shown = contracts.view(session, world["alice"].id, world["contract"].id, "en")
    result = sign(session, world, shown_text_sha256=shown.text_sha256)
    session.commit()

    contract = session.get(Contract, world["contract"].id)
    assert contract.status == "signed" and contract.signed_at is not None
    signature = session.exec(select(ContractSignature)).one()
    assert signature.text == shown.text and signature.text_sha256 == shown.text_sha256
    assert signature.typed_name == "Alice Tremblay" and signature.username == "alice"
    assert signature.ip == "198.51.100.7" and "Chromium" in signature.user_agent
    assert signature.consent_version == contracts.CONSENT_VERSION
    assert signature.timezone == "America/Toronto"

    path = config.get().data_dir / result.pdf_path
    content = path.read_bytes()
    assert contracts.sha256_hex(content) == result.pdf_sha256 == signature.pdf_sha256
    assert not os.stat(path).st_mode & 0o222  # read-only

    entry = session.exec(select(SignatureLogEntry)).one()
    assert entry.seq == 1 and entry.prev_hash == contracts.GENESIS_HASH
    assert entry.entry_hash == contracts.entry_hash(entry.prev_hash, entry.payload)
    assert contracts.verify(session).ok

    # After signing, the page shows exactly what was signed.
    after = contracts.view(session, world["alice"].id, world["contract"].id, "fr")
    assert after.status == "signed" and after.text == shown.text and after.language == "en"


def test_the_pdf_holds_the_text_signature_name_times_and_record(session, world):
    shown = contracts.view(session, world["alice"].id, world["contract"].id, "fr")
    result = sign(session, world, lang="fr", typed_name="Alice Tremblay-Côté",
                  now=datetime(2026, 11, 25, 15, 4, 5, tzinfo=timezone.utc))
    reader = PdfReader(config.get().data_dir / result.pdf_path)
    first = reader.pages[0].extract_text()
    record = reader.pages[-1].extract_text()
    assert "Conditions générales" in first
    assert "Accord entre Example Internet et Alice Tremblay" in first.replace("\n", " ")
    assert "Alice Tremblay-Côté" in first
    assert "2026-11-25 15:04:05 UTC" in first
    assert "10:04:05" in first and "America/Toronto" in first  # the ISP's zone (UTC-5)
    assert reader.pages[0].images, "the drawn signature is embedded"
    assert "Registre de signature" in record
    assert "200001 — Alice Tremblay" in record and "alice" in record
    assert "198.51.100.7" in record and "Mozilla/5.0 (Test) Chromium" in record
    assert contracts.CONSENT_VERSION in record
    assert shown.text_sha256 == result.text_sha256
    assert result.text_sha256 in record.replace("\n", "")


def test_a_copy_is_emailed_with_the_pdf_attached(session, world, smtp_server):
    from rxportal.services import mail

    result = sign(session, world)
    session.commit()
    outbox = session.exec(select(OutboxMail)).one()
    assert outbox.to_addr == "alice@example.net"
    assert outbox.attachments[0]["path"] == result.pdf_path
    assert mail.deliver(session, outbox.id)
    session.commit()
    [message] = smtp_server.to("alice@example.net")
    attachments = list(message.iter_attachments())
    assert attachments[0].get_content_type() == "application/pdf"
    assert attachments[0].get_filename() == f"terms-conditions-{world['contract'].id}.pdf"
    sent = attachments[0].get_content()
    assert contracts.sha256_hex(sent) == result.pdf_sha256
    assert result.pdf_sha256 in message.get_body(("plain",)).get_content()


def test_the_copy_is_not_emailed_when_the_isp_turns_it_off(session, world):
    from rxportal.services import settings

    settings.put(session, "contracts_email_copy", False)
    sign(session, world)
    assert session.exec(select(OutboxMail)).all() == []


def test_refused_without_consent(session, world):
    error = refused(session, world, contracts.CONSENT_MISSING, consent=False)
    assert error.field == "consent"


def test_refused_with_an_old_consent_version(session, world):
    refused(session, world, contracts.CONSENT_OUTDATED, consent_version="2020-01-1")


@pytest.mark.parametrize("typed_name,msgid", [
    ("", contracts.NAME_MISSING),
    ("   ", contracts.NAME_MISSING),
    ("x" * 121, contracts.NAME_TOO_LONG),
    ("Alice\u0000Tremblay", contracts.NAME_INVALID),
    ("Alice\u202eTremblay", contracts.NAME_INVALID),
    ("12345", contracts.NAME_INVALID),
])
def test_refused_without_a_proper_typed_name(session, world, typed_name, msgid):
    assert refused(session, world, msgid, typed_name=typed_name).field == "name"


@pytest.mark.parametrize("typed_name", [
    "<script>alert('x')</script> Alice",
    "Robert'); DROP TABLE contract;--",
])
def test_hostile_names_are_kept_as_plain_text(session, world, typed_name):
    result = sign(session, world, typed_name=typed_name)
    session.commit()
    signature = session.exec(select(ContractSignature)).one()
    assert signature.typed_name == typed_name
    assert session.exec(select(Contract)).all()  # the table is still there
    record = PdfReader(config.get().data_dir / result.pdf_path).pages[-1].extract_text()
    assert typed_name in record


def blank(color=(0, 0, 0, 0)):
    return png_data_url(Image.new("RGBA", (500, 160), color))


@pytest.mark.parametrize("data_url,msgid", [
    ("", contracts.SIGNATURE_MISSING),
    (None, contracts.SIGNATURE_MISSING),
    (blank(), contracts.SIGNATURE_MISSING),
    (blank((255, 255, 255, 255)), contracts.SIGNATURE_MISSING),
    ("data:image/jpeg;base64,/9j/4AAQSkZJRg==", contracts.SIGNATURE_INVALID),
    ("data:image/png;base64,not base64!!", contracts.SIGNATURE_INVALID),
    ("data:image/png;base64," + base64.b64encode(b"GIF89a" + b"0" * 100).decode(),
     contracts.SIGNATURE_INVALID),
    ("data:image/png;base64," + base64.b64encode(contracts.PNG_MAGIC + b"garbage").decode(),
     contracts.SIGNATURE_INVALID),
    ("<svg onload=alert(1)>", contracts.SIGNATURE_INVALID),
    ("data:image/png;base64," + "A" * (contracts.MAX_SIGNATURE_BYTES * 2),
     contracts.SIGNATURE_TOO_LARGE),
])
def test_refused_without_a_real_drawn_signature(session, world, data_url, msgid):
    assert refused(session, world, msgid, signature_data_url=data_url).field == "signature"


def test_a_huge_png_header_is_refused_before_decoding(session, world):
    image = Image.new("1", (20000, 20000), 0)  # small file, 400 million pixels
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    assert len(buffer.getvalue()) < contracts.MAX_SIGNATURE_BYTES
    url = contracts.DATA_URL_PREFIX + base64.b64encode(buffer.getvalue()).decode()
    refused(session, world, contracts.SIGNATURE_INVALID, signature_data_url=url)


def test_refused_without_the_password(session, world):
    assert refused(session, world, contracts.PASSWORD_MISSING, password="").field == "password"


def test_refused_with_a_wrong_password_and_throttled_after_five(session, world):
    for _ in range(contracts.MAX_SIGN_FAILURES):
        refused(session, world, contracts.PASSWORD_WRONG, password="wrong-password-1")
    # Now even the right password waits: guessing through the signing form is throttled.
    refused(session, world, contracts.THROTTLED)


def test_refused_when_already_signed(session, world):
    sign(session, world)
    session.commit()
    with pytest.raises(ContractError) as caught:
        sign(session, world)
    assert caught.value.msgid == contracts.ALREADY_SIGNED


def test_a_double_submit_gives_one_signature(session, world):
    sign(session, world)
    with pytest.raises(ContractError) as caught:
        sign(session, world)
    assert caught.value.msgid == contracts.ALREADY_SIGNED
    session.commit()
    assert len(session.exec(select(ContractSignature)).all()) == 1
    assert len(session.exec(select(SignatureLogEntry)).all()) == 1
    assert len(pdf_files()) == 1


def test_a_second_tab_that_saw_the_contract_pending_gets_already_signed(session, world):
    # This session loaded the contract while it was pending...
    assert session.get(Contract, world["contract"].id).status == "pending"
    # ...then another tab signed it and committed.
    with db.session_scope() as other:
        sign(other, world)
    # The stale copy still says pending: the database gate refuses the second signature.
    assert session.get(Contract, world["contract"].id).status == "pending"
    with pytest.raises(ContractError) as caught:
        sign(session, world)
    assert caught.value.msgid == contracts.ALREADY_SIGNED
    session.rollback()
    assert len(session.exec(select(ContractSignature)).all()) == 1
    assert len(pdf_files()) == 1


def test_refused_when_the_text_changed_since_it_was_shown(session, world):
    shown = contracts.view(session, world["alice"].id, world["contract"].id, "en")
    world["alice"].name = "Alice Renamed"
    session.add(world["alice"])
    session.flush()
    refused(session, world, contracts.TEXT_CHANGED, shown_text_sha256=shown.text_sha256)


# --- the log and its verification --------------------------------------------------------


def sign_three(session, world):
    results = [sign(session, world)]
    for _ in range(2):
        contract = contracts.issue(session, world["template"].id, world["alice"].id)
        results.append(sign(session, world, contract_id=contract.id))
    results.append(sign(session, world, account_id=world["bob"].id,
                        user_id=world["bob_user"].id, contract_id=world["bob_contract"].id,
                        typed_name="Bob Gagnon"))
    session.commit()
    return results


def test_each_entry_carries_the_hash_of_the_previous_one(session, world):
    sign_three(session, world)
    entries = session.exec(select(SignatureLogEntry).order_by(SignatureLogEntry.seq)).all()
    assert [e.seq for e in entries] == [1, 2, 3, 4]
    assert entries[0].prev_hash == contracts.GENESIS_HASH
    for previous, entry in zip(entries, entries[1:]):
        assert entry.prev_hash == previous.entry_hash
    result = contracts.verify(session)
    assert result.ok and result.entries == 4 and result.head == entries[-1].entry_hash


def test_the_log_and_records_refuse_changes_through_the_application(session, world):
    sign(session, world)
    session.commit()
    entry = session.exec(select(SignatureLogEntry)).one()
    entry.payload = entry.payload.replace("Alice", "Mallory")
    session.add(entry)
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    signature = session.exec(select(ContractSignature)).one()
    session.delete(signature)
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()


def test_verify_finds_a_pdf_changed_on_disk(session, world):
    results = sign_three(session, world)
    path = config.get().data_dir / results[1].pdf_path
    os.chmod(path, 0o644)
    content = bytearray(path.read_bytes())
    content[len(content) // 2] ^= 0x01  # one bit, somewhere in the middle
    path.write_bytes(bytes(content))
    result = contracts.verify(session)
    assert not result.ok
    assert [(p.seq, p.contract_id) for p in result.problems] == [(2, results[1].contract_id)]
    assert "was changed" in str(result.problems[0]) and "log entry 2" in str(result.problems[0])


def test_verify_finds_a_missing_pdf(session, world):
    results = sign_three(session, world)
    (config.get().data_dir / results[0].pdf_path).unlink()
    result = contracts.verify(session)
    assert [p.seq for p in result.problems] == [1] and "missing" in result.problems[0].message


def test_verify_finds_an_edited_log_entry(session, world):
    sign_three(session, world)
    session.exec(text("UPDATE signaturelogentry SET payload = replace(payload, "
                      "'198.51.100.7', '10.0.0.1') WHERE seq = 3"))
    session.commit()
    result = contracts.verify(session)
    assert {p.seq for p in result.problems} == {3}
    assert any("content was changed" in p.message for p in result.problems)


def test_verify_finds_an_entry_rewritten_with_a_fresh_hash(session, world):
    # A forger who edits entry 2 and recomputes its hash breaks the link to entry 3.
    sign_three(session, world)
    entry = session.exec(select(SignatureLogEntry).where(SignatureLogEntry.seq == 2)).one()
    payload = entry.payload.replace("Alice Tremblay", "Someone Else")
    new_hash = contracts.entry_hash(entry.prev_hash, payload)
    session.exec(text("UPDATE signaturelogentry SET payload = :p, entry_hash = :h "
                      "WHERE seq = 2").bindparams(p=payload, h=new_hash))
    session.commit()
    problems = contracts.verify(session).problems
    assert {p.seq for p in problems} == {2, 3}
    assert any(p.seq == 2 and "signature record" in p.message for p in problems)
    assert any(p.seq == 3 and "previous" in p.message for p in problems)


def test_verify_finds_a_deleted_entry_and_an_edited_record(session, world):
    sign_three(session, world)
    session.exec(text("DELETE FROM signaturelogentry WHERE seq = 2"))
    session.exec(text("UPDATE contractsignature SET text = text || ' (amended)' "
                      "WHERE id = 3"))
    session.commit()
    problems = contracts.verify(session).problems
    messages = [str(p) for p in problems]
    assert any("sequence number 3 where 2" in m for m in messages)
    assert any("signed text in the record was changed" in m for m in messages)
    assert any(p.seq is None and "no log entry" in p.message for p in problems)


# --- download -----------------------------------------------------------------------------


def test_the_owner_downloads_the_very_file_that_was_stored(session, world):
    result = sign(session, world)
    session.commit()
    name, content = contracts.signed_pdf(session, world["alice"].id, world["contract"].id)
    assert name == f"terms-conditions-{world['contract'].id}.pdf"
    assert contracts.sha256_hex(content) == result.pdf_sha256


def test_download_is_refused_for_another_account_and_for_a_pending_contract(session, world):
    sign(session, world)
    session.commit()
    for account, contract in [(world["bob"], world["contract"]),
                              (world["bob"], world["bob_contract"]),
                              (world["alice"], 424242)]:
        with pytest.raises(ContractError) as caught:
            contracts.signed_pdf(session, account.id, contract.id if hasattr(contract, "id")
                                 else contract)
        assert caught.value.msgid == contracts.NOT_FOUND


def test_a_tampered_copy_is_not_served(session, world):
    result = sign(session, world)
    session.commit()
    path = config.get().data_dir / result.pdf_path
    os.chmod(path, 0o644)
    path.write_bytes(path.read_bytes() + b"\n% appended")
    with pytest.raises(ContractError) as caught:
        contracts.signed_pdf(session, world["alice"].id, world["contract"].id)
    assert caught.value.msgid == contracts.COPY_UNVERIFIED


# --- CLI ----------------------------------------------------------------------------------


def test_cli_creates_templates_assigns_them_and_verifies(session, world, tmp_path, capsys):
    from rxportal.cli import main

    (tmp_path / "en.txt").write_text("Privacy notice for $account_name.", encoding="utf-8")
    (tmp_path / "fr.txt").write_text("Avis de confidentialité pour $account_name.",
                                     encoding="utf-8")
    assert main(["contracts", "template-create", "--code", "privacy", "--name-en", "Privacy",
                 "--name-fr", "Confidentialité", "--body-en", str(tmp_path / "en.txt"),
                 "--body-fr", str(tmp_path / "fr.txt")]) == 0
    assert main(["contracts", "template-list"]) == 0
    assert "privacy\tv1" in capsys.readouterr().out
    assert main(["contracts", "assign", "--code", "privacy", "--account", "200001",
                 "--account", "200002", "--issued-on", "2026-11-01"]) == 0
    assert main(["contracts", "assign", "--code", "privacy", "--account", "999999"]) == 2
    assert main(["contracts", "list", "--account", "200002"]) == 0
    out = capsys.readouterr().out
    assert "2026-11-01\tpending\tPrivacy" in out
    session.expire_all()
    assert len(contracts.list_for_account(session, world["alice"].id, "en")) == 2


def test_cli_refuses_a_template_with_an_unknown_placeholder(session, tmp_path, capsys):
    from rxportal.cli import main

    (tmp_path / "en.txt").write_text("Hello $nope", encoding="utf-8")
    assert main(["contracts", "template-create", "--code", "x", "--name-en", "X",
                 "--name-fr", "X", "--body-en", str(tmp_path / "en.txt"),
                 "--body-fr", str(tmp_path / "en.txt")]) == 2
    assert "$nope" in capsys.readouterr().err


def test_cli_verify_says_ok_then_names_the_bad_entry(session, world, capsys):
    from rxportal.cli import main

    results = sign_three(session, world)
    assert main(["contracts", "verify"]) == 0
    assert "OK: 4 log entries" in capsys.readouterr().out
    path = config.get().data_dir / results[2].pdf_path
    os.chmod(path, 0o644)
    path.write_bytes(b"%PDF-1.4 forged")
    assert main(["contracts", "verify"]) == 1
    err = capsys.readouterr().err
    assert f"BAD log entry 3 (contract {results[2].contract_id})" in err
    assert "1 problem(s) in 4 log entries" in err


# --- demo data ----------------------------------------------------------------------------


def test_demo_has_one_signed_and_one_pending_contract_that_verify(session):
    from rxportal.demo import load_all

    ctx = load_all(session)
    session.commit()
    rows = contracts.list_for_account(session, ctx["demo"].id, "en")
    assert sorted(r.status for r in rows) == ["pending", "signed"]
    signed = next(r for r in rows if r.status == "signed")
    name, content = contracts.signed_pdf(session, ctx["demo"].id, signed.id)
    assert content.startswith(b"%PDF")
    assert contracts.verify(session).ok
    demo2_rows = contracts.list_for_account(session, ctx["demo2"].id, "fr")
    assert [r.status for r in demo2_rows] == ["pending"]
    assert demo2_rows[0].name == "Conditions générales"


# --- the PDF's layout ---------------------------------------------------------------------


def test_a_long_contract_runs_over_pages_and_the_record_is_the_last_page(session, world):
    long_body = "\n\n".join(f"{n}. Clause for $account_name. " + "Lorem ipsum dolor sit amet. " * 12
                            for n in range(1, 40))
    template = contracts.create_template(session, "long", "Long", "Long", long_body, long_body)
    contract = contracts.issue(session, template.id, world["alice"].id)
    result = sign(session, world, contract_id=contract.id)
    reader = PdfReader(config.get().data_dir / result.pdf_path)
    assert len(reader.pages) >= 4
    text = "\n".join(p.extract_text() for p in reader.pages[:-1])
    assert "39. Clause for Alice Tremblay." in text
    assert "Typed name: Alice Tremblay" in text
    assert reader.pages[-1].extract_text().startswith("Signature record")


def test_without_a_unicode_font_the_pdf_still_renders(session, world, monkeypatch):
    monkeypatch.setattr(contracts, "FONT_CANDIDATES", ())
    monkeypatch.setenv("RXPORTAL_PDF_FONT", "/nonexistent/font.ttf")
    result = sign(session, world, typed_name="Zoë “Z” Tremblay")
    record = PdfReader(config.get().data_dir / result.pdf_path).pages[-1].extract_text()
    assert "Zoë ?Z? Tremblay" in record  # Latin-1 kept, the rest replaced
    assert result.text_sha256 in record.replace("\n", "")
