"""Reflex configuration. Every deploy-specific value comes from the environment (see README)."""
import functools
import os

import reflex as rx

from rxportal.frontend_build import FrontendPatches, SlimRadixThemes


def _respawn_failed_workers() -> None:
    """Granian, Reflex's production server, stops the WHOLE app when one backend worker dies
    (Reflex 0.10.1 does not pass `respawn_failed_workers`, nor read GRANIAN_* variables). Make it
    start a new worker instead: the customers of the dead one reconnect to the others and carry
    on (their state is in Redis). Proven by tests/e2e/failure/test_worker_killed.py."""
    try:
        from granian.server import common
    except ImportError:
        return
    init = common.AbstractServer.__init__
    if getattr(init, "_rxportal_respawn", False):
        return

    @functools.wraps(init)
    def init_with_respawn(self, *args, **kwargs):
        kwargs.setdefault("respawn_failed_workers", True)
        init(self, *args, **kwargs)

    init_with_respawn._rxportal_respawn = True
    common.AbstractServer.__init__ = init_with_respawn


_respawn_failed_workers()

# One worker on SQLite keeps each tab's state on disk too, so that a restart loses no open form
# (Reflex's disk state manager; a stop writes them all). Written after every event, that cost a
# thread's file write and the GIL passing to it twice per click: a state goes to disk once a
# minute at most while its tab is in use (every 10 s, the writes were a fifth of the backend's
# CPU per page view at 200 customers: 11.7 ms against 9.1 ms with no disk at all; bench/README.md),
# so a crash of the process loses at most the last minute of a tab's page state, never what was
# saved in the database. The scaled-out mode keeps them in Redis.
os.environ.setdefault("REFLEX_STATE_MANAGER_DISK_DEBOUNCE", "60s")
# Several workers share the states through Redis. A worker that handled a tab's event keeps
# that state for the tab's next events (a page load is three or four in a row) instead of
# reading it back from Redis and writing it again for each, and writes it back OPLOCK_HOLD_TIME
# after it took it; another worker that needs it sooner asks for it (Reflex's opportunistic
# lock). With it, 3 workers answer 95% of 200 customers' clicks within 54 ms (2 workers: 121
# ms, against 302 without it); held 1 s instead of 5 s, within 166 ms (bench/README.md). The
# price: a killed worker, or Redis lost, loses at most the last 5 s of a tab's page state, never
# what was saved in the database (tests/e2e/failure).
OPLOCK_HOLD_TIME = "5s"
if os.environ.get("REDIS_URL"):
    os.environ.setdefault("REFLEX_OPLOCK_ENABLED", "true")
    os.environ.setdefault("REFLEX_OPLOCK_HOLD_TIME", OPLOCK_HOLD_TIME)


_port = int(os.environ.get("RXPORTAL_PORT", "3000"))

config = rx.Config(
    app_name="rxportal",
    frontend_port=_port,
    backend_port=_port,
    backend_host=os.environ.get("RXPORTAL_HOST", "127.0.0.1"),
    api_url=os.environ.get("RXPORTAL_API_URL", f"http://127.0.0.1:{_port}"),
    deploy_url=os.environ.get("RXPORTAL_PUBLIC_URL", f"http://127.0.0.1:{_port}"),
    db_url=os.environ.get("DATABASE_URL", "sqlite:///data/rxportal.db"),
    redis_url=os.environ.get("REDIS_URL") or None,
    telemetry_enabled=False,
    show_built_with_reflex=False,
    plugins=[SlimRadixThemes(theme=rx.theme(accent_color="indigo", radius="medium")),
             FrontendPatches()],
    disable_plugins=["reflex.plugins.sitemap.SitemapPlugin"],
    # Brotli sidecars next to the gzip ones, for the browsers that accept it.
    frontend_compression_formats=["brotli", "gzip"],
)
