"""What a customer sees when the database or Redis is briefly out of reach (a restart, a failover):
a plain message saying that nothing was saved and to try again, instead of Reflex's generic
"An error occurred. Contact the website administrator." Any other error keeps Reflex's handling.

The handler runs without the visitor's state, so the message carries both languages.
"""
from __future__ import annotations

import logging

import reflex as rx
from reflex.app import default_backend_exception_handler

logger = logging.getLogger("rxportal.outage")

TITLE = "The portal is briefly unavailable. / Le portail est momentanément indisponible."
TEXT = ("Nothing was saved. Please try again in a minute. / "
        "Rien n’a été enregistré. Réessayez dans une minute.")


RELOAD_TEXT = ("Nothing was saved. The page reloads once the portal is back. / "
               "Rien n’a été enregistré. La page se recharge dès le retour du portail.")
RELOAD_AFTER_MS = 4000


def _redis_errors() -> tuple[type[BaseException], ...]:
    try:
        import redis.exceptions
    except ImportError:  # pragma: no cover - redis comes with reflex
        return ()
    return (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError,
            redis.exceptions.BusyLoadingError)


def is_outage(exception: BaseException, kinds: tuple[type[BaseException], ...] | None = None
              ) -> bool:
    """True when the error (or one it came from) is a lost connection to PostgreSQL/Redis."""
    import sqlalchemy.exc

    if kinds is None:
        kinds = (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
                 sqlalchemy.exc.DisconnectionError, ConnectionError, TimeoutError,
                 *_redis_errors())
    seen: set[int] = set()
    current: BaseException | None = exception
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        current = current.__cause__ or current.__context__
    return False


def backend_exception_handler(exception: Exception):
    if not is_outage(exception):
        return default_backend_exception_handler(exception)
    from rxportal.state.session import SessionState

    logger.warning("a backing service is out of reach: %s", exception)
    style = {"max-width": "min(500px, 92vw)"}
    if _redis_errors() and is_outage(exception, _redis_errors()):
        # Redis keeps nothing on disk: the pages' server-side state is gone with it. A reload
        # rebuilds it from the browser (session cookie) once Redis answers again.
        return [rx.toast.error(TITLE, description=RELOAD_TEXT, position="top-center",
                               id="backend_outage", duration=RELOAD_AFTER_MS, style=style),
                rx.call_script(f"setTimeout(() => window.location.reload(), {RELOAD_AFTER_MS})")]
    return [SessionState.forms_ready,
            rx.toast.error(TITLE, description=TEXT, position="top-center", id="backend_outage",
                           duration=15000, style=style)]
