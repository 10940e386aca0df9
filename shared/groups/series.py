"""A group's meetings: the series from its rhythm plus the occurrences something was decided about.

Nothing is materialised for ever: upcoming meetings are expanded from the RRULE and merged
with the stored exceptions (`Meeting` items: RSVPs, slot requests, a cancellation, a move,
a one-off venue, the fixed presenters once scheduled, attendance). Reading the group, its
members and its upcoming exceptions is one query of the group's partition
(`sk >= MEETING#<since>`, which sorts MEETING# < MEMBER# < META); the past is one range
query of MEETING# newest first plus that of the members and the group.

Who presents and who hosts in meetings not yet scheduled is a projection: the fairness and
rotation rules of `shared.domain.groups` run forward from the members' tallies and the
rotation's state, so the same answer comes back until something changes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from shared.adapters.models import Group, GroupMember, Item, Meeting, Member, group_pk, iso_z
from shared.domain import groups as domain

FORMER_MEMBER = "a former member"
LOOK_BACK = timedelta(days=35)  # a meeting moved forward or still under way is found from here


def meeting_id(original_start: datetime) -> str:
    return original_start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def parse_meeting_id(mid: str) -> datetime | None:
    try:
        return datetime.strptime(mid, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    except ValueError:
        return None


def is_group_id(group_id: str) -> bool:
    return group_id.startswith("g_") and len(group_id) <= 40


@dataclass
class GroupState:
    """One read of a group's partition: the group, its people (members and open email invitations), some meetings."""

    group: Group
    people: dict[str, GroupMember]  # by member id: the sub, or "@<invitation id>" for an open invitation
    meetings: dict[datetime, Meeting] = field(default_factory=dict)  # by original start

    @property
    def active(self) -> list[GroupMember]:
        return sorted((p for p in self.people.values() if p.state == "active"), key=lambda p: (p.joined_at or p.created_at, p.sk))

    @property
    def conveners(self) -> list[GroupMember]:
        return [p for p in self.active if p.role == "convener"]

    def name_of(self, sub: str | None) -> str:
        person = self.people.get(sub or "")
        return person.display_name if person is not None and person.state == "active" else FORMER_MEMBER

    @property
    def format(self) -> domain.Format:
        return domain.format_from_dict(json.loads(self.group.format))

    @property
    def stops(self) -> list[domain.Stop]:
        return [domain.Stop(venue=s.get("venue"), host=s.get("host")) for s in json.loads(self.group.rotation or "[]")]

    @property
    def rotation_state(self) -> domain.RotationState:
        data = json.loads(self.group.rotation_state or "{}")
        return domain.RotationState(position=int(data.get("position", 0)), owed=tuple(int(i) for i in data.get("owed", ())))


def person_id(item: GroupMember) -> str:
    """How the group names someone: their member id, or "@<invitation id>" while invited (member or not: no enumeration)."""
    if item.state == "invited":
        return "@" + item.sk.removeprefix("MEMBER#@")
    return str(item.member_sub)


def load(group_id: str, since: datetime) -> GroupState | None:
    """The group, its people and its meetings from `since` on: one strongly consistent query."""
    if not is_group_id(group_id):
        return None
    group: Group | None = None
    people: dict[str, GroupMember] = {}
    meetings: dict[datetime, Meeting] = {}
    for item in Item.query(group_pk(group_id), Item.sk >= f"MEETING#{iso_z(since)}", consistent_read=True):
        if isinstance(item, Group):
            group = item
        elif isinstance(item, GroupMember):
            people[person_id(item)] = item
        elif isinstance(item, Meeting):
            meetings[item.original_start] = item
    return None if group is None else GroupState(group, people, meetings)


def load_past(state: GroupState, before: datetime, after: datetime) -> dict[datetime, Meeting]:
    """The stored meetings whose original start is in [after, before): one range query."""
    return {
        m.original_start: m
        for m in Meeting.query(
            group_pk(state.group.group_id), Meeting.sk.between(f"MEETING#{iso_z(after)}", f"MEETING#{iso_z(before)}"), consistent_read=True
        )
        if isinstance(m, Meeting) and m.original_start < before
    }


