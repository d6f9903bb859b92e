"""Invoices for the billing page: paged lists in SQL, and the invoice PDF (fpdf2).

Every function takes the session's account id and answers "not found" for another account's
invoice exactly as for one that does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, select

from rxportal import config
from rxportal.models import Account, Invoice, InvoiceLine, Transaction
from rxportal.services import i18n
from rxportal.services import settings as isp_settings
from rxportal.services.payments import NotFound

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu")]
BUNDLED_LOGO = config.PROJECT_ROOT / "assets" / "logo.svg"


@dataclass(frozen=True)
class InvoiceRow:
    id: int
    number: str
    issued_on: date
    due_on: date
    total_minor: int
    due_minor: int  # what is still owed on it
    status: str


def get_invoice(session: Session, account_id: int, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None or invoice.account_id != account_id:
        raise NotFound("invoice")
    return invoice


def count_invoices(session: Session, account_id: int) -> int:
    return int(session.exec(select(func.count()).select_from(Invoice).where(
        Invoice.account_id == account_id)).one())


def list_invoices(session: Session, account_id: int, offset: int = 0,
                  limit: int = 10) -> list[InvoiceRow]:
    """One page of invoices, newest first, with what is still owed on each: the page is chosen
    first, then only its invoices' transactions are summed."""
    page = session.exec(
        select(Invoice).where(Invoice.account_id == account_id)
        .order_by(Invoice.issued_on.desc(), Invoice.id.desc())
        .offset(max(0, offset)).limit(max(1, min(limit, 100)))
    ).all()
    ids = [i.id for i in page]
    balances = dict(session.exec(
        select(Transaction.invoice_id, func.sum(Transaction.amount_minor))
        .where(Transaction.invoice_id.in_(ids)).group_by(Transaction.invoice_id)
    ).all()) if ids else {}
    return [InvoiceRow(i.id, i.number, i.issued_on, i.due_on, i.total_minor,
                       max(0, int(balances.get(i.id) or 0)) if i.status == "open" else 0,
                       i.status)
            for i in page]


def invoice_due(session: Session, invoice_id: int) -> int:
    total = session.exec(select(func.coalesce(func.sum(Transaction.amount_minor), 0)).where(
        Transaction.invoice_id == invoice_id)).one()
    return max(0, int(total))


# -- PDF ------------------------------------------------------------------------------------

def _latin1(text: str) -> str:
    text = str(text).replace("\u202f", " ").replace("\u00a0", " ").replace("\u2014", "-") \
        .replace("\u2013", "-").replace("\u2019", "'").replace("\u20ac", "EUR")
    return text.encode("latin-1", "replace").decode("latin-1")


def _logo_path(session: Session) -> Path | None:
    configured = isp_settings.get(session, "logo_path")
    if configured:
        candidate = (config.get().data_dir / configured).resolve()
        if candidate.is_file() and config.get().data_dir.resolve() in candidate.parents:
            return candidate
    return BUNDLED_LOGO if BUNDLED_LOGO.is_file() else None


