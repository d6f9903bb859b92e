"""Python's cycle collector in a long-running worker.

A full pass of the collector walks every object the process holds: the compiled app and its
libraries (560,000 objects, counted by `gc.get_freeze_count()`) besides the connected customers' states, and no click is
answered meanwhile: 200-560 ms, several times a minute, at 200 connected customers
(bench/README.md). Once the app is up, its own objects, which live as long as the process,
are moved out of the collector's sight (`gc.freeze`); what the customers' events make and drop
is still collected as before.
"""
from __future__ import annotations

import gc


# An event makes thousands of short-lived objects: collected every 700 allocations (Python's
# default), those still in use are promoted, and the promoted pile up to full passes.
THRESHOLDS = (50_000, 20, 100)


def freeze_the_app() -> None:
    """A lifespan task: runs in each worker once the app is compiled, before any event."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
