"""When to nudge a member about a lapsed pact: a sensible local hour, never on a quiet day, once, then one reminder.

Pure: instants in, instants out. A pact lapses at next due + grace. The first nudge
goes at the first moment from then on that falls in the member's nudge window (their
local nudge hour until evening) on a day that is not one of their quiet days, in their
own time zone, so daylight-saving changes move nothing. A reminder follows a week after
the first nudge, by the same rule, and then there is silence until the pact changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

EVENING = 20  # nudges stop at 20:00 local; a lapse later in the day waits for the next morning
REMINDER_AFTER = timedelta(days=7)
FIRST, REMINDER, DONE = 1, 2, 3  # the stage a view is waiting to send next (DONE: silence)
ENDED_NOTICE = 9  # the stage of the one short notice that a pact has ended (its "lapse" is the end)


@dataclass(frozen=True)
class Preferences:
    time_zone: str
    nudge_hour: int = 9
    quiet_days: frozenset[int] = frozenset()  # 0 = Monday


def nudge_at(earliest: datetime, prefs: Preferences) -> datetime | None:
    """The first instant at or after `earliest` inside the member's nudge window; None if every day is quiet."""
    zone = ZoneInfo(prefs.time_zone)
    local = earliest.astimezone(zone)
    window_end = max(prefs.nudge_hour + 1, EVENING)
    for offset in range(8):
        day = local.date() + timedelta(days=offset)
        if day.weekday() in prefs.quiet_days:
            continue
        opens = datetime.combine(day, time(prefs.nudge_hour), zone)
        closes = datetime.combine(day, time(0), zone) + timedelta(hours=window_end)
        if offset == 0 and earliest.astimezone(UTC) >= closes.astimezone(UTC):
            continue
        return max(opens.astimezone(UTC), earliest.astimezone(UTC))
    return None


def shard(key: str, shards: int) -> str:
    """A stable write shard for the sparse due-index: DUE#0..N-1."""
    return f"DUE#{int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) % shards}"


@dataclass(frozen=True)
class Plan:
    """What the due-index should hold for one party's view of a pact."""

    due: datetime | None  # None: nothing to send (not lapsing, paused for good, unsubscribed, silence)
    stage: int
    lapse_at: datetime


def plan(
    *,
    lapse_at: datetime,
    prefs: Preferences,
    stage: int,
    previous_lapse: datetime | None,
    paused_until: datetime | None,
    last_sent: datetime | None,
    wants_email: bool,
) -> Plan:
    """The next nudge of a view, recomputed whenever the pact or the member's preferences change.

    A new lapse (the pact moved on: a check-in, a new rhythm) starts again at the first
    nudge; the same lapse keeps its stage, so a change that does not help never repeats one.
    """
    if previous_lapse is None or lapse_at != previous_lapse:
        stage = FIRST
        last_sent = None
    if not wants_email or stage >= DONE:
        return Plan(None, stage, lapse_at)
    # A reminder a week after the first nudge on the member's wall clock (a DST change moves nothing).
    earliest = (
        lapse_at if stage == FIRST else ((last_sent or lapse_at).astimezone(ZoneInfo(prefs.time_zone)) + REMINDER_AFTER).astimezone(UTC)
    )
    if paused_until is not None and paused_until > earliest:
        earliest = paused_until
    return Plan(nudge_at(earliest, prefs), stage, lapse_at)
