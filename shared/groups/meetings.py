"""Meetings: listing a group's upcoming and past meetings, and what members and conveners decide about one.

Every decision is stored on the occurrence's `Meeting` item (created on the first decision,
keyed by the original start) in one transaction with the member items whose tallies it moves,
conditioned on the versions read. The scheduler (`scheduling.py`) fixes a meeting's presenters,
roles and host a week ahead; before that they are a projection that follows every RSVP and
slot request.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.transactions import TransactWrite

from shared.adapters.db import newest_first
from shared.adapters.events import DomainEvent
from shared.adapters.models import Attended, Group, GroupMember, Meeting, Member, iso_z, member_pk
from shared.adapters.schema_types import Page
from shared.domain import groups as domain
from shared.domain.errors import Conflict, Forbidden, InvalidField, NotFound
from shared.groups import series
from shared.groups.schemas import AgendaItemOut, AttendanceIn, AttendedOut, MeetingOut, PersonOut, RescheduleIn, StepOut
from shared.groups.use_cases import as_convener, as_member
from shared.groups.writes import fix_at, plan_schedule, transact, with_retries
from shared.pacts.planning import Ctx

PAST_PAGE_SPAN = timedelta(days=3 * 366)  # a page of the past reaches at most this far back


def meeting_out(state: series.GroupState, occurrence: series.Occurrence, sub: str) -> MeetingOut:
    zone = ZoneInfo(state.group.time_zone)

    def person(who: str | None) -> PersonOut | None:
        return None if who is None else PersonOut(member_id=who, name=state.name_of(who))

    stored = occurrence.stored
    rsvps = series.rsvps_of(stored) if stored is not None else {}
    counts = {answer: sum(1 for v in rsvps.values() if v == answer) for answer in ("yes", "no", "maybe")}
    agenda = [
        AgendaItemOut(
            starts_at=item.starts_at.astimezone(UTC),
            ends_at=item.ends_at.astimezone(UTC),
            local_time=item.starts_at.astimezone(zone).strftime("%H:%M"),
            title=item.title,
            kind=item.kind,
            presenter=person(item.presenter),
            mine=item.presenter == sub,
            roles={role: PersonOut(member_id=who, name=state.name_of(who)) for role, who in item.roles.items()},
            steps=[StepOut(title=title, minutes=int((end - start).total_seconds() // 60)) for title, start, end in item.steps],
        )
        for item in occurrence.agenda
    ]
    attended = None
    if stored is not None and stored.status == "held":
        attended = [PersonOut(member_id=a, name=state.name_of(a)) for a in sorted(stored.attendees or ())]
    return MeetingOut(
        id=occurrence.id,
        status=occurrence.status,
        starts_at=occurrence.starts_at,
        ends_at=occurrence.ends_at,
        original_start=occurrence.original_start,
        time_zone=state.group.time_zone,
        local_start=occurrence.starts_at.astimezone(zone).isoformat(),
        venue=occurrence.venue,
        url=occurrence.url,
        host=person(occurrence.host),
        presenters=[PersonOut(member_id=p, name=state.name_of(p)) for p in occurrence.presenters],
        roles={role: PersonOut(member_id=who, name=state.name_of(who)) for role, who in occurrence.roles.meeting.items()},
        agenda=agenda,
        my_rsvp=rsvps.get(sub),
        rsvps=counts,
        slot_requested=stored is not None and sub in (stored.slot_requests or ()),
        attended=attended,
        former_members_attended=int(stored.former_attendees) if stored is not None else 0,
        cancel_reason=stored.cancel_reason if stored is not None else None,
    )


def list_meetings(ctx: Ctx, group_id: str, when: str, limit: int, cursor: str | None) -> Page[MeetingOut]:
    """Upcoming: the next `limit` (one query). Past: a page newest first (two queries). The cursor is an instant."""
    state, _ = as_member(ctx, group_id)
    if when == "upcoming":
        found = series.expand(state, _cursor_instant(cursor, "upcoming") if cursor else ctx.now, limit, series.profiles(state))
        nxt = _cursor("upcoming", found[-1].ends_at) if len(found) == limit else None
    else:
        before = _cursor_instant(cursor, "past") if cursor else ctx.now
        found = series.past(state, before, limit)
        nxt = _cursor("past", found[-1].ends_at - timedelta(seconds=1)) if len(found) == limit else None
    return Page[MeetingOut](items=[meeting_out(state, o, ctx.sub) for o in found], next=nxt)


def _cursor(kind: str, instant: datetime) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{iso_z(instant)}".encode()).decode().rstrip("=")


def _cursor_instant(cursor: str, kind: str) -> datetime:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        found, _, instant = text.partition(":")
        if found != kind:
            raise ValueError
        at = datetime.strptime(instant, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if not datetime(2000, 1, 1, tzinfo=UTC) <= at <= datetime(2200, 1, 1, tzinfo=UTC):
            raise ValueError
        return at
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidField("next", "this cursor is not one this list gave out") from None


def get_meeting(ctx: Ctx, group_id: str, mid: str) -> MeetingOut:
    """One meeting, upcoming or past (a past one as the past list shows it)."""
    state, _ = as_member(ctx, group_id)
    original = series.parse_meeting_id(mid)
    group = state.group
    if original is not None and original + timedelta(minutes=int(group.duration_minutes)) < ctx.now - series.LOOK_BACK:
        if domain.is_occurrence(group.rrule, group.time_zone, group.starts_at, original):
            ended = original + timedelta(minutes=int(group.duration_minutes), seconds=1)
            found = [o for o in series.past(state, ended, 1) if o.original_start == original]
            if found:
                return meeting_out(state, found[0], ctx.sub)
        raise NotFound(f"The group has no meeting {mid}.")
    return meeting_out(state, _occurrence(state, mid, ctx.now, upcoming=False, members=series.profiles(state)), ctx.sub)


def _occurrence(
    state: series.GroupState, mid: str, now: datetime, *, upcoming: bool = True, members: Mapping[str, Member] | None = None
) -> series.Occurrence:
    original = series.parse_meeting_id(mid)
    group = state.group
    if original is None or not (
        original in state.meetings or domain.is_occurrence(group.rrule, group.time_zone, group.starts_at, original)
    ):
        raise NotFound(f"The group has no meeting {mid}.")
    duration = timedelta(minutes=int(group.duration_minutes))
    stored = state.meetings.get(original)
    start = stored.starts_at if stored is not None else original
    if upcoming and start <= now:
        raise Conflict("This meeting has already started; decisions about it are closed.")
    if start + duration <= now - series.LOOK_BACK:
        raise NotFound(f"The group has no meeting {mid} open to changes.")
    found = [o for o in series.expand(state, min(now, start), 64, members) if o.original_start == original]
    if not found:
        raise NotFound(f"The group has no meeting {mid}.")
    return found[0]


def _meeting_item(state: series.GroupState, occurrence: series.Occurrence, now: datetime) -> Meeting:
    if occurrence.stored is not None:
        return occurrence.stored
    return Meeting(
        *Meeting.key(state.group.group_id, occurrence.original_start),
        group_id=state.group.group_id,
        original_start=occurrence.original_start,
        starts_at=occurrence.starts_at,
        status="planned",
        updated_at=now,
    )


def _save(tx: TransactWrite, meeting: Meeting) -> None:
    if meeting.version is None:
        tx.save(meeting, condition=Meeting.pk.does_not_exist())
    else:
        tx.save(meeting)


def _reassign(state: series.GroupState, meeting: Meeting, leaving: str, now: datetime) -> list[GroupMember]:
    """A fixed presenter steps out: the next in fairness takes the slot; both tallies move. Returns members changed."""
    if meeting.status != "scheduled" or leaving not in (meeting.presenters or []):
        return []
    rsvps = series.rsvps_of(meeting)
    excluded = {s for s, a in rsvps.items() if a == "no"} | set(meeting.gave_back or ()) | set(meeting.presenters or [])
    tallies = series.tallies(state)
    replacement = domain.choose_presenters(tallies, 1, requested=set(meeting.slot_requests or ()), excluded=excluded)
    meeting.presenters = [p for p in meeting.presenters or [] if p != leaving] + replacement
    changed = []
    out = state.people.get(leaving)
    if out is not None:
        out.presented = max(0, int(out.presented) - 1)
        changed.append(out)
    for sub in replacement:
        person = state.people[sub]
        person.presented = int(person.presented) + 1
        person.last_presented_at = meeting.starts_at
        changed.append(person)
    return changed


def _decide(
    ctx: Ctx,
    group_id: str,
    mid: str,
    change: Any,
    *,
    convener: bool = False,
    upcoming: bool = True,
    extra: list[Group] | None = None,
    event: str | None = None,
) -> MeetingOut:
    """A change to one meeting in one transaction, with its event (`event`: the detail-type, if it has one)."""

    def attempt() -> MeetingOut:
        state, _ = as_convener(ctx, group_id) if convener else as_member(ctx, group_id)
        occurrence = _occurrence(state, mid, ctx.now, upcoming=upcoming)
        meeting = _meeting_item(state, occurrence, ctx.now)
        people: list[GroupMember] = change(state, meeting)
        meeting.updated_at = ctx.now

        def write(tx: TransactWrite) -> None:
            _save(tx, meeting)
            for person in {p.sk: p for p in people}.values():
                tx.save(person)
            for group in (extra or [])[-1:]:  # the group itself, when the change moves the scheduler's next look
                tx.save(group)

        transact(write, [DomainEvent(event, {"group_id": group_id, "meeting_id": mid})] if event else [], ctx.now)
        state.meetings[meeting.original_start] = meeting
        return meeting_out(state, _occurrence(state, mid, ctx.now, upcoming=False), ctx.sub)

    return with_retries(attempt)


def rsvp(ctx: Ctx, group_id: str, mid: str, answer: str) -> MeetingOut:
    def change(state: series.GroupState, meeting: Meeting) -> list[GroupMember]:
        rsvps = series.rsvps_of(meeting)
        rsvps[ctx.sub] = answer
        meeting.rsvps = json.dumps(rsvps, sort_keys=True)
        if answer == "no" and meeting.status == "scheduled" and meeting.host_sub == ctx.sub:
            meeting.host_sub = None  # a host who cannot come hosts nothing; the venue stays unless a convener changes it
            meeting.sequence = int(meeting.sequence) + 1
        if answer != "no":
            return []
        return [*_reassign(state, meeting, ctx.sub, ctx.now), *_hand_on_roles(state, meeting, ctx.sub)]

    return _decide(ctx, group_id, mid, change)


def request_slot(ctx: Ctx, group_id: str, mid: str) -> MeetingOut:
    def change(state: series.GroupState, meeting: Meeting) -> list[GroupMember]:
        meeting.slot_requests = set(meeting.slot_requests or ()) | {ctx.sub}
        meeting.gave_back = (set(meeting.gave_back or ()) - {ctx.sub}) or None
        fmt = state.format
        if meeting.status == "scheduled" and ctx.sub not in (meeting.presenters or []) and len(meeting.presenters or []) < fmt.case_slots:
            meeting.presenters = [*(meeting.presenters or []), ctx.sub]
            me = state.people[ctx.sub]
            me.presented, me.last_presented_at = int(me.presented) + 1, meeting.starts_at
            return [me]
        return []

    return _decide(ctx, group_id, mid, change)


def _count_roles(person: GroupMember, roles: domain.Roles, step: int) -> bool:
    """Add `step` to each role the person holds in a meeting's roles; True if they hold any."""
    mine = [r for r, w in roles.meeting.items() if w == person.member_sub]
    mine += [r for case in roles.cases for r, w in case.items() if w == person.member_sub]
    if not mine:
        return False
    held = json.loads(person.roles_held or "{}")
    for role in mine:
        held[role] = max(0, int(held.get(role, 0)) + step)
    person.roles_held = json.dumps(held, sort_keys=True)
    return True


