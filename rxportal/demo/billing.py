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
        log.warning("demo payment methods: gateway not reachable (%s); storing placeholders",
                    error)
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
