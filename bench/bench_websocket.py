"""Event latency over the websocket, and memory per connected customer.

Simulated customers (python-socketio speaking Reflex 0.10.1's protocol, each logged in with its own
session cookie) connect to the billing page, then drive the billing and My Details pages' load
handlers in a loop: the time from sending an event to receiving its state update, p50 and p95,
for 1, 50 and 200 concurrent customers who each click every 1-3 s (and, for
information, the saturation point where they click without pause), on one worker (SQLite) and on several (PostgreSQL +
Redis). Budget: p95 < 100 ms at 200 customers.

Memory: the backend processes' RSS before and after 200 customers connected, per customer.

Environment: RXPORTAL_BENCH_MODES (default "single,scaled"), RXPORTAL_BENCH_LEVELS
(default "1,50,200"), RXPORTAL_BENCH_ROUNDS (events per customer per level, default 10).
"""
from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (BILLING_STATE, DETAILS_STATE, Customer, login_tokens,  # noqa: E402
                     percentile, record, running_portal, verdict)

BUDGET_P95_MS = 100.0
LEVELS = [int(x) for x in os.environ.get("RXPORTAL_BENCH_LEVELS", "1,50,200").split(",")]
MODES = os.environ.get("RXPORTAL_BENCH_MODES", "single,scaled").split(",")
ROUNDS = int(os.environ.get("RXPORTAL_BENCH_ROUNDS", "10"))
THINK_SECONDS = (1.0, 3.0)
WORKERS = int(os.environ.get("RXPORTAL_BENCH_WORKERS", "2"))


async def _customer_loop(customer: Customer, rounds: int, samples: list[float],
                         start: asyncio.Event, think: bool) -> None:
    await start.wait()
    for i in range(rounds):
        if think:  # a person reads the page before the next click
            await asyncio.sleep(random.uniform(*THINK_SECONDS))
        if i % 2 == 0:
            seconds, delta = await customer.call(f"{BILLING_STATE}.load_billing", BILLING_STATE,
                                                 path="/billing")
            assert delta[BILLING_STATE].get("amount_due_rx_state_"), delta
        else:
            seconds, delta = await customer.call(f"{DETAILS_STATE}.load_details", DETAILS_STATE,
                                                 path="/details")
            assert delta[DETAILS_STATE].get("email_rx_state_"), delta
        samples.append(seconds * 1000)


async def _connect_all(url: str, tokens: list[str]) -> list[Customer]:
    customers = [Customer(url, token) for token in tokens]
    # Connect in small waves, as customers arrive, not in one burst.
    for i in range(0, len(customers), 20):
        await asyncio.gather(*(c.connect() for c in customers[i:i + 20]))
    return customers


async def measure(portal, level: int, tokens: list[str], think: bool = True
                  ) -> tuple[float, float, int, float]:
    customers = await _connect_all(portal.url, tokens[:level])
    samples: list[float] = []
    start = asyncio.Event()
    tasks = [asyncio.create_task(_customer_loop(c, ROUNDS, samples, start, think))
             for c in customers]
    started = time.perf_counter()
    start.set()
    try:
        await asyncio.gather(*tasks)
    finally:
        elapsed = time.perf_counter() - started
        await asyncio.gather(*(c.close() for c in customers))
    return percentile(samples, 50), percentile(samples, 95), len(samples), len(samples) / elapsed


def _redis_memory(portal) -> int:
    """Bytes held by this app's keys in its own Redis database (the server is shared)."""
    if "REDIS_URL" not in portal.env:
        return 0
    import redis

    client = redis.Redis.from_url(portal.env["REDIS_URL"])
    return sum(client.memory_usage(key) or 0 for key in client.scan_iter(count=1000))


async def memory_per_customer(portal, tokens: list[str]) -> tuple[float, float, float]:
    await asyncio.sleep(2)
    before, redis_before = portal.rss(), _redis_memory(portal)
    customers = await _connect_all(portal.url, tokens)
    # Every customer has loaded both pages once: its state exists on the backend.
    await asyncio.gather(*(c.call(f"{DETAILS_STATE}.load_details", DETAILS_STATE,
                                  path="/details") for c in customers))
    await asyncio.sleep(2)
    after, redis_after = portal.rss(), _redis_memory(portal)
    await asyncio.gather(*(c.close() for c in customers))
    return ((after - before) / len(tokens) / 1024, after / 1024 / 1024,
            (redis_after - redis_before) / len(tokens) / 1024)


def run_mode(mode: str) -> list[str]:
    rows = []
    label = "1 worker, SQLite" if mode == "single" else f"{WORKERS} workers, PostgreSQL + Redis"
    with running_portal(mode, workers=WORKERS) as portal:
        tokens = login_tokens(max(LEVELS + [200]))
        asyncio.run(_measure_all(portal, label, tokens, rows))
    return rows


async def _measure_all(portal, label: str, tokens: list[str], rows: list[str]) -> None:
    # Warm up: the first events of a worker import and cache things.
    await measure(portal, 5, tokens, think=False)
    for level in LEVELS:
        p50, p95, count, rate = await measure(portal, level, tokens)
        ok = p95 < BUDGET_P95_MS if level >= 200 else True
        budget = f"; budget p95 < {BUDGET_P95_MS:.0f} ms: {verdict(ok)}" if level >= 200 else ""
        rows.append(f"event latency, {label}, {level} customers clicking every "
                    f"{THINK_SECONDS[0]:.0f}-{THINK_SECONDS[1]:.0f} s ({count} events, "
                    f"{rate:.0f}/s): p50 {p50:.1f} ms, p95 {p95:.1f} ms{budget}")
        print(rows[-1], flush=True)
        await asyncio.sleep(1)
    # Saturation: every customer sends its next event as soon as the last one is answered.
    p50, p95, count, rate = await measure(portal, max(LEVELS), tokens, think=False)
    rows.append(f"saturation, {label}, {max(LEVELS)} customers without pause ({count} events): "
                f"{rate:.0f} events/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms (for information)")
    print(rows[-1], flush=True)
    per_customer, total, in_redis = await memory_per_customer(portal, tokens[:200])
    redis_part = f", plus {in_redis:.0f} KiB in Redis" if "REDIS_URL" in portal.env else ""
    rows.append(f"memory, {label}: {per_customer:.0f} KiB backend RSS per connected customer"
                f"{redis_part} (200 customers; backend total {total:.0f} MiB)")
    print(rows[-1], flush=True)


def main() -> None:
    rows = []
    for mode in MODES:
        rows += run_mode(mode)
    record("Event latency and memory per customer (bench_websocket.py)", rows)


if __name__ == "__main__":
    main()
