"""The group sweep: fixing each meeting a week ahead, planning each member's reminder, prompting agreement reviews.

Groups carry one sparse, write-sharded due instant (`group_due`): the earlier of "the next
meeting is a week away" and "the agreement's review is due". The sweep reads one range
query per shard (`group_due <= now`), so it reads the groups with work to do, never the table.

Fixing a meeting writes, in one transaction conditioned on the group's version: the meeting
(presenters, roles and rotation stop as the projection showed them), the members' tallies and
each member's reminder instant, and the group's `scheduled_through`. A second run (or a second
delivery of the schedule) reads the advanced group and creates nothing twice; two runs at once
clash on the version and one of them does the work.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from pynamodb.transactions import TransactWrite

from shared.adapters.events import DomainEvent
from shared.adapters.models import Group, GroupMember, Meeting, Member, iso_z
from shared.adapters.observability import logger
from shared.domain import groups as domain
from shared.domain import nudges, sms
from shared.groups import series
from shared.groups.writes import Retry, fix_at, plan_schedule, prefs_of, transact

REMINDER_FLOOR = timedelta(hours=1)  # a reminder that can only come later than an hour before the meeting goes at once


def refresh_preferences(person: GroupMember, profile: Member) -> None:
    """The membership carries the member's current reminder preferences (read when a meeting is fixed)."""
    for name, value in prefs_of(profile).items():
        setattr(person, name, value)


def reminder_at(start: datetime, days_before: int, person: GroupMember, now: datetime) -> datetime | None:
    """When one member hears about a meeting: `days_before` days ahead at their nudge hour, never on a quiet day
    or in their quiet hours; an earlier day if that one will not do; at once if it is late already."""
    zone = person.party_time_zone or "UTC"
    hour = int(person.party_nudge_hour if person.party_nudge_hour is not None else 9)
    quiet_days = frozenset(int(d) for d in person.party_quiet_days or ())
    quiet = sms.quiet_hours_from_json(person.party_quiet_hours)
    local_start = start.astimezone(ZoneInfo(zone))
    for extra in range(3):
        day = local_start.date() - timedelta(days=days_before + extra)
        earliest = datetime.combine(day, datetime.min.time(), ZoneInfo(zone))
        at = sms.notice_at(earliest, zone, hour, quiet_days, quiet)
        if at is not None and at.date() == day and at < start - REMINDER_FLOOR:
            return max(at, now)
    return now if now < start else None


def plan_reminder(person: GroupMember, group: Group, meeting: Meeting, now: datetime, shards: int) -> None:
    """The member's one reminder of this meeting (persist the remind_* attributes after)."""
    at = reminder_at(meeting.starts_at, int(group.reminder_days), person, now) if person.party_wants_email else None
    if at is None or meeting.status == "cancelled":
        person.remind_for = person.remind_shard = person.remind_due = None
        return
    person.remind_for = series.meeting_id(meeting.original_start)
    person.remind_shard = nudges.shard(f"{group.group_id}#{person.member_sub}", shards)
    person.remind_due = iso_z(at)


@dataclass(frozen=True)
class GroupSweepResult:
    items_read: int
    scheduled: int
    reviews: int


def sweep_groups(now: datetime, shards: int) -> GroupSweepResult:
    read = scheduled = reviews = 0
    for number in range(shards):
        for group in Group.group_due_index.query(f"DUE#{number}", Group.group_due <= iso_z(now)):
            read += 1
            if isinstance(group, Group):
                done, reviewed = schedule_group(group.group_id, now, shards)
                scheduled += done
                reviews += int(reviewed)
    logger.info("group sweep done", extra={"items_read": read, "scheduled": scheduled, "reviews": reviews})
    return GroupSweepResult(items_read=read, scheduled=scheduled, reviews=reviews)


def schedule_group(group_id: str, now: datetime, shards: int) -> tuple[int, bool]:
    """Fix every meeting of the group that is a week away or nearer; prompt the review if due. Idempotent."""
    fixed = 0
    reviewed = False
    for _ in range(12):  # a long-missed sweep catches up a few meetings at a time
        state = series.load(group_id, now - series.LOOK_BACK)
        if state is None:
            return fixed, reviewed
        group = state.group
        after = group.scheduled_through + timedelta(seconds=1) if group.scheduled_through else group.starts_at
        upcoming = domain.occurrences(group.rrule, group.time_zone, group.starts_at, after, 1)
        review = group.review_due_at is not None and group.review_due_at <= now
        if upcoming:
            moved = state.meetings.get(upcoming[0])
            lead = upcoming[0] - fix_at(group, upcoming[0])
            start = min(upcoming[0], moved.starts_at) if moved is not None else upcoming[0]  # moved earlier: fixed earlier
        if not upcoming or start - lead > now:
            stale = group.group_due is not None and group.group_due <= iso_z(now)
            later = upcoming and start < upcoming[0] and (group.group_due is None or group.group_due > iso_z(start - lead))
            if review or stale or later:  # later: a meeting moved earlier is looked at by its own lead
                reviewed |= _finish(group, now, shards, review, start - lead if upcoming else None)
            return fixed, reviewed
        try:
            meeting = _fix(state, upcoming[0], now, shards)
        except Retry:
            continue  # someone changed the group meanwhile: read again
        if meeting is not None:
            fixed += 1
    return fixed, reviewed


