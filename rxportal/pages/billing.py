"""The billing page (placeholder: the four ledger figures)."""
import reflex as rx

from rxportal.components.i18n import t
from rxportal.components.layout import page_title, template
from rxportal.state.billing import BillingState


def figure(label: rx.Var, value: rx.Var, test_id: str) -> rx.Component:
    return rx.card(
        rx.text(label, size="2", color_scheme="gray"),
        rx.text(value, size="6", weight="bold", id=test_id),
        width="100%",
    )


@template(route="/billing", title="Billing", on_load=[BillingState.load_billing])
def billing_page() -> rx.Component:
    return rx.vstack(
        page_title(t("Billing")),
        rx.grid(
            figure(t("Amount due"), BillingState.amount_due, "amount-due"),
            figure(t("Total balance"), BillingState.total_balance, "total-balance"),
            figure(t("Next billing cycle amount"), BillingState.next_cycle_amount, "next-cycle"),
            figure(t("Next billing date"), BillingState.next_billing_date, "next-billing-date"),
            columns=rx.breakpoints(initial="1", sm="2", lg="4"), spacing="3", width="100%",
        ),
        width="100%",
    )
