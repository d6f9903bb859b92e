"""Every staff event handler re-checks the staff session and role itself: called with no
session, with a customer's session, or (for administrator handlers) with a support user's
session, it changes nothing and shows nothing. The same calls by an administrator work, so the
refusals are not vacuous."""
from __future__ import annotations

import asyncio
import inspect
import io
import os
from datetime import timedelta

import pyotp
import pytest
from PIL import Image
from sqlmodel import func, select

from rxportal.models import (AccountService, AuditLog, OutboxMail, Plan, PortalUser, Setting,
                             Transaction, utcnow)
from rxportal.models.staff import StaffSession
from rxportal.services import auth, staff
from tests.factories import make_account, make_user
from tests.fake_gateway import fake  # noqa: F401

os.environ.setdefault("PYTEST_CURRENT_TEST", "staff handlers")  # lets Reflex build states here

import reflex as rx  # noqa: E402

from rxportal.state import (admin, admin_contracts, admin_customers, admin_settings,  # noqa: E402
                            admin_tickets)

PASSWORD = "correct-horse-admin"
STATES = [admin.StaffState, admin.AdminLoginState, admin_settings.AdminSettingsState,
          admin_customers.AdminCustomersState, admin_customers.AdminAccountState,
          admin_customers.AdminInviteState, admin_customers.AdminPlansState,
          admin_customers.AdminAuditState, admin_customers.AdminStaffState,
          admin_tickets.AdminTicketsState, admin_tickets.AdminTicketState,
          admin_customers.AdminBillingState, admin_customers.AdminTopOffsState,
          admin.AdminPasswordState, admin_contracts.AdminContractsState,
          admin_contracts.AdminTemplateState, admin_contracts.AdminContractRecordState]
# Handlers anyone may call: logging in (password, then code) and logging out.
PUBLIC = {"load_login", "login", "load_verify", "submit_code", "continue_after_codes",
          "staff_logout", "check_staff", "setvar"}


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 20), (1, 2, 3)).save(buffer, format="PNG")
    return buffer.getvalue()


class Upload:
    """What Reflex hands an upload handler: an object with an async read()."""

    def __init__(self, data: bytes):
        self.data = data

    async def read(self, size: int = -1) -> bytes:
        return self.data if size < 0 else self.data[:size]


