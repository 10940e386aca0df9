"""Pure parts of the local stack: the clock, schedules, scheduled events, instants."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from infra.cfn import Schedule
from infra.local import token as token_cli
from infra.local.stack import Clock, parse_instant, rate_seconds, scheduled_event
from infra.local.token import is_email_address


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


@pytest.mark.parametrize("text", ["ann@example.org", "a.b+tag@sub.example.co.uk", " ann@example.org "])
def test_email_addresses_are_taken(text: str) -> None:
    assert is_email_address(text)


@pytest.mark.parametrize(
    "text", ["notanemail", "ann@", "@example.org", "ann@example", "ann @example.org", "a@b@example.org", "ann@example..org", ""]
)
def test_what_is_not_an_email_address_is_refused(text: str) -> None:
    assert not is_email_address(text)


def test_make_token_refuses_what_is_not_an_email_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["token", "notanemail"])
    with pytest.raises(SystemExit) as exit_:
        token_cli.main()
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "email address" in err
    assert "notanemail" not in err
