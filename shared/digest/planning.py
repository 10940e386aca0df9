"""When a member's weekly digest goes: their nudge hour, on their first weekday that is not a quiet day.

One sparse, write-sharded due instant on the profile (`digest_shard`/`digest_due`, the `digest_due`
index). Planned when the profile is saved, and again after each digest (sent or with nothing to say):
always the next such slot in a later ISO week than the last digest sent, so a week never has two.
A member who turned the digest off, unsubscribed, whose address is suppressed, or whose weekdays are
all quiet, has no due instant: the sweep never reads them.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.adapters.models import Member, iso_z
from shared.domain import nudges

WEEKDAYS = range(5)  # Monday..Friday: a digest is for the working week


def wants_digest(member: Member) -> bool:
    return bool(member.weekly_digest) and member.wants_email_nudges


def week_of(instant: datetime, zone: str) -> str:
    """The ISO week of an instant in the member's zone: "2026-W49" (the send claim's key)."""
    year, week, _ = instant.astimezone(ZoneInfo(zone)).isocalendar()
    return f"{year}-W{week:02d}"


def next_slot(member: Member, after: datetime) -> datetime | None:
    """The first digest slot strictly after `after`, in a later week than the last digest sent (None: no digest)."""
    if not wants_digest(member):
        return None
    quiet = {int(d) for d in member.quiet_days or ()}
    days = [d for d in WEEKDAYS if d not in quiet]
    if not days:
        return None  # every weekday is quiet: never a digest on a quiet day
    zone = ZoneInfo(member.time_zone)
    local_day = after.astimezone(zone).date()
    for offset in range(15):
        day = local_day + timedelta(days=offset)
        if day.weekday() != days[0]:
            continue
        slot = datetime.combine(day, time(int(member.nudge_hour)), tzinfo=zone).astimezone(UTC)
        if slot > after and week_of(slot, member.time_zone) != member.digest_week:
            return slot
    return None  # not reached: two weeks always hold a later week's slot


def plan(member: Member, after: datetime, shards: int) -> None:
    """Set (or clear) the member's digest due instant on the in-memory profile; the caller saves it."""
    slot = next_slot(member, after)
    if slot is None:
        member.digest_shard = member.digest_due = None
    else:
        member.digest_shard = nudges.shard(f"DIGEST#{member.pk}", shards)
        member.digest_due = iso_z(slot)
