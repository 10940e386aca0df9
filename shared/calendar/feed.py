"""The member's private iCalendar feed (RFC 5545): their groups' meetings and their pacts' check-in slots.

Reads, 2 + one per group: the secret (one strongly consistent GetItem), the member's groups and
pacts (one query of the inverted index, gsi1 `MEMBER#<sub>` with sk between `GROUP#` and
`PACT#~`: memberships and pact views; other kinds in that range are ignored), and one query per
group they are an active member of (`series.load`: the group, its people and its meetings from
`series.LOOK_BACK` ago).

What goes in, and nothing else (no notes, no addresses, nothing the member could not read in
the API):
- per group: the series as one recurring event (RRULE and DTSTART in the group's zone, the time
  boundary as its length), and an override (RECURRENCE-ID: the original start) for each stored
  meeting that differs from it: cancelled (STATUS:CANCELLED), moved, a one-off venue or link,
  or scheduled (its agenda, the presenters and roles named). SEQUENCE is the agreement's version
  on the series and, on an override, that plus the meeting's own (bumped on each cancel, move
  and scheduling): it never falls below the series' and grows with either;
- per active pact with a regular slot: the slot as a recurring event in the owner's zone, its
  length the time limit, without the slots a pause skips (EXDATE).

Invitations not yet accepted, ended pacts and every-N-days pacts (no fixed slot) are left out.
The body depends on what is stored (DTSTAMP is an item's `updated_at`, never now) and on the
year (the VTIMEZONE range), so its ETag stays the same until something changes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, Event, Timezone, vRecur

from shared.adapters.models import GroupMember, Item, Meeting, PactView, member_pk
from shared.calendar import keys
from shared.domain import groups as domain
from shared.domain import rhythm
from shared.groups import series

PRODID = "-//Peer support//Calendar feed 1.0//EN"
NAME = "Peer support"
UID_DOMAIN = "peer-support"
REFRESH = timedelta(hours=1)
PACT_ALARM = timedelta(minutes=15)
ZONE_YEARS_AHEAD = 5  # VTIMEZONE transitions are written this many years past this one
MAX_PAUSED_SLOTS = 60
MODES = {"phone": "by phone", "video": "by video", "in_person": "in person"}


@dataclass(frozen=True)
class Feed:
    body: bytes
    etag: str  # a strong validator: the body's hash
    last_modified: datetime


def feed_for(path_secret: str, now: datetime) -> Feed | None:
    """The feed a secret opens, or None (malformed, unknown or rotated away: the caller answers the same 404)."""
    secret = keys.secret_from_path(path_secret)
    if secret is None:
        return None
    owner = keys.owner_of(secret)
    if owner is None:
        return None
    memberships, views = _mine(owner.member_sub)
    states = [s for s in (series.load(m.group_id, now - series.LOOK_BACK) for m in memberships) if s is not None]
    calendar, changed = build(owner.member_sub, states, views, now)
    body = calendar.to_ical()
    stamps = [owner.created_at, *changed, *(m.updated_at for m in memberships)]
    return Feed(body=body, etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"', last_modified=max(stamps))


def _mine(sub: str) -> tuple[list[GroupMember], list[PactView]]:
    """The member's active memberships and active pact views: one query of the inverted index.

    The range also holds the member's one-tap links (LINK#...): the filter keeps them off the wire.
    """
    memberships: list[GroupMember] = []
    views: list[PactView] = []
    mine = Item.gsi1.query(member_pk(sub), Item.gsi1sk.between("GROUP#", "PACT#~"), filter_condition=Item.kind.is_in(GroupMember, PactView))
    for item in mine:
        if isinstance(item, GroupMember) and item.state == "active":
            memberships.append(item)
        elif isinstance(item, PactView) and item.state == "active":
            views.append(item)
    return memberships, views


# ------------------------------------------------------------------ the calendar


def build(sub: str, states: list[series.GroupState], views: list[PactView], now: datetime) -> tuple[Calendar, list[datetime]]:
    """The calendar, and the `updated_at` of everything in it (for Last-Modified)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", NAME)
    calendar.add("x-wr-caldesc", "Your peer supervision meetings and regular check-ins.")
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    changed: list[datetime] = []
    instants: list[datetime] = []
    for state in sorted(states, key=lambda s: s.group.group_id):
        for event, stamp, used in _group_events(state, sub):
            calendar.add_component(event)
            changed.append(stamp)
            instants.extend(used)
    for view in sorted(views, key=lambda v: v.pact_id):
        found = _pact_event(view, now)
        if found is not None:
            calendar.add_component(found[0])
            changed.append(view.updated_at)
            instants.extend(found[1])
    _add_time_zones(calendar, instants, now)
    return calendar, changed


