"""Customers: search and an account's page with the staff actions."""
import reflex as rx

from rxportal.components.admin_layout import admin_template, admin_title, data_table
from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.state.admin_customers import AdminAccountState as A
from rxportal.state.admin_customers import AdminCustomersState as C


def pager(state) -> rx.Component:
    return rx.hstack(
        rx.button(t("Previous"), variant="soft", disabled=state.page <= 1,
                  on_click=state.go_to_page(state.page - 1)),
        rx.text(t("Page {page} of {pages}", page=state.page, pages=state.pages), size="2"),
        rx.button(t("Next"), variant="soft", disabled=state.page >= state.pages,
                  on_click=state.go_to_page(state.page + 1)),
        align="center", spacing="3",
    )


def customer_cells(row: rx.Var) -> list:
    return [rx.link(row["name"], href="/admin/customers/" + row["id"]), row["number"],
            row["email"], row["usernames"], row["phones"], row["status"]]


@admin_template(route="/admin/customers", title="Customers", area="customers",
                on_load=[C.load_customers])
def customers_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Customers")),
        portal_form(
            rx.flex(
                rx.box(field(t("Search customers"), "q", value=C.query, type="search",
                             hint=t("Name, e-mail, username, account number or phone")),
                       flex="1", min_width="200px"),
                submit_button(t("Search"), margin_top="28px"),
                class_name="w-full", align="start", spacing="3", wrap="wrap",
            ),
            on_submit=C.search, reset_on_submit=False, class_name="w-full",
        ),
        rx.text(t("{count} customers found", count=C.total), size="2", id="customer-count"),
        data_table(t("Customers"), [t("Name"), t("Account"), t("E-mail"), t("Logins"),
                                    t("Phone"), t("Status")], C.rows, customer_cells),
        pager(C),
        spacing="4", class_name="w-full",
    )


def figure(label: rx.Var, value: rx.Var, id: str) -> rx.Component:
    return rx.card(rx.vstack(rx.text(label, size="2", color_scheme="gray"),
                             rx.text(value, size="5", weight="bold", id=id), spacing="1"),
                   min_width="150px", flex="1")


def login_cells(row: rx.Var) -> list[rx.Component]:
    return [
        row["username"],
        (rx.cond(row["disabled"] != "", rx.badge(t("Disabled"), color_scheme="red", high_contrast=True),
                              rx.cond(row["temporary"] != "",
                                      rx.badge(t("Temporary password"), color_scheme="amber", high_contrast=True),
                                      rx.badge(t("Active"), color_scheme="green", high_contrast=True)))),
        row["last_login"],
        (rx.hstack(
            rx.button(t("Send password reset link"), size="1", variant="soft",
                      on_click=A.send_reset(row["id"])),
            rx.cond(row["disabled"] != "",
                    rx.button(t("Enable login"), size="1", variant="soft",
                              on_click=A.enable_login(row["id"])),
                    rx.button(t("Disable login"), size="1", variant="soft", color_scheme="red",
                              on_click=A.disable_login(row["id"]))),
            spacing="2", wrap="wrap",
        )),
    ]


def simple_table(headers: list[str], rows: rx.Var, cells) -> rx.Component:
    return data_table(t(headers[0]), [t(h) for h in headers], rows, cells)