def invoice_pdf(session: Session, account_id: int, invoice_id: int,
                lang: str | None = None) -> tuple[str, bytes]:
    """(file name, PDF bytes) of one of the account's invoices, in its language and currency."""
    from fpdf import FPDF

    invoice = get_invoice(session, account_id, invoice_id)
    account = session.get(Account, account_id)
    lang = i18n.normalize_language(lang or account.language)
    values = isp_settings.get_many(session, ["isp_name", "country", "support_email",
                                             "support_phone"])
    country = values["country"]
    tr = lambda msgid, **kw: i18n.translate(lang, msgid, **kw)  # noqa: E731
    money = lambda minor: i18n.format_money(minor, invoice.currency, lang, country)  # noqa: E731
    day = lambda d: i18n.format_day(d, lang, country)  # noqa: E731

    pdf = FPDF(format="A4")
    pdf.set_title(f"{tr('Invoice')} {invoice.number}")
    pdf.set_author(values["isp_name"])
    font_dir = next((d for d in FONT_DIRS if (d / "DejaVuSans.ttf").is_file()), None)
    if font_dir is not None:
        pdf.add_font("body", "", str(font_dir / "DejaVuSans.ttf"))
        pdf.add_font("body", "B", str(font_dir / "DejaVuSans-Bold.ttf"))
        family, clean = "body", str
    else:
        family, clean = "helvetica", _latin1
    pdf.add_page()
    pdf.set_auto_page_break(True, margin=20)

    logo = _logo_path(session)
    if logo is not None:
        try:
            pdf.image(str(logo), x=15, y=12, h=14)
        except Exception:  # noqa: BLE001 - a logo the PDF library cannot read is left out
            pass
    pdf.set_xy(110, 12)
    pdf.set_font(family, "B", 14)
    pdf.cell(85, 7, clean(values["isp_name"]), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 9)
    pdf.set_x(110)
    pdf.cell(85, 5, clean(f"{values['support_email']} · {values['support_phone']}"), align="R",
             new_x="LMARGIN", new_y="NEXT")

    pdf.set_y(34)
    pdf.set_font(family, "B", 18)
    pdf.cell(0, 10, clean(f"{tr('Invoice')} {invoice.number}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(family, "", 10)
    facts = [
        (tr("Account"), f"{account.name} ({account.number})"),
        (tr("Invoice date"), day(invoice.issued_on)),
        (tr("Due date"), day(invoice.due_on)),
    ]
    if invoice.period_start and invoice.period_end:
        facts.append((tr("Billing period"),
                      f"{day(invoice.period_start)} – {day(invoice.period_end)}"))
    for label, value in facts:
        pdf.set_font(family, "B", 10)
        pdf.cell(52, 6, clean(label))
        pdf.set_font(family, "", 10)
        pdf.cell(0, 6, clean(value), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)

    widths = (95, 20, 35, 35)
    pdf.set_font(family, "B", 10)
    pdf.set_fill_color(230, 233, 245)
    for width, head, align in zip(widths, (tr("Description"), tr("Quantity"), tr("Unit price"),
                                           tr("Amount")), "LRRR"):
        pdf.cell(width, 8, clean(head), border="B", align=align, fill=True)
    pdf.ln()
    pdf.set_font(family, "", 10)
    lines = session.exec(select(InvoiceLine).where(InvoiceLine.invoice_id == invoice.id)
                         .order_by(InvoiceLine.id)).all()
    subtotal = taxes = 0
    for line in lines:
        subtotal += line.amount_minor
        taxes += line.tax_minor
        pdf.cell(widths[0], 7, clean(line.description[:60]))
        pdf.cell(widths[1], 7, str(line.quantity), align="R")
        pdf.cell(widths[2], 7, clean(money(line.unit_minor)), align="R")
        pdf.cell(widths[3], 7, clean(money(line.amount_minor)), align="R",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)

    applied = session.exec(select(Transaction).where(
        Transaction.invoice_id == invoice.id, Transaction.amount_minor < 0)
        .order_by(Transaction.occurred_at, Transaction.id)).all()
    due = invoice_due(session, invoice.id) if invoice.status == "open" else 0
    totals = [(tr("Subtotal"), money(subtotal))]
    if taxes:
        totals.append((tr("Taxes"), money(taxes)))
    totals.append((tr("Total"), money(invoice.total_minor)))
    for row in applied:
        label = tr("Credit applied") if row.kind == "credit" else tr("Payment received")
        totals.append((f"{label} ({day(row.occurred_at)})", money(row.amount_minor)))
    totals.append((tr("Amount due"), money(due)))
    for index, (label, value) in enumerate(totals):
        bold = index == len(totals) - 1 or label == tr("Total")
        pdf.set_font(family, "B" if bold else "", 11 if bold else 10)
        pdf.cell(sum(widths[:3]), 7, clean(label), align="R")
        pdf.cell(widths[3], 7, clean(value), align="R", new_x="LMARGIN", new_y="NEXT")
    if invoice.status == "paid":
        pdf.ln(4)
        pdf.set_font(family, "B", 12)
        pdf.set_text_color(30, 130, 70)
        pdf.cell(0, 8, clean(tr("Paid — thank you")), new_x="LMARGIN", new_y="NEXT")
    return f"{invoice.number}.pdf", bytes(pdf.output())
