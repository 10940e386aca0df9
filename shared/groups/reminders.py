"""Meeting reminders: the sweep finds the reminders due without scanning; the sender emails each one once.

Sweep: the scheduler (`scheduling.plan_reminder`) gives each active member of a group one sparse,
write-sharded due instant (`remind_shard`/`remind_due`) and what it is about (`remind_for`, the
meeting id). For each shard DUE#0..N-1 the sweep runs one range query `remind_due <= now` on the
`remind_due` index and queues one message per (member, meeting): the items read grow with the
reminders due, never with the groups. A missed run is caught up by the next.

Sender: for each message, re-reads the group's partition (the group, its members, its upcoming
meetings: `series.load`), checks that the member's reminder is still due and still about that
meeting (a cancellation, a move or a newer meeting means: drop it), reads the profile (consent,
address), claims MEMBER#<sub> / REMIND#<group>#<meeting id> with a conditional write in one
transaction with the email's links, sends one email with the meeting as an .ics, then in one
transaction marks the claim sent and clears the member's due instant: 4 DynamoDB calls. A
redelivered message, or a second sweep's copy, finds the claim taken and sends nothing.

The residual window is the nudges' one: SES accepted the email but the function died before
marking the claim sent. The claim stays `sending`; after CLAIM_LEASE a redelivery may send again.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.adapters.db import connection, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.mail import Attachment, render
from shared.adapters.models import GroupMember, LinkToken, Member, SendClaim, iso_z, member_pk
from shared.adapters.observability import logger
from shared.groups import series
from shared.links.tokens import new_link
from shared.nudges.sending import CLAIM_LEASE, CLAIM_TTL, PERMANENT, SenderDeps, TransientSendError
from shared.nudges.suppression import suppress_address
from shared.pacts.planning import Ctx, stop_nudge_emails

PRODID = "-//Peer support//Group meetings//EN"
CALENDAR_SPAN = timedelta(days=400)  # the VTIMEZONE covers the zone's rules this far either side of the meeting
LOOK_AHEAD = 8  # the reminded meeting is among the group's next few (a moved one comes along)


# ------------------------------------------------------------------ the sweep


@dataclass(frozen=True)
class ReminderSweepResult:
    items_read: int
    reminders: int


def sweep_reminders(now: datetime, shards: int, enqueue: Callable[[list[dict[str, Any]]], None]) -> ReminderSweepResult:
    """Find every reminder due at or before `now` (missed runs included) and enqueue one message each."""
    messages: list[dict[str, Any]] = []
    read = 0
    for number in range(shards):
        for person in GroupMember.remind_due_index.query(f"DUE#{number}", GroupMember.remind_due <= iso_z(now)):
            read += 1
            if isinstance(person, GroupMember) and person.member_sub and person.remind_for and person.remind_due:
                messages.append(
                    {
                        "group_id": person.group_id,
                        "member_id": person.member_sub,
                        "meeting_id": person.remind_for,
                        "due": person.remind_due,
                        "as_of": iso_z(now),
                    }
                )
    if messages:
        enqueue(messages)
    logger.info("reminder sweep done", extra={"items_read": read, "reminders": len(messages)})
    return ReminderSweepResult(items_read=read, reminders=len(messages))


# ------------------------------------------------------------------ the sender


def send_reminder(message: dict[str, Any], now: datetime, deps: SenderDeps) -> str:
    """Handle one queued reminder; returns what happened (for logs and tests)."""
    group_id, member_id, mid = str(message["group_id"]), str(message["member_id"]), str(message["meeting_id"])
    state = series.load(group_id, now - series.LOOK_BACK)
    person = state.people.get(member_id) if state is not None else None
    if state is None or person is None or person.state != "active":
        return "not-a-member"
    due = person.remind_due
    if person.remind_for != mid or due is None or due > iso_z(now):
        return "moved-on"  # cancelled, moved later, or already sent: whatever changed it planned what comes next
    occurrence = find_occurrence(state, mid, now)
    if occurrence is None or occurrence.status == "cancelled" or occurrence.starts_at <= now:
        _clear(person, mid, due)
        return "meeting-gone"
    if occurrence.rsvp(member_id) == "no":
        _clear(person, mid, due)
        return "not-coming"
    try:
        member = Member.get(*Member.key(member_id))
    except DoesNotExist:
        _clear(person, mid, due)
        return "no-member"
    if not member.wants_email_nudges:  # unsubscribed, bounced, complained, or email is not a channel
        _clear(person, mid, due)
        return "not-wanted"
    key = claim_key(member_id, group_id, mid)
    email = _compose(member_id, member, state, occurrence, now, deps)
    if not _claim(key, email.links, now, deps.clock()):
        with suppress(DoesNotExist):
            if SendClaim.get(*key, consistent_read=True).status != "sending":
                _clear(person, mid, due)  # sent (or refused) already: the sweep need not look again
        return "already-claimed"
    try:
        message_id = _send(member, email, deps)
    except TransientSendError:
        SendClaim(*key).delete()
        raise
    except _Permanent as failure:
        SendClaim(*key).update(actions=[SendClaim.status.set("failed")])
        stop_nudge_emails(Ctx(sub=member_id, now=now, due_shards=deps.shards), failure.reason)
        suppress_address(member.email, failure.reason, now)
        _clear(person, mid, due)
        logger.warning("reminder not deliverable; address marked", extra={"reason": failure.reason})
        return "permanent-failure"
    reminded = DomainEvent("MeetingReminderSent", {"group_id": group_id, "meeting_id": mid, "member_id": member_id})
    _close(key, message_id, person, mid, due, reminded, now)
    return "sent"


def claim_key(member_id: str, group_id: str, mid: str) -> tuple[str, str]:
    return member_pk(member_id), f"REMIND#{group_id}#{mid}"


def find_occurrence(state: series.GroupState, mid: str, now: datetime) -> series.Occurrence | None:
    """The meeting as everyone sees it now (moved, its presenters, its agenda), if it has not ended."""
    original = series.parse_meeting_id(mid)
    return next((o for o in series.expand(state, now, LOOK_AHEAD) if o.original_start == original), None)


def _claim(key: tuple[str, str], links: list[LinkToken], now: datetime, clock: datetime) -> bool:
    """Take the right to send this reminder and store the email's links, in one transaction.

    A claim left `sending` longer than the lease can be retaken.
    """
    claim = SendClaim(*key, status="sending", claimed_at=clock, expires_at=now + CLAIM_TTL)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(claim, condition=SendClaim.claimable(clock, CLAIM_LEASE))
            for link in links:
                tx.save(link)
    except TransactWriteError as error:
        if not refused(error):
            raise
        return False
    return True


def _clear_condition(mid: str, due: str) -> Condition:
    """The member's reminder is still this one: nothing planned another meanwhile."""
    condition: Condition = (GroupMember.remind_for == mid) & (GroupMember.remind_due == due)
    return condition


