"""Customers in the staff console: search (in SQL, paged), an account's overview as the customer
sees it, and the staff actions: invite (a login and a welcome e-mail), bulk invite at a steady
rate, password reset link, disable or enable a login, post a charge or credit, services.

Every change is written to the audit log with the staff member who made it.
"""
from __future__ import annotations

import html
import re
import string
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from babel.numbers import get_currency_precision
from sqlalchemy import func, or_
from sqlmodel import Session, select

from rxportal.models import (Account, AccountPhone, AccountService, AuditLog, Invoice,
                             OutboxMail, Plan, PortalUser, Transaction, UserSession, utcnow)
from rxportal.services import audit, auth, i18n, ledger, mail
from rxportal.services import staff_settings  # noqa: F401 - registers the bulk invite settings
from rxportal.services import settings as isp_settings
from rxportal.services.i18n import N_
from rxportal.services.staff import CurrentStaff, actor_fields

PAGE_SIZE = 25
MAX_QUERY = 100
MAX_DESCRIPTION = 200
MAX_AMOUNT_MINOR = 10**9
BULK_PER_MINUTE_DEFAULT = 30
MAX_MESSAGE = 20_000

isp_settings.register("bulk_invite_per_minute", BULK_PER_MINUTE_DEFAULT)


class StaffActionError(ValueError):
    def __init__(self, msgid: str, field: str = "", **values):
        super().__init__(msgid)
        self.msgid, self.field, self.values = msgid, field, values


@dataclass(frozen=True)
class CustomerRow:
    account_id: int
    number: str
    name: str
    email: str
    status: str
    usernames: str
    phones: str


