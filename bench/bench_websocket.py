"""Event latency over the websocket, and memory per connected customer.

Simulated customers (python-socketio speaking Reflex 0.10.1's protocol, each logged in with its own
session cookie) connect to the billing page, then click between the billing and tickets pages
in a loop: the time from the click to the page state's update, p50 and p95,
for 1, 50 and 200 concurrent customers who each click every 1-3 s (and, for
information, the saturation point where they click without pause), on one worker (SQLite) and on several (PostgreSQL +
Redis). Budget: p95 < 100 ms at 200 customers.

RXPORTAL_BENCH_CLICKS (default "handler,navigate"): "handler" sends a click inside the page (one
event that re-checks the session and reads the page's data: see PAGES); "navigate" follows the
page's link as the browser does (the stored vars, then the page's on_load chain: the page's load
handler, which checks the login in the same event, and the hydrated flag: four events, five before
2026-12-02). These customers write nothing: a page whose account's data did not change since the
tab read it is not read again (account stamps, bench/README.md "Sixth pass"), so "navigate" times
that path; a navigation after a change reads the page in full. Each figure comes
with the CPU the load generator used (of one core: it must stay well below 100% for the figure to
be the backend's) and the backend's CPU per click.

Memory: the backend processes' RSS before and after 200 customers connected, per customer, and
the largest states stored in Redis.

Environment: RXPORTAL_BENCH_MODES (default "single,scaled"), RXPORTAL_BENCH_LEVELS
(default "1,50,200"), RXPORTAL_BENCH_ROUNDS (events per customer per level, default 10).
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (BILLING_STATE, DETAILS_STATE, TICKETS_STATE, Customer,  # noqa: E402
                     login_tokens, percentile, record, running_portal, verdict)

BUDGET_P95_MS = 100.0
LEVELS = [int(x) for x in os.environ.get("RXPORTAL_BENCH_LEVELS", "1,50,200").split(",")]
MODES = os.environ.get("RXPORTAL_BENCH_MODES", "single,scaled").split(",")
ROUNDS = int(os.environ.get("RXPORTAL_BENCH_ROUNDS", "10"))
THINK_SECONDS = (1.0, 3.0)
# Cores + 1: each worker blocks on PostgreSQL during a page load, a third one keeps both cores
# busy meanwhile (2: p95 121 ms at 200 customers, 3: 44 ms, 4: 99 ms; bench/README.md).
WORKERS = int(os.environ.get("RXPORTAL_BENCH_WORKERS", str((os.cpu_count() or 2) + 1)))


CLICKS = os.environ.get("RXPORTAL_BENCH_CLICKS", "handler,navigate").split(",")
# Each page, with a click inside it (`handler`): one event that re-checks the session and reads
# the page's data again, as the page's load handler did before it also checked the login for
# the navigation (2026-12-02): the next page of transactions (the demo account has one page: the
# answer is empty), the tickets' status filter.
PAGES = (("/billing", BILLING_STATE, "change_page", {"table": "transactions", "step": 1}),
         ("/tickets", TICKETS_STATE, "set_status_filter", {"value": "all"}))


CLICK_TIMEOUT = 30.0
TIMED_OUT: list[int] = []


async def _click(customer: Customer, i: int, click: str) -> float:
    path, state, handler, payload = PAGES[i % 2]
    if click == "navigate":
        seconds, _ = await customer.navigate(path, timeout=CLICK_TIMEOUT)
    else:  # the data did not change since the last load: the page's own answer is empty
        seconds, _ = await customer.call_confirmed(f"{state}.{handler}", path=path,
                                                   timeout=CLICK_TIMEOUT, payload=payload)
    return seconds


async def _customer_loop(customer: Customer, rounds: int, samples: list[float],
                         start: asyncio.Event, think: bool, click: str) -> None:
    await start.wait()
    for i in range(rounds):
        if think:  # a person reads the page before the next click
            await asyncio.sleep(random.uniform(*THINK_SECONDS))
        try:
            samples.append(await _click(customer, i, click) * 1000)
        except TimeoutError:  # counted at the time it waited: the figure must show it
            samples.append(CLICK_TIMEOUT * 1000)
            TIMED_OUT.append(1)


NOT_CONNECTED: list[int] = []


async def _connect_all(url: str, tokens: list[str]) -> list[Customer]:
    """The customers that could connect (an overloaded backend refuses some: counted)."""
    customers = [Customer(url, token) for token in tokens]
    connected = []
    # Connect in small waves, as customers arrive, not in one burst.
    for i in range(0, len(customers), 20):
        wave = customers[i:i + 20]
        results = await asyncio.gather(*(c.connect() for c in wave), return_exceptions=True)
        for customer, result in zip(wave, results):
            if isinstance(result, Exception):
                NOT_CONNECTED.append(1)
                await customer.close()
            else:
                connected.append(customer)
    return connected


class Cpu:
    """CPU seconds used meanwhile by this load generator and by the backend processes: the
    simulated customers must not be what limits the figures on a 2-core machine."""

    def __init__(self, portal):
        self.portal = portal

    def _backend(self) -> float:
        import psutil

        total = 0.0
        for proc in self.portal.processes():
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
        return total

    def __enter__(self):
        self.started, self.client, self.backend = (time.perf_counter(), time.process_time(),
                                                    self._backend())
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.started
        self.client = (time.process_time() - self.client) / self.wall
        self.backend = self._backend() - self.backend

    def text(self, events: int) -> str:
        timed_out = f"{len(TIMED_OUT)} clicks unanswered after {CLICK_TIMEOUT:.0f} s; " if TIMED_OUT else ""
        if NOT_CONNECTED:
            timed_out += f"{len(NOT_CONNECTED)} customers could not connect; "
        return (f"{timed_out}load generator {self.client:.0%} of one core, backend "
                f"{self.backend / max(events, 1) * 1000:.1f} ms CPU per click")


async def measure(portal, level: int, tokens: list[str], think: bool = True,
                  click: str = "navigate") -> tuple[float, float, int, float, Cpu]:
    NOT_CONNECTED.clear()
    customers = await _connect_all(portal.url, tokens[:level])
    samples: list[float] = []
    start = asyncio.Event()
    tasks = [asyncio.create_task(_customer_loop(c, ROUNDS, samples, start, think, click))
             for c in customers]
    TIMED_OUT.clear()
    try:
        with Cpu(portal) as cpu:
            start.set()
            await asyncio.gather(*tasks)
    finally:
        await asyncio.gather(*(c.close() for c in customers))
    return (percentile(samples, 50), percentile(samples, 95), len(samples),
            len(samples) / cpu.wall, cpu)


def _redis_memory(portal) -> int:
    """Bytes held by this app's keys in its own Redis database (the server is shared)."""
    if "REDIS_URL" not in portal.env:
        return 0
    import redis

    client = redis.Redis.from_url(portal.env["REDIS_URL"])
    return sum(client.memory_usage(key) or 0 for key in client.scan_iter(count=1000))