def _add_time_zones(calendar: Calendar, instants: list[datetime], now: datetime) -> None:
    """A VTIMEZONE for every TZID used, from the year of the earliest instant to a few years ahead, sorted by TZID."""
    if not instants:
        return
    first = date(min(i.year for i in instants), 1, 1)
    last = date(max(now.year, *(i.year for i in instants)) + ZONE_YEARS_AHEAD, 1, 1)
    calendar.add_missing_timezones(first_date=first, last_date=last)
    # The library adds them in set order (which differs between processes): sort them so the ETag does not.
    zones = sorted((c for c in calendar.subcomponents if isinstance(c, Timezone)), key=lambda z: str(z.tz_name))
    calendar.subcomponents = [*zones, *(c for c in calendar.subcomponents if not isinstance(c, Timezone))]


def _alarm(before: timedelta, summary: str) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", -before)
    return alarm


def _event(uid: str, stamp: datetime, sequence: int, summary: str, start: datetime, length: timedelta) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("sequence", sequence)
    event.add("summary", summary)
    event.add("dtstart", start)
    event.add("dtend", (start.astimezone(UTC) + length).astimezone(start.tzinfo))
    event.add("class", "PRIVATE")
    return event


# ------------------------------------------------------------------ groups


def _group_events(state: series.GroupState, sub: str) -> list[tuple[Event, datetime, list[datetime]]]:
    """The series, then an override per stored meeting that differs from it: (event, updated_at, local instants used)."""
    group = state.group
    zone = ZoneInfo(group.time_zone)
    length = timedelta(minutes=int(group.duration_minutes))
    uid = f"{group.group_id}@{UID_DOMAIN}"
    days = int(group.reminder_days)
    before = timedelta(days=days) if days else timedelta(hours=1)
    start = group.starts_at.astimezone(zone)
    master = _event(uid, group.updated_at, int(group.agreement_version), group.name, start, length)
    master.add("rrule", vRecur.from_ical(group.rrule))
    _where(master, group.venue, group.online_url)
    master.add("description", _series_description(state))
    master.add_component(_alarm(before, group.name))
    out = [(master, group.updated_at, [start])]
    for original in sorted(state.meetings):
        meeting = state.meetings[original]
        if not _differs(meeting) or original < group.starts_at:
            continue
        if not domain.is_occurrence(group.rrule, group.time_zone, group.starts_at, original):
            continue  # a meeting of the series before its rhythm changed
        override = _override(state, meeting, uid, zone, length, sub)
        if meeting.status != "cancelled":
            override.add_component(_alarm(before, group.name))
        out.append((override, meeting.updated_at, [original.astimezone(zone), meeting.starts_at.astimezone(zone)]))
    return out


def _differs(meeting: Meeting) -> bool:
    """Whether the calendar needs an override for this occurrence (RSVPs and slot requests alone change nothing in it)."""
    moved = meeting.starts_at != meeting.original_start
    elsewhere = bool(meeting.venue or meeting.online_url or meeting.host_sub)
    return meeting.status in ("cancelled", "scheduled") or moved or elsewhere


def _where(event: Event, venue: str | None, url: str | None) -> None:
    if venue or url:
        event.add("location", venue or url)
    if url:
        event.add("url", url)


def _series_description(state: series.GroupState) -> str:
    group = state.group
    when = domain.describe_rhythm(group.rrule, group.time_zone, group.starts_at)
    lines = [f"{when[0].upper()}{when[1:]}, {int(group.duration_minutes)} minutes."]
    if group.venue_kind == "rotation":
        lines.append("The venue rotates: each meeting's is fixed a week before it.")
    if group.online_url:
        lines.append(f"Online: {group.online_url}")
    if group.purpose:
        lines.append(f"Purpose: {group.purpose}")
    if group.objectives:
        lines.append(f"Objectives: {group.objectives}")
    lines.append("Presenters and roles are fixed a week before each meeting; they then show on that meeting.")
    return "\n".join(lines)


