"""The billing page (guide: "The Billing Page", items 2-11) and the payment page."""
import reflex as rx

from rxportal.components.cards import card_element, save_card_box
from rxportal.components.forms import field, form_message, submit_button
from rxportal.components.i18n import t
from rxportal.components.layout import page_title, template, until_loaded
from rxportal.components.render_later import render_later
from rxportal.state.billing import BillingState, PayState
from rxportal.state.session import SessionState


def figure(label: rx.Var, value: rx.Var, test_id: str, hint: rx.Component | None = None) -> rx.Component:
    return rx.card(
        rx.text(label, size="2", color_scheme="gray", as_="p"),
        rx.text(value, size="6", weight="bold", id=test_id, as_="p"),
        hint if hint is not None else rx.fragment(),
        class_name="w-full",
    )


def usage_card() -> rx.Component:
    """Data usage this billing period against the cap (guide item 7)."""
    return rx.card(
        rx.text(t("Data usage"), size="2", color_scheme="gray", as_="p"),
        rx.cond(
            BillingState.usage_used != "",
            rx.fragment(
                rx.text(t("{used} of {cap}", used=BillingState.usage_used, cap=BillingState.cap),
                        size="5", weight="bold", id="data-usage", as_="p"),
                rx.progress(value=BillingState.usage_percent, max=100, size="2",
                            aria_label=t("Data usage"), margin_y="6px"),
            ),
            rx.text(t("Data cap: {cap}", cap=BillingState.cap), size="5", weight="bold",
                    id="data-usage", as_="p"),
        ),
        rx.cond(SessionState.show_usage,  # no link to a page the ISP turned off
                rx.link(t("See data usage"), href="/usage", size="2")),
        class_name="w-full",
    )


def amount_due_card() -> rx.Component:
    """What is unpaid and the pay button: first on every screen size."""
    return rx.card(
        rx.flex(
            rx.vstack(
                rx.text(t("Amount due"), size="2", color_scheme="gray", as_="p"),
                rx.text(BillingState.amount_due, size="8", weight="bold", id="amount-due",
                        as_="p"),
                rx.text(t("Open invoices: {count}", count=BillingState.open_invoices.to_string()),
                        size="2", id="open-invoices", as_="p"),
                spacing="1",
            ),
            rx.link(rx.button(rx.icon("credit-card", size=18, aria_hidden="true"),
                              t("Make a payment"), size="3"),
                    href="/billing/pay", id="make-payment"),
            direction=rx.breakpoints(initial="column", sm="row"), spacing="3",
            justify="between", align=rx.breakpoints(initial="start", sm="center"),
        ),
        class_name="w-full", style={"borderLeft": "4px solid var(--accent-9)"},
    )


def pager(table: str, label: rx.Var, page: rx.Var, pages: rx.Var) -> rx.Component:
    return rx.hstack(
        rx.icon_button(rx.icon("chevron-left", size=16), variant="soft", size="1",
                       aria_label=t("Previous page"), disabled=page <= 0,
                       on_click=BillingState.change_page(table, -1)),
        rx.text(label, size="2", aria_live="polite"),
        rx.icon_button(rx.icon("chevron-right", size=16), variant="soft", size="1",
                       aria_label=t("Next page"), disabled=page >= pages - 1,
                       on_click=BillingState.change_page(table, 1)),
        align="center", spacing="2",
    )


def section(title: rx.Var, *children, action: rx.Component | None = None,
            section_id: str = "") -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.heading(title, as_="h2", size="4"), rx.box(class_name="spacer"),
                      action if action is not None else rx.fragment(),
                      class_name="w-full", align="center"),
            *children,
            spacing="3", class_name="w-full",
        ),
        class_name="w-full", id=section_id,
    )


def scroll_table(*children) -> rx.Component:
    return rx.box(rx.table.root(*children, class_name="w-full", size="2"), overflow_x="auto",
                  class_name="w-full")


def transactions_section() -> rx.Component:
    return section(
        t("Recent transactions"),
        rx.text(t("Since {date}", date=BillingState.period_start), size="2",
                color_scheme="gray"),
        rx.cond(
            BillingState.transactions.length() > 0,
            scroll_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell(t("Type")),
                    rx.table.column_header_cell(t("Date")),
                    rx.table.column_header_cell(t("Amount"), justify="end"),
                )),
                rx.table.body(rx.foreach(BillingState.transactions, lambda row: rx.table.row(
                    rx.table.cell(row["type"]), rx.table.cell(row["date"]),
                    rx.table.cell(row["amount"], justify="end"), key=row["id"]))),
            ),
            rx.text(t("No transactions in this billing period yet."), size="2"),
        ),
        rx.cond(BillingState.tx_pages > 1,
                pager("transactions", BillingState.tx_page_label, BillingState.tx_page,
                      BillingState.tx_pages)),
        section_id="transactions",
    )


