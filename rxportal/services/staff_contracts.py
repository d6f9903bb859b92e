"""Contracts in the staff console: templates (new, or a new version when edited: contracts keep
the version they were issued with), issuing a template to one account or many, and the
signature records with the signed PDF (served only after its hash check, as the customer's
download is).

Administrators edit and issue; support staff read the records and download signed PDFs
(areas "contracts" and "contract_records" in services/staff.py). Everything is audited.
services/contracts.py holds the rules (placeholders, text normalisation, the PDF, the log).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from rxportal.models import Account
from rxportal.models.contracts import Contract, ContractSignature, ContractTemplate
from rxportal.services import audit, contracts
from rxportal.services.i18n import N_
from rxportal.services.staff import CurrentStaff, actor_fields
from rxportal.services.staff_customers import StaffActionError, issue_contract

PAGE_SIZE = 25
MAX_ACCOUNT_LIST = 5_000  # account numbers typed or pasted at once
STATUSES = ("pending", "signed")


# --- templates --------------------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateSummary:
    code: str
    latest_id: int
    version: int
    name_en: str
    name_fr: str
    issued: int
    signed: int


def templates(session: Session) -> list[TemplateSummary]:
    """Each template's latest version, with how many contracts of any version were issued and
    signed."""
    counts = {code: (issued, signed) for code, issued, signed in session.exec(
        select(ContractTemplate.code, func.count(Contract.id),
               func.count(Contract.signed_at))
        .join(Contract, Contract.template_id == ContractTemplate.id)
        .group_by(ContractTemplate.code))}
    latest: dict[str, ContractTemplate] = {}
    for template in contracts.list_templates(session):  # by code, then version
        latest[template.code] = template
    return [TemplateSummary(code=t.code, latest_id=t.id, version=t.version, name_en=t.name_en,
                            name_fr=t.name_fr, issued=counts.get(t.code, (0, 0))[0],
                            signed=counts.get(t.code, (0, 0))[1]) for t in latest.values()]


def versions(session: Session, code: str) -> list[ContractTemplate]:
    """Every version of a template, newest first; LookupError when there is none."""
    rows = list(session.exec(select(ContractTemplate)
                             .where(ContractTemplate.code == (code or "").strip().lower()[:64])
                             .order_by(ContractTemplate.version.desc())))
    if not rows:
        raise LookupError("template not found")
    return rows


def _failed(error: contracts.TemplateError) -> StaffActionError:
    return StaffActionError(error.msgid, error.field, **error.values)


def save_template(session: Session, actor: CurrentStaff, code: str, name_en: str, name_fr: str,
                  body_en: str, body_fr: str, *, new: bool, ip: str = "") -> ContractTemplate:
    """A new template (`new`: the code must be free), or the next version of an existing one.
    The texts are checked as services/contracts.py checks them (placeholders, length)."""
    try:
        code = contracts.check_template_code(code)
    except contracts.TemplateError as error:
        raise _failed(error) from None
    latest = contracts.latest_template(session, code)
    if new and latest is not None:
        raise StaffActionError(N_("A template with this code exists already: edit it instead."),
                               "code")
    if not new and latest is None:
        raise LookupError("template not found")
    if latest is not None and _unchanged(latest, name_en, name_fr, body_en, body_fr):
        raise StaffActionError(N_("Nothing was changed, so no new version was made."))
    try:
        template = contracts.create_template(session, code, name_en, name_fr, body_en, body_fr)
    except contracts.TemplateError as error:
        raise _failed(error) from None
    audit.record(session, "contract_template_saved", target=f"contract_template:{template.id}",
                 code=code, version=template.version,
                 before={"version": latest.version, "name_en": latest.name_en,
                         "name_fr": latest.name_fr} if latest else {},
                 after={"version": template.version, "name_en": template.name_en,
                        "name_fr": template.name_fr},
                 **actor_fields(actor, ip))
    return template


def _unchanged(latest: ContractTemplate, name_en: str, name_fr: str, body_en: str,
               body_fr: str) -> bool:
    def name(text: str) -> str:
        return " ".join((text or "").split())

    return (name(name_en), name(name_fr), contracts.normalize_text(body_en or ""),
            contracts.normalize_text(body_fr or "")) == (latest.name_en, latest.name_fr,
                                                         latest.body_en, latest.body_fr)


# --- issuing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssueResult:
    issued: int
    skipped: int  # accounts that already have this version, pending or signed


def parse_account_numbers(text: str) -> list[str]:
    """Account numbers separated by commas, spaces or new lines; StaffActionError when none or
    when one is not an account number's shape."""
    numbers = [n for n in re.split(r"[\s,;]+", text or "") if n]
    if not numbers:
        raise StaffActionError(N_("Enter one or more account numbers, or choose all active "
                                  "accounts."), "accounts")
    if len(numbers) > MAX_ACCOUNT_LIST:
        raise StaffActionError(N_("At most {limit} account numbers at once."), "accounts",
                               limit=MAX_ACCOUNT_LIST)
    bad = [n for n in numbers if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", n)]
    if bad:
        raise StaffActionError(N_("This is not an account number: {number}"), "accounts",
                               number=bad[0][:32])
    return list(dict.fromkeys(numbers))


def issue_template(session: Session, actor: CurrentStaff, template_id: int,
                   account_numbers: str = "", all_active: bool = False,
                   ip: str = "") -> IssueResult:
    """Issue one template version to the listed accounts (or every active account). Accounts
    that already have this version, pending or signed, are skipped, so a repeated submission
    issues nothing twice; the account page's "Issue" re-issues on purpose."""
    template = session.get(ContractTemplate, template_id) if template_id else None
    if template is None:
        raise StaffActionError(N_("Choose a contract."), "template")
    if all_active:
        account_ids = list(session.exec(select(Account.id).where(Account.status == "active")
                                        .order_by(Account.id)))
    else:
        numbers = parse_account_numbers(account_numbers)
        found = dict(session.exec(select(Account.number, Account.id)
                                  .where(Account.number.in_(numbers))).all())
        missing = [n for n in numbers if n not in found]
        if missing:
            raise StaffActionError(N_("No account has the number {number}."), "accounts",
                                   number=missing[0])
        account_ids = [found[n] for n in numbers]
    already = set(session.exec(select(Contract.account_id)
                               .where(Contract.template_id == template.id)))
    to_issue = [a for a in account_ids if a not in already]
    for account_id in to_issue:
        issue_contract(session, actor, account_id, template.id, ip)
    audit.record(session, "contracts_issued", target=f"contract_template:{template.id}",
                 code=template.code, version=template.version, issued=len(to_issue),
                 skipped=len(account_ids) - len(to_issue), all_active=all_active,
                 **actor_fields(actor, ip))
    return IssueResult(issued=len(to_issue), skipped=len(account_ids) - len(to_issue))


# --- signature records ------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRow:
    contract_id: int
    account_number: str
    account_name: str
    template_name: str
    version: int
    issued_on: object
    status: str
    signed_at: datetime | None


@dataclass(frozen=True)
class RecordPage:
    rows: list[RecordRow]
    total: int
    page: int
    pages: int


def records(session: Session, lang: str, status: str = "", code: str = "",
            page: int = 1) -> RecordPage:
    """Issued contracts, newest first, paged in SQL; filtered by status and template code."""
    query = (select(Contract, ContractTemplate, Account)
             .join(ContractTemplate, ContractTemplate.id == Contract.template_id)
             .join(Account, Account.id == Contract.account_id))
    counting = (select(func.count()).select_from(Contract)
                .join(ContractTemplate, ContractTemplate.id == Contract.template_id))
    if status in STATUSES:
        query = query.where(Contract.status == status)
        counting = counting.where(Contract.status == status)
    if code:
        query = query.where(ContractTemplate.code == code[:64])
        counting = counting.where(ContractTemplate.code == code[:64])
    total = int(session.exec(counting).one())
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(int(page), 1), pages)
    rows = session.exec(query.order_by(Contract.id.desc())
                        .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    return RecordPage(
        rows=[RecordRow(contract_id=c.id, account_number=a.number, account_name=a.name,
                        template_name=contracts.template_name(t, lang), version=t.version,
                        issued_on=c.issued_on, status=c.status, signed_at=c.signed_at)
              for c, t, a in rows],
        total=total, page=page, pages=pages)


@dataclass(frozen=True)
class SignatureRecord:
    contract_id: int
    account_id: int
    account_number: str
    account_name: str
    template_code: str
    template_name: str
    version: int
    issued_on: object
    status: str
    # Only when signed:
    typed_name: str = ""
    username: str = ""
    signed_utc: str = ""
    signed_local: str = ""
    ip: str = ""
    user_agent: str = ""
    language: str = ""
    consent_version: str = ""
    consent_text: str = ""
    text_sha256: str = ""
    signature_png_sha256: str = ""
    pdf_sha256: str = ""
    log_seq: int = 0


def record(session: Session, contract_id: int, lang: str) -> SignatureRecord:
    """A contract's status and, once signed, its whole signature record."""
    row = session.exec(select(Contract, ContractTemplate, Account)
                       .join(ContractTemplate, ContractTemplate.id == Contract.template_id)
                       .join(Account, Account.id == Contract.account_id)
                       .where(Contract.id == contract_id)).first()
    if row is None:
        raise LookupError("contract not found")
    contract, template, account = row
    base = dict(contract_id=contract.id, account_id=account.id, account_number=account.number,
                account_name=account.name, template_code=template.code,
                template_name=contracts.template_name(template, lang), version=template.version,
                issued_on=contract.issued_on, status=contract.status)
    signature = session.exec(select(ContractSignature)
                             .where(ContractSignature.contract_id == contract.id)).first()
    if signature is None:
        return SignatureRecord(**base)
    from rxportal.models.contracts import SignatureLogEntry

    utc, local = contracts.format_times(signature.signed_at, signature.timezone, lang)
    seq = session.exec(select(SignatureLogEntry.seq)
                       .where(SignatureLogEntry.signature_id == signature.id)).first()
    return SignatureRecord(
        **base, typed_name=signature.typed_name, username=signature.username, signed_utc=utc,
        signed_local=local, ip=signature.ip, user_agent=signature.user_agent,
        language=signature.language, consent_version=signature.consent_version,
        consent_text=signature.consent_text, text_sha256=signature.text_sha256,
        signature_png_sha256=signature.signature_png_sha256, pdf_sha256=signature.pdf_sha256,
        log_seq=seq or 0)


def signed_pdf(session: Session, actor: CurrentStaff, contract_id: int,
               ip: str = "") -> tuple[str, bytes]:
    """The stored signed PDF, only when it still matches its recorded SHA-256 (as the
    customer's download). LookupError when not found or not signed; StaffActionError when the
    stored copy fails its check. Each download is audited."""
    contract = session.get(Contract, contract_id) if contract_id else None
    if contract is None:
        raise LookupError("contract not found")
    try:
        filename, content = contracts.signed_pdf(session, contract.account_id, contract.id)
    except contracts.ContractError as error:
        if error.msgid == contracts.COPY_UNVERIFIED:
            audit.record(session, "contract_pdf_check_failed", target=f"contract:{contract.id}",
                         **actor_fields(actor, ip))
            raise StaffActionError(N_("The stored PDF does not match its recorded SHA-256: it "
                                      "was not served. Run `rxportal contracts verify`.")) from None
        raise LookupError("contract not signed") from None
    audit.record(session, "contract_pdf_downloaded", target=f"contract:{contract.id}",
                 account_id=contract.account_id, **actor_fields(actor, ip))
    return filename, content

