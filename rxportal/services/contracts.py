"""Contracts: templates in English and French, contracts issued to accounts, electronic
signatures (consent, typed name, drawn signature, password re-check), the signed PDF, and an
append-only, hash-chained signature log that `rxportal contracts verify` checks.

A signed contract is evidence the ISP may need years later. What was signed (the filled text,
its SHA-256), by whom (account, user, typed name, drawn signature), when (UTC and the ISP's
time zone) and how (IP address, browser, consent text and version) is kept in three places that
check each other: the signature record, the PDF (stored once, with its SHA-256, never changed)
and the log entry, whose hash covers the previous entry's hash.

Errors are raised as ContractError carrying an English msgid that the caller translates.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import os
import re
import string
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from rxportal import config
from rxportal.models import Account, AccountService, LoginAttempt, PortalUser, utcnow
from rxportal.models.contracts import (Contract, ContractSignature, ContractTemplate,
                                       SignatureLogEntry)
from rxportal.services import audit, i18n, mail, passwords
from rxportal.services.i18n import N_
from rxportal.services import settings as isp_settings

# --- rules ------------------------------------------------------------------------------

# The consent statement the customer ticks. Changing its wording means a new version here (and
# its French in locales/fr/contracts.po): each signature records the version and the text.
CONSENT_VERSION = "2026-11-1"
CONSENT_TEXT = N_(
    "I agree to sign this contract electronically. My typed name and my drawn signature have "
    "the same effect as my handwritten signature, and I have read the whole text above."
)
MAX_NAME = 120
MAX_SIGNATURE_BYTES = 512 * 1024  # decoded PNG; a heavy scribble on a phone is ~190 KB
MAX_SIGNATURE_PIXELS = 4096 * 4096
MAX_BODY = 100_000
MAX_TEMPLATE_NAME = 120
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"
GENESIS_HASH = "0" * 64
PDF_FOLDER = "contracts"
SIGN_FAILURE_KIND = "sign"
MAX_SIGN_FAILURES = 5
SIGN_FAILURE_WINDOW = timedelta(minutes=15)
LOG_APPEND_ATTEMPTS = 8

# What a template may contain, as $name or ${name}.
PLACEHOLDERS = ("account_name", "account_number", "account_email", "isp_name", "issue_date",
                "services")

NOT_FOUND = N_("This contract was not found.")
ALREADY_SIGNED = N_("This contract is already signed.")
CONSENT_MISSING = N_("Tick the box to agree to sign electronically.")
CONSENT_OUTDATED = N_("The consent statement has changed. Reload the page and read it again.")
NAME_MISSING = N_("Type your full name.")
NAME_TOO_LONG = N_("Your name is too long (at most 120 characters).")
NAME_INVALID = N_("Type your name with letters, without control characters.")
SIGNATURE_MISSING = N_("Draw your signature in the box.")
SIGNATURE_INVALID = N_("The signature image could not be read. Clear the box and sign again.")
SIGNATURE_TOO_LARGE = N_("The signature image is too large. Clear the box and sign again.")
PASSWORD_MISSING = N_("Enter your password.")
PASSWORD_WRONG = N_("The password is incorrect.")
THROTTLED = N_("Too many attempts. Please wait a few minutes and try again.")
TEXT_CHANGED = N_("The contract text has changed since you opened it. Reload the page and read it again.")
TRY_AGAIN = N_("Your signature could not be recorded just now. Please press Sign again.")
COPY_UNVERIFIED = N_("The stored copy of this contract could not be verified. Please contact us.")

STATUS_LABELS = {"pending": N_("Pending Signature"), "signed": N_("Signed")}

isp_settings.register("contracts_email_copy", True)


class ContractError(Exception):
    def __init__(self, msgid: str, field: str = ""):
        super().__init__(msgid)
        self.msgid = msgid
        self.field = field


class LogBusy(RuntimeError):
    """The signature log could not take the entry after several tries (heavy contention)."""


class TemplateError(ValueError):
    """A template the CLI (or staff) tried to create is not valid: `msgid` (English, with
    {placeholders} filled from `values`) says why, `field` names the input (name_en, body_fr...).
    str() is the English message, as the CLI prints it."""

    def __init__(self, msgid: str, field: str = "", **values):
        super().__init__(msgid.format(**values))
        self.msgid, self.field, self.values = msgid, field, values


# --- helpers ----------------------------------------------------------------------------


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def normalize_text(text: str) -> str:
    """One form for hashing: Unicode NFC, \\n line ends, no trailing blanks."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n".join(line.rstrip() for line in text.split("\n")).strip("\n")