# ------------------------------------------------------------------ projection


@dataclass(frozen=True)
class Occurrence:
    """One meeting as everyone sees it: stored decisions where there are some, the projection elsewhere."""

    original_start: datetime
    starts_at: datetime
    ends_at: datetime
    status: str  # planned | scheduled | cancelled | held
    venue: str | None
    url: str | None
    host: str | None
    presenters: list[str]
    roles: domain.Roles
    agenda: list[domain.AgendaItem]
    stored: Meeting | None

    @property
    def id(self) -> str:
        return meeting_id(self.original_start)

    def rsvp(self, sub: str) -> str | None:
        return rsvps_of(self.stored).get(sub) if self.stored is not None else None


def rsvps_of(meeting: Meeting) -> dict[str, str]:
    """Who said yes, no or maybe to a meeting."""
    return {str(k): str(v) for k, v in json.loads(meeting.rsvps or "{}").items()}


def _said_no(meeting: Meeting | None) -> set[str]:
    if meeting is None:
        return set()
    rsvps = rsvps_of(meeting)
    return {sub for sub, answer in rsvps.items() if answer == "no"} | set(meeting.gave_back or ())


def roles_of(meeting: Meeting) -> domain.Roles:
    data = json.loads(meeting.roles or "{}")
    return domain.Roles(meeting=dict(data.get("meeting", {})), cases=tuple(dict(c) for c in data.get("cases", [])))


def roles_json(roles: domain.Roles) -> str:
    return json.dumps({"meeting": roles.meeting, "cases": list(roles.cases)}, sort_keys=True)


def held_roles(state: GroupState) -> dict[str, dict[str, int]]:
    return {sub: json.loads(p.roles_held or "{}") for sub, p in ((p.member_sub, p) for p in state.active) if sub}


def tallies(state: GroupState) -> list[domain.Tally]:
    return [
        domain.Tally(member=p.member_sub, count=int(p.presented), last_at=p.last_presented_at, since=p.joined_at or p.created_at)
        for p in state.active
        if p.member_sub
    ]


def place_of(state: GroupState, stored: Meeting | None, stop: int | None) -> tuple[str | None, str | None, str | None]:
    group = state.group
    venue: str | None = group.venue
    url: str | None = group.online_url
    host: str | None = None
    if stored is not None and stored.status in ("scheduled", "held") and group.venue_kind == "rotation":
        # A fixed meeting keeps the venue and host it was fixed with, whatever the rotation becomes.
        return stored.venue, stored.online_url or url, stored.host_sub
    stops = state.stops
    if group.venue_kind == "rotation" and stop is not None and 0 <= stop < len(stops):
        venue, host = stops[stop].venue, stops[stop].host
    if stored is not None:  # a one-off venue or link for this meeting
        venue = stored.venue or venue
        url = stored.online_url or url
        host = stored.host_sub or host
    return venue, url, host


def profiles(state: GroupState) -> dict[str, Member]:
    """The active members' profiles (one batch read): who is away when, and their reminder preferences."""
    keys = [Member.key(str(p.member_sub)) for p in state.active if p.member_sub]
    return {m.pk.removeprefix("MEMBER#"): m for m in Member.batch_get(keys) if isinstance(m, Member)} if keys else {}


def away_on(members: Mapping[str, Member], start: datetime) -> set[str]:
    """Members in away mode at a meeting's start: they present nothing, hold no role, host nothing."""
    return {sub for sub, m in members.items() if m.away_until is not None and m.away_until > start}


