"""Contracts in the staff console: templates created and edited (a new version each time; issued
contracts keep theirs), issuing to one account or many, signature records and the signed PDF
served only after its hash check. Everything audited."""
from __future__ import annotations

import pytest
from sqlmodel import select

from rxportal import config
from rxportal.models import AuditLog
from rxportal.models.contracts import Contract, ContractTemplate
from rxportal.services import contracts, staff_contracts
from rxportal.services.staff import CurrentStaff
from rxportal.services.staff_customers import StaffActionError
from tests.unit.test_contracts import make_customer, sign, world  # noqa: F401 - fixture

ADMIN = CurrentStaff(staff_id=1, username="alice-admin", role="administrator", session_id=1)


def save(session, code="terms", new=False, **texts):
    values = dict(name_en="Terms & Conditions", name_fr="Conditions générales",
                  body_en="Version two for $account_name.", body_fr="Version deux pour $account_name.")
    values.update(texts)
    return staff_contracts.save_template(session, ADMIN, code, new=new, **values)


def actions(session) -> list[str]:
    return [a.action for a in session.exec(select(AuditLog).order_by(AuditLog.id))]


def test_editing_makes_a_new_version_and_issued_contracts_keep_theirs(session, world):
    first_id = world["template"].id
    second = save(session)
    session.commit()
    assert second.version == 2 and second.id != first_id
    assert session.get(Contract, world["contract"].id).template_id == first_id
    view = contracts.view(session, world["alice"].id, world["contract"].id, "en")
    assert view.text.startswith("Agreement between")  # still version 1's text
    assert [t.version for t in staff_contracts.versions(session, "terms")] == [2, 1]
    summary = staff_contracts.templates(session)[0]
    assert (summary.version, summary.issued, summary.signed) == (2, 2, 0)
    saved = session.exec(select(AuditLog).where(AuditLog.action == "contract_template_saved")).one()
    assert saved.actor_name == "alice-admin" and saved.detail["before"]["version"] == 1


def test_saving_the_same_text_again_makes_no_version(session, world):
    save(session)
    session.commit()
    with pytest.raises(StaffActionError, match="Nothing was changed"):
        save(session, body_en="Version two for $account_name.  \r\n")  # same once normalised
    assert [t.version for t in staff_contracts.versions(session, "terms")] == [2, 1]


@pytest.mark.parametrize("texts,field", [
    ({"name_en": ""}, "name_en"),
    ({"name_fr": "x" * 121}, "name_fr"),
    ({"body_en": "   "}, "body_en"),
    ({"body_fr": "Bonjour $password_hash"}, "body_fr"),
    ({"body_en": "x" * (contracts.MAX_BODY + 1)}, "body_en"),
])
def test_bad_templates_are_refused_naming_the_field(session, world, texts, field):
    with pytest.raises(StaffActionError) as refused:
        save(session, **texts)
    assert refused.value.field == field
    assert session.exec(select(ContractTemplate)).all() == [world["template"]]


def test_a_new_template_needs_a_free_well_formed_code(session, world):
    with pytest.raises(StaffActionError) as refused:
        save(session, code="terms", new=True)
    assert refused.value.field == "code"
    for bad in ("", "Bad Code", "<script>", "x" * 65, "'; DROP TABLE contract;--"):
        with pytest.raises(StaffActionError) as refused:
            save(session, code=bad, new=True)
        assert refused.value.field == "code"
    created = save(session, code="privacy", new=True)
    assert (created.code, created.version) == ("privacy", 1)
    with pytest.raises(LookupError):
        save(session, code="missing")


def test_hostile_text_is_stored_as_text(session, world):
    hostile = "<script>alert(1)</script> <img src=x onerror=alert(1)> for $account_name"
    template = save(session, body_en=hostile)
    assert template.body_en == hostile  # rendered as text by Reflex, never as HTML


def test_issue_to_listed_accounts_skips_those_that_have_the_version(session, world):
    carol, _ = make_customer(session, "200003", "Carol Roy", "carol")
    session.commit()
    template = world["template"]
    result = staff_contracts.issue_template(session, ADMIN, template.id, "200001, 200003\n200003")
    assert (result.issued, result.skipped) == (1, 1)
    assert session.exec(select(Contract).where(Contract.account_id == carol.id)).one()
    again = staff_contracts.issue_template(session, ADMIN, template.id, "200003")
    assert (again.issued, again.skipped) == (0, 1)  # a double click issues nothing twice
    assert "contracts_issued" in actions(session)
    assert "contract_issued_by_staff" in actions(session)


