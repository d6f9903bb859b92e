"""Support Tickets (guide: "The Support Tickets Page", items 1-3): the list with its New ticket
form, and one ticket's conversation with a reply box."""
import reflex as rx

from rxportal.components.forms import field, form_message, submit_button
from rxportal.components.i18n import t
from rxportal.components.layout import page_title, template, until_loaded
from rxportal.state.tickets import TicketsState, TicketState

NEW_UPLOAD_ID = "ticket_attachment"
REPLY_UPLOAD_ID = "reply_attachment"


def status_badge(status: rx.Var) -> rx.Component:
    return rx.match(
        status,
        ("awaiting_response", rx.badge(t("Awaiting Response"), color_scheme="orange", size="2",
                                                 high_contrast=True)),
        ("waiting_for_isp", rx.badge(t("Waiting for ISP"), color_scheme="blue", size="2",
                                               high_contrast=True)),
        ("closed", rx.badge(t("Closed"), color_scheme="gray", size="2", high_contrast=True)),
        rx.fragment(),
    )


def notice(text: rx.Var) -> rx.Component:
    """A success message, in full-contrast text."""
    return rx.cond(
        text != "",
        rx.box(rx.hstack(rx.icon("circle-check", size=18, color="var(--green-11)",
                                 aria_hidden="true"),
                         rx.text(text, size="2", color="var(--gray-12)"),
                         align="center", spacing="2"),
               role="status", padding="10px 12px", border_radius="8px",
               border="1px solid var(--green-8)", background="var(--green-2)",
               class_name="ticket-notice w-full"),
        rx.fragment(),
    )


def textarea_field(label: rx.Var, name: str, error: rx.Var, *, input_id: str,
                   rows: str = "6") -> rx.Component:
    error_id = f"{input_id}-error"
    return rx.box(
        rx.el.label(label, html_for=input_id,
                    style={"display": "block", "fontWeight": "500", "marginBottom": "4px"}),
        rx.text_area(id=input_id, name=name, rows=rows, class_name="w-full", size="3",
                     max_length=25_000, aria_describedby=error_id,
                     aria_invalid=rx.cond(error != "", "true", "false")),
        rx.text(error, id=error_id, color_scheme="red", size="2", role="alert",
                aria_live="polite", margin_top="2px"),
        class_name="w-full",
    )


def attachment_picker(state, upload_id: str) -> rx.Component:
    """Optional attachment: chosen, uploaded and checked at once; shown with a Remove button.
    The file input sits inside its <label>, so it is named by the label's text."""
    error_id = f"{upload_id}-error"
    return rx.box(
        rx.cond(
            state.attachment_name != "",
            rx.vstack(
                rx.text(t("Attachment (optional): an image or a PDF"), weight="medium", size="2"),
                rx.hstack(
                    rx.icon("paperclip", size=16, aria_hidden="true"),
                    rx.text(state.attachment_name, size="2", id=f"{upload_id}-name"),
                    rx.button(t("Remove attachment"), type="button", variant="soft", size="1",
                              color_scheme="gray", on_click=state.remove_attachment),
                    align="center", spacing="2",
                ),
                spacing="1",
            ),
            rx.el.label(
                rx.text(t("Attachment (optional): an image or a PDF"), weight="medium",
                        size="2", as_="span", style={"display": "block", "marginBottom": "4px"}),
                rx.upload.root(
                    rx.hstack(rx.icon("paperclip", size=16, aria_hidden="true"),
                              rx.text(t("Choose a file"), size="2", as_="span"),
                              align="center", spacing="2", class_name="ticket-file-button",
                              style={"display": "inline-flex", "padding": "6px 12px",
                                     "borderRadius": "6px", "cursor": "pointer",
                                     "background": "var(--accent-3)",
                                     "color": "var(--accent-12)"}),
                    id=upload_id, multiple=False, max_files=1, no_drag=True, no_click=True,
                    on_drop=state.choose_attachment(rx.upload_files(upload_id=upload_id)),
                    aria_describedby=error_id, border="none", padding="0",
                ),
                style={"display": "block", "cursor": "pointer"},
            ),
        ),
        rx.text(state.attachment_error, id=error_id, color_scheme="red", size="2", role="alert",
                aria_live="polite"),
        class_name="w-full",
    )


def new_ticket_form() -> rx.Component:
    return rx.form.root(
        rx.vstack(
            form_message(TicketsState.form_error),
            rx.el.input(type="hidden", name="form_key", value=TicketsState.form_key),
            field(t("Subject"), "subject", error=TicketsState.subject_error,
                  input_id="ticket-subject"),
            textarea_field(t("Details"), "body", TicketsState.body_error,
                           input_id="ticket-details"),
            attachment_picker(TicketsState, NEW_UPLOAD_ID),
            rx.hstack(
                rx.dialog.close(rx.button(t("Cancel"), type="button", variant="soft",
                                          color_scheme="gray", size="3")),
                submit_button(t("Send ticket"), TicketsState.busy),
                justify="end", class_name="w-full", spacing="3",
            ),
            spacing="3", class_name="w-full",
        ),
        on_submit=TicketsState.create_ticket,
        key="new-ticket-" + TicketsState.form_version.to_string(),
    )


