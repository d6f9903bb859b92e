"""Support tickets: the inbox of every account's tickets and one ticket's conversation, with a
reply, close and reopen, and internal notes."""
import reflex as rx

from rxportal.components.admin_layout import admin_template, admin_title, data_table
from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.pages.admin.customers import pager
from rxportal.state.admin_tickets import AdminTicketsState as IN
from rxportal.state.admin_tickets import AdminTicketState as TK

LABEL = {"display": "block", "fontWeight": "500", "marginBottom": "4px"}
SELECT = {"padding": "8px", "borderRadius": "6px", "border": "1px solid var(--gray-7)",
          "background": "var(--color-background)", "color": "var(--gray-12)"}


@admin_template(route="/admin/tickets", title="Tickets", area="tickets", on_load=[IN.load_inbox])
def inbox_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Tickets")),
        portal_form(
            rx.flex(
                rx.box(
                    rx.el.label(t("Show"), html_for="status", style=LABEL),
                    rx.el.select(
                        rx.el.option(t("Open tickets"), value="open"),
                        rx.el.option(t("Waiting for ISP"), value="waiting_for_isp"),
                        rx.el.option(t("Awaiting Response"), value="awaiting_response"),
                        rx.el.option(t("Closed"), value="closed"),
                        rx.el.option(t("All tickets"), value="all"),
                        id="status", name="status", default_value=IN.status, style=SELECT),
                ),
                rx.box(field(t("Search tickets"), "q", value=IN.query, type="search"),
                       min_width="180px", flex="1"),
                submit_button(t("Filter"), margin_top="28px"),
                wrap="wrap", spacing="3", class_name="w-full", align="start",
            ),
            on_submit=IN.filter, reset_on_submit=False,
        ),
        rx.text(t("{count} tickets", count=IN.total), size="2", id="ticket-count"),
        data_table(t("Tickets"), [t("Ticket"), t("Subject"), t("Customer"), t("Status"),
                                  t("Last activity"), t("Opened")], IN.rows,
                   lambda r: [r["number"], rx.link(r["subject"], href="/admin/tickets/" + r["id"]),
                              r["account"], r["status"], r["last"], r["opened"]]),
        pager(IN),
        spacing="4", class_name="w-full",
    )


def message_card(m: rx.Var) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(rx.text(m["who"], weight="bold", size="2"),
                      rx.text(m["when"], size="1", color_scheme="gray"), spacing="3", wrap="wrap"),
            rx.text(m["text"], white_space="pre-wrap", size="2", style={"wordBreak": "break-word"}),
            rx.cond(m["files"] != "", rx.text(m["files"], size="1", color_scheme="gray")),
            spacing="1", class_name="w-full",
        ),
        class_name="w-full",
        background=rx.cond(m["kind"] == "isp", "var(--accent-2)", "var(--color-panel)"),
    )


def note_card(n: rx.Var) -> rx.Component:
    return rx.box(
        rx.hstack(rx.text(n["who"], weight="bold", size="2"),
                  rx.text(n["when"], size="1", color_scheme="gray"), spacing="3"),
        rx.text(n["text"], white_space="pre-wrap", size="2", style={"wordBreak": "break-word"}),
        padding="8px 12px", border_left="3px solid var(--amber-9)", background="var(--amber-2)",
        class_name="w-full",
    )


def text_box(label: rx.Var, name: str, error: rx.Var) -> rx.Component:
    return rx.box(
        rx.el.label(label, html_for=name, style=LABEL),
        rx.text_area(id=name, name=name, rows="5", class_name="w-full"),
        rx.text(error, color_scheme="red", size="2", role="alert"),
        class_name="w-full",
    )


def ticket_view() -> rx.Component:
    return rx.vstack(
        admin_title(TK.ticket["number"] + " " + TK.ticket["subject"]),
        rx.hstack(
            rx.link(TK.ticket["account"], href="/admin/customers/" + TK.ticket["account_id"]),
            rx.text(TK.ticket["email"], size="2"),
            rx.badge(TK.ticket["status"], id="ticket-status", high_contrast=True),
            spacing="3", wrap="wrap", align="center",
        ),
        form_message(TK.notice, kind="green"),
        rx.vstack(rx.foreach(TK.messages, message_card), spacing="2", class_name="w-full",
                  id="conversation"),
        rx.card(
            portal_form(
                rx.vstack(
                    rx.heading(t("Reply to the customer"), as_="h2", size="4"),
                    text_box(t("Your reply"), "body", TK.errors.get("body", "")),
                    rx.text(t("The customer sees it in the portal and gets it by e-mail."),
                            size="1", color_scheme="gray"),
                    submit_button(t("Send reply"), id="send-reply"),
                    spacing="2", class_name="w-full", align="start",
                ),
                on_submit=TK.send_reply, key="reply-" + TK.form_version.to_string(),
            ),
            class_name="w-full",
        ),
        rx.hstack(
            rx.cond(TK.ticket["raw_status"] == "closed",
                    rx.button(t("Reopen ticket"), on_click=TK.reopen_ticket, variant="soft"),
                    rx.button(t("Close ticket"), on_click=TK.close_ticket, variant="soft",
                              color_scheme="red")),
            spacing="2",
        ),
        rx.card(
            rx.vstack(
                rx.heading(t("Internal notes"), as_="h2", size="4"),
                rx.text(t("Only staff see these notes; they are never sent to the customer."),
                        size="1", color_scheme="gray"),
                rx.foreach(TK.notes, note_card),
                portal_form(
                    rx.vstack(
                        text_box(t("New note"), "note", TK.errors.get("note", "")),
                        submit_button(t("Add note"), id="add-note"),
                        spacing="2", class_name="w-full", align="start",
                    ),
                    on_submit=TK.add_note, key="note-" + TK.form_version.to_string(),
                ),
                spacing="2", class_name="w-full",
            ),
            class_name="w-full",
        ),
        spacing="4", class_name="w-full",
    )


@admin_template(route="/admin/tickets/[ticket_id]", title="Ticket", area="tickets",
                on_load=[TK.load_ticket])
def ticket_page() -> rx.Component:
    return rx.cond(
        TK.found, ticket_view(),
        rx.vstack(admin_title(t("Ticket")), rx.text(t("Not found.")),
                  rx.link(t("Back to the tickets"), href="/admin/tickets")),
    )
