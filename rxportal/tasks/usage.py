"""Usage jobs: read FreeRADIUS accounting every five minutes when it is configured, and
recompute every account's usage periods each night."""
from __future__ import annotations

import logging

from huey import crontab

from rxportal import db
from rxportal.jobs import huey

log = logging.getLogger(__name__)


@huey.periodic_task(crontab(minute="*/5"))
def read_radacct() -> int:
    from rxportal.services import radacct
    from rxportal.services import settings

    with db.session_scope() as session:
        if not settings.get(session, "radacct_url"):
            return 0
    try:
        with db.session_scope() as session:
            return radacct.sync(session).counted
    except Exception:  # noqa: BLE001 - RADIUS database down: try again at the next run
        log.exception("reading radacct failed; retrying at the next run")
        return 0


@huey.periodic_task(crontab(minute="17", hour="3"))
def nightly_usage_rollup() -> int:
    from rxportal.services import usage

    with db.session_scope() as session:
        return usage.rollup_all(session)
