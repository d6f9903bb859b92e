"""Every customer page's event handlers called as the websocket would call them, by a logged-in
customer sending random and hostile values (HTML, script, SQL, huge strings, NUL bytes, digits
such as '²', any JSON where a form is expected), one after another on the same page state: no
handler raises, and what the page then holds can still be sent to the browser.

The payment gateway points at a closed port here (every call to it is "unavailable"); paying
with random input against a gateway that answers is fuzzed in test_fuzz_services.py."""
from __future__ import annotations

import inspect
import json

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from rxportal.services import auth
from rxportal.state import auth as auth_state
from rxportal.state import billing, contracts, details, tickets, usage
from rxportal.state.session import SessionState
from rxportal.wellformed import as_received, well_formed

HOSTILE = st.sampled_from([
    "", " ", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "' OR '1'='1",
    "'; DROP TABLE account; --", "\x00", "a\x00b", "\u202e", "²", "١٢٣", "1²", "٣.٥٠", "𝟗",
    "1e309", "-1", "0", "00", "1" * 400, "NaN", "Infinity", "😀" * 300, "a" * 20_000,
    "%s%s%n", "{amount}", "../../etc/passwd", "\r\nBcc: x@example.org", "null", "[]", "{}",
    "\ud800", "x\udfffy", "data:image/png;base64,AAAA", "data:image/png;base64," + "A" * 5000,
])
TEXT = st.one_of(HOSTILE, st.text(max_size=200))
# What reaches a handler or a service: lone surrogates are replaced where input arrives
# (rxportal/wellformed.py).
CLEAN_TEXT = TEXT.map(well_formed)
JSON_VALUE = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70),
              st.floats(allow_nan=True), TEXT),
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(TEXT, inner, max_size=4)),
    max_leaves=8)
# The field names the pages' forms send, plus a few that no form has.
FIELDS = ["action", "amount", "attempt", "autopay", "body", "confirm_password", "consent",
          "current_password", "data", "email", "empty", "error", "form_key", "holder", "kind",
          "message", "name", "new_password", "password", "payment_method", "phone_0", "phone_1",
          "product_id", "purpose", "reply_key", "save_card", "status", "subject",
          "typed_name", "usage_alerts", "username", "invoice_1", "invoice_²", "invoice_-1",
          "invoice_99999999999999999999", "country", "__proto__"]
FORM = st.dictionaries(st.one_of(st.sampled_from(FIELDS), TEXT), JSON_VALUE, max_size=10)
BY_ANNOTATION = {"str": TEXT, "int": st.one_of(st.integers(-2**70, 2**70)),
                 "bool": st.booleans(), "dict": FORM}
STATES = [SessionState, billing.BillingState, billing.PayState, tickets.TicketsState, tickets.TicketState,
          contracts.ContractsState, contracts.SignState, details.DetailsState,
          usage.UsageState, auth_state.AuthFormState, auth_state.ResetState,
          auth_state.FirstPasswordState]
# Uploads are fuzzed in the service test with random bytes; logging out ends the fuzzing
# customer's session; setvar is Reflex's own.
SKIP = {"choose_attachment", "logout", "setvar"}
FUZZ = settings(max_examples=15, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow, HealthCheck.data_too_large])


def handlers(cls) -> dict[str, list[str]]:
    """The handlers a page state declares (not those it inherits), with the annotation of each
    argument."""
    names = set(cls.event_handlers) - SKIP
    found = {}
    for name in sorted(names):
        parameters = list(inspect.signature(cls.event_handlers[name].fn).parameters.values())[1:]
        found[name] = [str(p.annotation).strip("'") for p in parameters]
    return found


def calls(cls):
    table = handlers(cls)
    return st.lists(st.sampled_from(sorted(table)).flatmap(
        lambda name: st.tuples(st.just(name), st.tuples(
            *[BY_ANNOTATION[a] for a in table[name]]))), min_size=1, max_size=6)


