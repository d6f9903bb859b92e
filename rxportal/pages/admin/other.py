"""Bulk invite, plans and the audit log (administrators)."""
import reflex as rx

from rxportal.components.admin_layout import admin_template, admin_title, data_table
from rxportal.components.forms import field, form_message, portal_form, submit_button
from rxportal.components.i18n import t
from rxportal.pages.admin.customers import pager
from rxportal.state.admin_customers import AdminAuditState as AU
from rxportal.state.admin_customers import AdminBillingState as BR
from rxportal.state.admin_customers import AdminInviteState as I
from rxportal.state.admin_customers import AdminPlansState as P
from rxportal.state.admin_customers import AdminStaffState as ST
from rxportal.state.admin_customers import AdminTopOffsState as TO

LABEL = {"display": "block", "fontWeight": "500", "marginBottom": "4px"}


@admin_template(route="/admin/invite", title="Invite customers", area="bulk_invite",
                on_load=[I.load_invite])
def invite_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Invite customers")),
        rx.text(t("{count} accounts have an e-mail address and no portal login yet.",
                  count=I.candidates), id="invite-candidates"),
        form_message(I.notice, kind="green"),
        rx.card(
            portal_form(
                rx.vstack(
                    rx.heading(t("Invitation message"), as_="h2", size="4"),
                    field(t("Subject"), "subject", value=I.subject, error=I.errors.get("subject", "")),
                    rx.box(
                        rx.el.label(t("Message"), html_for="message", style=LABEL),
                        rx.text_area(id="message", name="message", default_value=I.message,
                                     rows="18", class_name="w-full"),
                        rx.text(t("Placeholders: $name, $username, $temporary_password, "
                                  "$portal_url, $isp_name, $days, $support_phone, $support_email."),
                                size="1", color_scheme="gray"),
                        rx.text(I.errors.get("message", ""), color_scheme="red", size="2", role="alert"),
                        class_name="w-full",
                    ),
                    submit_button(t("Save message"), id="save-invite-message"),
                    spacing="3", class_name="w-full", align="start",
                ),
                on_submit=I.save_message, reset_on_submit=False,
                key="invite-" + I.form_version.to_string(),
            ),
            class_name="w-full",
        ),
        rx.button(t("Send the invitations"), on_click=I.send_invites, loading=I.busy,
                  disabled=I.busy | (I.candidates == 0), size="3", id="send-invitations"),
        spacing="4", class_name="w-full",
    )


def plan_input(label: rx.Var, name: str, key, value, error, **props) -> rx.Component:
    """A labelled input whose id is built from the plan (inside rx.foreach)."""
    input_id = f"{name}-{key}" if isinstance(key, str) else name + "-" + key
    return rx.box(
        rx.el.label(label, html_for=input_id, style=LABEL),
        rx.input(id=input_id, name=name, default_value=value, size="3", class_name="w-full", **props),
        rx.text(error, color_scheme="red", size="2", role="alert"),
        class_name="w-full",
    )


def plan_form(plan: rx.Var | None) -> rx.Component:
    key = plan["id"] if plan is not None else "new"
    value = (lambda k: plan[k]) if plan is not None else (lambda k: "")
    return portal_form(
        rx.flex(
            rx.el.input(type="hidden", name="plan_id", value=value("id")),
            rx.box(plan_input(t("Plan name"), "name", key, value("name"),
                              P.errors.get(key + ":name", "")), flex="2", min_width="180px"),
            rx.box(plan_input(t("Price per billing period"), "price", key, value("price"),
                              P.errors.get(key + ":amount", ""), input_mode="decimal"),
                   flex="1", min_width="120px"),
            rx.box(plan_input(t("Data cap (GB, empty for none)"), "cap", key, value("cap"),
                              P.errors.get(key + ":cap", ""), input_mode="numeric"),
                   flex="1", min_width="120px"),
            submit_button(t("Save") if plan is not None else t("Add plan"), margin_top="28px"),
            wrap="wrap", spacing="3", class_name="w-full", align="start",
        ),
        on_submit=P.save_plan, reset_on_submit=False,
        key=key + "-" + P.form_version.to_string(),
    )