# handler -> (area it needs, arguments)
CALLS = {
    "AdminSettingsState": {
        "load_settings": ("settings", ()),
        "save_branding": ("settings", ({"isp_name": "Hacked ISP", "support_email": "x@example.net",
                                        "color_primary": "#000000", "color_accent": "#000000"},)),
        "save_regional": ("settings", ({"default_language": "fr", "currency": "EUR", "country": "FR",
                                        "timezone": "Europe/Paris"},)),
        "save_pages": ("settings", ({},)),
        "save_billing": ("settings", ({"billing_max_credit_minor": "1.00",
                                        "billing_autopay_locked": "on", "invoice_due_days": "7"},)),
        "save_passwords": ("settings", ({"reset_token_minutes": "30",
                                         "temporary_password_days": "2"},)),
        "save_tickets": ("settings", ({"ticket_reopen_days": "3", "ticket_attachment_max_bytes": "2",
                                       "support_staff_addresses": ""},)),
        "save_mail": ("settings", ({"smtp_host": "evil.example.net", "smtp_port": "25",
                                    "smtp_security": "none", "imap_folder": "INBOX",
                                    "imap_port": "143"},)),
        "save_payments": ("settings", ({"stripe_secret_key": "sk_test_stolen12345678"},)),
        "clear_secret": ("settings", ("stripe_webhook_secret",)),
        "upload_logo": ("settings", ([Upload(png())],)),
        "remove_logo": ("settings", ()),
        "send_test_mail": ("settings", ({"test_to": "attacker@example.net"},)),
        "check_mailbox": ("settings", ()),
    },
    "AdminCustomersState": {
        "load_customers": ("customers", ()),
        "search": ("customers", ({"q": "a"},)),
        "go_to_page": ("customers", (1,)),
    },
    "AdminAccountState": {
        "load_account": ("customers", ()),
        "invite": ("customers", ()),
        "send_reset": ("customers", ("LOGIN",)),
        "disable_login": ("customers", ("LOGIN",)),
        "enable_login": ("customers", ("LOGIN",)),
        "post_transaction": ("customers", ({"kind": "credit", "amount": "500", "description": "free"},)),
        "add_service": ("customers", ({"plan": "PLAN"},)),
        "end_service": ("customers", ("SERVICE",)),
        "issue_contract": ("customers", ({"template": "TEMPLATE"},)),
        "download_contract": ("customers", ("CONTRACT",)),
        "load_refund": ("billing", ("PAYMENT",)),
        "refund_payment": ("billing", ({"payment_id": "PAYMENT", "attempt": "refund-attempt-1",
                                        "amount": "10.00", "reason": "Outage"},)),
    },
    "AdminInviteState": {
        "load_invite": ("bulk_invite", ()),
        "save_message": ("bulk_invite", ({"subject": "Hi", "message": "$username $temporary_password"},)),
        "send_invites": ("bulk_invite", ()),
    },
    "AdminPlansState": {
        "load_plans": ("billing", ()),
        "save_plan": ("billing", ({"plan_id": "", "name": "Free", "price": "1", "cap": ""},)),
    },
    "AdminTopOffsState": {
        "load_topoffs": ("usage", ()),
        "save_topoff": ("usage", ({"product_id": "", "name": "10 GB", "gb": "10", "price": "5"},)),
        "toggle_topoff": ("usage", ("TOPOFF",)),
    },
    "AdminBillingState": {
        "load_billing": ("billing", ()),
        "run_billing": ("billing", ({"run_date": "2026-12-01"},)),
    },
    "AdminTicketsState": {
        "load_inbox": ("tickets", ()),
        "filter": ("tickets", ({"status": "all", "q": ""},)),
        "go_to_page": ("tickets", (1,)),
    },
    "AdminTicketState": {
        "load_ticket": ("tickets", ()),
        "send_reply": ("tickets", ({"body": "Answer from staff"},)),
        "add_note": ("tickets", ({"note": "internal"},)),
        "close_ticket": ("tickets", ()),
        "reopen_ticket": ("tickets", ()),
    },
    "AdminStaffState": {
        "load_staff": ("staff", ()),
        "add_staff": ("staff", ({"username": "mallory", "role": "administrator"},)),
        "disable_member": ("staff", ("ALICE",)),
        "enable_member": ("staff", ("SAM",)),
        "reset_member_2fa": ("staff", ("SAM",)),
    },
    "AdminPasswordState": {
        "load_password": ("own", ()),
        "change_own_password": ("own", ({"current_password": PASSWORD,
                                         "new_password": "another good phrase",
                                         "confirm_password": "another good phrase"},)),
        "renew_recovery_codes": ("own", ()),
    },
    "AdminContractsState": {
        "load_contracts": ("contract_records", ()),
        "filter_records": ("contract_records", ({"status": "pending", "code": ""},)),
        "go_to_page": ("contract_records", (1,)),
        "issue_template": ("contracts", ({"template": "TEMPLATE", "accounts": "100002"},)),
    },
    "AdminTemplateState": {
        "load_template": ("contracts", ()),
        "save_template": ("contracts", ({"code": "privacy", "name_en": "Privacy",
                                         "name_fr": "Confidentialité", "body_en": "We keep it.",
                                         "body_fr": "Nous la gardons."},)),
    },
    "AdminContractRecordState": {
        "load_record": ("contract_records", ()),
        "download_signed": ("contract_records", ()),
    },
    "AdminAuditState": {
        "load_audit": ("audit", ()),
        "filter": ("audit", ({"action": "", "actor": "", "target": ""},)),
        "go_to_page": ("audit", (1,)),
    },
}


def test_every_staff_handler_is_covered():
    declared = {}
    for cls in STATES:
        own = set(cls.event_handlers) - set(admin.StaffState.event_handlers) \
            - set(admin.SessionState.event_handlers)
        own -= PUBLIC
        if own:
            declared[cls.__name__] = own
    assert {k: set(v) for k, v in CALLS.items()} == declared
    for cls in STATES:
        assert "_require_staff" not in cls.event_handlers  # not callable from a browser


@pytest.fixture()
def world(session, fake):
    """An administrator, a support user (both with live sessions), a customer with a login,
    an account with a plan, a service and a card payment (made through the FAKE gateway), and
    a customer session token."""
    tokens = {}
    for username, role in (("alice", "administrator"), ("sam", "support")):
        staff.create_staff(session, username, role, PASSWORD)
        result = staff.login(session, username, PASSWORD)
        secret = staff.start_enrolment(session, result.token).secret
        staff.confirm_enrolment(session, result.token, pyotp.TOTP(secret).now())
        tokens[role] = result.token
    account = make_account(session, "100001", "pat@example.org", name="Pat Doe")
    login = make_user(session, account, "pat", PASSWORD)
    other = make_account(session, "100002", "", name="Second")
    plan = Plan(name="Fibre", price_minor=5000, currency="CAD")
    session.add(plan)
    session.flush()
    service = AccountService(account_id=account.id, plan_id=plan.id, name="Fibre",
                             price_minor=5000, started_on=utcnow().date())
    session.add(service)
    session.commit()
    tokens["customer"] = auth.login(session, "pat", PASSWORD).token
    tokens["pending"] = staff.login(session, "alice", PASSWORD).token  # no second factor yet
    from rxportal.services import tickets

    ticket = tickets.create_ticket(session, account.id, "No internet", "Help")
    from rxportal.services import contracts

    template = contracts.create_template(session, "terms", "Terms", "Conditions", "Body",
                                         "Texte")
    contract = contracts.issue(session, template.id, account.id)
    from rxportal.models.usage import TopOffProduct

    topoff = TopOffProduct(name="5 GB", bytes=5 * 1000**3, price_minor=500, currency="CAD")
    session.add(topoff)
    session.commit()
    from rxportal.models.staff import StaffUser
    from tests.unit.test_refunds import paid

    payment = paid(session, amount_text="20.00", account=account)[1]
    ids = {u.username: u.id for u in session.exec(select(StaffUser))}
    return {"tokens": tokens, "alice": ids["alice"], "sam": ids["sam"], "account": account.id, "login": login.id, "plan": plan.id,
            "service": service.id, "other": other.id, "ticket": ticket.id, "template": template.id,
            "contract": contract.id, "topoff": topoff.id, "payment": payment.id}


