"""Random and hostile input into the services behind each feature's forms, and into the JSON API
and the Stripe webhook through the real Starlette app (HTTP, Starlette's test client on httpx):
every refusal is one of the service's own errors (or a 4xx), never an unhandled one, and a
refusal leaves every table as it was (rows counted before and after).

Paying runs against the FAKE gateway of test_payments_fake_gateway.py (named as such: it answers
at once, which keeps hundreds of examples quick); localstripe is used by the payment tests."""
from __future__ import annotations

import json
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import func, select
from starlette.testclient import TestClient

from rxportal.api import build_api
from rxportal.models import Invoice, OutboxMail, Transaction
from rxportal.models.billing import Payment, PaymentMethod, WebhookEvent
from rxportal.models.contracts import ContractSignature
from rxportal.models.tickets import Ticket, TicketAttachment, TicketMessage
from rxportal.models.usage import TopOffPurchase, UsageBatch, UsageSample
from rxportal.services import api_tokens, contracts, payments, tickets, usage
from rxportal.services import gateway as gateway_module
from tests.billing_factory import make_account
from rxportal.wellformed import well_formed
from tests.integration.test_fuzz_handlers import CLEAN_TEXT as TEXT
from tests.integration.test_fuzz_handlers import HOSTILE as RAW_HOSTILE
from tests.integration.test_fuzz_handlers import JSON_VALUE

HOSTILE = RAW_HOSTILE.map(well_formed)
from tests.integration.test_usage_api import api  # noqa: F401 - a token and account 100001
from tests.unit.test_payments_fake_gateway import fake  # noqa: F401 - the FAKE gateway

FUZZ = settings(max_examples=30, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])
TABLES = (Payment, PaymentMethod, Transaction, Invoice, OutboxMail, Ticket, TicketMessage,
          TicketAttachment, UsageSample, UsageBatch, TopOffPurchase, ContractSignature,
          WebhookEvent)
NUMBER_TEXT = st.one_of(HOSTILE, st.text("0123456789.,-+ e²٣𝟗$€", max_size=30),
                        st.decimals(allow_nan=True).map(str), st.integers().map(str))
IDS = st.one_of(st.integers(-2**63, 2**63), st.just(0), st.just(1))


def counts(session) -> dict:
    session.expire_all()
    return {m.__name__: session.exec(select(func.count()).select_from(m)).one() for m in TABLES}


@pytest.fixture()
def payer(session, fake):
    account = make_account(session, invoices=(6500, 1800))
    method = PaymentMethod(account_id=account.id, gateway_ref="pm_fake_card", kind="card",
                           brand="visa", last4="4242")
    session.add(method)
    session.commit()
    return account, method


# -- billing -----------------------------------------------------------------------------------

@FUZZ
@given(purpose=st.one_of(st.sampled_from(["amount_due", "invoices", "other"]), TEXT),
       amount=NUMBER_TEXT, invoice_ids=st.lists(IDS, max_size=4), method_id=IDS,
       use_own_method=st.booleans(), attempt=st.one_of(st.just(""), TEXT))
def test_paying_with_random_input_is_refused_whole_or_paid_once(session, payer, purpose, amount,
                                                                 invoice_ids, method_id,
                                                                 use_own_method, attempt):
    account, method = payer
    before = counts(session)
    attempt = attempt if attempt.strip() else payments.new_attempt_id()
    # An attempt id already used (an earlier example) is the same payment again, never a new one.
    repeated = session.exec(select(Payment).where(Payment.attempt_id == attempt)).first()
    try:
        outcome = payments.pay(session, account.id, attempt_id=attempt, purpose=purpose,
                               method_id=method.id if use_own_method else method_id,
                               invoice_ids=invoice_ids, amount_text=amount)
    except payments.PaymentError:
        session.rollback()
        after = counts(session)
        # A refusal can only settle earlier attempts, never add a payment or a ledger entry.
        assert after["Transaction"] == before["Transaction"]
        assert after["Payment"] == before["Payment"]
        return
    assert outcome.status == "succeeded" and outcome.amount_minor > 0
    assert counts(session)["Payment"] == before["Payment"] + (0 if repeated else 1)


@FUZZ
@given(method_ref=TEXT, kind=st.one_of(st.sampled_from(["card", "sepa_debit"]), TEXT),
       method_id=IDS)
def test_methods_with_random_references_and_ids(session, payer, method_ref, kind, method_id):
    account, _method = payer
    before = counts(session)
    for action in (lambda: payments.start_method_setup(session, account.id, kind),
                   lambda: payments.set_autopay(session, account.id, method_id),
                   lambda: payments.remove_method(session, account.id, method_id)):
        try:
            action()
        except payments.PaymentError:
            session.rollback()
            assert counts(session) == before
    with pytest.raises(payments.PaymentError):
        payments.get_method(session, account.id, method_id + 10_000 if method_id > 0 else -1)