def _fix(state: series.GroupState, original: datetime, now: datetime, shards: int) -> Meeting | None:
    group = state.group
    duration = timedelta(minutes=int(group.duration_minutes))
    stored = state.meetings.get(original)
    meeting: Meeting | None = None
    people: list[GroupMember] = []
    over = (stored.starts_at if stored else original) + duration <= now
    if not over and (stored is None or stored.status == "planned"):
        members = series.profiles(state)
        since = min(original, stored.starts_at) if stored is not None else original  # a meeting moved earlier, too
        projected = next((o for o in series.expand(state, since, 4, members) if o.original_start == original), None)
        if projected is not None:
            meeting = stored or Meeting(
                *Meeting.key(group.group_id, original), group_id=group.group_id, original_start=original, starts_at=original, updated_at=now
            )
            meeting.status = "scheduled"
            meeting.presenters = projected.presenters or None
            meeting.roles = series.roles_json(projected.roles)
            meeting.updated_at = now
            meeting.sequence = int(meeting.sequence or 0) + 1
            if group.venue_kind == "rotation":
                no = {s for s, a in series.rsvps_of(meeting).items() if a == "no"} | series.away_on(members, meeting.starts_at)
                stop, rotation = domain.next_stop(state.stops, state.rotation_state, no)
                meeting.stop_index = stop
                if stop is not None:  # the meeting keeps its venue and host, whatever the rotation becomes
                    meeting.venue = meeting.venue or state.stops[stop].venue
                    meeting.host_sub = meeting.host_sub or state.stops[stop].host
                group.rotation_state = json.dumps({"position": rotation.position, "owed": list(rotation.owed)})
            people = _take_turns(state, projected, meeting, members, now, shards)
    group.scheduled_through = original
    group.updated_at = now
    plan_schedule(group, shards)

    def write(tx: TransactWrite) -> None:
        if meeting is not None:
            if meeting.version is None:
                tx.save(meeting, condition=Meeting.pk.does_not_exist())
            else:
                tx.save(meeting)
        tx.save(group)
        for person in people:
            tx.save(person)

    scheduled = DomainEvent("MeetingScheduled", {"group_id": group.group_id, "meeting_id": series.meeting_id(original)})
    transact(write, [scheduled] if meeting is not None else [], now)
    return meeting


def _take_turns(
    state: series.GroupState, projected: series.Occurrence, meeting: Meeting, members: dict[str, Member], now: datetime, shards: int
) -> list[GroupMember]:
    """Each member's tallies count the meeting just fixed (presentations, roles), and their reminder is planned."""
    held = series.held_roles(state)
    holders: dict[str, list[str]] = {}
    for role, who in [*projected.roles.meeting.items(), *(item for case in projected.roles.cases for item in case.items())]:
        holders.setdefault(who, []).append(role)
    people = []
    for person in state.active:
        sub = str(person.member_sub)
        if sub in projected.presenters:
            person.presented = int(person.presented) + 1
            person.last_presented_at = meeting.starts_at
        if sub in holders:
            mine = dict(held.get(sub, {}))
            for role in holders[sub]:
                mine[role] = int(mine.get(role, 0)) + 1
            person.roles_held = json.dumps(mine, sort_keys=True)
        if sub in members:
            refresh_preferences(person, members[sub])
        plan_reminder(person, state.group, meeting, now, shards)
        person.updated_at = now
        people.append(person)
    return people


def _finish(group: Group, now: datetime, shards: int, review: bool, earliest: datetime | None) -> bool:
    """Nothing to fix now: prompt the review if it is due, and set when to look again (`earliest`: a meeting moved earlier)."""
    if review:
        group.review_due_at = now + relativedelta(months=int(group.review_months))
    group.updated_at = now
    plan_schedule(group, shards, earliest)
    due = DomainEvent("GroupReviewDue", {"group_id": group.group_id, "version": int(group.agreement_version)})
    try:
        transact(lambda tx: tx.save(group), [due] if review else [], now)
    except Retry:
        return False
    return review