def _hand_on_roles(state: series.GroupState, meeting: Meeting, leaving: str) -> list[GroupMember]:
    """A fixed meeting's role holder who will not come: each of their roles goes to the next in turn for it."""
    if meeting.status != "scheduled":
        return []
    roles = series.roles_of(meeting)
    person = state.people.get(leaving)
    if person is None or not _count_roles(person, roles, -1):
        return []
    away = {s for s, a in series.rsvps_of(meeting).items() if a == "no"} | {leaving}
    attendees = [str(p.member_sub) for p in state.active if p.member_sub not in away]
    fresh = domain.assign_roles(state.format, list(meeting.presenters or []), attendees, series.held_roles(state))
    meeting_roles = {r: (fresh.meeting.get(r) if w == leaving else w) for r, w in roles.meeting.items()}
    cases = tuple(
        {r: (fresh.cases[i].get(r) if w == leaving and i < len(fresh.cases) else w) for r, w in case.items()}
        for i, case in enumerate(roles.cases)
    )
    handed = domain.Roles(
        meeting={r: w for r, w in meeting_roles.items() if w}, cases=tuple({r: w for r, w in c.items() if w} for c in cases)
    )
    meeting.roles = series.roles_json(handed)
    changed = [person]
    for sub in {w for r, w in meeting_roles.items() if roles.meeting.get(r) == leaving and w} | {
        w for i, c in enumerate(cases) for r, w in c.items() if roles.cases[i].get(r) == leaving and w
    }:
        taker = state.people.get(sub)
        if taker is not None:
            held = json.loads(taker.roles_held or "{}")
            for role in [r for r, w in meeting_roles.items() if w == sub and roles.meeting.get(r) == leaving] + [
                r for i, c in enumerate(cases) for r, w in c.items() if w == sub and roles.cases[i].get(r) == leaving
            ]:
                held[role] = int(held.get(role, 0)) + 1
            taker.roles_held = json.dumps(held, sort_keys=True)
            changed.append(taker)
    return changed


