"""With RXPORTAL_HANDLER_THREADS=1 the scaled mode runs plain event handlers in a thread
(rxportal/handler_threads.py): the worker's event loop keeps serving other customers while one
handler waits on the database."""
from __future__ import annotations

import asyncio
import threading

import pytest

from rxportal import handler_threads


def handler_of(state_class, name):
    return state_class.event_handlers[name]


def test_only_plain_handlers_move_to_a_thread():
    from rxportal.state.details import DetailsState
    from rxportal.state.session import SessionState

    assert handler_threads._runs_in_thread(handler_of(SessionState, "check_login"))
    assert handler_threads._runs_in_thread(handler_of(DetailsState, "load_details"))
    # A generator yields updates to the loop as it goes; an async handler awaits on it.
    assert not handler_threads._runs_in_thread(handler_of(DetailsState, "save_details"))
    assert not handler_threads._runs_in_thread(handler_of(SessionState, "logout"))


def test_a_threaded_handler_changes_the_state_it_was_given_from_another_thread():
    from reflex.state import State

    from rxportal.state.session import SessionState

    root = State(_reflex_internal_init=True)
    state = root.get_substate(SessionState.get_full_name().split("."))
    state.menu_open = False
    ran_in = []
    original = handler_of(SessionState, "toggle_menu")

    threaded = handler_threads._threaded(original)
    assert threaded._is_coroutine_function and threaded.fn.__qualname__ == original.fn.__qualname__
    assert handler_threads._threaded(original) is threaded  # made once per handler

    def spy(self):
        ran_in.append(threading.current_thread())
        return original.fn(self)

    asyncio.run(handler_threads._threaded(
        type(original)(fn=spy, state=original.state)).fn(state))
    assert state.menu_open is True and "menu_open" in state.dirty_vars
    assert ran_in and ran_in[0] is not threading.main_thread()


@pytest.mark.parametrize("redis_url, switch, expected", [
    ("redis://127.0.0.1:6379/0", "1", True), ("redis://127.0.0.1:6379/0", None, False),
    ("redis://127.0.0.1:6379/0", "0", False), ("", "1", False)])
def test_off_unless_asked_for_and_only_with_redis(monkeypatch, redis_url, switch, expected):
    monkeypatch.setenv("REDIS_URL", redis_url)
    if switch is None:
        monkeypatch.delenv("RXPORTAL_HANDLER_THREADS", raising=False)
    else:
        monkeypatch.setenv("RXPORTAL_HANDLER_THREADS", switch)
    assert handler_threads.enabled() is expected


def test_install_wraps_reflexs_process_event_once(monkeypatch):
    from reflex_base.event.processor import base_state_processor

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("RXPORTAL_HANDLER_THREADS", "1")
    original = base_state_processor.process_event
    monkeypatch.setattr(base_state_processor, "process_event", original)
    handler_threads.install()
    wrapped = base_state_processor.process_event
    handler_threads.install()
    assert wrapped is not original and base_state_processor.process_event is wrapped
