"""Billing jobs: the daily billing run (invoices, autopay and its retries) and settling payments
whose gateway answer was lost."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from huey import crontab
from sqlmodel import select

from rxportal import db
from rxportal.jobs import huey


def isp_today():
    from rxportal.services import settings as isp_settings

    with db.session_scope() as session:
        zone = isp_settings.get(session, "timezone") or "UTC"
    return datetime.now(ZoneInfo(zone)).date()


@huey.periodic_task(crontab(hour="6", minute="5"))
def daily_billing_run():
    from rxportal.services import billing_run

    return billing_run.run(isp_today()).__dict__


@huey.periodic_task(crontab(minute="*/10"))
def settle_interrupted_payments() -> int:
    """Ask the gateway what became of payments whose answer was lost (the gateway timed out),
    and make again the autopay charges it never answered (it was down)."""
    from rxportal.models.billing import Payment
    from rxportal.services import payments

    with db.session_scope() as session:
        account_ids = set(session.exec(select(Payment.account_id).where(
            Payment.status == "interrupted")).all())
    for account_id in account_ids:
        try:
            with db.session_scope() as session:
                payments.settle_in_flight(session, account_id, ("interrupted",),
                                          retry_autopay=True)
        except payments.PaymentError:
            pass  # still unreachable: next time
    return len(account_ids)