def transaction_form() -> rx.Component:
    return rx.card(
        portal_form(
            rx.vstack(
                rx.heading(t("Post a charge or credit"), as_="h2", size="4"),
                rx.box(
                    rx.el.label(t("Type"), html_for="kind",
                                style={"display": "block", "fontWeight": "500", "marginBottom": "4px"}),
                    rx.el.select(rx.el.option(t("Credit"), value="credit"),
                                 rx.el.option(t("Charge"), value="charge"),
                                 id="kind", name="kind", default_value="credit",
                                 style={"padding": "8px", "borderRadius": "6px",
                                        "border": "1px solid var(--gray-7)",
                                        "background": "var(--color-background)",
                                        "color": "var(--gray-12)"}),
                    rx.text(A.tx_errors.get("kind", ""), color_scheme="red", size="2", role="alert"),
                ),
                field(t("Amount"), "amount", error=A.tx_errors.get("amount", ""),
                      input_mode="decimal", hint=t("In the account's currency, like 25.00.")),
                field(t("Description the customer sees"), "description",
                      error=A.tx_errors.get("description", "")),
                submit_button(t("Post"), A.busy, id="post-transaction"),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=A.post_transaction, key="tx-" + A.form_version.to_string(),
        ),
        class_name="w-full",
    )


def services_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Services"), as_="h2", size="4"),
            simple_table(["Service", "Price", "Status", "Action"], A.services, lambda s: [
                s["name"], s["price"], s["status_text"],
                rx.cond(s["status"] == "active",
                        rx.button(t("End service"), size="1", variant="soft",
                                  color_scheme="red", on_click=A.end_service(s["id"])),
                        rx.fragment()),
            ]),
            portal_form(
                rx.hstack(
                    rx.box(
                        rx.el.label(t("Plan"), html_for="plan",
                                    style={"display": "block", "fontWeight": "500", "marginBottom": "4px"}),
                        rx.el.select(rx.foreach(A.plan_options,
                                                lambda p: rx.el.option(p["label"], value=p["id"])),
                                     id="plan", name="plan",
                                     style={"padding": "8px", "borderRadius": "6px", "maxWidth": "100%",
                                            "border": "1px solid var(--gray-7)",
                                            "background": "var(--color-background)",
                                            "color": "var(--gray-12)"}),
                        rx.text(A.tx_errors.get("plan", ""), color_scheme="red", size="2", role="alert"),
                        min_width="0",
                    ),
                    submit_button(t("Add service"), margin_top="28px"),
                    align="start", wrap="wrap", class_name="w-full",
                ),
                on_submit=A.add_service,
            ),
            spacing="3", class_name="w-full",
        ),
        class_name="w-full",
    )


def contracts_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Contracts"), as_="h2", size="4"),
            simple_table(["Contract", "Issued", "Status", "Signed", "Action"], A.contracts,
                         lambda c: [rx.link(c["name"], href="/admin/contracts/record/" + c["id"]),
                                    c["issued"], c["status_text"], c["signed"],
                                    rx.cond(c["status"] == "signed",
                                            rx.button(t("Download PDF"), size="1", variant="soft",
                                                      on_click=A.download_contract(c["id"])),
                                            rx.fragment())]),
            portal_form(
                rx.hstack(
                    rx.box(
                        rx.el.label(t("Contract"), html_for="template",
                                    style={"display": "block", "fontWeight": "500", "marginBottom": "4px"}),
                        rx.el.select(rx.foreach(A.template_options,
                                                lambda o: rx.el.option(o["label"], value=o["id"])),
                                     id="template", name="template",
                                     style={"padding": "8px", "borderRadius": "6px", "maxWidth": "100%",
                                            "border": "1px solid var(--gray-7)",
                                            "background": "var(--color-background)",
                                            "color": "var(--gray-12)"}),
                        rx.text(A.tx_errors.get("template", ""), color_scheme="red", size="2",
                                role="alert"),
                        min_width="0",
                    ),
                    submit_button(t("Issue contract"), margin_top="28px", id="issue-contract"),
                    align="start", wrap="wrap", class_name="w-full",
                ),
                on_submit=A.issue_contract,
            ),
            spacing="3", class_name="w-full",
        ),
        class_name="w-full",
    )


def refund_form() -> rx.Component:
    f = A.refund_form
    return portal_form(
        rx.vstack(
            rx.heading(t("Refund the payment of {amount} made {when}", amount=f["paid"],
                         when=f["when"]), as_="h3", size="3"),
            rx.el.input(type="hidden", name="payment_id", value=f["payment_id"]),
            rx.el.input(type="hidden", name="attempt", value=f["attempt"]),
            field(t("Amount to refund"), "amount", value=f["amount"], input_mode="decimal",
                  input_id="refund-amount", error=A.refund_errors.get("amount", ""),
                  hint=t("At most what is still refundable, in the account's currency.")),
            field(t("Reason"), "reason", input_id="refund-reason",
                  error=A.refund_errors.get("reason", ""),
                  hint=t("Kept in the audit log; the customer sees the refund in their transactions.")),
            rx.hstack(
                submit_button(t("Make the refund"), A.busy, id="refund-submit", color_scheme="red"),
                rx.button(t("Cancel"), type="button", variant="soft",
                          on_click=A.load_refund("")),
                spacing="3", wrap="wrap",
            ),
            spacing="3", class_name="w-full", align="start",
        ),
        on_submit=A.refund_payment, key="refund-" + A.form_version.to_string(),
        id="refund-form",
    )