def give_back(ctx: Ctx, group_id: str, mid: str) -> MeetingOut:
    def change(state: series.GroupState, meeting: Meeting) -> list[GroupMember]:
        meeting.gave_back = set(meeting.gave_back or ()) | {ctx.sub}
        meeting.slot_requests = (set(meeting.slot_requests or ()) - {ctx.sub}) or None
        return _reassign(state, meeting, ctx.sub, ctx.now)

    return _decide(ctx, group_id, mid, change)


def cancel(ctx: Ctx, group_id: str, mid: str, reason: str | None) -> MeetingOut:
    def change(state: series.GroupState, meeting: Meeting) -> list[GroupMember]:
        if meeting.status == "cancelled":
            raise Conflict("This meeting is cancelled already.")
        people = []
        for person in state.active:
            changed = False
            if meeting.status == "scheduled" and person.member_sub in (meeting.presenters or []):
                person.presented = max(0, int(person.presented) - 1)
                changed = True
            if meeting.status == "scheduled" and _count_roles(person, series.roles_of(meeting), -1):
                changed = True
            if person.remind_for == series.meeting_id(meeting.original_start):
                person.remind_for = person.remind_shard = person.remind_due = None
                changed = True
            if changed:
                people.append(person)
        meeting.status, meeting.cancel_reason = "cancelled", reason
        meeting.presenters = None
        meeting.sequence = int(meeting.sequence) + 1
        return people

    return _decide(ctx, group_id, mid, change, convener=True, event="MeetingCancelled")


