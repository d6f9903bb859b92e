"""The four figures of the billing page, derived from the ledger."""
from datetime import date

import pytest

from rxportal.services import ledger
from tests.factories import add_transaction, make_account, make_invoice, make_service


def test_an_account_with_nothing_owes_nothing(session):
    account = make_account(session)
    figures = ledger.figures(session, account.id, today=date(2026, 3, 10))
    assert (figures.amount_due, figures.open_invoices, figures.total_balance,
            figures.next_cycle_amount) == (0, 0, 0, 0)
    assert figures.next_billing_date == date(2026, 4, 1)


def test_open_invoices_add_up_and_paid_ones_do_not(session):
    account = make_account(session)
    make_invoice(session, account, 6500, number="A")
    make_invoice(session, account, 4500, number="B")
    make_invoice(session, account, 3000, paid_minor=3000, status="paid", number="C")
    figures = ledger.figures(session, account.id)
    assert figures.amount_due == 11000
    assert figures.open_invoices == 2
    assert figures.total_balance == 11000


def test_a_partly_paid_invoice_counts_only_what_is_left(session):
    account = make_account(session)
    make_invoice(session, account, 6500, paid_minor=2000)
    assert ledger.amount_due(session, account.id) == (4500, 1)


def test_an_overpaid_open_invoice_never_makes_the_amount_due_negative(session):
    account = make_account(session)
    make_invoice(session, account, 5000, paid_minor=7000, number="over")
    make_invoice(session, account, 1000, number="other")
    assert ledger.amount_due(session, account.id) == (1000, 1)
    assert ledger.total_balance(session, account.id) == 5000 - 7000 + 1000


def test_a_credit_balance_is_negative_and_reduces_the_next_cycle(session):
    account = make_account(session)
    make_service(session, account, price_minor=6500)
    add_transaction(session, account, -2000, kind="credit")
    figures = ledger.figures(session, account.id)
    assert figures.total_balance == -2000
    assert figures.amount_due == 0
    assert figures.next_cycle_amount == 4500


def test_a_credit_larger_than_the_next_cycle_makes_it_zero_not_negative(session):
    account = make_account(session)
    make_service(session, account, price_minor=3000)
    add_transaction(session, account, -9000, kind="credit")
    assert ledger.figures(session, account.id).next_cycle_amount == 0


def test_a_debt_does_not_inflate_the_next_cycle(session):
    account = make_account(session)
    make_service(session, account, price_minor=3000)
    make_invoice(session, account, 5000)
    assert ledger.figures(session, account.id).next_cycle_amount == 3000


def test_ended_services_are_not_billed_next_cycle(session):
    account = make_account(session)
    make_service(session, account, price_minor=3000)
    make_service(session, account, price_minor=2000, active=False)
    assert ledger.figures(session, account.id).next_cycle_amount == 3000


def test_another_accounts_transactions_never_count(session):
    mine = make_account(session)
    theirs = make_account(session, number="900002", email="other@example.org")
    make_invoice(session, theirs, 9999)
    assert ledger.figures(session, mine.id).amount_due == 0


@pytest.mark.parametrize("billing_day, today, expected", [
    (31, date(2026, 2, 10), date(2026, 2, 28)),   # short month: the last day
    (31, date(2028, 2, 10), date(2028, 2, 29)),   # leap year
    (30, date(2026, 2, 28), date(2026, 3, 30)),   # billing day reached (clamped to 28th)
    (29, date(2026, 1, 29), date(2026, 2, 28)),
    (31, date(2026, 4, 30), date(2026, 5, 31)),   # April's 30th is April's billing date
    (1, date(2026, 12, 15), date(2027, 1, 1)),    # across the year
    (15, date(2026, 3, 14), date(2026, 3, 15)),
    (15, date(2026, 3, 15), date(2026, 4, 15)),   # on the day: the next one
])
def test_next_billing_date_handles_short_months(session, billing_day, today, expected):
    account = make_account(session, billing_day=billing_day)
    assert ledger.figures(session, account.id, today=today).next_billing_date == expected


def test_unknown_account_is_an_error(session):
    with pytest.raises(LookupError):
        ledger.figures(session, 12345)