def snapshot(session) -> dict:
    session.expire_all()
    counts = {model.__name__: session.exec(select(func.count()).select_from(model)).one()
              for model in (AuditLog, Setting, Transaction, OutboxMail, PortalUser, Plan,
                            AccountService)}
    counts["disabled"] = session.exec(select(func.count()).select_from(PortalUser)
                                      .where(PortalUser.disabled.is_(True))).one()
    from rxportal.models.staff import StaffUser

    counts["staff"] = session.exec(select(func.count()).select_from(StaffUser)).one()
    counts["staff_disabled"] = session.exec(select(func.count()).select_from(StaffUser)
                                            .where(StaffUser.disabled.is_(True))).one()
    counts["staff_enrolled"] = session.exec(select(func.count()).select_from(StaffUser)
                                            .where(StaffUser.totp_secret != "")).one()
    from rxportal.models.staff import StaffTicketNote
    from rxportal.models.tickets import Ticket, TicketMessage

    counts["notes"] = session.exec(select(func.count()).select_from(StaffTicketNote)).one()
    counts["ticket_messages"] = session.exec(select(func.count()).select_from(TicketMessage)).one()
    counts["closed"] = session.exec(select(func.count()).select_from(Ticket)
                                    .where(Ticket.status == "closed")).one()
    from rxportal.models.contracts import Contract

    counts["contracts"] = session.exec(select(func.count()).select_from(Contract)).one()
    from rxportal.models import Invoice

    counts["invoices"] = session.exec(select(func.count()).select_from(Invoice)).one()
    from rxportal.models.usage import TopOffProduct

    counts["topoffs"] = session.exec(select(func.count()).select_from(TopOffProduct)).one()
    counts["topoffs_active"] = session.exec(select(func.count()).select_from(TopOffProduct)
                                            .where(TopOffProduct.active.is_(True))).one()
    counts["ended"] = session.exec(select(func.count()).select_from(AccountService)
                                   .where(AccountService.status == "ended")).one()
    return counts


def make_state(cls, token: str, world, monkeypatch):
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(cls.get_full_name().split(".")[1:])
    state.staff_token = token
    state.session_token = token  # a customer's token in both cookies: still no staff access
    if cls is admin_customers.AdminAccountState:
        monkeypatch.setattr(cls, "_account_id", lambda self: world["account"])
    if cls is admin_tickets.AdminTicketState:
        monkeypatch.setattr(cls, "_ticket_id", lambda self: world["ticket"])
    if cls is admin_contracts.AdminContractRecordState:
        monkeypatch.setattr(cls, "_contract_id", lambda self: world["contract"])
    return state


def call(state, name: str, args: tuple, world):
    args = tuple({"LOGIN": str(world["login"]), "PLAN": str(world["plan"]),
                  "PAYMENT": str(world["payment"]),
                  "SERVICE": str(world["service"]), "ALICE": str(world["alice"]),
                  "SAM": str(world["sam"]), "CONTRACT": str(world["contract"]),
                  "TOPOFF": str(world["topoff"])}.get(a, a) if isinstance(a, str) else
                 {k: {"PLAN": str(world["plan"]), "TEMPLATE": str(world["template"]),
                      "PAYMENT": str(world["payment"])}.get(v, v)
                  for k, v in a.items()}
                 if isinstance(a, dict) else a for a in args)
    handler = getattr(type(state), name).fn
    result = handler(state, *args)
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    if inspect.isgenerator(result):
        result = list(result)
    return result