def new_ticket_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("New ticket")),
            rx.dialog.description(
                t("Tell us what is wrong. We answer by e-mail and here; you get a copy of "
                  "everything at your e-mail address."), size="2", margin_bottom="12px"),
            new_ticket_form(),
            max_width="560px",
        ),
        open=TicketsState.dialog_open,
        on_open_change=TicketsState.set_dialog_open,
    )


def status_filter() -> rx.Component:
    options = [("all", t("All tickets")), ("open", t("Open tickets")),
               ("awaiting_response", t("Awaiting Response")),
               ("waiting_for_isp", t("Waiting for ISP")), ("closed", t("Closed"))]
    return rx.hstack(
        rx.el.label(t("Show"), html_for="ticket-status-filter", style={"fontWeight": "500"}),
        rx.el.select(
            *[rx.el.option(label, value=value) for value, label in options],
            id="ticket-status-filter", value=TicketsState.status_filter,
            on_change=TicketsState.set_status_filter,
            style={"padding": "6px 8px", "borderRadius": "6px",
                   "border": "1px solid var(--gray-7)", "background": "var(--color-background)",
                   "color": "var(--gray-12)"},
        ),
        align="center", spacing="2",
    )


def ticket_row(row: rx.Var) -> rx.Component:
    return rx.el.li(
        rx.hstack(
            rx.vstack(
                rx.link(rx.text("#" + row["number"] + " · " + row["subject"], weight="medium"),
                        href="/tickets/" + row["id"], class_name="ticket-link",
                        style={"wordBreak": "break-word"}),
                rx.text(t("Last activity: {when}", when=row["when"]), size="1",
                        color_scheme="gray"),
                spacing="1", align="start", flex="1", min_width="0",
            ),
            status_badge(row["status"]),
            align="center", spacing="3", class_name="w-full", wrap="wrap",
        ),
        style={"listStyle": "none", "padding": "12px 4px",
               "borderBottom": "1px solid var(--gray-5)"},
        class_name="ticket-row",
    )


def pager() -> rx.Component:
    return rx.cond(
        TicketsState.page_count > 1,
        rx.hstack(
            rx.button(t("Previous page"), variant="soft", type="button",
                      disabled=TicketsState.page <= 1,
                      on_click=TicketsState.go_to_page(TicketsState.page - 1)),
            rx.text(TicketsState.page_text, size="2", aria_live="polite"),
            rx.button(t("Next page"), variant="soft", type="button",
                      disabled=TicketsState.page >= TicketsState.page_count,
                      on_click=TicketsState.go_to_page(TicketsState.page + 1)),
            align="center", spacing="3", justify="center", class_name="w-full",
        ),
        rx.fragment(),
    )


@template(route="/tickets", title="Support Tickets", load=TicketsState.load_tickets)
def tickets_page() -> rx.Component:
    return rx.vstack(
        rx.hstack(page_title(t("Support Tickets")), rx.box(class_name="spacer"),
                  rx.button(rx.icon("plus", size=16, aria_hidden="true"), t("New ticket"),
                            size="3", type="button", on_click=TicketsState.open_new_ticket,
                            aria_haspopup="dialog"),
                  align="center", class_name="w-full", wrap="wrap"),
        new_ticket_dialog(),
        notice(TicketsState.notice),
        rx.card(
            rx.vstack(
                rx.hstack(rx.heading(t("Tickets"), as_="h2", size="5"), rx.box(class_name="spacer"),
                          status_filter(), class_name="w-full", align="center", wrap="wrap",
                          spacing="3"),
                until_loaded(TicketsState.rows_loaded, rx.vstack(
                    rx.cond(
                        TicketsState.rows.length() > 0,
                        rx.el.ul(rx.foreach(TicketsState.rows, ticket_row), id="ticket-list",
                                 style={"margin": "0", "padding": "0", "width": "100%"}),
                        rx.text(t("No tickets to show."), color_scheme="gray",
                                id="ticket-list-empty"),
                    ),
                    pager(),
                    spacing="3", class_name="w-full",
                ), cards=3, framed=False),
                spacing="3", class_name="w-full",
            ),
            class_name="w-full",
        ),
        spacing="4", class_name="w-full",
    )


# --- one ticket ---------------------------------------------------------------------------

def attachment_link(attachment: rx.Var) -> rx.Component:
    return rx.link(
        rx.hstack(rx.icon("paperclip", size=14, aria_hidden="true"),
                  rx.text(attachment.filename, " (", attachment.size, ")", size="2"),
                  align="center", spacing="1"),
        href="/ticket-files/" + attachment.id, is_external=False,
    )