def _language(lang: str) -> str:
    return "fr" if i18n.normalize_language(lang) == "fr" else "en"


def pdf_root() -> Path:
    return config.get().data_dir / PDF_FOLDER


# --- templates and issuing --------------------------------------------------------------


def _check_body(body: str, field: str) -> str:
    body = normalize_text(body or "")
    if not body:
        raise TemplateError(N_("Enter the text of the contract."), field)
    if len(body) > MAX_BODY:
        raise TemplateError(N_("The text is longer than {limit} characters."), field,
                            limit=MAX_BODY)
    unknown = sorted(set(string.Template(body).get_identifiers()) - set(PLACEHOLDERS))
    if unknown:
        raise TemplateError(N_("Unknown placeholders: {unknown}. Known: {known}."), field,
                            unknown=", ".join("$" + name for name in unknown),
                            known=", ".join("$" + p for p in PLACEHOLDERS))
    return body


def check_template_code(code: str) -> str:
    code = (code or "").strip().lower()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", code):
        raise TemplateError(N_("Use 1 to 64 lowercase letters, digits, - or _ for the code."),
                            "code")
    return code


def create_template(session: Session, code: str, name_en: str, name_fr: str, body_en: str,
                    body_fr: str) -> ContractTemplate:
    """A new template, or a new version of the template with this code."""
    code = check_template_code(code)
    names = []
    for field, name in (("name_en", name_en), ("name_fr", name_fr)):
        name = " ".join((name or "").split())
        if not name or len(name) > MAX_TEMPLATE_NAME:
            raise TemplateError(N_("Enter a name of 1 to {limit} characters."), field,
                                limit=MAX_TEMPLATE_NAME)
        names.append(name)
    bodies = [_check_body(body_en, "body_en"), _check_body(body_fr, "body_fr")]
    latest = session.exec(select(func.max(ContractTemplate.version))
                          .where(ContractTemplate.code == code)).one()
    template = ContractTemplate(code=code, version=(latest or 0) + 1, name_en=names[0],
                                name_fr=names[1], body_en=bodies[0], body_fr=bodies[1])
    session.add(template)
    session.flush()
    audit.record(session, "contract_template_created", actor_type="system",
                 target=f"contract_template:{template.id}", code=code, version=template.version)
    return template


def list_templates(session: Session) -> list[ContractTemplate]:
    return list(session.exec(select(ContractTemplate)
                             .order_by(ContractTemplate.code, ContractTemplate.version)))


def latest_template(session: Session, code: str) -> ContractTemplate | None:
    return session.exec(select(ContractTemplate).where(ContractTemplate.code == code.lower())
                        .order_by(ContractTemplate.version.desc()).limit(1)).first()


def issue(session: Session, template_id: int, account_id: int,
          issued_on: date | None = None) -> Contract:
    """Issue a contract to an account (again, if it was issued before: it is signed again)."""
    if session.get(ContractTemplate, template_id) is None:
        raise LookupError(f"no contract template {template_id}")
    if session.get(Account, account_id) is None:
        raise LookupError(f"no account {account_id}")
    contract = Contract(account_id=account_id, template_id=template_id,
                        issued_on=issued_on or utcnow().date())
    session.add(contract)
    session.flush()
    audit.record(session, "contract_issued", actor_type="system",
                 target=f"account:{account_id}", contract_id=contract.id,
                 template_id=template_id)
    return contract


