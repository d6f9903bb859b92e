"""Data Usage (guide: "The Data Usage Page", items 1-3): the current period against the cap,
the last twelve periods as a bar chart, the projection, and Top-Off."""
import reflex as rx

from rxportal.components.cards import card_element, save_card_box
from rxportal.components.forms import form_message
from rxportal.components.i18n import t
from rxportal.components.layout import page_title, template
from rxportal.state.usage import UsageState


def figure(label: rx.Var, value: rx.Var, test_id: str, align: str = "start") -> rx.Component:
    return rx.vstack(
        rx.text(label, size="2", color_scheme="gray"),
        rx.text(value, size="7", weight="bold", id=test_id),
        spacing="1", align=align,
    )


def current_period() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(t("Current billing period"), as_="h2", size="5"),
                rx.box(class_name="spacer"),
                rx.cond(UsageState.has_cap,
                        rx.button(rx.icon("plus", size=16, aria_hidden="true"), t("Top-Off"),
                                  on_click=UsageState.open_topoff, size="3", id="topoff-button")),
                class_name="w-full", align="center", wrap="wrap", spacing="3",
            ),
            rx.text(UsageState.period_text, size="2", color_scheme="gray", id="period-dates"),
            rx.hstack(
                figure(t("Used so far"), UsageState.used_text, "usage-used"),
                rx.box(class_name="spacer"),
                rx.cond(UsageState.has_cap,
                        figure(t("Data cap"), UsageState.cap_text, "usage-cap", align="end"),
                        figure(t("Data cap"), t("Unlimited"), "usage-cap", align="end")),
                class_name="w-full", align="end",
            ),
            rx.cond(
                UsageState.has_cap,
                rx.vstack(
                    rx.progress(value=UsageState.percent_bar, max=100, size="3",
                                color_scheme=rx.cond(UsageState.over_cap, "red", "indigo"),
                                aria_label=t("Share of the data cap used"),
                                aria_valuetext=UsageState.percent.to_string() + " %",
                                class_name="w-full"),
                    rx.text(t("{percent}% of your data cap", percent=UsageState.percent),
                            size="2", id="usage-percent"),
                    rx.cond(UsageState.topoff_bytes > 0,
                            rx.text(t("Includes {amount} of top-offs this period",
                                      amount=UsageState.topoff_text),
                                    size="2", color_scheme="gray", id="usage-topoffs")),
                    spacing="1", class_name="w-full",
                ),
            ),
            rx.text(t("Download {down} · Upload {up}", down=UsageState.down_text,
                      up=UsageState.up_text), size="2", color_scheme="gray"),
            spacing="3", class_name="w-full",
        ),
        class_name="w-full",
    )


def projection() -> rx.Component:
    text = t("At this pace you will use about {amount} by the end of the period "
             "({days} days left).", amount=UsageState.projected_text, days=UsageState.days_left)
    return rx.cond(
        UsageState.will_exceed,
        rx.callout(
            rx.vstack(
                rx.text(text, color="var(--gray-12)"),
                rx.text(t("That is more than your data cap of {cap}. A top-off adds data to "
                          "this period.", cap=UsageState.cap_text), weight="medium",
                        color="var(--gray-12)"),
                spacing="1",
            ),
            icon="triangle-alert", color_scheme="orange", role="status", class_name="w-full",
            id="usage-projection",
        ),
        rx.callout(text, icon="trending-up", color_scheme="gray", role="status", class_name="w-full",
                   id="usage-projection"),
    )


def history() -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.heading(t("Last 12 billing periods"), as_="h2", size="5"),
            rx.box(
                rx.plotly.basic(data=UsageState.chart, use_resize_handler=True,
                                config={"displayModeBar": False, "responsive": True,
                                        "scrollZoom": False, "doubleClick": False},
                                style={"width": "100%", "height": "340px"}, id="usage-chart"),
                role="img", aria_label=t("Bar chart of the data used in each of the last 12 "
                                         "billing periods"),
                class_name="w-full", min_height="340px",
            ),
            rx.el.details(
                rx.el.summary(t("Show the figures as a table"),
                              style={"cursor": "pointer", "padding": "4px 0"}),
                rx.table.root(
                    rx.table.header(rx.table.row(
                        rx.table.column_header_cell(t("Billing period")),
                        rx.table.column_header_cell(t("Data used")))),
                    rx.table.body(rx.foreach(
                        UsageState.history_rows,
                        lambda row: rx.table.row(rx.table.cell(row["period"]),
                                                 rx.table.cell(row["used"]), key=row["key"]))),
                    class_name="w-full", size="1", id="usage-table",
                ),
                class_name="w-full",
            ),
            spacing="3", class_name="w-full",
        ),
        class_name="w-full",
    )


def choose_step() -> rx.Component:
    return rx.vstack(
        rx.cond(
            UsageState.product_options.length() > 0,
            rx.radio_group.root(
                rx.foreach(UsageState.product_options, lambda option: rx.el.label(
                    rx.radio_group.item(value=option["id"], id="topoff-" + option["id"]),
                    rx.text(option["label"], size="3"),
                    html_for="topoff-" + option["id"],
                    style={"display": "flex", "gap": "10px", "alignItems": "center",
                           "padding": "10px", "border": "1px solid var(--gray-6)",
                           "borderRadius": "8px", "cursor": "pointer"},
                )),
                value=UsageState.selected_product, on_change=UsageState.choose_product,
                aria_label=t("Top-off"), direction="column", spacing="2", class_name="w-full",
            ),
            rx.text(t("No top-offs are offered at the moment. Please contact us."),
                    color_scheme="gray"),
        ),
        rx.hstack(
            rx.dialog.close(rx.button(t("Cancel"), variant="soft", color_scheme="gray",
                                      size="3")),
            rx.button(t("Continue"), on_click=UsageState.to_confirm, size="3",
                      disabled=UsageState.product_options.length() == 0),
            justify="end", class_name="w-full", spacing="3",
        ),
        spacing="4", class_name="w-full",
    )


