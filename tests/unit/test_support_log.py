"""The peer-support log's pure parts: the date range and formula neutralisation."""

from __future__ import annotations

from datetime import date

import pytest

from shared.domain.errors import InvalidField
from shared.network.support.log import date_range, safe

TODAY = date(2026, 12, 1)


def test_default_range_is_the_last_year() -> None:
    assert date_range(None, None, TODAY) == (date(2025, 12, 2), TODAY)
    assert date_range("2026-01-01", "2026-03-31", TODAY) == (date(2026, 1, 1), date(2026, 3, 31))


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2026-03-01", "2026-02-01", "to"),
        ("2020-01-01", "2026-01-01", "to"),
        ("2026-02-30", None, "from"),
        (None, "20261201", "to"),
        # the edges of the calendar: a clear 422, never an overflow one day either side
        ("0001-01-01", "2026-01-05", "from"),
        ("2026-12-01", "9999-12-31", "to"),
        (None, "0001-06-01", "to"),
    ],
)
def test_bad_ranges_name_the_field(start: str | None, end: str | None, field: str) -> None:
    with pytest.raises(InvalidField) as caught:
        date_range(start, end, TODAY)
    assert caught.value.field == field


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx", "=cmd|' /C calc'!A0"])
def test_formula_starts_are_neutralised(cell: str) -> None:
    assert safe(cell) == "'" + cell


def test_plain_cells_are_untouched() -> None:
    assert safe("Bob") == "Bob"
    assert safe(30) == "30"
    assert safe("2026-12-01") == "2026-12-01"