def _override(state: series.GroupState, meeting: Meeting, uid: str, zone: ZoneInfo, length: timedelta, sub: str) -> Event:
    group = state.group
    sequence = int(group.agreement_version) + int(meeting.sequence or 0)
    event = _event(uid, meeting.updated_at, sequence, group.name, meeting.starts_at.astimezone(zone), length)
    event.add("recurrence-id", meeting.original_start.astimezone(zone))
    if meeting.status == "cancelled":
        event.add("status", "CANCELLED")
        reason = f" ({meeting.cancel_reason})" if meeting.cancel_reason else ""
        event.add("description", f"This meeting is cancelled{reason}.")
        return event
    venue, url, host = _place(state, meeting)
    _where(event, venue, url)
    lines = []
    if meeting.starts_at != meeting.original_start:
        lines.append(f"Moved from {meeting.original_start.astimezone(zone):%A %d %B %H:%M}.")
    if host:
        lines.append(f"Hosted by {_name(state, host, sub)}.")
    if url:
        lines.append(f"Online: {url}")
    if meeting.status in ("scheduled", "held"):
        event.add("status", "CONFIRMED")
    if meeting.status == "scheduled":
        lines.extend(_agenda(state, meeting, zone, sub))
    event.add("description", "\n".join(lines) or group.name)
    return event


def _place(state: series.GroupState, meeting: Meeting) -> tuple[str | None, str | None, str | None]:
    """Where a stored meeting happens: as the API says it (`series.place_of`)."""
    stop = int(meeting.stop_index) if meeting.stop_index is not None else None
    return series.place_of(state, meeting, stop)


def _name(state: series.GroupState, who: str, sub: str) -> str:
    return "you" if who == sub else state.name_of(who)


def _agenda(state: series.GroupState, meeting: Meeting, zone: ZoneInfo, sub: str) -> list[str]:
    """A scheduled meeting's agenda as the API shows it: the fixed presenters (still members) and roles, named."""
    fmt = state.format
    active = {p.member_sub for p in state.active if p.member_sub}
    presenters: list[str | None] = [p for p in meeting.presenters or [] if p in active]
    presenters += [None] * max(0, fmt.case_slots - len(presenters))
    roles = series.roles_of(meeting)
    lines = [f"{role.capitalize()}: {_name(state, who, sub)}." for role, who in sorted(roles.meeting.items())]
    lines += ["", "Agenda:"]
    for item in domain.agenda(fmt, meeting.starts_at.astimezone(zone), presenters, roles):
        line = f"{item.starts_at:%H:%M}-{item.ends_at:%H:%M} {item.title}"
        presenter = item.presenter
        if item.kind == domain.CASE:
            line += (": you present" if presenter == sub else f": {state.name_of(presenter)} presents") if presenter else ": an open slot"
        if item.roles:
            line += " (" + ", ".join(f"{role}: {_name(state, who, sub)}" for role, who in sorted(item.roles.items())) + ")"
        lines.append(line)
    return lines


# ------------------------------------------------------------------ pacts


def _pact_event(view: PactView, now: datetime) -> tuple[Event, list[datetime]] | None:
    """A pact's agreed slot as a recurring event (None for an every-N-days rhythm: no slot to show)."""
    agreed = rhythm.Rhythm(view.rrule, view.time_zone, view.starts_at)
    first = agreed.slot_after(view.starts_at)
    if first is None:
        return None
    zone = ZoneInfo(view.time_zone)
    start = first.astimezone(zone)
    length = timedelta(minutes=int(view.time_limit_minutes))
    summary = f"Check-in with {view.colleague_name}"
    event = _event(f"{view.pact_id}@{UID_DOMAIN}", view.updated_at, int(view.version or 0), summary, start, length)
    event.add("rrule", vRecur.from_ical(view.rrule))
    skipped = _paused_slots(agreed, view.paused_until, now, zone)
    if skipped:
        event.add("exdate", skipped)
    mode = MODES.get(view.mode, view.mode)
    event.add(
        "description",
        f"Your regular check-in with {view.colleague_name}: {mode}, {int(view.time_limit_minutes)} minutes "
        f"({rhythm.describe(view.rrule)}, {view.time_zone}).",
    )
    event.add_component(_alarm(PACT_ALARM, summary))
    return event, [start, *skipped]


def _paused_slots(agreed: rhythm.Rhythm, paused_until: datetime | None, now: datetime, zone: ZoneInfo) -> list[datetime]:
    """The slots from now until a pause ends (local): the pact skips them."""
    slots: list[datetime] = []
    if paused_until is None or paused_until <= now:
        return slots
    at = agreed.slot_after(now)
    while at is not None and at < paused_until and len(slots) < MAX_PAUSED_SLOTS:
        slots.append(at.astimezone(zone))
        at = agreed.slot_after(at + timedelta(seconds=1))
    return slots