def payments_card() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Payments"), as_="h2", size="4"),
            rx.cond(A.payments.length() > 0,
                    simple_table(["Date", "Amount", "For", "Method", "Status", "Refunded",
                                  "Action"],
                                 A.payments, lambda p: [
                                     p["when"], p["amount"], p["paid_for"], p["method"],
                                     p["status"],
                                     p["refunded"],
                                     rx.cond(A.is_admin & (p["refundable"] != ""),
                                             rx.button(t("Refund payment"), size="1", variant="soft",
                                                       color_scheme="red",
                                                       on_click=A.load_refund(p["id"]),
                                                       id="refund-" + p["id"]),
                                             rx.fragment())]),
                    rx.text(t("No payments yet."))),
            rx.cond(A.refund_form.contains("payment_id"), refund_form(), rx.fragment()),
            spacing="3", class_name="w-full",
        ),
        class_name="w-full",
    )


def account_view() -> rx.Component:
    return rx.vstack(
        admin_title(A.account["name"]),
        rx.text(t("Account {number} · {email} · {status}", number=A.account["number"],
                  email=A.account["email"], status=A.account["status"]), size="2"),
        form_message(A.notice, kind="green"),
        form_message(A.error),
        rx.flex(
            figure(t("Amount due"), A.figures["amount_due"], "staff-amount-due"),
            figure(t("Total balance"), A.figures["total_balance"], "staff-total-balance"),
            figure(t("Next billing cycle amount"), A.figures["next_cycle_amount"], "staff-next-cycle"),
            figure(t("Next billing date"), A.figures["next_billing_date"], "staff-next-date"),
            wrap="wrap", spacing="3", class_name="w-full",
        ),
        rx.card(
            rx.vstack(
                rx.heading(t("Portal logins"), as_="h2", size="4"),
                rx.cond(A.logins.length() > 0,
                        simple_table(["Username", "Status", "Last login", "Actions"], A.logins,
                                     login_cells),
                        rx.text(t("This customer has no portal login yet."))),
                rx.button(t("Invite to the portal"), on_click=A.invite, id="invite-customer"),
                rx.text(t("Creates a login and e-mails the username, a temporary password and "
                          "the portal's address."), size="1", color_scheme="gray"),
                spacing="3", class_name="w-full", align="start",
            ),
            class_name="w-full",
        ),
        transaction_form(),
        payments_card(),
        services_card(),
        contracts_card(),
        rx.card(rx.vstack(
            rx.heading(t("Recent transactions"), as_="h2", size="4"),
            simple_table(["Date", "Type", "Description", "Amount"], A.transactions, lambda r: [
                r["when"], r["kind"], r["description"], r["amount"]]),
            class_name="w-full"), class_name="w-full"),
        rx.card(rx.vstack(
            rx.heading(t("Invoices"), as_="h2", size="4"),
            simple_table(["Number", "Issued", "Due", "Amount", "Status"], A.invoices, lambda r: [
                r["number"], r["issued"], r["due"], r["total"], r["status"]]),
            class_name="w-full"), class_name="w-full"),
        spacing="4", class_name="w-full",
    )


@admin_template(route="/admin/customers/[account_id]", title="Customer", area="customers",
                on_load=[A.load_account])
def account_page() -> rx.Component:
    return rx.cond(
        A.found,
        account_view(),
        rx.vstack(admin_title(t("Customer")), rx.text(t("Not found.")),
                  rx.link(t("Back to the customers"), href="/admin/customers")),
    )