# --- what the customer sees -------------------------------------------------------------


@dataclass(frozen=True)
class ContractRow:
    id: int
    name: str
    issued_on: date
    status: str  # pending | signed
    signed_at: datetime | None


@dataclass(frozen=True)
class ContractView:
    id: int
    name: str
    issued_on: date
    status: str
    language: str
    text: str
    text_sha256: str
    consent_text: str
    consent_version: str


def template_name(template: ContractTemplate, lang: str) -> str:
    return template.name_fr if _language(lang) == "fr" else template.name_en


def list_for_account(session: Session, account_id: int, lang: str) -> list[ContractRow]:
    rows = session.exec(
        select(Contract, ContractTemplate)
        .join(ContractTemplate, ContractTemplate.id == Contract.template_id)
        .where(Contract.account_id == account_id)
        .order_by(Contract.issued_on.desc(), Contract.id.desc())
    ).all()
    return [ContractRow(id=c.id, name=template_name(t, lang), issued_on=c.issued_on,
                        status=c.status, signed_at=c.signed_at) for c, t in rows]


def _owned(session: Session, account_id: int, contract_id) -> tuple[Contract, ContractTemplate]:
    """The contract if it belongs to the account; anything else is "not found"."""
    try:
        contract_id = int(contract_id)
    except (TypeError, ValueError):
        raise ContractError(NOT_FOUND) from None
    row = session.exec(
        select(Contract, ContractTemplate)
        .join(ContractTemplate, ContractTemplate.id == Contract.template_id)
        .where(Contract.id == contract_id, Contract.account_id == account_id)
    ).first()
    if row is None:
        raise ContractError(NOT_FOUND)
    return row


def fill(session: Session, template: ContractTemplate, account: Account, contract: Contract,
         lang: str) -> str:
    """The template's text in a language, filled with the account's details."""
    lang = _language(lang)
    services = session.exec(select(AccountService.name)
                            .where(AccountService.account_id == account.id,
                                   AccountService.status == "active")
                            .order_by(AccountService.id)).all()
    values = {
        "account_name": account.name,
        "account_number": account.number,
        "account_email": account.email,
        "isp_name": isp_settings.get(session, "isp_name"),
        "issue_date": i18n.format_day(contract.issued_on, lang,
                                      isp_settings.get(session, "country")),
        "services": ", ".join(services) or "—",
    }
    body = template.body_fr if lang == "fr" else template.body_en
    return normalize_text(string.Template(body).safe_substitute(values))


def consent_text(lang: str) -> str:
    return i18n.translate(_language(lang), CONSENT_TEXT)


def view(session: Session, account_id: int, contract_id, lang: str) -> ContractView:
    contract, template = _owned(session, account_id, contract_id)
    lang = _language(lang)
    if contract.status == "signed":
        signature = _signature_of(session, contract.id)
        text, language = signature.text, signature.language
        name, consent = signature.title, signature.consent_text
        consent_version = signature.consent_version
    else:
        account = session.get(Account, account_id)
        text, language = fill(session, template, account, contract, lang), lang
        name, consent, consent_version = template_name(template, lang), consent_text(lang), \
            CONSENT_VERSION
    return ContractView(id=contract.id, name=name, issued_on=contract.issued_on,
                        status=contract.status, language=language, text=text,
                        text_sha256=sha256_hex(text), consent_text=consent,
                        consent_version=consent_version)


def _signature_of(session: Session, contract_id: int) -> ContractSignature:
    return session.exec(select(ContractSignature)
                        .where(ContractSignature.contract_id == contract_id)).one()


# --- the drawn signature ----------------------------------------------------------------


