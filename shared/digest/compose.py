"""What a member's weekly digest says: read once, when it is about to go.

Sections, each only when there is something in it:
- lapsed contacts: the member's active pacts whose contact has lapsed (as GET /members/me/support says),
  not an invitation nobody answered (nobody talked, so nothing lapsed);
- invitations that expired unanswered since the last digest sent (or in the last 7 days): said once (a pact whose
  invitation expired with no call recorded also goes quiet: shared/pacts/planning.slot_messages_end);
- meetings in the next 7 days: the member's groups' upcoming meetings (not cancelled, not ones they said no to);
- asks for them: AskReceived items in their partition not yet `digested`;
- introduction requests: pending Introductions to them (gsi1 MEMBER#<to> / INTRO#…), not yet `digested`, still valid;
- the isolation line: no contact with any colleague (check-in or meeting attended) for 30 days, said at most
  once in 30 days, with one concrete step: re-start a lapsed pact, a group's next meeting, or a suggestion.

Reads: one gsi1 query (pacts, groups, introductions), one query of the member's asks, one for their last
meeting attended, and one query per active group (its partition from now on: series.load).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shared.adapters.models import Ask, AskReceived, Attended, GroupMember, Introduction, Item, PactView, member_pk
from shared.domain import rhythm
from shared.groups import series
from shared.network.support.standing import ago, last_contact
from shared.pacts.planning import awaiting_answer, lapsed_since, pact_status

AHEAD = timedelta(days=7)
ISOLATION_AFTER = timedelta(days=30)  # no contact for this long: the isolation line
ISOLATION_EVERY = timedelta(days=30)  # said at most this often ("at most once a month")
GROUP_LOOK_AHEAD = 3  # upcoming meetings expanded per group (a monthly group's next one is within these)


@dataclass
class Content:
    lapsed: list[dict[str, str]] = field(default_factory=list)
    expired: list[dict[str, str]] = field(default_factory=list)
    meetings: list[dict[str, str]] = field(default_factory=list)
    asks: list[AskReceived] = field(default_factory=list)
    settled: list[AskReceived] = field(default_factory=list)  # asks closed before they were mentioned: never mentioned
    intros: list[Introduction] = field(default_factory=list)
    isolation: str | None = None  # the one concrete step proposed, when the isolation line is said
    never_talked: bool = False  # no contact recorded since they joined: the line says that, not "since you last talked"

    @property
    def empty(self) -> bool:
        return not (self.lapsed or self.expired or self.meetings or self.asks or self.intros or self.isolation)

    def context(self) -> dict[str, Any]:
        return {
            "lapsed": self.lapsed,
            "expired": self.expired,
            "meetings": self.meetings,
            "asks": [{"author": a.author_name, "text": _short(a.text), "audience": a.audience_label} for a in self.asks],
            "intros": [{"from": i.from_name, "message": _short(i.message)} for i in self.intros],
            "isolation": self.isolation,
            "never_talked": self.never_talked,
        }


def _short(text: str, limit: int = 280) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _when(instant: datetime, zone: str) -> str:
    local = instant.astimezone(ZoneInfo(zone))
    return f"{local:%A %-d %B} at {local:%H:%M}"


def gather(
    sub: str, time_zone: str, isolation_said_at: datetime | None, created_at: datetime, now: datetime, last_sent: datetime | None = None
) -> Content:
    content = Content()
    views: list[PactView] = []
    memberships: list[GroupMember] = []
    for item in Item.gsi1.query(member_pk(sub), Item.gsi1sk.between("GROUP#", "PACT#~")):
        if isinstance(item, PactView):
            views.append(item)
        elif isinstance(item, GroupMember) and item.state == "active":
            memberships.append(item)
        elif isinstance(item, Introduction) and _pending_for(item, sub, now):
            content.intros.append(item)
    active = [v for v in views if v.state == "active"]
    lapsed = [v for v in active if not awaiting_answer(v) and pact_status(v, now) is rhythm.Status.LAPSED]
    content.lapsed = [
        {"colleague": v.colleague_name, "since": ago(lapsed_since(v), now), "rhythm": rhythm.describe(v.rrule)}
        for v in sorted(lapsed, key=lapsed_since)
    ]
    # Since the last digest sent, not a fixed week: a digest day moved (quiet days, the nudge hour, the clocks
    # changing) would skip or repeat an expiry. A first digest, or one after a long pause, looks back a week.
    since = last_sent if last_sent is not None and now - last_sent <= 5 * AHEAD else now - AHEAD
    expired = [(v.invitation_expires_at, v) for v in active if awaiting_answer(v) and v.invitation_expires_at is not None]
    content.expired = [
        {"colleague": v.colleague_name, "on": f"{on.astimezone(ZoneInfo(time_zone)):%A %-d %B}", "rhythm": rhythm.describe(v.rrule)}
        for on, v in sorted(expired, key=lambda pair: pair[0])
        if since <= on < now  # since the last digest: said once
    ]
    waiting = [
        a
        for a in AskReceived.query(
            member_pk(sub),
            AskReceived.sk.startswith("ASKED#"),
            filter_condition=(AskReceived.digested == False) | AskReceived.digested.does_not_exist(),  # noqa: E712
        )
        if isinstance(a, AskReceived)
    ]
    # Only asks still open: a closed one takes no more replies (it is marked digested with the rest).
    keys = {Ask.key(w.ask_id) for w in waiting}
    still_open = {a.ask_id for a in Item.batch_get(keys) if isinstance(a, Ask) and a.state == "open"} if keys else set()
    content.asks = [a for a in waiting if a.ask_id in still_open]
    content.settled = [a for a in waiting if a.ask_id not in still_open]
    next_meetings: list[tuple[datetime, str]] = []
    for membership in memberships:
        state = series.load(membership.group_id, now - series.LOOK_BACK)
        if state is None:
            continue
        for occurrence in series.expand(state, now, GROUP_LOOK_AHEAD):
            if occurrence.status == "cancelled" or occurrence.starts_at <= now or occurrence.rsvp(sub) == "no":
                continue
            next_meetings.append((occurrence.starts_at, state.group.name))
            if occurrence.starts_at <= now + AHEAD:
                content.meetings.append({"group": state.group.name, "when": _when(occurrence.starts_at, time_zone)})
            break  # the group's next meeting only
    last_meeting = next(iter(Attended.query(member_pk(sub), Attended.sk.startswith("ATTENDED#"), scan_index_forward=False, limit=1)), None)
    last = last_contact(views, [last_meeting] if isinstance(last_meeting, Attended) else [])
    isolated = (now - last >= ISOLATION_AFTER) if last is not None else (now - created_at >= ISOLATION_AFTER)
    if isolated and (isolation_said_at is None or now - isolation_said_at >= ISOLATION_EVERY):
        content.isolation = _step(lapsed, sorted(next_meetings), time_zone)
        content.never_talked = last is None
    return content


def _pending_for(intro: Introduction, sub: str, now: datetime) -> bool:
    return intro.to_sub == sub and intro.state == "pending" and not intro.digested and intro.valid_until > now


def _step(lapsed: list[PactView], meetings: list[tuple[datetime, str]], zone: str) -> str:
    """One concrete, small step: the contact that lapsed first, else the soonest group meeting, else a suggestion."""
    if lapsed:
        first = min(lapsed, key=lapsed_since)
        return f"Why not send {first.colleague_name} a short note this week and pick your {rhythm.describe(first.rrule)} check-ins back up?"
    if meetings:
        start, group = meetings[0]
        return f"{group} meets next on {_when(start, zone)}; the group would be glad to see you there."
    return (
        "Is there one colleague you trust you could suggest a regular check-in to? Even 20 minutes once a month helps; "
        "you can propose a pact in the app, or look for someone nearby in the directory."
    )
