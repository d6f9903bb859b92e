"""Test data for billing: an account with invoices, and cards collected the way Stripe.js does
(a SetupIntent confirmed with a test card), against the gateway the app is configured for."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from rxportal.models import Account, AccountService, Invoice, InvoiceLine, Plan, Transaction

_numbers = itertools.count(1)


def make_account(session, *, invoices=(6500,), paid=None, currency="CAD", language="en",
                 email="customer@example.net", billing_day=1, start=date(2026, 1, 1),
                 price=6500) -> Account:
    """An account with one active service and open invoices of the given totals, oldest first;
    `paid` maps an invoice index to an amount already paid on it."""
    n = next(_numbers)
    account = Account(number=f"9{n:05d}", name=f"Customer {n}", email=email,
                      billing_day=billing_day, currency=currency, language=language)
    session.add(account)
    session.flush()
    plan = Plan(name="Fibre 100", price_minor=price, currency=currency)
    session.add(plan)
    session.flush()
    session.add(AccountService(account_id=account.id, plan_id=plan.id, name=plan.name,
                               price_minor=price, started_on=start))
    for index, total in enumerate(invoices):
        issued = start + timedelta(days=31 * index)
        invoice = Invoice(account_id=account.id, number=f"INV-{account.number}-{index + 1:04d}",
                          issued_on=issued, due_on=issued + timedelta(days=14),
                          period_start=issued, period_end=issued + timedelta(days=30),
                          currency=currency, total_minor=total)
        session.add(invoice)
        session.flush()
        session.add(InvoiceLine(invoice_id=invoice.id, description="Fibre 100", unit_minor=total,
                                amount_minor=total))
        session.add(Transaction(account_id=account.id, kind="charge", description="Fibre 100",
                                amount_minor=total, currency=currency, invoice_id=invoice.id))
        amount = (paid or {}).get(index, 0)
        if amount:
            session.add(Transaction(account_id=account.id, kind="payment", description="Payment",
                                    amount_minor=-amount, currency=currency, invoice_id=invoice.id))
    session.commit()
    return account


def collect_card(session, account_id: int, test_method: str = "pm_card_visa", *, save=True,
                 autopay=False):
    """What the browser does with Stripe.js (confirmCardSetup), then what the page's handler
    does with the result."""
    import stripe

    from rxportal.services import payments
    from rxportal.services.gateway import stripe_settings

    client_secret = payments.start_method_setup(session, account_id, "card")
    settings = stripe_settings()
    client = stripe.StripeClient(settings.secret_key, base_addresses={"api": settings.api_base})
    intent_id = client_secret.split("_secret_")[0]
    intent = client.v1.setup_intents.confirm(intent_id, params={"payment_method": test_method})
    method = payments.register_method(session, account_id, intent.payment_method, save=save,
                                      autopay=autopay)
    session.commit()
    return method


def card_from_number(number: str) -> str:
    """A payment method made from a raw test card number (as Stripe.js would)."""
    import stripe

    from rxportal.services.gateway import stripe_settings

    settings = stripe_settings()
    client = stripe.StripeClient(settings.secret_key, base_addresses={"api": settings.api_base})
    method = client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": number, "exp_month": 12, "exp_year": 2031, "cvc": "123"}})
    return method.id