def decode_signature(data_url: str) -> bytes:
    """The PNG bytes of the pad's data URL, checked: size, PNG header, a readable image of
    sane dimensions, and some ink on it (not a blank pad)."""
    from PIL import Image, ImageChops, UnidentifiedImageError

    data_url = (data_url or "").strip()
    if not data_url:
        raise ContractError(SIGNATURE_MISSING, "signature")
    if not data_url.startswith(DATA_URL_PREFIX):
        raise ContractError(SIGNATURE_INVALID, "signature")
    encoded = data_url[len(DATA_URL_PREFIX):]
    if len(encoded) > (MAX_SIGNATURE_BYTES * 4) // 3 + 4:
        raise ContractError(SIGNATURE_TOO_LARGE, "signature")
    try:
        png = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise ContractError(SIGNATURE_INVALID, "signature") from None
    if len(png) > MAX_SIGNATURE_BYTES:
        raise ContractError(SIGNATURE_TOO_LARGE, "signature")
    if not png.startswith(PNG_MAGIC):
        raise ContractError(SIGNATURE_INVALID, "signature")
    try:
        with Image.open(io.BytesIO(png)) as image:
            if image.format != "PNG":
                raise ContractError(SIGNATURE_INVALID, "signature")
            width, height = image.size
            if not (10 <= width <= 4096 and 10 <= height <= 4096) or \
                    width * height > MAX_SIGNATURE_PIXELS:
                raise ContractError(SIGNATURE_INVALID, "signature")
            image.load()
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ContractError(SIGNATURE_INVALID, "signature") from None
    # Ink is any pixel that differs from the background (the top-left corner's colour).
    background = Image.new("RGBA", rgba.size, rgba.getpixel((0, 0)))
    box = ImageChops.difference(rgba, background).getbbox()
    if box is None or (box[2] - box[0]) * (box[3] - box[1]) < 4:
        raise ContractError(SIGNATURE_MISSING, "signature")
    return png


def clean_typed_name(typed_name: str) -> str:
    name = " ".join((typed_name or "").split())
    if not name:
        raise ContractError(NAME_MISSING, "name")
    if len(name) > MAX_NAME:
        raise ContractError(NAME_TOO_LONG, "name")
    if any(unicodedata.category(ch).startswith("C") for ch in name) or \
            not any(ch.isalpha() for ch in name):
        raise ContractError(NAME_INVALID, "name")
    return unicodedata.normalize("NFC", name)


# --- signing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedContract:
    contract_id: int
    signature_id: int
    pdf_path: str
    pdf_sha256: str
    text_sha256: str
    log_seq: int
    entry_hash: str
    emailed: bool = False


def _sign_throttled(session: Session, user: PortalUser) -> bool:
    count = session.exec(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.kind == SIGN_FAILURE_KIND, LoginAttempt.username == user.username,
               LoginAttempt.at >= utcnow() - SIGN_FAILURE_WINDOW)).one()
    return int(count) >= MAX_SIGN_FAILURES


def _note_sign_failure(user: PortalUser, ip: str) -> None:
    """Written in its own transaction: the caller's is rolled back by the error."""
    from rxportal import db

    with Session(db.get_engine()) as own:
        own.add(LoginAttempt(kind=SIGN_FAILURE_KIND, username=user.username[:254], ip=ip[:64]))
        own.commit()


