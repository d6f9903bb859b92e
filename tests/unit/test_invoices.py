"""Invoices: the paged list in SQL and the PDF (read back with pypdf), in both languages; another
account's invoice is "not found"."""
from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlmodel import select

from rxportal.models import Invoice, InvoiceLine, Transaction
from rxportal.services import invoices
from rxportal.services.payments import NotFound
from tests.billing_factory import make_account


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_invoice_pdf_in_english_shows_lines_taxes_payments_and_amount_due(session):
    account = make_account(session, invoices=(6500,), paid={0: 2000})
    invoice = session.exec(select(Invoice).where(Invoice.account_id == account.id)).one()
    session.add(InvoiceLine(invoice_id=invoice.id, description="Static IP address",
                            unit_minor=500, amount_minor=500, tax_minor=65))
    session.commit()
    name, data = invoices.invoice_pdf(session, account.id, invoice.id, "en")
    text = pdf_text(data)
    assert name == f"{invoice.number}.pdf"
    for expected in (f"Invoice {invoice.number}", "Example Internet", account.name, "Fibre 100",
                     "Static IP address", "Taxes", "$0.65", "Total", "$65.00",
                     "Payment received", "-$20.00", "Amount due", "$45.00", "Due date",
                     "Jan 15, 2026"):
        assert expected in text, expected


def test_invoice_pdf_in_french_uses_french_words_and_money_format(session):
    account = make_account(session, invoices=(6500,), language="fr")
    invoice = session.exec(select(Invoice).where(Invoice.account_id == account.id)).one()
    text = pdf_text(invoices.invoice_pdf(session, account.id, invoice.id)[1])
    for expected in ("Facture", "Date d'échéance", "Montant dû", "65,00", "$"):
        assert expected in text, expected


def test_paid_invoice_pdf_says_paid(session):
    account = make_account(session, invoices=(6500,), paid={0: 6500})
    invoice = session.exec(select(Invoice).where(Invoice.account_id == account.id)).one()
    invoice.status = "paid"
    session.commit()
    text = pdf_text(invoices.invoice_pdf(session, account.id, invoice.id, "en")[1])
    assert "Paid" in text and "$0.00" in text


def test_another_account_gets_not_found_for_the_pdf(session):
    demo = make_account(session)
    demo2 = make_account(session)
    invoice = session.exec(select(Invoice).where(Invoice.account_id == demo.id)).one()
    with pytest.raises(NotFound):
        invoices.invoice_pdf(session, demo2.id, invoice.id)
    with pytest.raises(NotFound):
        invoices.invoice_pdf(session, demo2.id, 999999)
    with pytest.raises(NotFound):
        invoices.get_invoice(session, demo2.id, invoice.id)


def _daily_invoice(session, account, number: str, day: date, status: str) -> Invoice:
    """An invoice of 10.00 issued on `day`, with its charge in the ledger."""
    invoice = Invoice(account_id=account.id, number=number, issued_on=day,
                      due_on=day + timedelta(days=14), currency="CAD", total_minor=1000,
                      status=status)
    session.add(invoice)
    session.flush()
    session.add(Transaction(account_id=account.id, kind="charge", description="x",
                            amount_minor=1000, currency="CAD", invoice_id=invoice.id))
    return invoice


def test_500_invoices_are_paged_in_sql_newest_first(session):
    account = make_account(session, invoices=())
    for n in range(500):
        _daily_invoice(session, account, f"P-{n:04d}", date(2000, 1, 1) + timedelta(days=n),
                       "open" if n >= 498 else "paid")
    session.commit()
    assert invoices.count_invoices(session, account.id) == 500
    first = invoices.list_invoices(session, account.id, 0, 10)
    assert [row.number for row in first[:2]] == ["P-0499", "P-0498"]
    assert first[0].due_minor == 1000 and first[2].due_minor == 0
    last = invoices.list_invoices(session, account.id, 490, 10)
    assert [row.number for row in last][-1] == "P-0000" and len(last) == 10


def test_a_page_of_invoices_shows_what_is_still_owed_on_each(session):
    account = make_account(session, invoices=())
    for n in range(23):
        invoice = _daily_invoice(session, account, f"Q-{n:02d}",
                                 date(2001, 1, 1) + timedelta(days=n), "open" if n == 22 else "paid")
        if n == 22:  # part paid: 250 still owed
            session.add(Transaction(account_id=account.id, kind="payment", description="p",
                                    amount_minor=-750, currency="CAD", invoice_id=invoice.id))
    session.commit()
    rows = invoices.list_invoices(session, account.id, 0, 10)
    assert invoices.count_invoices(session, account.id) == 23 and len(rows) == 10
    assert (rows[0].number, rows[0].due_minor, rows[1].due_minor) == ("Q-22", 250, 0)
    assert [r.number for r in invoices.list_invoices(session, account.id, 20, 10)] == [
        "Q-02", "Q-01", "Q-00"]
    assert invoices.list_invoices(session, account.id, 40, 10) == []


def test_billing_view_past_the_last_page_shows_the_last_page(session):
    from rxportal.services import billing

    account = make_account(session, invoices=())
    for n in range(12):
        session.add(Invoice(account_id=account.id, number=f"R-{n:02d}",
                            issued_on=date(2002, 1, 1) + timedelta(days=n),
                            due_on=date(2002, 2, 1), currency="CAD", total_minor=100,
                            status="paid"))
    session.commit()
    view = billing.view(session, account.id, "en", inv_page=7)
    assert (view["inv_page"], view["inv_pages"], view["inv_total"]) == (1, 2, 12)
    assert [row["number"] for row in view["invoices"]] == ["R-01", "R-00"]
    first = billing.view(session, account.id, "en", inv_page=-3)
    assert first["inv_page"] == 0 and first["invoices"][0]["number"] == "R-11"