def expand(state: GroupState, after: datetime, count: int, members: Mapping[str, Member] | None = None) -> list[Occurrence]:
    """The next `count` meetings ending after `after` (under way ones included), with agendas.

    With the members' profiles, a member away on a meeting's date is left out of its presenters,
    roles and host turn (the rotation continues with the next, and comes back to them).
    """
    group = state.group
    duration = timedelta(minutes=int(group.duration_minutes))
    starts = domain.occurrences(group.rrule, group.time_zone, group.starts_at, after - duration, count + 8)
    # A meeting moved from an earlier occurrence into the window comes along too.
    moved_in = [m.original_start for m in state.meetings.values() if m.original_start not in starts and m.starts_at + duration > after]
    originals = sorted(set(starts) | set(moved_in))
    fmt = state.format
    active = {p.member_sub for p in state.active if p.member_sub}
    running_tallies = tallies(state)
    rotation = state.rotation_state
    out: list[Occurrence] = []
    for original in originals:
        stored = state.meetings.get(original)
        start = stored.starts_at if stored is not None else original
        if start + duration <= after:
            continue
        fixed = stored is not None and stored.status in ("scheduled", "held")
        cancelled = stored is not None and stored.status == "cancelled"
        if fixed and stored is not None:
            # Held: who presented, as recorded; scheduled: who is fixed to (and still in the group).
            presenters = sorted(stored.presented or ()) if stored.status == "held" else [p for p in stored.presenters or [] if p in active]
            roles = roles_of(stored)
            stop = int(stored.stop_index) if stored.stop_index is not None else None
        elif cancelled:
            presenters, roles, stop = [], domain.Roles(meeting={}, cases=()), None
        else:
            no = _said_no(stored) | away_on(members or {}, start)
            requested = set(stored.slot_requests or ()) if stored is not None else set()
            presenters = domain.choose_presenters(running_tallies, fmt.case_slots, requested=requested & active, excluded=no)
            running_tallies = domain.presented(running_tallies, presenters, start)
            stop = None
            if group.venue_kind == "rotation":
                stop, rotation = domain.next_stop(state.stops, rotation, no)
            attendees = [p for p in (p.member_sub for p in state.active) if p and p not in no]
            roles = domain.assign_roles(fmt, presenters, attendees, held_roles(state))
        status = stored.status if stored is not None else "planned"
        out.append(_occurrence(state, original, start, status, stop, presenters, roles, stored))
        if len(out) == count:
            break
    return out


def _occurrence(
    state: GroupState,
    original: datetime,
    start: datetime,
    status: str,
    stop: int | None,
    presenters: list[str],
    roles: domain.Roles,
    stored: Meeting | None,
) -> Occurrence:
    """One meeting with its place and its agenda (open case slots where presenters are missing; none if cancelled)."""
    group = state.group
    fmt = state.format
    venue, url, host = place_of(state, stored, stop)
    local = start.astimezone(ZoneInfo(group.time_zone))
    slots: list[str | None] = list(presenters) + [None] * max(0, fmt.case_slots - len(presenters))
    return Occurrence(
        original_start=original,
        starts_at=start,
        ends_at=start + timedelta(minutes=int(group.duration_minutes)),
        status=status,
        venue=venue,
        url=url,
        host=host,
        presenters=presenters,
        roles=roles,
        agenda=[] if status == "cancelled" else domain.agenda(fmt, local, slots, roles),
        stored=stored,
    )


def past(state: GroupState, before: datetime, count: int) -> list[Occurrence]:
    """Meetings that ended before `before`, newest first: the series' occurrences and what was recorded about them."""
    group = state.group
    duration = timedelta(minutes=int(group.duration_minutes))
    starts = domain.occurrences_before(group.rrule, group.time_zone, group.starts_at, before - duration + timedelta(seconds=1), count)
    if not starts:
        return []
    stored = load_past(state, before, min(starts))
    out = []
    for original in sorted(set(starts) | {s for s in stored if s >= min(starts)}, reverse=True)[:count]:
        meeting = stored.get(original)
        start = meeting.starts_at if meeting is not None else original
        status = meeting.status if meeting is not None else "planned"
        if meeting is not None and meeting.status == "held":
            presenters = sorted(meeting.presented or ())  # who presented, as recorded (nobody, maybe)
        else:
            presenters = list(meeting.presenters or []) if meeting is not None else []
        roles = roles_of(meeting) if meeting is not None else domain.Roles(meeting={}, cases=())
        stop = int(meeting.stop_index) if meeting is not None and meeting.stop_index is not None else None
        out.append(_occurrence(state, original, start, status, stop, presenters, roles, meeting))
    return out