def sign(session: Session, *, account_id: int, user_id: int, contract_id, lang: str,
         typed_name: str, consent: bool, consent_version: str, password: str,
         signature_data_url: str, shown_text_sha256: str = "", ip: str = "",
         user_agent: str = "", email_copy: bool | None = None,
         now: datetime | None = None) -> SignedContract:
    """Sign a pending contract of the account. Checks, in order: the contract is the account's
    (else "not found") and pending; consent ticked (current version); typed name; drawn
    signature; password. Then writes the PDF, the signature record and the log entry, and
    queues a copy by e-mail, in the caller's transaction. A second call for the same contract
    (a double submit, another tab) is refused: the contract is signed once."""
    contract, template = _owned(session, account_id, contract_id)
    if contract.status != "pending":
        raise ContractError(ALREADY_SIGNED)
    user = session.get(PortalUser, user_id)
    if user is None or user.account_id != account_id or user.disabled:
        raise ContractError(NOT_FOUND)
    if not consent:
        raise ContractError(CONSENT_MISSING, "consent")
    if consent_version != CONSENT_VERSION:
        raise ContractError(CONSENT_OUTDATED, "consent")
    name = clean_typed_name(typed_name)
    png = decode_signature(signature_data_url)
    if not password:
        raise ContractError(PASSWORD_MISSING, "password")
    if _sign_throttled(session, user):
        raise ContractError(THROTTLED, "password")
    if not passwords.verify_password(password, user.password_hash):
        _note_sign_failure(user, ip)
        raise ContractError(PASSWORD_WRONG, "password")

    lang = _language(lang)
    account = session.get(Account, account_id)
    text = fill(session, template, account, contract, lang)
    text_sha = sha256_hex(text)
    if shown_text_sha256 and shown_text_sha256 != text_sha:
        raise ContractError(TEXT_CHANGED)

    # The gate: exactly one caller turns this contract from pending to signed.
    signed_at = (now or utcnow()).replace(microsecond=0)
    claimed = session.exec(  # type: ignore[call-overload]
        update(Contract).where(Contract.id == contract.id, Contract.status == "pending")
        .values(status="signed", signed_at=signed_at))
    if claimed.rowcount != 1:
        raise ContractError(ALREADY_SIGNED)

    tz = isp_settings.get(session, "timezone") or "UTC"
    record = {
        "contract_id": contract.id,
        "template": f"{template.code} v{template.version}",
        "account_id": account.id,
        "account": f"{account.number} — {account.name}",
        "user_id": user.id,
        "username": user.username,
        "typed_name": name,
        "language": lang,
        "title": template_name(template, lang),
        "signed_at": signed_at.isoformat(),
        "timezone": tz,
        "ip": (ip or "")[:64],
        "user_agent": (user_agent or "")[:300],
        "consent_version": CONSENT_VERSION,
        "consent_text": consent_text(lang),
        "text_sha256": text_sha,
        "signature_png_sha256": sha256_hex(png),
    }
    pdf_bytes = render_pdf(text=text, record=record, signature_png=png,
                           isp_name=isp_settings.get(session, "isp_name"),
                           country=isp_settings.get(session, "country"))
    pdf_sha = sha256_hex(pdf_bytes)
    relative = Path(PDF_FOLDER) / str(account.id) / \
        f"contract-{contract.id}-{signed_at:%Y%m%dT%H%M%SZ}-{pdf_sha[:12]}.pdf"
    absolute = config.get().data_dir / relative
    created = _write_once(absolute, pdf_bytes)
    try:
        signature = ContractSignature(
            contract_id=contract.id, account_id=account.id, user_id=user.id,
            username=user.username, typed_name=name, language=lang, title=record["title"],
            text=text, text_sha256=text_sha, consent_version=CONSENT_VERSION,
            consent_text=record["consent_text"], signature_png_sha256=record["signature_png_sha256"],
            signed_at=signed_at, timezone=tz, ip=record["ip"], user_agent=record["user_agent"],
            pdf_path=relative.as_posix(), pdf_sha256=pdf_sha)
        session.add(signature)
        session.flush()
        entry = append_log(session, signature)
        audit.record(session, "contract_signed", actor_type="customer", actor_id=user.id,
                     actor_name=user.username, target=f"account:{account.id}", ip=ip,
                     contract_id=contract.id, pdf_sha256=pdf_sha, log_seq=entry.seq)
        if email_copy is None:
            email_copy = bool(isp_settings.get(session, "contracts_email_copy"))
        emailed = bool(email_copy and account.email)
        if emailed:
            mail.queue(session, account.email, "contract_signed", lang,
                       attachments=[{"path": relative.as_posix(), "mime": "application/pdf",
                                     "filename": download_filename(contract.id, record["title"])}],
                       contract_name=record["title"], customer_name=name,
                       signed_at=format_times(signed_at, tz, lang)[1], pdf_sha256=pdf_sha)
    except IntegrityError:
        if created:
            _discard(absolute)
        raise ContractError(ALREADY_SIGNED) from None
    except LogBusy:
        if created:
            _discard(absolute)
        raise ContractError(TRY_AGAIN) from None
    except BaseException:
        if created:
            _discard(absolute)
        raise
    return SignedContract(contract_id=contract.id, signature_id=signature.id,
                          pdf_path=relative.as_posix(), pdf_sha256=pdf_sha,
                          text_sha256=text_sha, log_seq=entry.seq, entry_hash=entry.entry_hash,
                          emailed=emailed)