def shown(state) -> dict:
    """What a handler put on the page for the caller to see."""
    keys = ["templates", "record", "template", "versions", "new_codes", "payments", "refund_form",
            "products", "run_date", "result", "contracts", "template_options", "ticket", "messages", "notes", "members", "new_password", "rows", "values", "masked", "account", "figures", "logins", "invoices",
            "transactions", "plans", "subject", "message", "candidates", "total", "found",
            "logo_src", "test_result", "mailbox_result", "notice", "notices", "logo_notice"]
    return {k: getattr(state, k) for k in keys if k in type(state).get_fields()
            and getattr(state, k) not in ("", 0, [], {}, False, None)}


def refused_for(role_tokens, cls_name, name, area):
    """Which callers must be refused this handler."""
    callers = {"nobody": "", "customer": role_tokens["customer"], "garbage": "x" * 300,
               "half-finished login": role_tokens["pending"]}
    if area not in staff.AREAS or "support" not in staff.AREAS[area]:
        callers["support"] = role_tokens["support"]
    return callers


@pytest.mark.parametrize("cls_name,name", [(c, n) for c, calls in CALLS.items() for n in calls])
def test_handler_refuses_customers_and_the_wrong_role(session, world, monkeypatch, cls_name, name):
    cls = next(c for c in STATES if c.__name__ == cls_name)
    area, args = CALLS[cls_name][name]
    for caller, token in refused_for(world["tokens"], cls_name, name, area).items():
        before = snapshot(session)
        state = make_state(cls, token, world, monkeypatch)
        call(state, name, args, world)
        assert snapshot(session) == before, f"{caller} changed data through {cls_name}.{name}"
        assert shown(state) == {}, f"{caller} was shown data by {cls_name}.{name}"


def test_support_staff_may_use_customer_handlers(session, world, monkeypatch):
    state = make_state(admin_customers.AdminAccountState, world["tokens"]["support"], world, monkeypatch)
    call(state, "load_account", (), world)
    assert state.found and state.account["name"] == "Pat Doe"
    call(state, "post_transaction", ({"kind": "credit", "amount": "5", "description": "Sorry"},), world)
    assert session.exec(select(Transaction).where(Transaction.kind == "credit")).one().amount_minor == -500
    customers = make_state(admin_customers.AdminCustomersState, world["tokens"]["support"], world, monkeypatch)
    call(customers, "search", ({"q": "pat"},), world)
    assert [r["name"] for r in customers.rows] == ["Pat Doe"]


@pytest.mark.parametrize("cls_name,name", [(c, n) for c, calls in CALLS.items() for n in calls
                                           if n not in ("check_mailbox", "send_test_mail",
                                                        "download_contract", "download_signed")])
def test_an_administrator_may_call_every_handler(session, world, monkeypatch, cls_name, name):
    cls = next(c for c in STATES if c.__name__ == cls_name)
    _, args = CALLS[cls_name][name]
    if name == "clear_secret":
        from rxportal.services import settings as isp_settings

        isp_settings.put(session, "stripe_webhook_secret", "whsec_123456789")
        session.commit()
    if name == "remove_logo":
        from rxportal.services import branding

        branding.save_logo(session, png(), actor_id=1, actor_name="setup")
        session.commit()
    if name == "reopen_ticket":
        from rxportal.models.tickets import Ticket

        ticket = session.get(Ticket, world["ticket"])
        ticket.status = "closed"
        session.add(ticket)
        session.commit()
    if name == "enable_member":
        from rxportal.models.staff import StaffUser

        user = session.get(StaffUser, world["sam"])
        user.disabled = True
        session.add(user)
        session.commit()
    if name == "disable_member":
        args = (str(world["sam"]),)  # not oneself
    if name == "enable_login":
        user = session.get(PortalUser, world["login"])
        user.disabled = True
        session.add(user)
        session.commit()
    before = snapshot(session)
    state = make_state(cls, world["tokens"]["administrator"], world, monkeypatch)
    call(state, name, args, world)
    if name.startswith(("load_", "search", "go_to_page", "filter")):
        assert shown(state) != {} or name in ("load_invite", "load_password"), \
            f"{name} showed nothing"
    else:
        assert snapshot(session) != before, f"{cls_name}.{name} did nothing for an administrator"


def test_a_pending_login_without_the_second_factor_is_refused(session, world, monkeypatch):
    pending = staff.login(session, "alice", PASSWORD).token
    session.commit()
    state = make_state(admin_customers.AdminCustomersState, pending, world, monkeypatch)
    call(state, "load_customers", (), world)
    assert state.rows == []


def test_an_expired_staff_session_is_refused(session, world, monkeypatch):
    row = session.exec(select(StaffSession).where(StaffSession.verified.is_(True))).first()
    row.last_seen_at = utcnow() - timedelta(hours=2)
    session.add(row)
    session.commit()
    token = world["tokens"]["administrator"]
    state = make_state(admin_customers.AdminCustomersState, token, world, monkeypatch)
    call(state, "load_customers", (), world)
    assert state.rows == []
