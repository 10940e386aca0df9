"""Pure parts of the local stack: the clock, schedules, scheduled events, instants."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from infra.cfn import Schedule
from infra.local.stack import Clock, parse_instant, rate_seconds, scheduled_event


def test_clock_is_real_until_set_and_then_stands_still() -> None:
    clock = Clock()
    assert clock.state()["fixed"] is False
    instant = datetime(2026, 12, 8, 9, tzinfo=UTC)
    clock.set(instant)
    assert clock.now() == instant
    assert clock.state() == {"now": "2026-12-08T09:00:00Z", "fixed": True}
    clock.set(None)
    assert clock.now() != instant


@pytest.mark.parametrize(("expr", "seconds"), [("rate(15 minutes)", 900), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)])
def test_rate_expressions(expr: str, seconds: int) -> None:
    assert rate_seconds(expr) == seconds


def test_cron_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="rate"):
        rate_seconds("cron(0 9 * * ? *)")


def test_scheduled_event_carries_the_scheduled_instant() -> None:
    event = scheduled_event(Schedule("SweepFunction", "Every15", "rate(15 minutes)"), datetime(2026, 12, 8, 9, 0, 0, 123, tzinfo=UTC))
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-12-08T09:00:00Z"


def test_schedule_input_replaces_the_envelope() -> None:
    assert scheduled_event(Schedule("F", "n", "rate(1 day)", input='{"a": 1}'), datetime.now(UTC)) == {"a": 1}


def test_instants_need_a_zone() -> None:
    assert parse_instant("2026-12-08T10:00:00+01:00") == datetime(2026, 12, 8, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="zone"):
        parse_instant("2026-12-08T09:00:00")