def confirm_step() -> rx.Component:
    return rx.vstack(
        rx.text(t("You are buying {choice}.", choice=UsageState.selected_label), size="3",
                weight="medium", id="topoff-summary"),
        rx.text(t("Your data cap for this period becomes {cap}.", cap=UsageState.cap_after_text),
                size="2"),
        rx.box(
            rx.el.label(t("Pay with"), html_for="topoff-method",
                        style={"display": "block", "fontWeight": "500", "marginBottom": "4px"}),
            rx.el.select(
                rx.foreach(UsageState.methods,
                           lambda m: rx.el.option(m["label"], value=m["id"])),
                rx.el.option(t("A new card"), value="new"),
                id="topoff-method", value=UsageState.selected_method,
                on_change=UsageState.choose_method, disabled=UsageState.busy,
                style={"padding": "8px", "borderRadius": "6px", "width": "100%",
                       "border": "1px solid var(--gray-7)",
                       "background": "var(--color-background)", "color": "var(--gray-12)"},
            ),
            class_name="w-full",
        ),
        rx.cond(UsageState.paying_with_new_card, rx.vstack(
            card_element("topoff-card-element"),
            save_card_box(UsageState.save_card, UsageState.set_save_card, "topoff-save-card"),
            class_name="w-full", spacing="2")),
        rx.hstack(
            rx.button(t("Back"), on_click=UsageState.back_to_choose, variant="soft",
                      color_scheme="gray", size="3", disabled=UsageState.busy),
            rx.button(t("Confirm and pay"), on_click=UsageState.pay_topoff, size="3",
                      loading=UsageState.busy,
                      disabled=UsageState.busy, id="topoff-pay"),
            justify="end", class_name="w-full", spacing="3", wrap="wrap",
        ),
        spacing="3", class_name="w-full",
    )


def done_step() -> rx.Component:
    return rx.vstack(
        form_message(UsageState.topoff_notice, kind="green"),
        rx.hstack(rx.dialog.close(rx.button(t("Close"), size="3")), justify="end", class_name="w-full"),
        spacing="3", class_name="w-full",
    )


def topoff_dialog() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(t("Top-Off")),
            rx.dialog.description(t("Add data to your current billing period."), size="2",
                                  margin_bottom="12px"),
            rx.vstack(
                form_message(UsageState.topoff_error),
                rx.match(UsageState.topoff_step,
                         ("confirm", confirm_step()),
                         ("done", done_step()),
                         choose_step()),
                spacing="3", class_name="w-full",
            ),
            max_width="480px",
        ),
        open=UsageState.topoff_open, on_open_change=UsageState.set_topoff_open,
    )


def authenticating_notice() -> rx.Component:
    """While the bank's 3-D Secure window is open (the dialog stepped aside for it)."""
    return rx.cond(
        UsageState.topoff_step == "authenticating",
        rx.callout(t("Confirm the payment in your bank's window. Your top-off is added as soon "
                     "as your bank approves it."),
                   icon="shield-check", color_scheme="blue", role="status", class_name="w-full",
                   id="topoff-authenticating"),
    )


def purchases() -> rx.Component:
    return rx.cond(
        UsageState.purchase_rows.length() > 0,
        rx.card(
            rx.vstack(
                rx.heading(t("Your top-offs"), as_="h2", size="5"),
                rx.el.ul(
                    rx.foreach(UsageState.purchase_rows, lambda row: rx.el.li(
                        rx.hstack(
                            rx.vstack(
                                rx.text(row["data"], " · ", row["price"], weight="medium"),
                                rx.text(row["day"], size="2", color_scheme="gray"),
                                rx.cond(row["note"] != "", rx.text(row["note"], size="2")),
                                spacing="0",
                            ),
                            rx.box(class_name="spacer"),
                            rx.badge(row["label"], size="2", color_scheme=rx.match(
                                row["status"], ("paid", "green"), ("disputed", "orange"),
                                "gray")),
                            align="center", class_name="w-full", wrap="wrap", spacing="2",
                        ),
                        key=row["id"], id="topoff-purchase-" + row["id"],
                        style={"padding": "8px 0",
                               "borderBottom": "1px solid var(--gray-4)"},
                    )),
                    style={"listStyle": "none", "margin": "0", "padding": "0", "width": "100%"},
                    id="topoff-purchases",
                ),
                spacing="2", class_name="w-full",
            ),
            class_name="w-full",
        ),
    )


@template(route="/usage", title="Data Usage", load=UsageState.load_usage)
def usage_page() -> rx.Component:
    return rx.vstack(
        page_title(t("Data Usage")),
        rx.cond(
            UsageState.loaded,
            rx.vstack(authenticating_notice(), current_period(), projection(), purchases(),
                      history(), topoff_dialog(),
                      spacing="4", class_name="w-full"),
            rx.center(rx.spinner(size="3"), class_name="w-full", padding="48px"),
        ),
        class_name="w-full",
        on_unmount=UsageState.forget_usage,
    )
