"""The worker's collector settings (rxportal/collector.py)."""
import gc

from rxportal import collector


def test_the_app_objects_are_frozen_and_young_objects_collected_less_often():
    before = gc.get_threshold()
    try:
        collector.freeze_the_app()
        assert gc.get_freeze_count() > 10_000  # everything imported so far
        assert gc.get_threshold() == collector.THRESHOLDS
        assert gc.get_threshold()[0] > before[0]
        made_after = [[] for _ in range(10)]
        assert all(gc.is_tracked(x) for x in made_after)  # new objects are still collected
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
