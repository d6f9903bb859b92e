"""The worker's collector settings (rxportal/collector.py)."""
import gc

from rxportal import collector


def test_the_app_objects_are_frozen_and_new_objects_still_collected():
    before = gc.get_threshold()
    try:
        collector.freeze_the_app()
        assert gc.get_freeze_count() > 10_000  # everything imported so far
        # The youngest generation stays small: a pass over 50,000 objects stopped a worker
        # for up to 185 ms (bench/README.md).
        assert gc.get_threshold() == before
        made_after = [[] for _ in range(10)]
        assert all(gc.is_tracked(x) for x in made_after)  # new objects are still collected
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
