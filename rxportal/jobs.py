"""Background jobs (huey): sending mail, and whatever features register here.

huey keeps its queue in SQLite in the data folder by default (one process is enough for a small
ISP), or in Redis when REDIS_URL is set (several workers). `rxportal worker` runs the consumer;
`make run` starts it beside the web app.
"""
from __future__ import annotations

from huey import RedisHuey, SqliteHuey, crontab

from rxportal import config, db
from rxportal.services import mail


def _make_huey():
    cfg = config.get()
    if cfg.redis_url:
        return RedisHuey("rxportal", url=cfg.redis_url)
    cfg.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("rxportal", filename=str(cfg.data_dir / "huey.db"))


huey = _make_huey()


@huey.task()
def send_mail(outbox_id: int) -> bool:
    with db.session_scope() as session:
        return mail.deliver(session, outbox_id)


@huey.periodic_task(crontab(minute="*"))
def send_due_mail() -> int:
    """Retry what could not be sent (server down), each on its own backoff schedule."""
    sent = 0
    with db.session_scope() as session:
        ids = mail.due_ids(session)
    for outbox_id in ids:
        with db.session_scope() as session:
            sent += mail.deliver(session, outbox_id)
    return sent


def _enqueue_mail(outbox_id: int) -> None:
    send_mail(outbox_id)


mail.dispatcher = _enqueue_mail


def _import_feature_tasks() -> None:
    import importlib
    import pkgutil

    from rxportal import tasks

    for module in pkgutil.iter_modules(tasks.__path__):
        importlib.import_module(f"rxportal.tasks.{module.name}")


_import_feature_tasks()