@pytest.fixture()
def demo(session, monkeypatch):
    from rxportal.demo import load_all
    from tests.conftest import free_port

    monkeypatch.setenv("STRIPE_API_BASE", f"http://127.0.0.1:{free_port()}")
    load_all(session)
    session.commit()
    return auth.login(session, "demo", "correct-horse-demo").token


def page_state(cls, token: str):
    from reflex.state import State

    state = State(_reflex_internal_init=True).get_substate(cls.get_full_name().split("."))
    state.session_token = token
    return state


def run(state, name: str, args: tuple) -> None:
    """As Reflex's websocket does: the payload made well-formed (guard_reflex_events), then the
    handler, its generator or coroutine run to the end."""
    import asyncio

    handler = type(state).event_handlers[name].fn
    names = list(inspect.signature(handler).parameters)[1:]
    payload = as_received(dict(zip(names, args)))
    result = handler(state, *[payload[n] for n in names])
    if inspect.iscoroutine(result):
        result = asyncio.run(result)
    if inspect.isgenerator(result):
        list(result)


def sendable(state) -> None:
    """What the page holds can be serialised for the browser (as Reflex does for a delta)."""
    from reflex.utils import format

    json.loads(format.json_dumps(state.dict()))


def test_every_handler_taking_input_is_listed():
    """A new handler is fuzzed without being listed; this shows what is fuzzed."""
    table = {cls.__name__: handlers(cls) for cls in STATES}
    assert all(set(a) <= set(BY_ANNOTATION) for t in table.values() for a in t.values()), table
    assert "submit_payment" in table["PayState"] and "sign_with" in table["SignState"]
    assert "create_ticket" in table["TicketsState"] and "save_details" in table["DetailsState"]


def test_random_and_hostile_calls_never_break_a_page(session, demo):
    """Every page state in turn (one demo database for all: loading it is the slow part)."""
    for cls in STATES:
        @FUZZ
        @given(sequence=calls(cls))
        def fuzz(sequence):
            note(cls.__name__)
            state = page_state(cls, demo)
            for name, args in sequence:
                run(state, name, args)
            sendable(state)

        fuzz()


# -- the staff console -------------------------------------------------------------------------
# Its handlers and a valid call of each are listed in test_staff_handlers.py (which checks that
# every handler is listed); here an administrator sends each of them hostile values instead.
from tests.integration.test_staff_handlers import CALLS  # noqa: E402
from tests.integration.test_staff_handlers import STATES as STAFF_STATES  # noqa: E402
from tests.integration.test_staff_handlers import call as staff_call  # noqa: E402
from tests.fake_gateway import fake  # noqa: E402,F401 - the staff world pays through it
from tests.integration.test_staff_handlers import make_state, world  # noqa: E402,F401

NETWORK = {"send_test_mail", "check_mailbox"}  # they dial the mail servers: tested for real there
STAFF_CALLS = sorted((c, n) for c, table in CALLS.items() for n in table if n not in NETWORK)
# Scalars only inside a staff form here (the helper that fills in the ids hashes them); lists
# and objects in a form are fuzzed on the customer pages above.
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats())


def hostile(value, data):
    """The valid argument, or hostile text in its place (each form field on its own)."""
    if isinstance(value, str):
        return data.draw(st.one_of(st.just(value), CLEAN_TEXT))
    if isinstance(value, dict):
        return {k: data.draw(st.one_of(st.just(v), CLEAN_TEXT, SCALAR))
                for k, v in value.items()}
    return value


def test_staff_handlers_with_hostile_input_never_raise(session, world, monkeypatch):  # noqa: F811
    @settings(FUZZ, max_examples=80)  # about fifty handlers, one call per example
    @given(data=st.data())
    def fuzz(data):
        cls_name, name = data.draw(st.sampled_from(STAFF_CALLS))
        cls = next(c for c in STAFF_STATES if c.__name__ == cls_name)
        _area, args = CALLS[cls_name][name]
        state = make_state(cls, world["tokens"]["administrator"], world, monkeypatch)
        staff_call(state, name, tuple(hostile(a, data) for a in args), world)
        sendable(state)

    fuzz()
