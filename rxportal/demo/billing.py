"""Demo payment methods: `demo` gets a Visa card used for autopay and a bank account (SEPA
debit, the bank type localstripe supports); `demo2` a Mastercard.

They are created in the configured gateway (localstripe for `make run`) when it answers, so the
demo customer can really pay with them. When the gateway cannot be reached at load time, the
methods are stored with placeholder references (pm_demo_...): the page shows them, and paying
with them gets the gateway's clear error until they are added again.
"""
from __future__ import annotations

import logging

from sqlmodel import Session

from rxportal.models.billing import GatewayCustomer, PaymentMethod

ORDER = 40
log = logging.getLogger(__name__)

DEMO_METHODS = {
    "demo": [("card", "4242424242424242", True), ("sepa_debit", "DE89370400440532013000", False)],
    "demo2": [("card", "5555555555554444", False)],
}
PLACEHOLDERS = {
    "4242424242424242": ("visa", "4242", 12, 2030),
    "5555555555554444": ("mastercard", "4444", 12, 2030),
    "DE89370400440532013000": ("37040044", "3000", None, None),
}


def _in_gateway(session: Session, account, methods) -> bool:
    import stripe

    from rxportal.services.gateway import GatewayError, get_gateway, stripe_settings

    gateway = get_gateway()
    settings = stripe_settings()
    try:
        customer = gateway.create_customer(email=account.email, name=account.name,
                                           account_number=account.number)
        client = stripe.StripeClient(settings.secret_key,
                                     base_addresses={"api": settings.api_base},
                                     max_network_retries=0,
                                     http_client=stripe.RequestsClient(timeout=5))
        made = []
        for kind, source, autopay in methods:
            if kind == "card":  # test card numbers, as Stripe.js would send them
                created = client.v1.payment_methods.create(params={"type": "card", "card": {
                    "number": source, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
                info = gateway.attach_method(created.id, customer)
            else:
                created = client.v1.payment_methods.create(params={
                    "type": "sepa_debit", "sepa_debit": {"iban": source},
                    "billing_details": {"name": account.name, "email": account.email}})
                info = gateway.attach_method(created.id, customer)
            made.append((info, autopay))
    except (GatewayError, stripe.StripeError, OSError) as error:
        log.warning("demo payment methods: payment gateway not reachable (%s); storing "
                    "placeholders (`rxportal billing-local-sync` makes them real)",
                    type(error).__name__)
        return False
    session.add(GatewayCustomer(account_id=account.id, gateway=gateway.name,
                                customer_ref=customer))
    for info, autopay in made:
        session.add(PaymentMethod(account_id=account.id, gateway=gateway.name,
                                  gateway_ref=info.ref, kind=info.kind, brand=info.brand,
                                  last4=info.last4, exp_month=info.exp_month,
                                  exp_year=info.exp_year, autopay=autopay))
    return True


def load(session: Session, ctx: dict) -> None:
    for key, methods in DEMO_METHODS.items():
        account = ctx[key]
        if _in_gateway(session, account, methods):
            continue
        for kind, source, autopay in methods:
            brand, last4, month, year = PLACEHOLDERS[source]
            session.add(PaymentMethod(account_id=account.id, gateway_ref=f"pm_demo_{last4}",
                                      kind=kind, brand=brand, last4=last4, exp_month=month,
                                      exp_year=year, autopay=autopay))


TEST_CARDS = {"4242": "4242424242424242", "4444": "5555555555554444",
              "0341": "4000000000000341", "3155": "4000002500003155"}
DEMO_IBAN = "DE89370400440532013000"


def sync_local_gateway(session: Session, webhook_url: str = "", wait_seconds: float = 15) -> str:
    """For `make run` with localstripe, which starts empty every time: give every saved method
    in the database a twin in the emulator (same test card by last four digits, the demo IBAN),
    so the demo customer can pay, and point localstripe's webhooks at the portal.
    Refuses to touch a real Stripe account."""
    import time
    import urllib.parse
    import urllib.request

    import stripe
    from sqlmodel import select

    from rxportal.models import Account
    from rxportal.services.gateway import stripe_settings

    settings = stripe_settings()
    if not settings.local:
        return "real Stripe keys are configured: nothing to do"
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            urllib.request.urlopen(f"{settings.api_base}/js.stripe.com/v3/", timeout=2).read()
            break
        except OSError:
            if time.monotonic() > deadline:
                return f"no local Stripe server at {settings.api_base}"
            time.sleep(0.3)
    client = stripe.StripeClient(settings.secret_key, base_addresses={"api": settings.api_base},
                                 max_network_retries=0)
    if webhook_url:
        data = urllib.parse.urlencode({"url": webhook_url,
                                       "secret": settings.webhook_secret}).encode()
        urllib.request.urlopen(f"{settings.api_base}/_config/webhooks/rxportal", data=data,
                               timeout=5).read()
    methods = session.exec(select(PaymentMethod).where(PaymentMethod.removed_at.is_(None),
                                                       PaymentMethod.gateway == "stripe")).all()
    customers = {c.account_id: c for c in session.exec(select(GatewayCustomer)).all()}
    made = 0
    for account_id in sorted({m.account_id for m in methods}):
        row = customers.get(account_id)
        if row is not None:
            try:
                client.v1.customers.retrieve(row.customer_ref)
                continue  # the emulator still knows this account
            except stripe.InvalidRequestError:
                pass
        account = session.get(Account, account_id)
        customer = client.v1.customers.create(params={"email": account.email or None,
                                                      "name": account.name})
        if row is None:
            row = GatewayCustomer(account_id=account_id, gateway="stripe",
                                  customer_ref=customer.id)
        row.customer_ref = customer.id
        session.add(row)
        for method in [m for m in methods if m.account_id == account_id]:
            if method.kind == "card":
                created = client.v1.payment_methods.create(params={"type": "card", "card": {
                    "number": TEST_CARDS.get(method.last4, TEST_CARDS["4242"]),
                    "exp_month": method.exp_month or 12, "exp_year": method.exp_year or 2030,
                    "cvc": "123"}})
            else:
                created = client.v1.payment_methods.create(params={
                    "type": "sepa_debit", "sepa_debit": {"iban": DEMO_IBAN},
                    "billing_details": {"name": account.name, "email": account.email}})
            client.v1.payment_methods.attach(created.id, params={"customer": customer.id})
            method.gateway_ref = created.id
            session.add(method)
            made += 1
    return f"local Stripe server at {settings.api_base}: {made} payment methods recreated"