def autopay_badge(row) -> rx.Component:
    return rx.cond(row["autopay"] != "",
                   rx.badge(rx.icon("repeat", size=12, aria_hidden="true"), t("Autopay"),
                            color_scheme="green"))


def methods_section() -> rx.Component:
    manage = rx.link(t("Manage payment methods"), href="/billing/pay#methods", size="2")
    return rx.grid(
        section(
            t("Credit cards"),
            rx.cond(
                BillingState.cards.length() > 0,
                rx.vstack(rx.foreach(BillingState.cards, lambda card: rx.hstack(
                    rx.icon("credit-card", size=18, aria_hidden="true"),
                    rx.text(card["brand"], " ", card["masked"], weight="medium"),
                    rx.text(t("Expires {date}", date=card["expiry"]), size="2",
                            color_scheme="gray"),
                    autopay_badge(card), align="center", wrap="wrap", key=card["id"])),
                    spacing="2"),
                rx.text(t("No card saved."), size="2"),
            ),
            action=manage, section_id="cards",
        ),
        section(
            t("Bank accounts"),
            rx.cond(
                BillingState.banks.length() > 0,
                rx.vstack(rx.foreach(BillingState.banks, lambda bank: rx.hstack(
                    rx.icon("landmark", size=18, aria_hidden="true"),
                    rx.text(bank["brand"], " ", bank["masked"], weight="medium"),
                    autopay_badge(bank), align="center", key=bank["id"])), spacing="2"),
                rx.text(t("No bank account saved."), size="2"),
            ),
            section_id="banks",
        ),
        columns=rx.breakpoints(initial="1", md="2"), spacing="3", class_name="w-full",
    )


def invoices_section() -> rx.Component:
    return section(
        t("Invoices"),
        form_message(BillingState.billing_error),
        rx.cond(
            BillingState.invoices.length() > 0,
            scroll_table(
                rx.table.header(rx.table.row(
                    rx.table.column_header_cell(t("Created")),
                    rx.table.column_header_cell(t("Invoice number")),
                    rx.table.column_header_cell(t("Amount due"), justify="end"),
                    rx.table.column_header_cell(t("Due date")),
                    rx.table.column_header_cell(t("Download")),
                )),
                rx.table.body(rx.foreach(BillingState.invoices, lambda row: rx.table.row(
                    rx.table.cell(row["created"]),
                    rx.table.cell(row["number"]),
                    rx.table.cell(row["due"], justify="end"),
                    rx.table.cell(row["due_date"]),
                    rx.table.cell(rx.button(
                        rx.icon("download", size=14, aria_hidden="true"), "PDF", size="1",
                        variant="soft", on_click=BillingState.download_invoice(row["id"]),
                        aria_label=t("Download invoice {number}", number=row["number"]))),
                    key=row["id"]))),
            ),
            rx.text(t("No invoices yet."), size="2"),
        ),
        rx.cond(BillingState.inv_pages > 1,
                pager("invoices", BillingState.inv_page_label, BillingState.inv_page,
                      BillingState.inv_pages)),
        section_id="invoices",
    )


@template(route="/billing", title="Billing", load=BillingState.load_billing)
def billing_page() -> rx.Component:
    return rx.vstack(
        page_title(t("Billing")),
        until_loaded(BillingState.loaded, rx.vstack(
            amount_due_card(),
            rx.grid(
                figure(t("Total balance"), BillingState.total_balance, "total-balance"),
                figure(t("Next billing cycle amount"), BillingState.next_cycle_amount,
                       "next-cycle"),
                figure(t("Next billing date"), BillingState.next_billing_date,
                       "next-billing-date"),
                rx.cond(BillingState.has_cap, usage_card()),
                columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="3", class_name="w-full",
            ),
            render_later(rx.vstack(transactions_section(), methods_section(), invoices_section(),
                                   spacing="4", class_name="w-full")),
            spacing="4", class_name="w-full",
        )),
        spacing="4", class_name="w-full",
    )


# -- /billing/pay ------------------------------------------------------------------------------