def _write_once(path: Path, content: bytes) -> bool:
    """Create the file (never overwrite one), flushed to disk, read-only. True if created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    except FileExistsError:
        # The very same bytes (e.g. demo data loaded again into the same folder) are fine.
        if path.read_bytes() == content:
            return False
        raise
    try:
        os.write(fd, content)
        os.fsync(fd)
    finally:
        os.close(fd)
    return True


def _discard(path: Path) -> None:
    try:
        path.unlink()
    except OSError:
        pass


def format_times(moment: datetime, tz: str, lang: str) -> tuple[str, str]:
    """(UTC, the ISP's time zone) as shown in the PDF and the e-mail."""
    utc = _aware(moment).astimezone(timezone.utc)
    local = i18n.format_moment(moment, lang, tz=tz)
    return f"{utc:%Y-%m-%d %H:%M:%S} UTC", f"{local} ({tz})"


def download_filename(contract_id: int, title: str) -> str:
    slug = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^A-Za-z0-9]+", "-", slug).strip("-").lower()[:60] or "contract"
    return f"{slug}-{contract_id}.pdf"


# --- the log ----------------------------------------------------------------------------


def log_payload(signature: ContractSignature, seq: int) -> dict:
    return {
        "seq": seq,
        "signature_id": signature.id,
        "contract_id": signature.contract_id,
        "account_id": signature.account_id,
        "user_id": signature.user_id,
        "username": signature.username,
        "typed_name": signature.typed_name,
        "signed_at": _aware(signature.signed_at).isoformat(),
        "timezone": signature.timezone,
        "ip": signature.ip,
        "user_agent": signature.user_agent,
        "consent_version": signature.consent_version,
        "text_sha256": signature.text_sha256,
        "signature_png_sha256": signature.signature_png_sha256,
        "pdf_path": signature.pdf_path,
        "pdf_sha256": signature.pdf_sha256,
    }


def canonical(payload: dict) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, payload: str) -> str:
    return sha256_hex(f"{prev_hash}\n{payload}")


def append_log(session: Session, signature: ContractSignature) -> SignatureLogEntry:
    """Append the signature to the chain. Two signatures of different contracts at the same
    moment (several workers on PostgreSQL) race for the next sequence number: the unique
    constraint lets one win, and the other tries again after it, in a savepoint."""
    for attempt in range(LOG_APPEND_ATTEMPTS):
        try:
            with session.begin_nested():
                # A locking read sees the latest committed entry, whatever the isolation level.
                last = session.exec(
                    select(SignatureLogEntry).order_by(SignatureLogEntry.seq.desc()).limit(1)
                    .with_for_update().execution_options(populate_existing=True)).first()
                seq = (last.seq + 1) if last else 1
                prev = last.entry_hash if last else GENESIS_HASH
                payload = canonical(log_payload(signature, seq))
                entry = SignatureLogEntry(seq=seq, signature_id=signature.id, payload=payload,
                                          prev_hash=prev, entry_hash=entry_hash(prev, payload))
                session.add(entry)
                session.flush()
            return entry
        except IntegrityError:
            if attempt == LOG_APPEND_ATTEMPTS - 1:
                raise LogBusy() from None
    raise LogBusy()


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@dataclass
class Problem:
    seq: int | None
    message: str
    contract_id: int | None = None

    def __str__(self) -> str:
        where = f"log entry {self.seq}" if self.seq is not None else "signature record"
        contract = f" (contract {self.contract_id})" if self.contract_id else ""
        return f"{where}{contract}: {self.message}"