# -- tickets -----------------------------------------------------------------------------------

UPLOAD = st.one_of(st.none(), st.builds(
    tickets.Upload, filename=TEXT,
    data=st.one_of(st.binary(max_size=2000), st.just(b"%PDF-1.4\n" + b"\x00" * 100),
                   st.just(b"\x89PNG\r\n\x1a\n" + b"A" * 50), st.just(b"<svg onload=alert(1)>"),
                   st.just(b"GIF89a" * 3), st.just(b"x" * (11 * 1024 * 1024)))))


@FUZZ
@given(subject=TEXT, body=TEXT, upload=UPLOAD, client_key=st.one_of(st.none(), TEXT),
       reply=TEXT)
def test_tickets_and_replies_are_saved_whole_or_not_at_all(session, payer, subject, body,
                                                          upload, client_key, reply):
    account, _method = payer
    before = counts(session)
    try:
        ticket = tickets.create_ticket(session, account.id, subject, body, client_key=client_key,
                                       upload=upload)
        session.commit()
    except tickets.TicketError:
        session.rollback()
        assert counts(session) == before
        return
    assert ticket.subject.strip() and "\x00" not in ticket.subject
    before = counts(session)
    try:
        tickets.reply(session, account.id, ticket.id, reply, upload=upload)
        session.commit()
    except tickets.TicketError:
        session.rollback()
        assert counts(session) == before


@FUZZ
@given(ticket_id=st.one_of(IDS, TEXT), attachment_id=st.one_of(IDS, TEXT), signature=TEXT)
def test_another_or_a_random_ticket_id_is_not_found(session, payer, ticket_id, attachment_id,
                                                   signature):
    account, _method = payer
    for lookup in (lambda: tickets.get_ticket(session, account.id, ticket_id),
                   lambda: tickets.get_attachment(session, account.id, attachment_id),
                   lambda: tickets.get_attachment_signed(session, attachment_id, signature),
                   lambda: tickets.reply(session, account.id, ticket_id, "hello")):
        with pytest.raises((tickets.NotFound, tickets.TicketError)):
            lookup()
        session.rollback()


# -- usage -------------------------------------------------------------------------------------

CSV_CELL = st.one_of(HOSTILE, NUMBER_TEXT, st.sampled_from(["100001", "2026-11-20", "2026-11"]))
CSV = st.one_of(
    st.binary(max_size=500),
    st.lists(st.lists(CSV_CELL, min_size=0, max_size=5), max_size=5).map(
        lambda rows: ("account,date,bytes_down,bytes_up\n" + "\n".join(
            ",".join(json.dumps(c) if "," in c or '"' in c else c for c in row)
            for row in rows)).encode("utf-8", "surrogatepass")))


@FUZZ
@given(data=CSV)
def test_usage_csv_is_imported_whole_or_not_at_all(session, payer, data):
    before = counts(session)
    checked, result = usage.import_csv(session, data)
    if checked.errors:
        assert result is None
        session.rollback()
        assert counts(session) == before
    else:
        session.commit()
        assert counts(session)["UsageBatch"] <= before["UsageBatch"] + 1


@FUZZ
@given(product_id=st.one_of(IDS, TEXT), request_key=TEXT.filter(lambda k: 0 < len(k.strip()) <= 64),
       method_id=st.one_of(st.none(), IDS))
def test_topoff_with_random_products_and_keys(session, payer, product_id, request_key, method_id):
    account, _method = payer
    before = counts(session)
    charged = []

    def charge(request):
        charged.append(request)
        return usage.ChargeResult(ok=True, reference="pi_fake")

    try:
        usage.purchase_topoff(session, account.id, product_id, request_key, charge,
                              payment_method_id=method_id)
    except usage.TopOffError:
        session.rollback()
        assert counts(session) == before and charged == []


# -- contracts ---------------------------------------------------------------------------------

@pytest.fixture()
def signer(session, payer):
    from rxportal.models import PortalUser
    from rxportal.services import passwords

    account, _method = payer
    user = PortalUser(account_id=account.id, username="signer",
                      password_hash=passwords.hash_password("correct-horse-signer"))
    session.add(user)
    template = contracts.create_template(session, "terms", "Terms", "Conditions", "Body {name}",
                                         "Texte {name}")
    contract = contracts.issue(session, template.id, account.id)
    session.commit()
    return account, user, contract


