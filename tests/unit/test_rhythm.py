"""When check-ins are due (shared.domain.rhythm): RRULEs, descriptions, wall-clock time across DST, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.domain.rhythm import Rhythm, Slot, Status, describe, every_days, status, weekly

TUESDAY_0830 = Slot("TU", 8, 30)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def assert_local(instant: datetime, zone: str, hour: int, minute: int) -> None:
    local = instant.astimezone(ZoneInfo(zone))
    assert (local.hour, local.minute) == (hour, minute), f"{instant} is {local} in {zone}"


# ------------------------------------------------------------------ RRULE text and descriptions


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (every_days(7), "FREQ=DAILY;INTERVAL=7"),
        (every_days(10), "FREQ=DAILY;INTERVAL=10"),
        (every_days(1), "FREQ=DAILY"),  # dateutil omits INTERVAL=1
        (weekly(TUESDAY_0830), "FREQ=WEEKLY;BYDAY=TU;BYHOUR=8;BYMINUTE=30;BYSECOND=0"),
        (weekly(Slot("TU", 8, 30, interval=2)), "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=8;BYMINUTE=30;BYSECOND=0"),
        (weekly(Slot("SU", 0, 5)), "FREQ=WEEKLY;BYDAY=SU;BYHOUR=0;BYMINUTE=5;BYSECOND=0"),
        (weekly(Slot("MO", 23, 59, interval=3)), "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO;BYHOUR=23;BYMINUTE=59;BYSECOND=0"),
    ],
)
def test_rrule_text(rule: str, expected: str) -> None:
    assert rule == expected


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (every_days(7), "every 7 days"),
        (every_days(1), "every day"),
        (every_days(30), "every 30 days"),
        (weekly(TUESDAY_0830), "Tuesdays 08:30"),
        (weekly(Slot("TU", 8, 30, interval=2)), "every 2 weeks on Tuesday 08:30"),
        (weekly(Slot("SU", 0, 5)), "Sundays 00:05"),
        (weekly(Slot("MO", 23, 59, interval=3)), "every 3 weeks on Monday 23:59"),
        ("FREQ=DAILY;INTERVAL=7", "every 7 days"),
        ("FREQ=DAILY", "every day"),
        ("FREQ=WEEKLY;BYDAY=FR;BYHOUR=17;BYMINUTE=0;BYSECOND=0", "Fridays 17:00"),
    ],
)
def test_describe(rule: str, expected: str) -> None:
    assert describe(rule) == expected


@pytest.mark.parametrize(
    ("rule", "period"),
    [
        (weekly(TUESDAY_0830), timedelta(days=7)),
        (weekly(Slot("TU", 8, 30, interval=2)), timedelta(days=14)),
        (weekly(Slot("SA", 18, 0, interval=4)), timedelta(days=28)),
        (every_days(1), timedelta(days=1)),
        (every_days(7), timedelta(days=7)),
        (every_days(10), timedelta(days=10)),
    ],
)
def test_period(rule: str, period: timedelta) -> None:
    assert Rhythm(rule, "Europe/Dublin", utc(2026, 12, 1)).period == period


def test_is_slot() -> None:
    assert Rhythm(weekly(TUESDAY_0830), "UTC", utc(2026, 12, 1)).is_slot
    assert not Rhythm(every_days(7), "UTC", utc(2026, 12, 1)).is_slot


# ------------------------------------------------------------------ slots keep their local time across DST

# (zone, slot before the change (UTC), slot after the change (UTC)); every slot is a Tuesday at 08:30 local.
DST_SLOTS = [
    pytest.param("Europe/Dublin", utc(2027, 3, 23, 8, 30), utc(2027, 3, 30, 7, 30), id="dublin-spring-forward"),
    pytest.param("Europe/Dublin", utc(2026, 10, 20, 7, 30), utc(2026, 10, 27, 8, 30), id="dublin-fall-back"),
    pytest.param("America/New_York", utc(2027, 3, 9, 13, 30), utc(2027, 3, 16, 12, 30), id="new-york-spring-forward"),
    pytest.param("America/New_York", utc(2026, 10, 27, 12, 30), utc(2026, 11, 3, 13, 30), id="new-york-fall-back"),
    pytest.param("Australia/Sydney", utc(2026, 9, 28, 22, 30), utc(2026, 10, 5, 21, 30), id="sydney-forward"),
    pytest.param("Australia/Sydney", utc(2027, 3, 29, 21, 30), utc(2027, 4, 5, 22, 30), id="sydney-back"),
]


@pytest.mark.parametrize(("zone", "before", "after"), DST_SLOTS)
def test_weekly_slot_stays_at_local_time_across_dst(zone: str, before: datetime, after: datetime) -> None:
    rhythm = Rhythm(weekly(TUESDAY_0830), zone, starts_at=before - timedelta(days=6))

    assert rhythm.next_due(None) == before
    assert rhythm.next_due(before) == after  # talked at the slot: next one is a week later, same local time
    assert rhythm.next_due(before - timedelta(days=1)) == after  # a day early still counts for that week
    assert rhythm.slot_after(before + timedelta(minutes=1)) == after
    for instant in (before, after):
        assert_local(instant, zone, 8, 30)
        assert instant.astimezone(ZoneInfo(zone)).weekday() == 1  # Tuesday
    # The UTC offset changed in between: a week of wall-clock time is not 7 * 24 hours.
    assert abs(after - before - timedelta(days=7)) == timedelta(hours=1)


@pytest.mark.parametrize(("zone", "before", "after"), DST_SLOTS)
def test_fortnightly_slot_stays_at_local_time_across_dst(zone: str, before: datetime, after: datetime) -> None:
    rhythm = Rhythm(weekly(Slot("TU", 8, 30, interval=2)), zone, starts_at=before - timedelta(days=1))  # the Monday

    assert rhythm.next_due(None) == before
    expected = after + timedelta(days=7)  # no DST change in the week after `after`
    assert rhythm.next_due(before) == expected
    assert_local(expected, zone, 8, 30)


# ------------------------------------------------------------------ every N days: wall-clock in the zone

# A check-in at 08:30 local on the Saturday before a change; (zone, check-in (UTC), days, due (UTC)).
DST_EVERY_DAYS = [
    pytest.param("Europe/Dublin", utc(2027, 3, 27, 8, 30), 1, utc(2027, 3, 28, 7, 30), id="dublin-spring-1"),
    pytest.param("Europe/Dublin", utc(2027, 3, 27, 8, 30), 7, utc(2027, 4, 3, 7, 30), id="dublin-spring-7"),
    pytest.param("Europe/Dublin", utc(2026, 10, 24, 7, 30), 1, utc(2026, 10, 25, 8, 30), id="dublin-fall-1"),
    pytest.param("Europe/Dublin", utc(2026, 10, 24, 7, 30), 7, utc(2026, 10, 31, 8, 30), id="dublin-fall-7"),
    pytest.param("America/New_York", utc(2027, 3, 13, 13, 30), 1, utc(2027, 3, 14, 12, 30), id="new-york-spring-1"),
    pytest.param("America/New_York", utc(2027, 3, 13, 13, 30), 7, utc(2027, 3, 20, 12, 30), id="new-york-spring-7"),
    pytest.param("America/New_York", utc(2026, 10, 31, 12, 30), 1, utc(2026, 11, 1, 13, 30), id="new-york-fall-1"),
    pytest.param("America/New_York", utc(2026, 10, 31, 12, 30), 7, utc(2026, 11, 7, 13, 30), id="new-york-fall-7"),
    pytest.param("Australia/Sydney", utc(2026, 10, 2, 22, 30), 1, utc(2026, 10, 3, 21, 30), id="sydney-forward-1"),
    pytest.param("Australia/Sydney", utc(2026, 10, 2, 22, 30), 7, utc(2026, 10, 9, 21, 30), id="sydney-forward-7"),
    pytest.param("Australia/Sydney", utc(2027, 4, 2, 21, 30), 1, utc(2027, 4, 3, 22, 30), id="sydney-back-1"),
    pytest.param("Australia/Sydney", utc(2027, 4, 2, 21, 30), 7, utc(2027, 4, 9, 22, 30), id="sydney-back-7"),
]


@pytest.mark.parametrize(("zone", "check_in", "days", "due"), DST_EVERY_DAYS)
def test_every_n_days_is_wall_clock_across_dst(zone: str, check_in: datetime, days: int, due: datetime) -> None:
    rhythm = Rhythm(every_days(days), zone, starts_at=check_in - timedelta(days=30))

    assert rhythm.next_due(check_in) == due
    assert_local(check_in, zone, 8, 30)
    assert_local(due, zone, 8, 30)
    assert (due.astimezone(ZoneInfo(zone)).date() - check_in.astimezone(ZoneInfo(zone)).date()).days == days
    assert check_in.astimezone(ZoneInfo(zone)).utcoffset() != due.astimezone(ZoneInfo(zone)).utcoffset()


def test_every_n_days_counts_from_the_start_until_the_first_check_in() -> None:
    rhythm = Rhythm(every_days(7), "Europe/Dublin", starts_at=utc(2026, 12, 1, 9, 15))

    assert rhythm.next_due(None) == utc(2026, 12, 8, 9, 15)


def test_every_n_days_counts_from_the_last_check_in_to_the_second() -> None:
    rhythm = Rhythm(every_days(3), "America/New_York", starts_at=utc(2026, 12, 1))

    assert rhythm.next_due(utc(2026, 12, 10, 17, 42, 5)) == utc(2026, 12, 13, 17, 42, 5)


def test_slot_after_is_none_for_every_n_days() -> None:
    assert Rhythm(every_days(7), "Europe/Dublin", starts_at=utc(2026, 12, 1)).slot_after(utc(2026, 12, 8)) is None


# ------------------------------------------------------------------ slot rules (Dublin in winter: local time == UTC)

# 2026-12-07 is a Monday; the Tuesday 08:30 slots are 12-08, 12-15, 12-22, 12-29, 2027-01-05.
MONDAY_MORNING = utc(2026, 12, 7, 10, 0)


def weekly_dublin(interval: int = 1, starts_at: datetime = MONDAY_MORNING) -> Rhythm:
    return Rhythm(weekly(Slot("TU", 8, 30, interval=interval)), "Europe/Dublin", starts_at=starts_at)


@pytest.mark.parametrize(
    ("starts_at", "first"),
    [
        pytest.param(MONDAY_MORNING, utc(2026, 12, 8, 8, 30), id="day-before"),
        pytest.param(utc(2026, 12, 8, 8, 30), utc(2026, 12, 8, 8, 30), id="exactly-at-the-slot"),
        pytest.param(utc(2026, 12, 8, 8, 31), utc(2026, 12, 15, 8, 30), id="just-after-the-slot"),
        pytest.param(utc(2026, 12, 11, 20, 0), utc(2026, 12, 15, 8, 30), id="friday"),
    ],
)
def test_first_slot_is_the_first_at_or_after_the_start(starts_at: datetime, first: datetime) -> None:
    assert weekly_dublin(starts_at=starts_at).next_due(None) == first


@pytest.mark.parametrize(
    ("check_in", "due"),
    [
        pytest.param(utc(2026, 12, 14, 18, 0), utc(2026, 12, 22, 8, 30), id="monday-before-counts-for-that-slot"),
        pytest.param(utc(2026, 12, 15, 8, 0), utc(2026, 12, 22, 8, 30), id="just-before-the-slot"),
        pytest.param(utc(2026, 12, 15, 8, 30), utc(2026, 12, 22, 8, 30), id="at-the-slot"),
        pytest.param(utc(2026, 12, 15, 9, 0), utc(2026, 12, 22, 8, 30), id="just-after-counts-for-it"),
        pytest.param(utc(2026, 12, 10, 12, 0), utc(2026, 12, 15, 8, 30), id="thursday-does-not-skip-next-tuesday"),
        pytest.param(utc(2026, 11, 1, 12, 0), utc(2026, 12, 8, 8, 30), id="before-the-start"),
    ],
)
def test_next_slot_after_a_check_in(check_in: datetime, due: datetime) -> None:
    assert weekly_dublin().next_due(check_in) == due


def test_no_slot_before_the_start_even_within_the_same_minute() -> None:
    rhythm = weekly_dublin(starts_at=utc(2026, 12, 8, 8, 30, 30))  # half a minute after a slot

    assert rhythm.next_due(None) == utc(2026, 12, 15, 8, 30)
    assert rhythm.next_due(utc(2026, 11, 1, 12, 0)) == utc(2026, 12, 15, 8, 30)
    assert rhythm.slot_after(utc(2026, 12, 8, 8, 0)) == utc(2026, 12, 15, 8, 30)


def test_fortnightly_slots_count_from_the_start() -> None:
    rhythm = weekly_dublin(interval=2)  # slots 12-08, 12-22, 2027-01-05

    assert rhythm.next_due(None) == utc(2026, 12, 8, 8, 30)
    assert rhythm.next_due(utc(2026, 12, 8, 8, 45)) == utc(2026, 12, 22, 8, 30)
    assert rhythm.next_due(utc(2026, 12, 21, 12, 0)) == utc(2027, 1, 5, 8, 30)  # a day early counts for that slot
    assert rhythm.slot_after(utc(2026, 12, 9)) == utc(2026, 12, 22, 8, 30)  # not 12-15: wrong parity


def test_fortnightly_parity_moves_with_the_start() -> None:
    one_week_later = weekly_dublin(interval=2, starts_at=MONDAY_MORNING + timedelta(days=7))  # slots 12-15, 12-29

    assert one_week_later.next_due(None) == utc(2026, 12, 15, 8, 30)
    assert one_week_later.slot_after(utc(2026, 12, 16)) == utc(2026, 12, 29, 8, 30)
    assert weekly_dublin(interval=2).slot_after(utc(2026, 12, 16)) == utc(2026, 12, 22, 8, 30)


@pytest.mark.parametrize(
    ("instant", "slot"),
    [
        pytest.param(utc(2026, 12, 9, 0, 0), utc(2026, 12, 15, 8, 30), id="mid-week"),
        pytest.param(utc(2026, 12, 15, 8, 30), utc(2026, 12, 15, 8, 30), id="at-a-slot-is-inclusive"),
        pytest.param(utc(2026, 12, 15, 8, 30, 1), utc(2026, 12, 22, 8, 30), id="just-after-a-slot"),
        pytest.param(utc(2026, 11, 1), utc(2026, 12, 8, 8, 30), id="before-the-start"),
    ],
)
def test_slot_after(instant: datetime, slot: datetime) -> None:
    assert weekly_dublin().slot_after(instant) == slot


# Aware datetimes sharing a tzinfo compare by wall clock, ignoring fold: in the repeated fall-back hour a slot at
# 01:30 (first pass) must not count as "after" an instant at 01:15 (second pass), 45 minutes later.
@pytest.mark.parametrize("method", ["slot_after", "next_due"])
@pytest.mark.parametrize(
    ("zone", "instant", "earlier_slot"),
    [
        # 01:15 EST (06:15Z) comes after 01:30 EDT (05:30Z)
        pytest.param("America/New_York", utc(2026, 11, 1, 6, 15), utc(2026, 11, 1, 5, 30), id="new-york"),
        # 01:15 GMT (01:15Z) comes after 01:30 IST (00:30Z)
        pytest.param("Europe/Dublin", utc(2026, 10, 25, 1, 15), utc(2026, 10, 25, 0, 30), id="dublin"),
    ],
)
def test_slot_in_the_repeated_hour_is_never_before_the_instant(zone: str, instant: datetime, earlier_slot: datetime, method: str) -> None:
    rhythm = Rhythm(weekly(Slot("SU", 1, 30)), zone, starts_at=instant)
    # slot_after promises "at or after an instant"; next_due promises the first slot is no earlier than starts_at.
    slot = rhythm.slot_after(instant) if method == "slot_after" else rhythm.next_due(None)

    assert slot is not None
    assert slot != earlier_slot
    assert slot >= instant


# ------------------------------------------------------------------ status

DUE = utc(2026, 12, 8, 8, 30)
GRACE = timedelta(days=2)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(DUE - timedelta(days=3), Status.ON_TRACK, id="well-before"),
        pytest.param(DUE - timedelta(microseconds=1), Status.ON_TRACK, id="just-before-due"),
        pytest.param(DUE, Status.DUE, id="at-due"),
        pytest.param(DUE + GRACE - timedelta(microseconds=1), Status.DUE, id="end-of-grace"),
        pytest.param(DUE + GRACE, Status.LAPSED, id="at-due-plus-grace"),
        pytest.param(DUE + timedelta(days=30), Status.LAPSED, id="long-after"),
    ],
)
def test_status_boundaries(now: datetime, expected: Status) -> None:
    assert status(now=now, next_due=DUE, grace=GRACE, paused_until=None) is expected


def test_zero_grace_lapses_at_the_due_instant() -> None:
    assert status(now=DUE - timedelta(microseconds=1), next_due=DUE, grace=timedelta(0), paused_until=None) is Status.ON_TRACK
    assert status(now=DUE, next_due=DUE, grace=timedelta(0), paused_until=None) is Status.LAPSED


PAUSED_UNTIL = DUE + timedelta(days=10)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        pytest.param(DUE - timedelta(days=1), Status.PAUSED, id="paused-while-on-track"),
        pytest.param(DUE + timedelta(days=5), Status.PAUSED, id="paused-hides-lapsed"),
        pytest.param(PAUSED_UNTIL - timedelta(microseconds=1), Status.PAUSED, id="just-before-resume"),
        pytest.param(PAUSED_UNTIL, Status.LAPSED, id="resumes-by-itself-at-paused-until"),
    ],
)
def test_status_paused(now: datetime, expected: Status) -> None:
    assert status(now=now, next_due=DUE, grace=GRACE, paused_until=PAUSED_UNTIL) is expected


def test_a_past_pause_does_not_hide_the_status() -> None:
    past_pause = DUE - timedelta(days=5)
    assert status(now=DUE - timedelta(days=1), next_due=DUE, grace=GRACE, paused_until=past_pause) is Status.ON_TRACK
    assert status(now=DUE + timedelta(days=1), next_due=DUE, grace=GRACE, paused_until=past_pause) is Status.DUE


def test_status_values_are_the_api_strings() -> None:
    assert [s.value for s in Status] == ["on_track", "due", "lapsed", "paused"]