def _redis_state_sizes(portal, top: int = 4) -> str:
    """The largest stored states, as the average pickle size per customer who has one."""
    if "REDIS_URL" not in portal.env:
        return ""
    import collections

    import redis

    client = redis.Redis.from_url(portal.env["REDIS_URL"])
    sizes, counts = collections.Counter(), collections.Counter()
    for key in client.scan_iter(match="*_reflex___state____state*", count=1000):
        name = key.decode().rsplit(".", 1)[-1].split("____")[-1]
        sizes[name] += client.strlen(key)
        counts[name] += 1
    largest = sorted(sizes, key=lambda n: -sizes[n] / counts[n])[:top]
    return "; largest stored states: " + ", ".join(
        f"{name} {sizes[name] / counts[name] / 1024:.1f} KiB" for name in largest)


async def memory_per_customer(portal, tokens: list[str]) -> tuple[float, float, float, str]:
    await asyncio.sleep(2)
    before, redis_before = portal.rss(), _redis_memory(portal)
    customers = await _connect_all(portal.url, tokens)
    # Every customer has loaded both pages once: its state exists on the backend.
    await asyncio.gather(*(c.call(f"{DETAILS_STATE}.load_details", DETAILS_STATE,
                                  path="/details") for c in customers))
    await asyncio.sleep(2)
    after, redis_after = portal.rss(), _redis_memory(portal)
    largest = _redis_state_sizes(portal)
    await asyncio.gather(*(c.close() for c in customers))
    count = max(1, len(customers))
    return ((after - before) / count / 1024, after / 1024 / 1024,
            (redis_after - redis_before) / count / 1024, largest)


def run_mode(mode: str) -> list[str]:
    rows = []
    label = "1 worker, SQLite" if mode == "single" else f"{WORKERS} workers, PostgreSQL + Redis"
    with running_portal(mode, workers=WORKERS) as portal:
        tokens = login_tokens(max(LEVELS + [200]))
        asyncio.run(_measure_all(portal, label, tokens, rows))
    return rows


async def _measure_all(portal, mode_label: str, tokens: list[str], rows: list[str]) -> None:
    # The pages answer with their data (a first load of this tab's tickets page).
    probe = (await _connect_all(portal.url, tokens[:1]))[0]
    _, delta = await probe.call(f"{TICKETS_STATE}.load_tickets", TICKETS_STATE, path="/tickets")
    assert delta[TICKETS_STATE].get("rows_rx_state_"), delta
    await probe.close()
    # Warm up: the first events of a worker import and cache things.
    await measure(portal, 5, tokens, think=False)
    for click in CLICKS:
        label = f"{mode_label}, click = {click}"
        for level in LEVELS:
            p50, p95, count, rate, cpu = await measure(portal, level, tokens, click=click)
            ok = p95 < BUDGET_P95_MS if level >= 200 else True
            budget = f"; budget p95 < {BUDGET_P95_MS:.0f} ms: {verdict(ok)}" if level >= 200 else ""
            rows.append(f"event latency, {label}, {level} customers clicking every "
                        f"{THINK_SECONDS[0]:.0f}-{THINK_SECONDS[1]:.0f} s ({count} clicks, "
                        f"{rate:.0f}/s): p50 {p50:.1f} ms, p95 {p95:.1f} ms{budget}; "
                        f"{cpu.text(count)}")
            print(rows[-1], flush=True)
            await asyncio.sleep(1)
        # Saturation: every customer clicks again as soon as the last click is answered.
        p50, p95, count, rate, cpu = await measure(portal, max(LEVELS), tokens, think=False,
                                                   click=click)
        rows.append(f"saturation, {label}, {max(LEVELS)} customers without pause ({count} "
                    f"clicks): {rate:.0f} clicks/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms (for "
                    f"information); {cpu.text(count)}")
        print(rows[-1], flush=True)
    per_customer, total, in_redis, largest = await memory_per_customer(portal, tokens[:200])
    redis_part = f", plus {in_redis:.0f} KiB in Redis" if "REDIS_URL" in portal.env else ""
    rows.append(f"memory, {mode_label}: {per_customer:.0f} KiB backend RSS per connected customer"
                f"{redis_part} (200 customers; backend total {total:.0f} MiB){largest}")
    print(rows[-1], flush=True)


def main() -> None:
    rows = []
    for mode in MODES:
        rows += run_mode(mode)
    record("Event latency and memory per customer (bench_websocket.py)", rows)


if __name__ == "__main__":
    main()
