"""Amount validation for "another amount": empty, wrong format, too many decimals, zero,
negative, too large, hostile input; and the pay-ahead limit."""
from __future__ import annotations

import pytest

from rxportal.services.payments import PaymentError, parse_amount, quote
from tests.billing_factory import make_account


@pytest.mark.parametrize("text,minor", [
    ("25", 2500), ("25.5", 2550), ("25,50", 2550), ("0.01", 1), (" 1 000,00 ", 100000),
    ("$12.00", 1200), ("12.00 €", 1200),
])
def test_good_amounts(text, minor):
    assert parse_amount(text, "CAD", 10**8) == minor


@pytest.mark.parametrize("text,code", [
    ("", "amount_empty"), ("   ", "amount_empty"),
    ("abc", "amount_format"), ("12.3.4", "amount_format"), ("-5", "amount_format"),
    ("1e5", "amount_format"), ("9" * 30, "amount_format"),
    ("<script>alert(1)</script>", "amount_format"), ("1; DROP TABLE payment;--", "amount_format"),
    ("12.345", "amount_decimals"), ("0", "amount_zero"), ("0.00", "amount_zero"),
    ("10000000.01", "amount_large"),
])
def test_bad_amounts(text, code):
    with pytest.raises(PaymentError) as error:
        parse_amount(text, "CAD", 1_000_000_000)
    assert error.value.code == code


def test_currency_without_decimals():
    assert parse_amount("500", "JPY", 10**8) == 500
    with pytest.raises(PaymentError):
        parse_amount("500.5", "JPY", 10**8)


def test_messages_are_translated():
    with pytest.raises(PaymentError) as error:
        parse_amount("12.345", "CAD", 10**8)
    assert error.value.text("fr") == "Utilisez au plus 2 décimales."


def test_pay_ahead_limit_zero_means_at_most_the_amount_due(session):
    from rxportal.services import settings as isp_settings

    account = make_account(session, invoices=(6500,))
    isp_settings.put(session, "billing_max_credit_minor", 0)
    assert quote(session, account.id, "other", amount_text="65.00") == 6500
    with pytest.raises(PaymentError) as error:
        quote(session, account.id, "other", amount_text="65.01")
    assert error.value.code == "credit_limit"


def test_invoices_of_another_account_or_paid_are_not_found(session):
    from sqlmodel import select

    from rxportal.models import Invoice
    from rxportal.services.payments import NotFound

    demo = make_account(session, invoices=(6500,))
    demo2 = make_account(session, invoices=(100,))
    theirs = session.exec(select(Invoice).where(Invoice.account_id == demo.id)).one()
    with pytest.raises(NotFound):
        quote(session, demo2.id, "invoices", invoice_ids=[theirs.id])
    with pytest.raises(PaymentError):
        quote(session, demo2.id, "invoices", invoice_ids=[])
    with pytest.raises(PaymentError):
        quote(session, demo2.id, "something", invoice_ids=[])
