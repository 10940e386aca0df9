"""The habit's counting rules and reminder times, pure: kept and missed slots, six in a row, two lapses in 8 weeks, DST."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain import habit, rhythm
from shared.domain.sms import QuietHours

WEEK = timedelta(weeks=1)
GRACE = timedelta(days=2)
START = datetime(2026, 12, 1, 9, tzinfo=UTC)  # a Tuesday
FIRST = datetime(2026, 12, 8, 8, 30, tzinfo=UTC)  # the first slot: Tuesday 08:30 Dublin (= UTC in winter)
TUESDAYS = rhythm.weekly(rhythm.Slot("TU", 8, 30))


def terms(rule: str = TUESDAYS, zone: str = "Europe/Dublin", start: datetime = START, target: int = habit.TARGET) -> habit.Terms:
    return habit.Terms(rhythm.Rhythm(rule, zone, start), GRACE, target)


def run(t: habit.Terms, check_ins: list[datetime]) -> tuple[habit.Progress, list[tuple[str | None, datetime | None]]]:
    progress, events = habit.Progress(), []
    for occurred in check_ins:
        outcome = habit.on_check_in(t, progress, occurred)
        progress = outcome.progress
        events.append((outcome.event, outcome.event_at))
    return progress, events


def weekly(first: datetime, weeks: list[int], offset: timedelta = timedelta(minutes=10)) -> list[datetime]:
    return [first + w * WEEK + offset for w in weeks]


# ------------------------------------------------------------------ counting


def test_kept_slots_count_and_six_in_a_row_is_established_said_once() -> None:
    t = terms()
    progress, events = run(t, weekly(FIRST, [0, 1, 2, 3, 4]))
    assert habit.establishment(t, progress, FIRST + 4 * WEEK + timedelta(hours=1)) == habit.Establishment("establishing", 5, 6)
    progress, events = run(t, weekly(FIRST, [0, 1, 2, 3, 4, 5, 6]))
    assert [e for e, _ in events] == [None, None, None, None, None, "established", None]
    assert events[5][1] == FIRST + 5 * WEEK  # about the sixth slot: the same instant on both views, the claim's key
    assert habit.establishment(t, progress, FIRST + 7 * WEEK) == habit.Establishment("established", 6, 6)


def test_a_check_in_within_grace_keeps_the_slot_after_it_does_not() -> None:
    t = terms()
    in_grace, _ = run(t, [FIRST + GRACE - timedelta(minutes=1)])
    assert in_grace.kept == 1
    assert in_grace.last == FIRST
    too_late, _ = run(t, [FIRST + GRACE + timedelta(hours=1)])
    assert too_late.kept == 0  # Thursday afternoon: this week's slot is gone, next week's is too far away


def test_a_call_a_day_early_keeps_that_weeks_slot_and_twice_in_a_week_counts_once() -> None:
    t = terms()
    progress, _ = run(t, [FIRST - timedelta(days=1), FIRST + timedelta(minutes=5)])
    assert (progress.kept, progress.last) == (1, FIRST)


def test_a_missed_slot_starts_the_count_again() -> None:
    t = terms()
    progress, _ = run(t, weekly(FIRST, [0, 1, 2]))
    assert habit.establishment(t, progress, FIRST + 3 * WEEK + GRACE - timedelta(minutes=1)).kept == 3
    assert habit.establishment(t, progress, FIRST + 3 * WEEK + GRACE).kept == 0
    progress, _ = run(t, weekly(FIRST, [0, 1, 2, 4]))
    assert progress.kept == 1


def test_two_lapses_within_eight_weeks_go_back_to_establishing() -> None:
    t = terms()
    progress, _ = run(t, weekly(FIRST, [0, 1, 2, 3, 4, 5]))
    assert habit.falls_back_at(t, progress) == FIRST + 7 * WEEK + GRACE  # two misses in a row
    # One miss (week 6), kept (week 7), another miss (week 8): back, at the close of the second.
    progress, events = run(t, weekly(FIRST, [0, 1, 2, 3, 4, 5, 7]))
    assert progress.established_at is not None
    assert progress.misses == (FIRST + 6 * WEEK + GRACE,)
    assert habit.falls_back_at(t, progress) == FIRST + 8 * WEEK + GRACE
    settled, back = habit.settle(t, progress, FIRST + 8 * WEEK + GRACE)
    assert back == FIRST + 8 * WEEK + GRACE
    assert habit.establishment(t, settled, FIRST + 9 * WEEK) == habit.Establishment("establishing", 0, 6)
    # A check-in after the second miss goes back too (and says so), and counts one
    progress, events = run(t, weekly(FIRST, [0, 1, 2, 3, 4, 5, 7, 9]))
    assert events[-1] == ("back", FIRST + 8 * WEEK + GRACE)
    assert (progress.kept, progress.established_at) == (1, None)


def test_lapses_more_than_eight_weeks_apart_keep_it_established() -> None:
    t = terms()
    kept = [0, 1, 2, 3, 4, 5, *range(7, 16), *range(17, 20)]  # misses in weeks 6 and 16: ten weeks apart
    progress, events = run(t, weekly(FIRST, kept))
    assert "back" not in [e for e, _ in events]
    assert habit.establishment(t, progress, FIRST + 19 * WEEK + timedelta(hours=1)).state == "established"


def test_every_n_days_counts_intervals() -> None:
    t = terms(rhythm.every_days(7))
    days = [START + timedelta(days=6 * n + 6) for n in range(6)]  # every six days: each within its interval
    progress, events = run(t, days)
    assert events[-1][0] == "established"
    # Twice the same day counts once; a check-in more than N days + grace after the last one restarts the count
    t2 = terms(rhythm.every_days(7))
    progress, _ = run(t2, [START + timedelta(days=6), START + timedelta(days=6, hours=2)])
    assert progress.kept == 1
    progress, _ = run(t2, [START + timedelta(days=6), START + timedelta(days=6 + 7 + 3)])
    assert progress.kept == 1


def test_an_interval_longer_than_eight_weeks_never_falls_back() -> None:
    t = terms(rhythm.every_days(60))
    progress, _ = run(t, [START + timedelta(days=59 * n + 59) for n in range(6)])
    assert progress.established_at is not None
    assert habit.falls_back_at(t, progress) is None


def test_slots_while_paused_are_neither_kept_nor_missed() -> None:
    t = terms()
    progress, _ = run(t, weekly(FIRST, [0]))
    paused = habit.Progress(kept=progress.kept, last=progress.last, since=FIRST + 3 * WEEK)  # paused until the fourth slot
    assert habit.establishment(t, paused, FIRST + 3 * WEEK).kept == 1
    assert habit.establishment(t, progress, FIRST + 3 * WEEK).kept == 0  # without the pause: two misses
    progress = habit.on_check_in(t, paused, FIRST + 3 * WEEK + timedelta(minutes=10)).progress
    assert progress.kept == 2


@settings(max_examples=60, deadline=None)
@given(pattern=st.lists(st.booleans(), min_size=1, max_size=16), look=st.integers(min_value=0, max_value=3))
def test_kept_is_the_trailing_run_of_kept_slots_and_reading_between_changes_nothing(pattern: list[bool], look: int) -> None:
    t = terms(target=100)  # never established: the count alone
    check_ins = weekly(FIRST, [w for w, kept in enumerate(pattern) if kept])
    progress = habit.Progress()
    for occurred in check_ins:
        # Reading (settling) at any moment before a check-in changes nothing about what follows.
        progress, _ = habit.settle(t, progress, occurred - timedelta(days=look))
        progress = habit.on_check_in(t, progress, occurred).progress
    end = FIRST + (len(pattern) - 1) * WEEK + GRACE - timedelta(minutes=1)  # the last slot's window still open
    # An unkept last slot whose window is still open breaks nothing yet: the run before it stands.
    counted = pattern if pattern[-1] else pattern[:-1]
    text = "".join("x" if kept else "." for kept in counted)
    assert habit.establishment(t, progress, end).kept == len(text) - len(text.rstrip("x"))
    # Once that window has closed, an unkept last slot is a miss: nought.
    if not pattern[-1]:
        assert habit.establishment(t, progress, end + timedelta(minutes=1)).kept == 0


# ------------------------------------------------------------------ daylight saving


@pytest.mark.parametrize(
    ("zone", "first_local"),
    [
        ("Europe/Dublin", datetime(2027, 3, 16, 8, 30)),  # clocks go forward on Sunday 28 March
        ("America/New_York", datetime(2027, 2, 23, 8, 30)),  # forward on Sunday 14 March
        ("Australia/Sydney", datetime(2027, 3, 16, 8, 30)),  # back on Sunday 4 April
    ],
)
def test_six_weekly_slots_across_a_dst_change_are_established_and_reminded_at_the_same_local_hour(zone: str, first_local: datetime) -> None:
    tz = ZoneInfo(zone)
    start = first_local.replace(tzinfo=tz).astimezone(UTC) - timedelta(days=7)
    rule = rhythm.weekly(rhythm.Slot("TU", 8, 30))
    t = terms(rule, zone, start)
    slots = [(first_local + w * WEEK).replace(tzinfo=tz).astimezone(UTC) for w in range(6)]
    offsets = {s.astimezone(tz).utcoffset() for s in slots}
    assert len(offsets) == 2  # the six weeks do cross a change
    progress, events = run(t, [s + timedelta(minutes=20) for s in slots])
    assert events[-1] == ("established", slots[-1])
    prefs = habit.Prefs(zone)
    for slot in slots:
        at = habit.reminder_at(slot, prefs)
        assert at is not None
        local = at.astimezone(tz)
        assert (local.time(), (slot.astimezone(tz).date() - local.date()).days) == (time(9), 1)  # the day before, 09:00 local
    # A missed week across the change is missed by its own local slot time, not an hour off
    missed_close = slots[3] + GRACE
    progress, _ = run(t, [s + timedelta(minutes=20) for s in slots[:3]])
    assert habit.establishment(t, progress, missed_close - timedelta(minutes=1)).kept == 3
    assert habit.establishment(t, progress, missed_close).kept == 0


# ------------------------------------------------------------------ reminder times


def test_the_reminder_is_that_morning_or_the_day_before() -> None:
    prefs = habit.Prefs("Europe/Dublin")
    evening = datetime(2026, 12, 8, 18, tzinfo=UTC)
    assert habit.reminder_at(evening, prefs) == datetime(2026, 12, 8, 9, tzinfo=UTC)
    assert habit.reminder_at(FIRST, prefs) == datetime(2026, 12, 7, 9, tzinfo=UTC)  # 09:00 is not before 08:30
    # Less than half an hour before the slot is not "before": the day before
    assert habit.reminder_at(datetime(2026, 12, 8, 9, 20, tzinfo=UTC), prefs) == datetime(2026, 12, 7, 9, tzinfo=UTC)


def test_quiet_days_and_hours_move_or_drop_the_reminder() -> None:
    evening = datetime(2026, 12, 8, 18, tzinfo=UTC)  # a Tuesday
    assert habit.reminder_at(evening, habit.Prefs("Europe/Dublin", quiet_days=frozenset({1}))) == datetime(2026, 12, 7, 9, tzinfo=UTC)
    quiet = [QuietHours(1, time(9), time(13))]
    assert habit.reminder_at(evening, habit.Prefs("Europe/Dublin", quiet_hours=quiet)) == datetime(2026, 12, 8, 13, tzinfo=UTC)
    # Quiet until after the slot on its day, and the day before a quiet day: no reminder for it at all
    late_quiet = [QuietHours(1, time(9), time(18))]
    assert habit.reminder_at(evening, habit.Prefs("Europe/Dublin", quiet_days=frozenset({0}), quiet_hours=late_quiet)) is None


def test_the_sms_texts_fit_one_segment_with_any_name() -> None:
    long_name = "Maximiliane Konstantinopoulou-Oberhollenzer von und zu Lichtenstein-Wartenberg"
    for what in habit.SMS_TEXTS:
        text = habit.sms_text(what, long_name, day="tomorrow", at="08:30", in_a_row_text=habit.in_a_row(TUESDAYS, 6))
        assert len(text) <= 160
        assert "Maximiliane" in text
    greek = habit.sms_text("reminder", "Ξανθίππη", day="today", at="18:00")
    assert greek == "Reminder: your call with your colleague is today at 18:00. - Peer support"
    assert habit.in_a_row(TUESDAYS, 6) == "six weeks in a row"
    assert habit.in_a_row(rhythm.weekly(rhythm.Slot("TU", 8, 30, 2)), 6) == "six times in a row"
    assert habit.day_phrase(FIRST, FIRST - timedelta(days=1), "Europe/Dublin") == "tomorrow"
    assert habit.day_phrase(FIRST, FIRST - timedelta(days=3), "Europe/Dublin") == "on Tuesday"