@dataclass
class Verification:
    entries: int = 0
    head: str = GENESIS_HASH
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(session: Session) -> Verification:
    """Check the whole chain, each entry against its signature record, and every stored PDF
    against its SHA-256. Every problem names the log entry (sequence number) it is about."""
    result = Verification()
    fresh = {"populate_existing": True}  # what the database holds now, not a cached copy
    entries = session.exec(select(SignatureLogEntry).order_by(SignatureLogEntry.seq)
                           .execution_options(**fresh)).all()
    signatures = {s.id: s for s in session.exec(select(ContractSignature)
                                                .execution_options(**fresh)).all()}
    logged: set[int] = set()
    prev = GENESIS_HASH
    data_dir = config.get().data_dir
    for index, entry in enumerate(entries, start=1):
        result.entries += 1
        problems = []
        if entry.seq != index:
            problems.append(f"sequence number {entry.seq} where {index} was expected "
                            "(an entry is missing or was inserted)")
        if entry.prev_hash != prev:
            problems.append("does not follow the previous entry (previous hash differs)")
        if entry_hash(entry.prev_hash, entry.payload) != entry.entry_hash:
            problems.append("its content was changed (the entry hash does not match)")
        prev = entry.entry_hash
        try:
            payload = json.loads(entry.payload)
        except ValueError:
            problems.append("its content is not readable")
            payload = {}
        signature = signatures.get(entry.signature_id)
        contract_id = payload.get("contract_id")
        if signature is None:
            problems.append(f"its signature record {entry.signature_id} is missing")
        else:
            logged.add(signature.id)
            contract_id = signature.contract_id
            if payload != log_payload(signature, payload.get("seq", entry.seq)) or \
                    payload.get("seq") != entry.seq:
                problems.append("does not match its signature record (the record or the entry "
                                "was changed)")
            if sha256_hex(signature.text) != signature.text_sha256:
                problems.append("the signed text in the record was changed")
        pdf_path = payload.get("pdf_path") or (signature.pdf_path if signature else "")
        pdf_sha = payload.get("pdf_sha256") or (signature.pdf_sha256 if signature else "")
        if pdf_path:
            path = data_dir / pdf_path
            if not path.is_file():
                problems.append(f"the PDF {pdf_path} is missing")
            elif sha256_hex(path.read_bytes()) != pdf_sha:
                problems.append(f"the PDF {pdf_path} was changed (its SHA-256 differs)")
        result.problems.extend(Problem(entry.seq, p, contract_id) for p in problems)
    result.head = prev
    for signature in signatures.values():
        if signature.id not in logged:
            result.problems.append(Problem(None, f"signature {signature.id} has no log entry",
                                           signature.contract_id))
    return result


# --- download ---------------------------------------------------------------------------


def signed_pdf(session: Session, account_id: int, contract_id) -> tuple[str, bytes]:
    """(file name, bytes) of the stored signed PDF, for the account that owns the contract.
    The same bytes that were stored at signing; a copy that fails its hash is not served."""
    contract, _template = _owned(session, account_id, contract_id)
    if contract.status != "signed":
        raise ContractError(NOT_FOUND)
    signature = _signature_of(session, contract.id)
    try:
        content = (config.get().data_dir / signature.pdf_path).read_bytes()
    except OSError:
        raise ContractError(COPY_UNVERIFIED) from None
    if sha256_hex(content) != signature.pdf_sha256:
        raise ContractError(COPY_UNVERIFIED)
    return download_filename(contract.id, signature.title), content


# --- the PDF ----------------------------------------------------------------------------

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
)