@FUZZ
@given(contract_id=st.one_of(st.just(None), IDS, TEXT), typed_name=TEXT, consent=st.booleans(),
       password=st.one_of(st.just("correct-horse-signer"), TEXT), signature=TEXT,
       lang=st.one_of(st.sampled_from(["en", "fr"]), TEXT))
def test_signing_with_random_input_signs_once_or_not_at_all(session, signer, contract_id,
                                                           typed_name, consent, password,
                                                           signature, lang):
    account, user, contract = signer
    before = counts(session)
    try:
        contracts.sign(session, account_id=account.id, user_id=user.id,
                       contract_id=contract.id if contract_id is None else contract_id,
                       lang=lang, typed_name=typed_name, consent=consent,
                       consent_version=contracts.CONSENT_VERSION, password=password,
                       signature_data_url=signature)
        session.commit()
    except contracts.ContractError:
        session.rollback()
        assert counts(session) == before
        return
    assert counts(session)["ContractSignature"] == before["ContractSignature"] + 1


# -- the JSON API and the webhook, over HTTP -----------------------------------------------

RECORD = st.fixed_dictionaries({}, optional={
    "account": st.one_of(st.just("100001"), CSV_CELL, JSON_VALUE),
    "date": st.one_of(st.just("2026-11-20"), CSV_CELL, JSON_VALUE),
    "bytes_down": st.one_of(st.integers(-2**70, 2**70), NUMBER_TEXT, JSON_VALUE),
    "bytes_up": st.one_of(st.integers(-2**70, 2**70), NUMBER_TEXT, JSON_VALUE)})
BATCH = st.one_of(JSON_VALUE, st.fixed_dictionaries({}, optional={
    "batch_id": st.one_of(TEXT, JSON_VALUE),
    "records": st.one_of(st.lists(st.one_of(RECORD, JSON_VALUE), max_size=4), JSON_VALUE)}))


@FUZZ
@given(body=BATCH, raw=st.one_of(st.none(), st.binary(max_size=300)))
def test_usage_api_answers_every_body_with_a_clear_status(session, api, body, raw):
    before = counts(session)
    content = raw if raw is not None else json.dumps(body, allow_nan=True).encode()
    response = api.post("/api/v1/usage", content=content,  # an unhandled error raises here
                        headers={"Content-Type": "application/json"})
    assert response.status_code in (200, 400, 401, 413, 422), response.text
    assert "error" in response.json() or response.status_code == 200
    if response.status_code != 200:
        assert counts(session) == before


def _signed(payload: bytes, secret: str) -> str:
    import hashlib
    import hmac

    stamp = int(time.time())
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


EVENT = st.one_of(JSON_VALUE, st.fixed_dictionaries(
    {"id": st.one_of(st.just("evt_fuzz"), TEXT, JSON_VALUE),
     "object": st.just("event"),
     "type": st.one_of(st.sampled_from(["payment_intent.succeeded", "charge.refunded",
                                        "charge.dispute.created", "payment_intent.canceled"]),
                       TEXT),
     "data": st.one_of(JSON_VALUE, st.fixed_dictionaries({"object": st.one_of(
         JSON_VALUE, st.fixed_dictionaries({
             "object": st.sampled_from(["payment_intent", "charge", "dispute", "other"]),
             "id": st.one_of(TEXT, JSON_VALUE),
             "payment_intent": st.one_of(TEXT, JSON_VALUE),
             "amount": st.one_of(st.integers(-2**70, 2**70), TEXT, JSON_VALUE),
             "amount_refunded": st.one_of(st.integers(-2**70, 2**70), TEXT, JSON_VALUE)}))})),
     "created": st.one_of(st.integers(-2**70, 2**70), TEXT)}))


@pytest.fixture()
def webhook_client(session, monkeypatch):
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_fuzz")
    monkeypatch.setenv("STRIPE_API_BASE", "http://127.0.0.1:9")  # never called for a bad event
    gateway_module.set_gateway(None)
    with TestClient(build_api(), raise_server_exceptions=False) as client:
        yield client


@FUZZ
@given(event=EVENT, sign=st.booleans(), signature=TEXT)
def test_webhook_answers_every_body_with_a_clear_status(session, webhook_client, event, sign,
                                                       signature):
    before = counts(session)
    payload = json.dumps(event).encode()
    response = webhook_client.post("/api/billing/stripe-webhook", content=payload, headers={
        # Bytes: a header is any octets on the wire (Starlette reads them as latin-1).
        "Stripe-Signature": _signed(payload, "whsec_fuzz") if sign else signature.encode()})
    assert response.status_code in (200, 400), response.text
    if response.status_code == 400 or not sign:
        assert counts(session) == before