@admin_template(route="/admin/plans", title="Plans", area="billing", on_load=[P.load_plans])
def plans_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Plans")),
        form_message(P.notice, kind="green"),
        rx.foreach(P.plans, lambda plan: rx.card(plan_form(plan), class_name="w-full")),
        rx.card(rx.vstack(rx.heading(t("New plan"), as_="h2", size="4"), plan_form(None),
                          class_name="w-full"), class_name="w-full"),
        spacing="4", class_name="w-full",
    )


@admin_template(route="/admin/audit", title="Audit log", area="audit", on_load=[AU.load_audit])
def audit_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Audit log")),
        portal_form(
            rx.flex(
                rx.box(
                    rx.el.label(t("Action"), html_for="action", style=LABEL),
                    rx.el.select(rx.el.option(t("All actions"), value=""),
                                 rx.foreach(AU.actions, lambda a: rx.el.option(a, value=a)),
                                 id="action", name="action", default_value=AU.action,
                                 style={"padding": "8px", "borderRadius": "6px",
                                        "border": "1px solid var(--gray-7)",
                                        "background": "var(--color-background)",
                                        "color": "var(--gray-12)"}),
                ),
                rx.box(field(t("Who"), "actor", value=AU.actor), min_width="150px", flex="1"),
                rx.box(field(t("Target"), "target", value=AU.target), min_width="150px", flex="1"),
                submit_button(t("Filter"), margin_top="28px"),
                wrap="wrap", spacing="3", class_name="w-full", align="start",
            ),
            on_submit=AU.filter, reset_on_submit=False,
        ),
        rx.text(t("{count} entries", count=AU.total), size="2", id="audit-count"),
        data_table(t("Audit log"), [t(h) for h in ["When", "Who", "Action", "Target", "Details"]],
                   AU.rows, lambda r: [r["at"], r["actor"], r["action"], r["target"],
                                       rx.code(r["detail"], size="1",
                                               style={"wordBreak": "break-all"})]),
        pager(AU),
        spacing="4", class_name="w-full",
    )


def member_cells(row: rx.Var) -> list:
    return [
        row["username"], row["role"], row["enrolled"], row["last_login"],
        rx.cond(row["disabled"] != "", rx.badge(t("Disabled"), color_scheme="red", high_contrast=True),
                rx.badge(t("Active"), color_scheme="green", high_contrast=True)),
        rx.hstack(
            rx.cond(row["disabled"] != "",
                    rx.button(t("Enable login"), size="1", variant="soft",
                              on_click=ST.enable_member(row["id"])),
                    rx.button(t("Disable login"), size="1", variant="soft", color_scheme="red",
                              on_click=ST.disable_member(row["id"]))),
            rx.button(t("Reset authenticator"), size="1", variant="soft",
                      on_click=ST.reset_member_2fa(row["id"])),
            spacing="2", wrap="wrap",
        ),
    ]