def _font_path() -> str | None:
    configured = os.environ.get("RXPORTAL_PDF_FONT", "").strip()
    for candidate in ([configured] if configured else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def _bold_path(regular: str) -> str | None:
    for bold in (regular.replace("Sans.ttf", "Sans-Bold.ttf"),
                 regular.replace("-Regular.ttf", "-Bold.ttf")):
        if bold != regular and Path(bold).is_file():
            return bold
    return None


def render_pdf(*, text: str, record: dict, signature_png: bytes, isp_name: str,
               country: str = "") -> bytes:
    """The signed contract: its text as shown, the drawn signature, the typed name, the time
    in UTC and the ISP's time zone, and a last page with the signature record."""
    from fpdf import FPDF

    lang = record["language"]

    def _(msgid: str, **values) -> str:
        return i18n.translate(lang, msgid, **values)

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(True, margin=18)
    pdf.set_margins(18, 18, 18)
    signed_at = datetime.fromisoformat(record["signed_at"])
    pdf.set_creation_date(signed_at)
    pdf.set_title(record["title"])
    pdf.set_author(isp_name)
    pdf.set_subject(f"contract {record['contract_id']}")
    regular = _font_path()
    if regular:
        pdf.add_font("body", "", regular)
        pdf.add_font("body", "B", _bold_path(regular) or regular)
        family = "body"
        clean = str
    else:  # No Unicode font on this machine: the PDF core font, Latin-1 only.
        family = "helvetica"

        def clean(value: str) -> str:
            return value.encode("latin-1", "replace").decode("latin-1")

    def heading(value: str, size: int = 15) -> None:
        pdf.set_font(family, "B", size)
        pdf.multi_cell(0, size * 0.5, clean(value), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)

    def body(value: str, size: int = 10, height: float = 5) -> None:
        pdf.set_font(family, "", size)
        pdf.multi_cell(0, height, clean(value), align="L", new_x="LMARGIN", new_y="NEXT")

    utc_text, local_text = format_times(signed_at, record["timezone"], lang)

    pdf.add_page()
    pdf.set_font(family, "", 9)
    pdf.cell(0, 5, clean(isp_name), new_x="LMARGIN", new_y="NEXT")
    heading(record["title"])
    body(text)
    pdf.ln(6)

    if pdf.get_y() > pdf.h - 90:
        pdf.add_page()
    heading(_("Signature"), 12)
    body(_("Signed electronically by {name}", name=record["typed_name"]))
    pdf.image(io.BytesIO(signature_png), w=70)
    pdf.ln(2)
    body(_("Typed name: {name}", name=record["typed_name"]))
    body(_("Signed at: {time}", time=utc_text))
    body(_("Local time: {time}", time=local_text))

    pdf.add_page()
    heading(_("Signature record"), 13)
    rows = [
        (_("Contract"), f"{record['title']} (#{record['contract_id']}, {record['template']})"),
        (_("Account"), record["account"]),
        (_("User"), record["username"]),
        (_("Typed name"), record["typed_name"]),
        (_("Signed at (UTC)"), utc_text),
        (_("Signed at (local time)"), local_text),
        (_("IP address"), record["ip"] or "—"),
        (_("Browser"), record["user_agent"] or "—"),
        (_("Consent text version"), record["consent_version"]),
        (_("Consent text"), record["consent_text"]),
        (_("SHA-256 of the signed text"), record["text_sha256"]),
        (_("SHA-256 of the signature image"), record["signature_png_sha256"]),
    ]
    for label, value in rows:
        pdf.set_font(family, "B", 9)
        pdf.multi_cell(0, 5, clean(label), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(family, "", 9)
        pdf.multi_cell(0, 5, clean(str(value)), align="L", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)
    pdf.ln(3)
    body(_("The SHA-256 of the signed text is computed over the contract text shown on the "
            "first pages, encoded in UTF-8."), size=8, height=4)
    return bytes(pdf.output())