def test_issue_to_every_active_account(session, world):
    second = save(session)
    make_customer(session, "200003", "Carol Roy", "carol")
    session.commit()
    result = staff_contracts.issue_template(session, ADMIN, second.id, all_active=True)
    assert (result.issued, result.skipped) == (3, 0)


@pytest.mark.parametrize("numbers,msgid", [
    ("", "Enter one or more account numbers, or choose all active accounts."),
    ("  ,\n ", "Enter one or more account numbers, or choose all active accounts."),
    ("200001 <script>", "This is not an account number: {number}"),
    ("200001 999999", "No account has the number {number}."),
    ("1 " * 5001, "At most {limit} account numbers at once."),
])
def test_issuing_refuses_bad_account_lists_and_issues_nothing(session, world, numbers, msgid):
    before = len(session.exec(select(Contract)).all())
    with pytest.raises(StaffActionError) as refused:
        staff_contracts.issue_template(session, ADMIN, world["template"].id, numbers)
    assert refused.value.msgid == msgid and refused.value.field == "accounts"
    assert len(session.exec(select(Contract)).all()) == before


def test_issuing_an_unknown_template_is_refused(session, world):
    with pytest.raises(StaffActionError) as refused:
        staff_contracts.issue_template(session, ADMIN, 9999, "200001")
    assert refused.value.field == "template"


def test_records_are_paged_and_filtered(session, world):
    page = staff_contracts.records(session, "en")
    assert page.total == 2 and {r.account_number for r in page.rows} == {"200001", "200002"}
    sign(session, world)
    session.commit()
    signed = staff_contracts.records(session, "fr", status="signed")
    assert [(r.account_number, r.template_name, r.version) for r in signed.rows] == [
        ("200001", "Conditions générales", 1)]
    assert staff_contracts.records(session, "en", code="nothing").total == 0
    assert staff_contracts.records(session, "en", page=99).page == 1


def test_the_signature_record_has_who_when_where_and_the_hashes(session, world):
    pending = staff_contracts.record(session, world["contract"].id, "en")
    assert pending.status == "pending" and pending.typed_name == "" and pending.pdf_sha256 == ""
    sign(session, world)
    session.commit()
    record = staff_contracts.record(session, world["contract"].id, "en")
    assert record.status == "signed"
    assert record.typed_name == "Alice Tremblay" and record.username == "alice"
    assert record.ip == "198.51.100.7" and "Chromium" in record.user_agent
    assert record.signed_utc.endswith(" UTC") and "(America/Toronto)" in record.signed_local
    assert record.consent_version == contracts.CONSENT_VERSION
    assert len(record.text_sha256) == len(record.pdf_sha256) == 64
    assert record.log_seq == 1
    with pytest.raises(LookupError):
        staff_contracts.record(session, 9999, "en")


def test_the_signed_pdf_is_served_after_its_hash_check_and_audited(session, world):
    with pytest.raises(LookupError):  # not signed yet
        staff_contracts.signed_pdf(session, ADMIN, world["contract"].id)
    sign(session, world)
    session.commit()
    filename, content = staff_contracts.signed_pdf(session, ADMIN, world["contract"].id)
    record = staff_contracts.record(session, world["contract"].id, "en")
    assert filename.endswith(".pdf") and content.startswith(b"%PDF")
    assert contracts.sha256_hex(content) == record.pdf_sha256
    assert "contract_pdf_downloaded" in actions(session)
    path = next((config.get().data_dir / "contracts").rglob("*.pdf"))
    path.chmod(0o600)
    path.write_bytes(content[:-1] + bytes([content[-1] ^ 1]))  # one bit flipped
    with pytest.raises(StaffActionError, match="does not match"):
        staff_contracts.signed_pdf(session, ADMIN, world["contract"].id)
    assert "contract_pdf_check_failed" in actions(session)
    with pytest.raises(LookupError):
        staff_contracts.signed_pdf(session, ADMIN, 0)