def reschedule(ctx: Ctx, group_id: str, mid: str, body: RescheduleIn, shards: int) -> MeetingOut:
    from shared.groups.scheduling import plan_reminder  # the reminder follows the meeting

    extra: list[Group] = []

    def change(state: series.GroupState, meeting: Meeting) -> list[GroupMember]:
        extra.clear()  # a retry starts from fresh reads
        if meeting.status == "cancelled":
            raise Conflict("This meeting is cancelled; there is nothing to move.")
        if body.starts_at is not None:
            start = body.starts_at.astimezone(UTC).replace(second=0, microsecond=0)
            if start <= ctx.now:
                raise InvalidField("starts_at", "must be in the future")
            if abs(start - meeting.original_start) > timedelta(days=60):
                raise InvalidField("starts_at", "a meeting moves at most 60 days from its usual date")
            meeting.starts_at = start
            if meeting.status == "planned" and start < meeting.original_start:
                # Moved earlier than the series says: the scheduler fixes it a lead ahead of its new time.
                group = state.group
                lead = meeting.original_start - fix_at(group, meeting.original_start)
                plan_schedule(group, shards, earliest=start - lead)
                group.updated_at = ctx.now
                extra.append(group)
        if body.venue is not None:
            meeting.venue = body.venue
        if body.url is not None:
            if body.url.scheme != "https":
                raise InvalidField("url", "the online link must be https")
            meeting.online_url = str(body.url)
        meeting.sequence = int(meeting.sequence) + 1
        people = []
        for person in state.active:
            if person.remind_for == series.meeting_id(meeting.original_start):
                plan_reminder(person, state.group, meeting, ctx.now, shards)
                people.append(person)
        return people

    return _decide(ctx, group_id, mid, change, convener=True, extra=extra, event="MeetingRescheduled")