_CLEAR: tuple[Action, ...] = (GroupMember.remind_due.remove(), GroupMember.remind_shard.remove())


def _clear(person: GroupMember, mid: str, due: str) -> None:
    """This reminder is done: out of the due index, unless something planned another one meanwhile."""
    with suppress(UpdateError):
        person.update(actions=list(_CLEAR), condition=_clear_condition(mid, due), add_version_condition=False)


def _close(key: tuple[str, str], message_id: str, person: GroupMember, mid: str, due: str, reminded: DomainEvent, now: datetime) -> None:
    """Sent: in one transaction the claim says so, the reminder leaves the due index and its event is written.

    If another reminder was planned meanwhile (the condition fails), the claim and the event are written on their own.
    """
    sent: list[Action] = [SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)]
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.update(SendClaim(*key), actions=sent)
            tx.update(person, actions=list(_CLEAR), condition=_clear_condition(mid, due), add_version_condition=False)
            add_events(tx, [reminded], now)
    except TransactWriteError:
        with TransactWrite(connection=connection()) as tx:
            tx.update(SendClaim(*key), actions=sent)
            add_events(tx, [reminded], now)


class _Permanent(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


# ------------------------------------------------------------------ the email and its .ics


def _local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


def _when(start: datetime, end: datetime, zone: str) -> str:
    local, local_end = _local(start, zone), _local(end, zone)
    return f"{local:%A %-d %B %Y}, {local:%H:%M}–{local_end:%H:%M}"


def _zone_label(instant: datetime, zone: str) -> str:
    return f"{zone} time ({_local(instant, zone):%Z})"


def agenda_lines(state: series.GroupState, occurrence: series.Occurrence, sub: str, zone: str) -> list[dict[str, Any]]:
    """The agenda in the member's zone: local start, title, who presents, and whether it is their own slot."""
    lines = []
    for item in occurrence.agenda:
        who = None
        if item.kind == "case":
            who = "you" if item.presenter == sub else state.name_of(item.presenter) if item.presenter else "open slot"
        lines.append({"time": f"{_local(item.starts_at, zone):%H:%M}", "title": item.title, "who": who, "mine": item.presenter == sub})
    return lines


def reminder_context(state: series.GroupState, occurrence: series.Occurrence, sub: str, zone: str) -> dict[str, Any]:
    """What the email and the .ics say, in the member's zone."""
    group = state.group
    agenda = agenda_lines(state, occurrence, sub, zone)
    mine = [line["title"] for line in agenda if line["mine"]]
    roles = sorted(role for role, who in occurrence.roles.meeting.items() if who == sub)
    local = _local(occurrence.starts_at, zone)
    group_local = _local(occurrence.starts_at, group.time_zone)
    return {
        "group": group.name,
        "when": _when(occurrence.starts_at, occurrence.ends_at, zone),
        "zone": _zone_label(occurrence.starts_at, zone),
        "group_time": None if zone == group.time_zone else f"{group_local:%H:%M} in {group.time_zone}, where the group meets",
        "venue": occurrence.venue if group.venue_kind != "online" else None,
        "host": state.name_of(occurrence.host) if occurrence.host else None,
        "url": occurrence.url,
        "agenda": agenda,
        "my_slots": mine,
        "my_roles": roles,
        "moved": occurrence.starts_at != occurrence.original_start,
        "short_when": f"{local:%A %-d %B} at {local:%H:%M}",
    }


def ics(state: series.GroupState, occurrence: series.Occurrence, context: dict[str, Any], now: datetime) -> bytes:
    """The meeting as an iCalendar object (METHOD:PUBLISH): times in the group's zone, with its VTIMEZONE."""
    from icalendar import Calendar, Event  # the sender's only: the group sweep imports this module too

    group = state.group
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    event = Event()
    # The same event as in the member's calendar feed: the series' UID and this occurrence's RECURRENCE-ID,
    # with the feed's SEQUENCE, so a calendar that has both shows the meeting once.
    event.add("uid", f"{group.group_id}@peer-support")
    event.add("recurrence-id", _local(occurrence.original_start, group.time_zone))
    event.add("dtstamp", now)
    event.add("dtstart", _local(occurrence.starts_at, group.time_zone))
    event.add("dtend", _local(occurrence.ends_at, group.time_zone))
    stored = int(occurrence.stored.sequence or 0) if occurrence.stored is not None else 0
    event.add("sequence", int(group.agreement_version) + stored)
    event.add("status", "CONFIRMED")
    event.add("summary", group.name)
    where = ", ".join(w for w in (context["venue"], f"hosted by {context['host']}" if context["host"] else None) if w)
    if where or context["url"]:
        event.add("location", where or "Online")
    if context["url"]:
        event.add("url", context["url"])
    agenda = "\n".join(
        f"{line['time']} {line['title']}" + (f": {line['who']}" if line["who"] else "") + (" (your slot)" if line["mine"] else "")
        for line in context["agenda"]
    )
    event.add("description", f"Agenda ({context['zone']}):\n{agenda}")
    cal.add_component(event)
    start_day = occurrence.starts_at.date()
    cal.add_missing_timezones(first_date=start_day - CALENDAR_SPAN, last_date=start_day + CALENDAR_SPAN)
    return bytes(cal.to_ical())


@dataclass(frozen=True)
class _Email:
    subject: str
    text: str
    html: str
    unsubscribe_url: str
    calendar: Attachment
    links: list[LinkToken]


def _compose(
    member_id: str, member: Member, state: series.GroupState, occurrence: series.Occurrence, now: datetime, deps: SenderDeps
) -> _Email:
    """The reminder, its .ics and the links it carries (stored with the claim)."""
    group = state.group
    context = reminder_context(state, occurrence, member_id, member.time_zone)
    cant_token, cant = new_link(member_id, "rsvp_no", now, meeting=(group.group_id, occurrence.id))
    stop_token, stop = new_link(member_id, "unsubscribe", now)
    unsubscribe_url = f"{deps.base_url}/u/{stop_token}"
    subject = f"Reminder: {group.name}, {context['short_when']}"
    text, html = render(
        "group_reminder",
        subject=subject,
        name=member.display_name,
        cant_make_it_url=f"{deps.base_url}/c/{cant_token}",
        unsubscribe_url=unsubscribe_url,
        **context,
    )
    params = {"method": "PUBLISH", "charset": "utf-8"}
    calendar = Attachment("meeting.ics", ics(state, occurrence, context, now), "text", "calendar", params)
    return _Email(subject, text, html, unsubscribe_url, calendar, [cant, stop])


def _send(member: Member, email: _Email, deps: SenderDeps) -> str:
    headers = {
        "List-Unsubscribe": f"<{email.unsubscribe_url}>, <mailto:{deps.mailer.sender}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    try:
        return deps.mailer.send(
            member.email,
            email.subject,
            email.text,
            email.html,
            headers=headers,
            configuration_set=deps.configuration_set,
            attachment=email.calendar,
        )
    except Exception as exc:
        response = getattr(exc, "response", None) or {}
        code = str(response.get("Error", {}).get("Code") or type(exc).__name__)
        if code in PERMANENT:
            raise _Permanent("rejected") from None
        raise TransientSendError(code) from None
