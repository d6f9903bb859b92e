"""The Reflex app: every page module registers itself; the HTTP routes of rxportal/api/ are
mounted in front of it."""
import reflex as rx

from rxportal import collector, handler_threads
from rxportal import jobs  # noqa: F401 - connects the mail outbox to the job queue
from rxportal.api import build_api
from rxportal.outage import backend_exception_handler
from rxportal.pages import import_all
from rxportal.wellformed import guard_reflex_events

import_all()
guard_reflex_events()
handler_threads.install()  # RXPORTAL_HANDLER_THREADS=1: database waits off the event loop

app = rx.App(
    stylesheets=["/portal.css"],
    html_lang="en",
    # Both languages read left to right. Stated, so that the toast provider does not ask the
    # browser for the page's computed direction on each of its renders: a forced style
    # recalculation of the whole page, which ran right after the billing page's data mounted.
    html_custom_attrs={"dir": "ltr"},
    head_components=[rx.el.meta(name="viewport", content="width=device-width, initial-scale=1"),
                     # Billing: Stripe.js loader and Card Element helpers (assets/billing.js);
                     # deferred, so it does not hold up the first paint of every page.
                     rx.el.script(src="/billing.js", defer=True)],
    api_transformer=build_api(),
    backend_exception_handler=backend_exception_handler,
)
app.register_lifespan_task(collector.freeze_the_app)