def record_attendance(ctx: Ctx, group_id: str, mid: str, body: AttendanceIn) -> MeetingOut:
    """After the meeting, a convener or its host says who came and who presented (again to correct it)."""
    attended_items: list[Attended] = []

    def attempt() -> MeetingOut:
        state, mine = as_member(ctx, group_id)
        occurrence = _occurrence(state, mid, ctx.now, upcoming=False)
        if occurrence.starts_at > ctx.now:
            raise Conflict("Attendance is recorded once the meeting has started.")
        if occurrence.status == "cancelled":
            raise Conflict("This meeting was cancelled.")
        if mine.role != "convener" and occurrence.host != ctx.sub:
            raise Forbidden("Only a convener or the meeting's host records attendance.")
        active = {p.member_sub for p in state.active if p.member_sub}
        for name, ids in (("attended", body.attended), ("presented", body.presented)):
            unknown = sorted(set(ids) - active)
            if unknown:
                raise InvalidField(name, f"not members of the group: {', '.join(unknown)}")
        came = set(body.attended) | set(body.presented)
        meeting = _meeting_item(state, occurrence, ctx.now)
        before_came = set(meeting.attendees or ())
        before_presented = set(meeting.presented or ()) if meeting.status == "held" else set(meeting.presenters or [])
        counted_before = meeting.status == "held"
        meeting.status, meeting.attendees, meeting.presented = "held", came or None, set(body.presented) or None
        meeting.updated_at = ctx.now
        people = []
        for person in state.active:
            sub = str(person.member_sub)
            if person.joined_at is not None and person.joined_at > occurrence.starts_at and sub not in came:
                continue  # joined after this meeting: they did not miss it
            was, now_came = sub in before_came, sub in came
            person.presented = max(0, int(person.presented) + (sub in body.presented) - (sub in before_presented))
            if sub in body.presented:
                person.last_presented_at = occurrence.starts_at
            if not counted_before:
                person.meetings_held = int(person.meetings_held or 0) + 1  # "attended N of M held" (GET /members/me/support)
            if not counted_before or was != now_came:
                person.attended = max(0, int(person.attended) + int(now_came) - int(counted_before and was))
                person.missed_in_a_row = 0 if now_came else int(person.missed_in_a_row) + 1
                if int(person.missed_in_a_row) == 2:
                    person.attendance_notice = "pending"
            people.append(person)
        attended_items.clear()
        attended_items.extend(
            Attended(
                *Attended.key(sub, occurrence.starts_at, group_id),
                group_id=group_id,
                group_name=state.group.name,
                original_start=occurrence.original_start,
                starts_at=occurrence.starts_at,
                presented=sub in body.presented,
                recorded_at=ctx.now,
            )
            for sub in sorted(came)
        )
        gone = before_came - came

        def write(tx: TransactWrite) -> None:
            for sub in gone:
                tx.delete(Attended(*Attended.key(sub, occurrence.starts_at, group_id)))
            _save(tx, meeting)
            for person in people:
                tx.save(person)
            for item in attended_items:
                tx.save(item)

        transact(write, [DomainEvent("AttendanceRecorded", {"group_id": group_id, "meeting_id": mid})], ctx.now)
        state.meetings[meeting.original_start] = meeting
        return meeting_out(state, _occurrence(state, mid, ctx.now, upcoming=False), ctx.sub)

    return with_retries(attempt)


def my_meetings(ctx: Ctx, limit: int, cursor: str | None) -> Page[AttendedOut]:
    """The group meetings I attended, newest first (one query of my partition)."""
    items, after = newest_first(
        Attended.query,
        member_pk(ctx.sub),
        Attended.sk.startswith("ATTENDED#"),
        limit=limit,
        cursor=cursor,
        cursor_keys={"pk": "MEMBER#", "sk": "ATTENDED#"},
    )
    return Page[AttendedOut](
        items=[
            AttendedOut(
                group_id=a.group_id,
                group_name=a.group_name,
                meeting_id=series.meeting_id(a.original_start),
                starts_at=a.starts_at,
                presented=a.presented,
            )
            for a in items
            if isinstance(a, Attended)
        ],
        next=after,
    )
