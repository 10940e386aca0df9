"""When the next check-in of a pact is due, and whether contact has lapsed.

A rhythm is stored as an RFC 5545 RRULE and computed with `dateutil.rrule` in the
owner's IANA time zone, so a "Tuesdays 08:30 Europe/Dublin" pact stays at 08:30 local
on both sides of a daylight-saving change. Pure: every instant is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from dateutil.rrule import DAILY, WEEKLY, rrule, rruleset, rrulestr, weekday

WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class Status(StrEnum):
    ON_TRACK = "on_track"
    DUE = "due"
    LAPSED = "lapsed"
    PAUSED = "paused"


@dataclass(frozen=True)
class Slot:
    """A regular day and time ("Tuesdays 08:30"), every `interval` weeks."""

    weekday: str  # MO..SU
    hour: int
    minute: int
    interval: int = 1


def every_days(days: int) -> str:
    """RRULE for "at least every N days", counted from the last check-in."""
    return str(rrule(DAILY, interval=days)).split("\n")[-1].removeprefix("RRULE:")


def weekly(slot: Slot) -> str:
    """RRULE for a regular slot, e.g. FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;BYHOUR=8;BYMINUTE=30;BYSECOND=0."""
    rule = rrule(
        WEEKLY,
        interval=slot.interval,
        byweekday=weekday(WEEKDAYS.index(slot.weekday)),
        byhour=slot.hour,
        byminute=slot.minute,
        bysecond=0,
    )
    return str(rule).split("\n")[-1].removeprefix("RRULE:")


@dataclass(frozen=True)
class Rhythm:
    rrule: str  # without DTSTART; the anchor is given when computing
    time_zone: str
    starts_at: datetime  # UTC; the first slot can be no earlier, the weekly parity counts from here

    @property
    def is_slot(self) -> bool:
        return "FREQ=WEEKLY" in self.rrule

    @property
    def period(self) -> timedelta:
        rule = rrulestr(self.rrule, dtstart=datetime(2000, 1, 3, tzinfo=UTC))
        first = _utc(rule.after(datetime(2000, 1, 3, tzinfo=UTC), inc=True))
        return _utc(rule.after(first)) - first

    def next_due(self, last_check_in: datetime | None) -> datetime:
        """The instant (UTC) the next check-in is due.

        Every-N-days: N days after the last check-in (or the start), wall-clock in the zone.
        Slot: the first slot at or after the start, or, once they have talked, the first slot
        after "last check-in + half a period": a call a day early still counts for that week's slot.
        """
        zone = ZoneInfo(self.time_zone)
        if not self.is_slot:
            anchor = (last_check_in or self.starts_at).astimezone(zone)
            return _first(rrulestr(self.rrule, dtstart=anchor), anchor.astimezone(UTC), zone, inclusive=False)
        if last_check_in is None:
            return self._slot_at_or_after(self.starts_at)
        return self._slot_at_or_after(max(last_check_in + self.period / 2, self.starts_at))

    def slot_after(self, instant: datetime) -> datetime | None:
        """The next agreed slot at or after an instant (UTC), for slot rhythms."""
        return self._slot_at_or_after(max(instant, self.starts_at)) if self.is_slot else None

    def _slot_at_or_after(self, instant: datetime) -> datetime:
        zone = ZoneInfo(self.time_zone)
        start_local = self.starts_at.astimezone(zone).replace(second=0, microsecond=0)
        return _first(rrulestr(self.rrule, dtstart=start_local), instant.astimezone(UTC), zone, inclusive=True)


def _first(rule: rrule | rruleset, instant: datetime, zone: ZoneInfo, *, inclusive: bool) -> datetime:
    """The first occurrence at (or strictly after) an instant, compared in UTC.

    Aware datetimes that share a tzinfo compare by wall clock and ignore `fold`, so in
    the hour that repeats when clocks go back, dateutil's own `after()` can answer with
    a slot that is earlier than the instant. Start a little early and compare in UTC.
    """
    for occurrence in rule.xafter((instant - timedelta(hours=3)).astimezone(zone), inc=True):
        at = occurrence.astimezone(UTC)
        if at > instant or (inclusive and at == instant):
            return at
    raise ValueError("the rhythm has no further occurrence")


def _utc(value: datetime | None) -> datetime:
    if value is None:  # only a rule with an end (COUNT/UNTIL) runs out; ours never do
        raise ValueError("the rhythm has no further occurrence")
    return value.astimezone(UTC)


def status(*, now: datetime, next_due: datetime, grace: timedelta, paused_until: datetime | None) -> Status:
    if paused_until is not None and now < paused_until:
        return Status.PAUSED
    if now < next_due:
        return Status.ON_TRACK
    if now < next_due + grace:
        return Status.DUE
    return Status.LAPSED


def describe(rrule_text: str) -> str:
    """A short human description ("every 7 days", "Tuesdays 08:30", "every 2 weeks on Tuesday 08:30")."""
    parts = dict(p.split("=", 1) for p in rrule_text.split(";"))
    interval = int(parts.get("INTERVAL", "1"))
    if parts["FREQ"] == "DAILY":
        return "every day" if interval == 1 else f"every {interval} days"
    day = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}[
        parts["BYDAY"][-2:]
    ]
    at = f"{int(parts.get('BYHOUR', '0')):02d}:{int(parts.get('BYMINUTE', '0')):02d}"
    return f"{day}s {at}" if interval == 1 else f"every {interval} weeks on {day} {at}"
