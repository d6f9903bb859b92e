"""Python's cycle collector in a long-running worker.

A full pass of the collector walks every object the process holds: the compiled app and its
libraries (560,000 objects, counted by `gc.get_freeze_count()`) besides the connected customers' states, and no click is
answered meanwhile: 200-560 ms, several times a minute, at 200 connected customers
(bench/README.md). Once the app is up, its own objects, which live as long as the process,
are moved out of the collector's sight (`gc.freeze`); what the customers' events make and drop
is still collected as before.

The collector's thresholds stay Python's (700, 10, 10). Collecting the youngest generation
every 50,000 allocations instead (2026-12-01) made each of those passes stop a worker for
45-185 ms, every second or two at 200 customers (`gc.callbacks`, 2026-12-02): p95 of an
in-page click at 200 customers, 3 workers, 400-1,860 ms against 55-64 ms with the defaults.
"""
from __future__ import annotations

import gc


def freeze_the_app() -> None:
    """A lifespan task: runs in each worker once the app is compiled, before any event."""
    gc.collect()
    gc.freeze()