def message_card(message: rx.Var) -> rx.Component:
    from_isp = message.kind == "isp"
    return rx.el.article(
        rx.vstack(
            rx.hstack(
                rx.text(message.author, weight="bold", size="2"),
                rx.cond(from_isp, rx.badge(t("Support"), color_scheme="indigo", high_contrast=True),
                        rx.badge(t("You"), color_scheme="gray", high_contrast=True)),
                rx.cond(message.via_email,
                        rx.text(t("by e-mail"), size="1", color_scheme="gray"), rx.fragment()),
                rx.box(class_name="spacer"),
                rx.text(message.when, size="1", color_scheme="gray"),
                class_name="w-full", align="center", spacing="2", wrap="wrap",
            ),
            rx.text(message.text, size="3", class_name="ticket-message-text",
                    style={"whiteSpace": "pre-wrap", "wordBreak": "break-word"}),
            rx.cond(
                message.quoted != "",
                rx.el.details(
                    rx.el.summary(t("Show quoted text"),
                                  style={"cursor": "pointer", "color": "var(--gray-11)",
                                         "fontSize": "14px"}),
                    rx.text(message.quoted, size="2", color_scheme="gray",
                            style={"whiteSpace": "pre-wrap", "wordBreak": "break-word"}),
                ),
                rx.fragment(),
            ),
            rx.cond(
                message.html != "",
                rx.el.details(
                    rx.el.summary(t("Show the formatted message"),
                                  style={"cursor": "pointer", "color": "var(--gray-11)",
                                         "fontSize": "14px"}),
                    # Sanitized with nh3 when it arrived: no scripts, styles or remote images.
                    rx.html(message.html, class_name="ticket-message-html",
                            style={"wordBreak": "break-word", "overflowX": "auto"}),
                ),
                rx.fragment(),
            ),
            rx.foreach(message.attachments, attachment_link),
            spacing="2", class_name="w-full", align="start",
        ),
        class_name=rx.cond(from_isp, "ticket-message from-isp", "ticket-message from-customer"),
        style={"padding": "12px", "borderRadius": "8px", "width": "100%",
               "boxSizing": "border-box", "border": "1px solid var(--gray-5)"},
        background=rx.cond(from_isp, "var(--accent-2)", "var(--gray-2)"),
    )


def reply_form() -> rx.Component:
    return rx.card(
        rx.form.root(
            rx.vstack(
                rx.heading(t("Reply"), as_="h2", size="5"),
                rx.cond(TicketState.status == "closed",
                        rx.text(t("This ticket is closed. Replying reopens it, or starts a new "
                                  "ticket if it was closed more than {days} days ago.",
                                  days=TicketState.reopen_days.to_string()),
                                size="2", color_scheme="gray"),
                        rx.fragment()),
                notice(TicketState.notice),
                rx.el.input(type="hidden", name="reply_key", value=TicketState.reply_key),
                textarea_field(t("Your reply"), "body", TicketState.reply_error,
                               input_id="reply-body", rows="5"),
                attachment_picker(TicketState, REPLY_UPLOAD_ID),
                submit_button(t("Send reply"), TicketState.busy),
                spacing="3", class_name="w-full", align="start",
            ),
            on_submit=TicketState.send_reply,
            key="reply-" + TicketState.form_version.to_string(),
        ),
        class_name="w-full",
    )


def not_found() -> rx.Component:
    return rx.vstack(
        page_title(t("Ticket not found")),
        rx.callout(t("This ticket does not exist, or it is not on your account."),
                   color_scheme="red", role="alert", id="ticket-not-found"),
        rx.link(t("Back to your tickets"), href="/tickets"),
        spacing="3", class_name="w-full",
    )


@template(route="/tickets/[id]", title="Support Ticket", load=TicketState.load_ticket)
def ticket_page() -> rx.Component:
    return rx.cond(
        ~TicketState.loaded,
        rx.center(rx.spinner(size="3"), padding="48px", class_name="w-full"),
        ticket_view(),
    )


def ticket_view() -> rx.Component:
    return rx.cond(
        TicketState.found,
        rx.vstack(
            rx.link(rx.hstack(rx.icon("arrow-left", size=16, aria_hidden="true"),
                              t("All tickets"), align="center", spacing="1"), href="/tickets"),
            rx.hstack(
                rx.heading(rx.cond(TicketState.number != "",
                                   "#" + TicketState.number + " · " + TicketState.subject, ""),
                           as_="h1", size="6", style={"wordBreak": "break-word"}),
                status_badge(TicketState.status),
                align="center", spacing="3", wrap="wrap", class_name="w-full",
            ),
            rx.cond(TicketState.previous_id != "",
                    rx.text(t("Continues ticket"), " ",
                            rx.link("#" + TicketState.previous_number,
                                    href="/tickets/" + TicketState.previous_id),
                            size="2"),
                    rx.fragment()),
            rx.el.section(
                rx.vstack(rx.foreach(TicketState.messages, message_card), spacing="3",
                          class_name="w-full"),
                aria_label=t("Conversation"), id="conversation", style={"width": "100%"},
            ),
            reply_form(),
            spacing="4", class_name="w-full",
        ),
        not_found(),
    )