@admin_template(route="/admin/staff", title="Staff", area="staff", on_load=[ST.load_staff])
def staff_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Staff")),
        form_message(ST.notice, kind="green"),
        rx.cond(ST.new_password != "",
                rx.code(ST.new_password, id="new-staff-password", size="3")),
        form_message(ST.errors.get("member", "")),
        data_table(t("Staff"), [t("Username"), t("Role"), t("Authenticator set up"),
                                t("Last login"), t("Status"), t("Actions")], ST.members,
                   member_cells),
        rx.card(
            portal_form(
                rx.vstack(
                    rx.heading(t("Add a staff member"), as_="h2", size="4"),
                    field(t("Username"), "username", error=ST.errors.get("username", "")),
                    rx.box(
                        rx.el.label(t("Role"), html_for="role", style=LABEL),
                        rx.el.select(rx.el.option(t("Support"), value="support"),
                                     rx.el.option(t("Administrator"), value="administrator"),
                                     id="role", name="role", default_value="support",
                                     style={"padding": "8px", "borderRadius": "6px",
                                            "border": "1px solid var(--gray-7)",
                                            "background": "var(--color-background)",
                                            "color": "var(--gray-12)"}),
                        rx.text(ST.errors.get("role", ""), color_scheme="red", size="2", role="alert"),
                    ),
                    rx.text(t("Support staff see customers and tickets; administrators see everything."),
                            size="1", color_scheme="gray"),
                    submit_button(t("Add"), id="add-staff"),
                    spacing="3", class_name="w-full", align="start",
                ),
                on_submit=ST.add_staff, key="staff-" + ST.form_version.to_string(),
            ),
            class_name="w-full",
        ),
        spacing="4", class_name="w-full",
    )


@admin_template(route="/admin/billing", title="Billing run", area="billing",
                on_load=[BR.load_billing])
def billing_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Billing run")),
        rx.text(t("Issues the invoices of the accounts billed on that date and charges autopay. "
                  "Running it again for the same date issues nothing twice.")),
        form_message(BR.result, kind="green"),
        form_message(BR.error),
        rx.card(
            portal_form(
                rx.vstack(
                    field(t("Date"), "run_date", type="date", value=BR.run_date),
                    submit_button(t("Run billing"), BR.busy, id="run-billing"),
                    spacing="3", class_name="w-full", align="start",
                ),
                on_submit=BR.run_billing, reset_on_submit=False,
            ),
            class_name="w-full",
        ),
        spacing="4", class_name="w-full",
    )


def topoff_form(product: rx.Var | None) -> rx.Component:
    key = product["id"] if product is not None else "new"
    value = (lambda k: product[k]) if product is not None else (lambda k: "")
    return portal_form(
        rx.flex(
            rx.el.input(type="hidden", name="product_id", value=value("id")),
            rx.box(plan_input(t("Top-off name"), "name", key, value("name"),
                              TO.errors.get(key + ":name", "")), flex="2", min_width="180px"),
            rx.box(plan_input(t("Extra data (GB)"), "gb", key, value("gb"),
                              TO.errors.get(key + ":gb", ""), input_mode="numeric"),
                   flex="1", min_width="100px"),
            rx.box(plan_input(t("Price"), "price", key, value("price"),
                              TO.errors.get(key + ":amount", ""), input_mode="decimal"),
                   flex="1", min_width="100px"),
            submit_button(t("Save") if product is not None else t("Add top-off"), margin_top="28px"),
            rx.cond(product["active"] != "",
                    rx.button(t("Stop selling"), type="button", variant="soft", color_scheme="red",
                              margin_top="28px", on_click=TO.toggle_topoff(product["id"])),
                    rx.button(t("Sell again"), type="button", variant="soft", margin_top="28px",
                              on_click=TO.toggle_topoff(product["id"])))
            if product is not None else rx.fragment(),
            wrap="wrap", spacing="3", class_name="w-full", align="start",
        ),
        on_submit=TO.save_topoff, reset_on_submit=False,
        key=key + "-" + TO.form_version.to_string(),
    )


@admin_template(route="/admin/topoffs", title="Top-offs", area="usage", on_load=[TO.load_topoffs])
def topoffs_page() -> rx.Component:
    return rx.vstack(
        admin_title(t("Top-offs")),
        rx.text(t("Extra data customers can buy for the current billing period on the Data Usage "
                  "page.")),
        form_message(TO.notice, kind="green"),
        form_message(TO.errors.get("list", "")),
        rx.foreach(TO.products, lambda p: rx.card(topoff_form(p), class_name="w-full")),
        rx.card(rx.vstack(rx.heading(t("New top-off"), as_="h2", size="4"), topoff_form(None),
                          class_name="w-full"), class_name="w-full"),
        spacing="4", class_name="w-full",
    )
