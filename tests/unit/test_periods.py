from datetime import date

from rxportal.services import periods


def test_period_containing_a_day_in_a_short_month():
    assert periods.period_containing(31, date(2026, 3, 5)) == (date(2026, 2, 28), date(2026, 3, 30))


def test_previous_periods_are_contiguous_and_oldest_first():
    result = periods.previous_periods(31, date(2026, 3, 31), 12)
    assert len(result) == 12
    assert result[-1] == (date(2026, 3, 31), date(2026, 4, 29))
    for (_, end), (start, _) in zip(result, result[1:]):
        assert (start - end).days == 1
