"""Plain (not generator, not async) event handlers run in a thread when the portal runs on
PostgreSQL + Redis, so a worker's event loop is not blocked while a handler waits on the database.

Reflex 0.10.1 calls a sync handler on the worker's event loop: every database round trip of a
page load stops the worker from reading other customers' events, sending their updates and
talking to Redis. Profiled under bench/bench_websocket.py, about 40% of a worker's time went to
waiting on PostgreSQL that way (bench/README.md). The handler still runs while its customer's
state lock is held, as before, so nothing else touches that state meanwhile; generator handlers
(which yield updates) and async ones are left as they are.

Off unless RXPORTAL_HANDLER_THREADS=1 (and never on SQLite: one worker, writes serialized by
the one loop). It pays only while the database is slow to answer: on a quiet 2-core machine the
threads cost more CPU than they saved (the GIL passes between the loop and the handler threads):
saturation 61-69 clicks/s with them against 90 without, p95 at 200 customers 2.3 s against 0.95 s
(bench/results.md, 2026-12-01 17:24 and 17:39). Under the heavily loaded machine of the earlier
runs they had halved the latency at 50 customers.
"""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import inspect
import os

_threaded_handlers: dict[int, object] = {}


def _threaded(handler):
    """A copy of `handler` whose function awaits the original in the default executor."""
    copy = _threaded_handlers.get(id(handler))
    if copy is None:
        fn = handler.fn

        @functools.wraps(fn)
        async def run_in_thread(*args, **kwargs):
            return await asyncio.to_thread(fn, *args, **kwargs)

        copy = dataclasses.replace(handler, fn=run_in_thread)
        copy.__dict__["_type_hints"] = handler._type_hints  # resolved on the original
        _threaded_handlers[id(handler)] = copy
    return copy


def _runs_in_thread(handler) -> bool:
    fn = handler.fn
    return not (handler._is_coroutine_function or inspect.isgeneratorfunction(fn)
                or handler.is_background)


def enabled() -> bool:
    return bool(os.environ.get("REDIS_URL")) and os.environ.get(
        "RXPORTAL_HANDLER_THREADS", "0") == "1"


def install() -> None:
    """Wrap Reflex's process_event once (idempotent)."""
    from reflex_base.event.processor import base_state_processor

    original = base_state_processor.process_event
    if getattr(original, "_rxportal_threads", False) or not enabled():
        return

    @functools.wraps(original)
    async def process_event(handler, payload, state, root_state):
        if _runs_in_thread(handler):
            handler = _threaded(handler)
        return await original(handler, payload, state, root_state)

    process_event._rxportal_threads = True
    base_state_processor.process_event = process_event
