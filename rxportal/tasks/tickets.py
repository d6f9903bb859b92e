"""Reading the ISP's support mailbox into ticket conversations, every minute."""
from __future__ import annotations

import logging

from huey import crontab
from huey.exceptions import TaskLockedException

from rxportal.cli.tickets import POLL_LOCK
from rxportal.jobs import huey
from rxportal.services import ticket_mail

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="*"))
def poll_support_mailbox() -> dict:
    """One pass over new mail; never two at once, whatever the number of workers."""
    try:
        with huey.lock_task(POLL_LOCK):
            return ticket_mail.poll_once()
    except TaskLockedException:
        return {}
    except ticket_mail.MailboxError as error:
        log.warning("support mailbox not reachable: %s", error)
        return {}