def radio(name: str, value: str, label: rx.Var, checked: rx.Var, on_change, input_id: str) -> rx.Component:
    return rx.el.label(
        rx.el.input(type="radio", name=name, value=value, id=input_id, checked=checked,
                    on_change=on_change, style={"width": "18px", "height": "18px"}),
        label, html_for=input_id,
        style={"display": "flex", "gap": "8px", "alignItems": "center", "padding": "4px 0"},
    )


def pay_form() -> rx.Component:
    return rx.card(
        rx.form.root(
            rx.vstack(
                rx.heading(t("Make a payment"), as_="h2", size="5"),
                form_message(PayState.notice, kind="green"),
                form_message(PayState.pay_error),
                rx.el.fieldset(
                    rx.el.legend(t("What do you want to pay?"), style={"fontWeight": "600"}),
                    rx.el.input(type="hidden", name="purpose", value=PayState.purpose),
                    # The server-issued attempt this form was rendered with: a second submit of
                    # the same form (double click) after the payment went through is ignored.
                    rx.el.input(type="hidden", name="attempt", value=PayState.attempt_id),
                    radio("purpose_choice", "amount_due",
                          t("The amount due: {amount}", amount=PayState.amount_due),
                          PayState.purpose == "amount_due",
                          lambda _v: PayState.set_purpose("amount_due"), "purpose-due"),
                    radio("purpose_choice", "invoices", t("Chosen invoices"),
                          PayState.purpose == "invoices",
                          lambda _v: PayState.set_purpose("invoices"), "purpose-invoices"),
                    rx.cond(PayState.purpose == "invoices", rx.vstack(
                        rx.foreach(PayState.choices, lambda inv: rx.el.label(
                            rx.el.input(type="checkbox", name="invoice_" + inv["id"],
                                        id="invoice_" + inv["id"],
                                        style={"width": "18px", "height": "18px"}),
                            inv["number"], " — ", inv["due"], " (",
                            t("due {date}", date=inv["due_date"]), ")",
                            html_for="invoice_" + inv["id"],
                            style={"display": "flex", "gap": "8px", "alignItems": "center"},
                            key=inv["id"])),
                        rx.text(PayState.invoices_error, color_scheme="red", size="2",
                                role="alert"),
                        padding_left="26px", spacing="1")),
                    radio("purpose_choice", "other", t("Another amount"),
                          PayState.purpose == "other",
                          lambda _v: PayState.set_purpose("other"), "purpose-other"),
                    rx.cond(PayState.purpose == "other", rx.box(
                        field(t("Amount to pay"), "amount", error=PayState.amount_error,
                              input_mode="decimal", placeholder="0.00",
                              hint=t("Paying more than you owe leaves a credit on your "
                                     "account, up to a limit.")),
                        padding_left="26px", class_name="w-full")),
                    style={"border": "none", "padding": "0", "margin": "0", "width": "100%"},
                ),
                rx.el.fieldset(
                    rx.el.legend(t("Pay with"), style={"fontWeight": "600"}),
                    rx.foreach(PayState.methods, lambda m: radio(
                        "method_choice", m["id"],
                        rx.fragment(m["brand"], " ", m["masked"],
                                    rx.cond(m["expiry"] != "", " (" + m["expiry"] + ")", "")),
                        PayState.method_choice == m["id"],
                        lambda _v: PayState.set_method_choice(m["id"]),
                        "method-" + m["id"])),
                    radio("method_choice", "new", t("A new card"),
                          PayState.method_choice == "new",
                          lambda _v: PayState.set_method_choice("new"), "method-new"),
                    rx.cond(PayState.paying_with_new_card, rx.vstack(
                        card_element("pay-card-element"),
                        save_card_box(PayState.save_card, PayState.set_save_card),
                        class_name="w-full", padding_left="26px")),
                    style={"border": "none", "padding": "0", "margin": "0", "width": "100%"},
                ),
                submit_button(t("Pay now"), PayState.busy, id="pay-button"),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=PayState.submit_payment,
        ),
        class_name="w-full",
    )


def iban_input() -> rx.Component:
    """The IBAN field of a SEPA bank account (the other bank types use Stripe's window)."""
    return rx.box(
        # No id and no name: Reflex's form never collects it; the
        # number is read by Stripe.js in the browser, never sent here.
        rx.el.label(
            rx.el.span(t("IBAN"), style={"display": "block",
                                         "fontWeight": "500",
                                         "marginBottom": "4px"}),
            rx.el.input(class_name="rx-iban", auto_complete="off",
                        placeholder="DE89 3704 0044 0532 0130 00",
                        style={"width": "100%", "padding": "8px",
                               "border": "1px solid var(--gray-7)",
                               "borderRadius": "6px",
                               "boxSizing": "border-box"}),
            style={"display": "block", "width": "100%"}),
        rx.text(t("By saving a bank account you authorise us to "
                  "debit it for your invoices (SEPA mandate)."),
                size="1", color_scheme="gray"),
        class_name="w-full")


def method_row(m) -> rx.Component:
    return rx.hstack(
        rx.text(m["brand"], " ", m["masked"], weight="medium"),
        rx.cond(m["expiry"] != "", rx.text(m["expiry"], size="2", color_scheme="gray")),
        autopay_badge(m),
        rx.box(class_name="spacer"),
        rx.cond(m["autopay"] == "",
                rx.button(t("Use for autopay"), size="1", variant="soft",
                          on_click=PayState.set_autopay(m["id"]), disabled=PayState.method_busy,
                          aria_label=t("Use {method} for autopay", method=m["masked"]))),
        rx.button(t("Remove"), size="1", variant="soft", color_scheme="red",
                  on_click=PayState.remove_method(m["id"]), disabled=PayState.method_busy,
                  aria_label=t("Remove {method}", method=m["masked"])),
        class_name="w-full", align="center", wrap="wrap", key=m["id"],
    )


def methods_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Payment methods and autopay"), as_="h2", size="5"),
            form_message(PayState.methods_notice, kind="green"),
            form_message(PayState.methods_error),
            rx.cond(PayState.methods.length() > 0,
                    rx.vstack(rx.foreach(PayState.methods, method_row), class_name="w-full",
                              spacing="2"),
                    rx.text(t("No payment method saved."), size="2")),
            rx.cond(PayState.autopay_method != "",
                    rx.button(t("Turn autopay off"), size="2", variant="outline",
                              on_click=PayState.set_autopay(""),
                              disabled=PayState.method_busy),
                    rx.text(t("Autopay is off: invoices are not charged automatically."),
                            size="2", color_scheme="gray")),
            rx.hstack(
                rx.button(rx.icon("plus", size=16, aria_hidden="true"), t("Add a card"),
                          size="2", variant="soft", on_click=PayState.open_add("card")),
                rx.cond(PayState.bank_kind != "",
                        rx.button(rx.icon("plus", size=16, aria_hidden="true"),
                                  t("Add a bank account"), size="2", variant="soft",
                                  on_click=PayState.open_add("bank"))),
                wrap="wrap",
            ),
            rx.cond(PayState.adding != "", rx.form.root(
                rx.vstack(
                    rx.cond(PayState.adding == "card", card_element("add-card-element"),
                            rx.vstack(
                                field(t("Account holder"), "holder", autocomplete="name"),
                                rx.cond(PayState.bank_kind == "sepa_debit", iban_input(),
                                        rx.text(t("Your bank's details and the debit agreement "
                                                  "are entered in Stripe's secure window, "
                                                  "which opens when you save."),
                                                size="2", color_scheme="gray")),
                                class_name="w-full")),
                    rx.el.label(
                        rx.el.input(type="checkbox", name="autopay", id="new_autopay",
                                    style={"width": "18px", "height": "18px"}),
                        t("Use it for autopay"), html_for="new_autopay",
                        style={"display": "flex", "gap": "8px", "alignItems": "center"}),
                    submit_button(t("Save payment method"), PayState.method_busy,
                                  id="save-method"),
                    class_name="w-full", spacing="3", align="start",
                ),
                on_submit=PayState.add_method, class_name="w-full",
            )),
            spacing="3", class_name="w-full", align="start",
        ),
        class_name="w-full", id="methods",
    )


@template(route="/billing/pay", title="Make a payment", load=PayState.load_pay)
def pay_page() -> rx.Component:
    return rx.vstack(
        rx.link(rx.hstack(rx.icon("arrow-left", size=16, aria_hidden="true"),
                          t("Back to billing")), href="/billing", size="2"),
        page_title(t("Make a payment")),
        rx.card(rx.hstack(rx.text(t("Amount due"), size="3"), rx.box(class_name="spacer"),
                          rx.text(PayState.amount_due, size="6", weight="bold",
                                  id="pay-amount-due"), align="center"), class_name="w-full"),
        pay_form(),
        methods_card(),
        spacing="4", class_name="w-full",
    )