@dataclass(frozen=True)
class SearchPage:
    rows: list[CustomerRow]
    total: int
    page: int
    pages: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(session: Session, query: str, page: int = 1, page_size: int = PAGE_SIZE) -> SearchPage:
    """Accounts whose name, e-mail, number, login username or phone contains the query."""
    query = (query or "").strip()[:MAX_QUERY].lower()
    conditions = []
    if query:
        pattern = _like(query)
        digits = re.sub(r"\D", "", query)
        login_match = select(PortalUser.account_id).where(
            func.lower(PortalUser.username).like(pattern, escape="\\"))
        phone_conditions = [AccountPhone.number.like(_like(digits), escape="\\")] if len(digits) >= 3 else []
        conditions = [
            func.lower(Account.name).like(pattern, escape="\\"),
            func.lower(Account.email).like(pattern, escape="\\"),
            func.lower(Account.number).like(pattern, escape="\\"),
            Account.id.in_(login_match),
        ]
        if phone_conditions:
            conditions.append(Account.id.in_(select(AccountPhone.account_id).where(*phone_conditions)))
    base = select(Account)
    if conditions:
        base = base.where(or_(*conditions))
    total = int(session.exec(select(func.count()).select_from(base.subquery())).one())
    pages = max(1, -(-total // page_size))
    page = min(max(1, int(page)), pages)
    accounts = session.exec(base.order_by(Account.name, Account.id)
                            .offset((page - 1) * page_size).limit(page_size)).all()
    ids = [a.id for a in accounts]
    usernames: dict[int, list[str]] = {}
    phones: dict[int, list[str]] = {}
    if ids:
        for account_id, username in session.exec(
                select(PortalUser.account_id, PortalUser.username)
                .where(PortalUser.account_id.in_(ids)).order_by(PortalUser.username)):
            usernames.setdefault(account_id, []).append(username)
        for account_id, number in session.exec(
                select(AccountPhone.account_id, AccountPhone.number)
                .where(AccountPhone.account_id.in_(ids)).order_by(AccountPhone.position)):
            phones.setdefault(account_id, []).append(number)
    rows = [CustomerRow(account_id=a.id, number=a.number, name=a.name, email=a.email,
                        status=a.status, usernames=", ".join(usernames.get(a.id, [])),
                        phones=", ".join(phones.get(a.id, []))) for a in accounts]
    return SearchPage(rows=rows, total=total, page=page, pages=pages)


# --- one account ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    account: Account
    figures: ledger.Figures
    logins: list[PortalUser]
    invoices: list[Invoice]
    transactions: list[Transaction]
    services: list[AccountService]


def overview(session: Session, account_id: int, limit: int = 12) -> Overview:
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError("account not found")
    return Overview(
        account=account,
        figures=ledger.figures(session, account_id),
        logins=list(session.exec(select(PortalUser).where(PortalUser.account_id == account_id)
                                 .order_by(PortalUser.username))),
        invoices=list(session.exec(select(Invoice).where(Invoice.account_id == account_id)
                                   .order_by(Invoice.issued_on.desc(), Invoice.id.desc()).limit(limit))),
        transactions=list(session.exec(select(Transaction).where(Transaction.account_id == account_id)
                                       .order_by(Transaction.occurred_at.desc(), Transaction.id.desc())
                                       .limit(limit))),
        services=list(session.exec(select(AccountService).where(AccountService.account_id == account_id)
                                   .order_by(AccountService.status, AccountService.started_on))),
    )


def _account(session: Session, account_id: int) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise LookupError("account not found")
    return account


def _login_of(session: Session, account_id: int, user_id: int) -> PortalUser:
    user = session.get(PortalUser, user_id)
    if user is None or user.account_id != account_id:
        raise LookupError("login not found")
    return user


def _language(session: Session, account: Account, user: PortalUser | None = None) -> str:
    return ((user.language if user else "") or account.language
            or isp_settings.get(session, "default_language"))


def invite(session: Session, actor: CurrentStaff, account_id: int, ip: str = "") -> PortalUser:
    """A new login with a temporary password, e-mailed to the account's address."""
    account = _account(session, account_id)
    if not account.email:
        raise StaffActionError(N_("This account has no e-mail address."))
    if account.status == "closed":
        raise StaffActionError(N_("This account is closed."))
    user, temporary = auth.create_login(session, account)
    mail.queue(session, account.email, "welcome", _language(session, account),
               username=user.username, temporary_password=temporary, name=account.name,
               days=isp_settings.get(session, "temporary_password_days"))
    audit.record(session, "customer_invited", target=f"account:{account.id}",
                 username=user.username, email=account.email, **actor_fields(actor, ip))
    return user


def send_reset_link(session: Session, actor: CurrentStaff, account_id: int, user_id: int,
                    ip: str = "") -> None:
    account = _account(session, account_id)
    user = _login_of(session, account_id, user_id)
    if not account.email:
        raise StaffActionError(N_("This account has no e-mail address."))
    minutes = int(isp_settings.get(session, "reset_token_minutes"))
    token = auth._new_link_token(session, user.id, "reset", minutes)
    mail.queue(session, account.email, "password_reset", _language(session, account, user),
               username=user.username, link=f"{mail.public_url(session)}/reset/{token}",
               minutes=minutes)
    audit.record(session, "customer_reset_link_sent", target=f"account:{account.id}",
                 username=user.username, **actor_fields(actor, ip))


def set_login_disabled(session: Session, actor: CurrentStaff, account_id: int, user_id: int,
                       disabled: bool, ip: str = "") -> None:
    user = _login_of(session, account_id, user_id)
    before = user.disabled
    user.disabled = disabled
    session.add(user)
    if disabled:
        auth.end_other_sessions(session, user.id, None)
    audit.record(session, "customer_login_disabled" if disabled else "customer_login_enabled",
                 target=f"account:{account_id}", username=user.username, before=before,
                 after=disabled, **actor_fields(actor, ip))


def parse_amount(text: str, currency: str) -> int:
    """Minor units from what staff typed ("12.50"), exact (no floats)."""
    text = (text or "").strip().replace(" ", "").replace(",", ".")
    digits = get_currency_precision(currency)
    if not text:
        raise StaffActionError(N_("Enter an amount."), "amount")
    if not re.fullmatch(r"\d{1,9}(\.\d{1,%d})?" % max(digits, 1), text):
        raise StaffActionError(N_("Enter an amount, like 500.00."), "amount")
    try:
        minor = int(Decimal(text) * 10**digits)
    except InvalidOperation:
        raise StaffActionError(N_("Enter an amount, like 500.00."), "amount") from None
    if minor <= 0:
        raise StaffActionError(N_("Enter an amount greater than zero."), "amount")
    if minor > MAX_AMOUNT_MINOR:
        raise StaffActionError(N_("This amount is too large."), "amount")
    return minor


def post_transaction(session: Session, actor: CurrentStaff, account_id: int, kind: str,
                     amount_text: str, description: str, ip: str = "") -> Transaction:
    """A charge (the customer owes more) or a credit (less) on the account's ledger."""
    account = _account(session, account_id)
    if kind not in ("charge", "credit"):
        raise StaffActionError(N_("Choose a charge or a credit."), "kind")
    description = (description or "").strip()
    if not description:
        raise StaffActionError(N_("Enter a description the customer will see."), "description")
    if len(description) > MAX_DESCRIPTION or any(ord(c) < 32 for c in description):
        raise StaffActionError(N_("Use one line of at most 200 characters."), "description")
    minor = parse_amount(amount_text, account.currency)
    row = Transaction(account_id=account.id, kind=kind, description=description,
                      amount_minor=minor if kind == "charge" else -minor,
                      currency=account.currency, reference=f"staff:{actor.staff_id}")
    session.add(row)
    session.flush()
    audit.record(session, f"customer_{kind}_posted", target=f"account:{account.id}",
                 amount_minor=row.amount_minor, currency=account.currency,
                 description=description, transaction_id=row.id, **actor_fields(actor, ip))
    return row


def plans(session: Session) -> list[Plan]:
    return list(session.exec(select(Plan).where(Plan.active.is_(True)).order_by(Plan.name)))


def add_service(session: Session, actor: CurrentStaff, account_id: int, plan_id: int,
                ip: str = "") -> AccountService:
    account = _account(session, account_id)
    plan = session.get(Plan, plan_id)
    if plan is None or not plan.active:
        raise StaffActionError(N_("Choose a plan."), "plan")
    if plan.currency != account.currency:
        raise StaffActionError(N_("This plan is priced in another currency than the account."), "plan")
    service = AccountService(account_id=account.id, plan_id=plan.id, name=plan.name,
                             price_minor=plan.price_minor, started_on=date.today())
    session.add(service)
    session.flush()
    audit.record(session, "customer_service_added", target=f"account:{account.id}",
                 plan=plan.name, price_minor=plan.price_minor, **actor_fields(actor, ip))
    return service


def end_service(session: Session, actor: CurrentStaff, account_id: int, service_id: int,
                ip: str = "") -> None:
    service = session.get(AccountService, service_id)
    if service is None or service.account_id != account_id:
        raise LookupError("service not found")
    if service.status == "ended":
        return
    service.status, service.ended_on = "ended", date.today()
    session.add(service)
    audit.record(session, "customer_service_ended", target=f"account:{account_id}",
                 service=service.name, **actor_fields(actor, ip))


def save_plan(session: Session, actor: CurrentStaff, plan_id: int | None, name: str,
              price_text: str, cap_gb_text: str, ip: str = "") -> Plan:
    """Create or change a plan (price per billing period, data cap in GB, empty for none).
    Existing subscriptions keep their price until changed on the account."""
    name = (name or "").strip()
    if not name:
        raise StaffActionError(N_("Enter a name."), "name")
    if len(name) > 120 or any(ord(c) < 32 for c in name):
        raise StaffActionError(N_("Use one line of at most 120 characters."), "name")
    currency = isp_settings.get(session, "currency")
    plan = session.get(Plan, plan_id) if plan_id else None
    if plan_id and plan is None:
        raise LookupError("plan not found")
    price = parse_amount(price_text, plan.currency if plan else currency)
    cap_gb_text = (cap_gb_text or "").strip()
    if cap_gb_text and not re.fullmatch(r"\d{1,6}", cap_gb_text):
        raise StaffActionError(N_("Enter the data cap as a whole number of GB, or leave it empty."), "cap")
    cap = int(cap_gb_text) * 1000**3 if cap_gb_text and int(cap_gb_text) > 0 else None
    before = {"name": plan.name, "price_minor": plan.price_minor, "data_cap_bytes": plan.data_cap_bytes} if plan else {}
    plan = plan or Plan(name=name, price_minor=price, currency=currency)
    plan.name, plan.price_minor, plan.data_cap_bytes = name, price, cap
    session.add(plan)
    session.flush()
    audit.record(session, "plan_saved", target=f"plan:{plan.id}", before=before,
                 after={"name": name, "price_minor": price, "data_cap_bytes": cap},
                 **actor_fields(actor, ip))
    return plan


# --- bulk invite ------------------------------------------------------------------------------

PLACEHOLDERS = ("name", "username", "temporary_password", "portal_url", "isp_name", "days",
                "support_phone", "support_email")
REQUIRED_PLACEHOLDERS = ("username", "temporary_password")


def default_bulk_subject(session: Session) -> str:
    return "$isp_name: your new customer portal"


def default_bulk_message() -> str:
    """The guide's sample launch e-mail, with the login details every invitee needs."""
    return """Hello $name,

$isp_name is committed to ensuring that every one of our customers receives a great experience not only with our service but our support tools as well. This includes our self-serve customer portal experience. We are excited to announce the launch of our new portal today.

Our new portal features a new, sleek design that not only contains exciting new self-help features but reworks the navigation to be much easier to use. We are really excited about the new portal, since it was made with direct input from many of you... our valued customers.

Some features you can expect to find:

• Mobile Design - Same great experience on a tablet or mobile phone!
• New Invoice - Simpler and much easier to read and understand.
• Review, download, and pay your invoices easily.
• Open a support ticket and/or view existing support tickets.
• Update your information and securely add/remove preferred payment methods.
• Set your payment method to auto-pay so that you will not have to worry about overdue invoices.

Customers can access the newly improved portal by going to $portal_url starting today.

Your username: $username
Your temporary password: $temporary_password
(you will choose your own password at your first login; this one expires in $days days)

As always, our dedicated support staff are standing by for any questions you may have. We are here to help!

Your $isp_name Support Team.
"""


def bulk_message(session: Session) -> tuple[str, str]:
    subject = isp_settings.get(session, "bulk_invite_subject") or default_bulk_subject(session)
    body = isp_settings.get(session, "bulk_invite_message") or default_bulk_message()
    return subject, body


def check_bulk_message(subject: str, body: str) -> dict[str, str]:
    """{field: msgid} of what is wrong with the ISP's text (empty when fine)."""
    errors: dict[str, str] = {}
    subject, body = (subject or "").strip(), (body or "").strip()
    for name, text, limit in (("subject", subject, 200), ("message", body, MAX_MESSAGE)):
        if not text:
            errors[name] = N_("This field is required.")
            continue
        if len(text) > limit:
            errors[name] = N_("This is too long.")
            continue
        if name == "subject" and any(ord(c) < 32 for c in text):
            errors[name] = N_("Use a single line of text.")
            continue
        try:
            used = {m.group("named") or m.group("braced")
                    for m in string.Template.pattern.finditer(text) if m.group("named") or m.group("braced")}
            string.Template(text).substitute({p: "x" for p in PLACEHOLDERS})
        except (KeyError, ValueError):
            errors[name] = N_("Use only these placeholders: $name, $username, $temporary_password, "
                              "$portal_url, $isp_name, $days, $support_phone, $support_email "
                              "(write $$ for a dollar sign).")
            continue
        if name == "message" and not all(p in used for p in REQUIRED_PLACEHOLDERS):
            errors[name] = N_("The message must contain $username and $temporary_password, "
                              "or the customers cannot log in.")
    return errors


def save_bulk_message(session: Session, actor: CurrentStaff, subject: str, body: str,
                      ip: str = "") -> dict[str, str]:
    errors = check_bulk_message(subject, body)
    if errors:
        return errors
    old_subject, old_body = bulk_message(session)
    subject, body = subject.strip(), body.strip() + "\n"
    if (subject, body) != (old_subject, old_body):
        isp_settings.put(session, "bulk_invite_subject", subject)
        isp_settings.put(session, "bulk_invite_message", body)
        audit.record(session, "setting_changed", target="setting:bulk_invite_message",
                     setting="bulk_invite_message", before=old_subject, after=subject,
                     **actor_fields(actor, ip))
    return {}


def bulk_candidates_query():
    """Open accounts with an e-mail address and no login yet."""
    has_login = select(PortalUser.account_id)
    return select(Account).where(Account.email != "", Account.status != "closed",
                                 Account.id.not_in(has_login))


def bulk_candidates_count(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(bulk_candidates_query().subquery())).one())


def bulk_invite(session: Session, actor: CurrentStaff, ip: str = "",
                limit: int = 10_000) -> int:
    """Create a login for each account with an e-mail address and none yet, and queue the
    ISP's message to each, spread over time (bulk_invite_per_minute) so the mail server sees
    a steady rate. Returns how many were queued."""
    subject_text, body_text = bulk_message(session)
    errors = check_bulk_message(subject_text, body_text)
    if errors:
        raise StaffActionError(next(iter(errors.values())))
    per_minute = max(1, int(isp_settings.get(session, "bulk_invite_per_minute")))
    interval = 60.0 / per_minute
    start = utcnow()
    common = {**isp_settings.get_many(session, ["isp_name", "support_email", "support_phone"]),
              "portal_url": mail.public_url(session),
              "days": isp_settings.get(session, "temporary_password_days")}
    accounts = session.exec(bulk_candidates_query().order_by(Account.id).limit(limit)).all()
    for index, account in enumerate(accounts):
        user, temporary = auth.create_login(session, account)
        values = {**common, "name": account.name, "username": user.username,
                  "temporary_password": temporary}
        subject = string.Template(subject_text).safe_substitute(values)
        text = string.Template(body_text).safe_substitute(values)
        escaped = {k: html.escape(str(v)) for k, v in values.items()}
        html_body = mail._html_layout(
            string.Template(html.escape(body_text)).safe_substitute(escaped),
            escaped["isp_name"])
        # Not through mail.queue's immediate dispatch: the periodic sender picks each one up
        # when its time comes.
        session.add(OutboxMail(to_addr=account.email, subject=subject[:300], text_body=text,
                               html_body=html_body,
                               next_attempt_at=start + timedelta(seconds=interval * index)))
    audit.record(session, "customers_bulk_invited", target="accounts", count=len(accounts),
                 per_minute=per_minute, **actor_fields(actor, ip))
    return len(accounts)


# --- audit log ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditLog]
    total: int
    page: int
    pages: int


def audit_page(session: Session, *, action: str = "", actor: str = "", target: str = "",
               page: int = 1, page_size: int = 50) -> AuditPage:
    query = select(AuditLog)
    if action:
        query = query.where(AuditLog.action == action[:64])
    if actor:
        query = query.where(func.lower(AuditLog.actor_name).like(_like(actor.strip().lower()[:100]), escape="\\"))
    if target:
        query = query.where(func.lower(AuditLog.target).like(_like(target.strip().lower()[:120]), escape="\\"))
    total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
    pages = max(1, -(-total // page_size))
    page = min(max(1, int(page)), pages)
    rows = list(session.exec(query.order_by(AuditLog.id.desc())
                             .offset((page - 1) * page_size).limit(page_size)))
    return AuditPage(rows=rows, total=total, page=page, pages=pages)


def audit_actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def money(amount_minor: int, currency: str, lang: str, session: Session) -> str:
    return i18n.format_money(amount_minor, currency, lang, isp_settings.get(session, "country"))


def active_sessions(session: Session, user_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(UserSession).where(
        UserSession.user_id == user_id, UserSession.ended_at.is_(None),
        UserSession.expires_at > utcnow())).one())


# --- contracts (services/contracts.py holds the rules) -----------------------------------------


def contract_templates(session: Session) -> list:
    """The latest version of each contract template (what staff issue)."""
    from rxportal.services import contracts

    latest: dict[str, object] = {}
    for template in contracts.list_templates(session):  # ordered by code, then version
        latest[template.code] = template
    return list(latest.values())


def issue_contract(session: Session, actor: CurrentStaff, account_id: int, template_id: int,
                   ip: str = ""):
    from rxportal.models.contracts import ContractTemplate
    from rxportal.services import contracts

    _account(session, account_id)
    template = session.get(ContractTemplate, template_id)
    if template is None:
        raise StaffActionError(N_("Choose a contract."), "template")
    contract = contracts.issue(session, template.id, account_id)
    audit.record(session, "contract_issued_by_staff", target=f"account:{account_id}",
                 contract_id=contract.id, template=template.code, version=template.version,
                 **actor_fields(actor, ip))
    return contract


def signed_contract_pdf(session: Session, account_id: int, contract_id: int) -> tuple[str, bytes]:
    from rxportal.services import contracts

    try:
        return contracts.signed_pdf(session, account_id, contract_id)
    except contracts.ContractError as error:
        raise LookupError(str(error)) from None


# --- top-off products (services/usage.py sells them) ------------------------------------------


def topoff_products(session: Session) -> list:
    from rxportal.models.usage import TopOffProduct

    return list(session.exec(select(TopOffProduct).order_by(TopOffProduct.active.desc(),
                                                            TopOffProduct.name)))


def save_topoff(session: Session, actor: CurrentStaff, product_id: int | None, name: str,
                gb_text: str, price_text: str, ip: str = ""):
    """Create or change a top-off product: extra data (GB) for the current period, at a price."""
    from rxportal.models.usage import TopOffProduct

    name = (name or "").strip()
    if not name:
        raise StaffActionError(N_("Enter a name."), "name")
    if len(name) > 120 or any(ord(c) < 32 for c in name):
        raise StaffActionError(N_("Use one line of at most 120 characters."), "name")
    gb_text = (gb_text or "").strip()
    if not re.fullmatch(r"\d{1,5}", gb_text) or int(gb_text) <= 0:
        raise StaffActionError(N_("Enter the extra data as a whole number of GB."), "gb")
    product = session.get(TopOffProduct, product_id) if product_id else None
    if product_id and product is None:
        raise LookupError("top-off not found")
    currency = product.currency if product else isp_settings.get(session, "currency")
    price = parse_amount(price_text, currency)
    before = ({"name": product.name, "bytes": product.bytes, "price_minor": product.price_minor}
              if product else {})
    product = product or TopOffProduct(name=name, bytes=0, price_minor=price, currency=currency)
    product.name, product.bytes, product.price_minor = name, int(gb_text) * 1000**3, price
    session.add(product)
    session.flush()
    audit.record(session, "topoff_saved", target=f"topoff:{product.id}", before=before,
                 after={"name": name, "bytes": product.bytes, "price_minor": price},
                 **actor_fields(actor, ip))
    return product


def set_topoff_active(session: Session, actor: CurrentStaff, product_id: int, active: bool,
                      ip: str = "") -> None:
    from rxportal.models.usage import TopOffProduct

    product = session.get(TopOffProduct, product_id)
    if product is None:
        raise LookupError("top-off not found")
    product.active = active
    session.add(product)
    audit.record(session, "topoff_enabled" if active else "topoff_disabled",
                 target=f"topoff:{product.id}", **actor_fields(actor, ip))


# --- payments and refunds (services/refunds.py holds the rules) ---------------------------------


@dataclass(frozen=True)
class PaymentRow:
    payment: object  # models.billing.Payment
    method: str  # "visa •••• 4242"
    refundable_minor: int


def account_payments(session: Session, account_id: int, limit: int = 12) -> list[PaymentRow]:
    """The account's latest settled payments, with what each can still refund."""
    from rxportal.models.billing import Payment, PaymentMethod
    from rxportal.services import refunds

    rows = session.exec(select(Payment, PaymentMethod).join(
        PaymentMethod, PaymentMethod.id == Payment.method_id, isouter=True)
        .where(Payment.account_id == account_id,
               Payment.status.in_(("succeeded", "refunded", "disputed")))
        .order_by(Payment.id.desc()).limit(limit)).all()
    return [PaymentRow(p, f"{m.brand} •••• {m.last4}".strip() if m else "",
                       refunds.refundable(session, p)) for p, m in rows]


def refund_payment(session: Session, actor: CurrentStaff, account_id: int, payment_id: int,
                   attempt_id: str, amount_text: str, reason: str, ip: str = "",
                   lang: str = "en"):
    """Refund all or part of a payment through the gateway (administrators)."""
    from rxportal.services import payments, refunds

    if not actor.may("billing"):
        raise LookupError("not allowed")
    account = _account(session, account_id)
    minor = parse_amount(amount_text, account.currency)
    try:
        return refunds.refund(session, account_id, payment_id, attempt_id=attempt_id,
                              amount_minor=minor, reason=reason, actor=actor_fields(actor, ip))
    except payments.NotFound:
        raise LookupError("payment not found") from None
    except refunds.RefundError as problem:
        values = dict(problem.values)
        if "amount" in values:
            values["amount"] = money(values["amount"], account.currency, lang, session)
        raise StaffActionError(problem.msgid, problem.field, **values) from None
