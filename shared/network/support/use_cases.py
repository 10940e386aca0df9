"""My support: the peer contact a member has had, in numbers and in a sentence; and the peer-support log.

GET /members/me/support reads three things (three DynamoDB calls):
1. gsi1 `MEMBER#<sub>` from `GROUP#` to `PACT#~`: the member's pact views (status, last check-in,
   colleague's name) and group memberships (meetings attended / held since joining: per-membership
   counters kept where attendance is recorded, shared/groups/meetings.record_attendance);
2. one range query of the member's partition, `ATTENDED#<90 days ago>` .. `CHECKIN#~`: the meetings
   attended in the last 90 days and the member's timeline copies of check-ins, read without their
   `note` attribute. Check-ins sort after meetings, so the range holds all of them, not only the last
   90 days' — the price of one call instead of two; each copy is small, and a page of 1 MB holds years;
3. one BatchGetItem of the member's groups (their names), only when they are in a group.

"Held" is counted cheaply: `GroupMember.meetings_held` goes up by one when a meeting's attendance is
first recorded (the moment it is "held"), for each active member who had joined by its start. Meetings
held before this counter existed are not in it; `held` is never shown below `attended`.

The last contact is the later of the last check-in on any pact (each view keeps `last_check_in_at`,
whatever its age) and the last meeting attended in the last 90 days (an older meeting is not read).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from shared.adapters.models import Attended, Group, GroupMember, Item, PactView, TimelineEntry, member_pk
from shared.domain import rhythm
from shared.invitations.use_cases import invitation_state
from shared.network.support.schemas import GroupSupportOut, PactSupportOut, SupportOut
from shared.network.support.standing import ago, last_contact
from shared.pacts.planning import Ctx, awaiting_answer, establishment_of, lapsed_since, pact_status
from shared.pacts.schemas import EstablishmentOut

MONTH = timedelta(days=30)
QUARTER = timedelta(days=90)


@dataclass(frozen=True)
class Ties:
    """The member's pact views and active group memberships (one gsi1 query)."""

    views: list[PactView]
    memberships: list[GroupMember]


def ties(sub: str) -> Ties:
    views: list[PactView] = []
    memberships: list[GroupMember] = []
    for item in Item.gsi1.query(member_pk(sub), Item.gsi1sk.between("GROUP#", "PACT#~")):
        if isinstance(item, PactView):
            views.append(item)
        elif isinstance(item, GroupMember) and item.state == "active":
            memberships.append(item)
    return Ties(views, memberships)


HISTORY_ATTRIBUTES = [
    *("pk", "sk", "kind", "check_in_id", "pact_id", "occurred_at", "mode", "duration_minutes", "recorded_at"),
    *("group_id", "group_name", "original_start", "starts_at", "presented"),
]


def history(sub: str, meetings_since: datetime) -> tuple[list[Attended], list[TimelineEntry]]:
    """Meetings attended since `meetings_since` and every check-in copy (never a note): one range query."""
    meetings: list[Attended] = []
    entries: list[TimelineEntry] = []
    lower = f"ATTENDED#{meetings_since:%Y-%m-%dT%H:%M:%SZ}"
    for item in Item.query(member_pk(sub), Item.sk.between(lower, "CHECKIN#~"), attributes_to_get=HISTORY_ATTRIBUTES):
        if isinstance(item, Attended):
            meetings.append(item)
        elif isinstance(item, TimelineEntry):
            entries.append(item)
    return meetings, entries


def check_ins_since(sub: str, since: datetime, until: datetime | None = None) -> list[TimelineEntry]:
    """The member's copies of check-ins from `since` (to `until`), oldest first, read without the note attribute."""
    upper = f"CHECKIN#{until:%Y-%m-%dT%H:%MZ}~" if until is not None else "CHECKIN#~"
    return [
        e
        for e in TimelineEntry.query(
            member_pk(sub),
            TimelineEntry.sk.between(f"CHECKIN#{since:%Y-%m-%dT%H:%MZ}", upper),
            attributes_to_get=["pk", "sk", "kind", "check_in_id", "pact_id", "occurred_at", "mode", "duration_minutes", "recorded_at"],
        )
        if isinstance(e, TimelineEntry)
    ]


def names(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def summary(
    colleagues: list[str],
    meetings: int,
    lapsed: list[tuple[str, datetime]],
    last: datetime | None,
    now: datetime,
    unanswered: Sequence[tuple[str, str]] = (),
) -> str:
    """The numbers in plain words: who this month, which contact lapsed when, and which invitation is not answered."""
    if colleagues:
        count = len(colleagues)
        first = f"You've talked with {count} colleague{'s' if count != 1 else ''} this month"
        if meetings:
            first += f" and been to {meetings} group meeting{'s' if meetings != 1 else ''}"
    elif meetings:
        first = f"You've been to {meetings} group meeting{'s' if meetings != 1 else ''} this month"
    elif last is not None:
        first = f"You haven't talked with a colleague this month; your last contact was {ago(last, now)}"
    else:
        first = "No contact with a colleague is recorded yet"
    parts = [first]
    for name, since in sorted(lapsed, key=lambda pair: pair[1]):
        parts.append(f"contact with {name} lapsed {ago(since, now)}")
    for name, state in unanswered:
        parts.append(
            f"{name} has not answered your invitation yet" if state == "pending" else f"your invitation to {name} expired unanswered"
        )
    return "; ".join(parts) + "."


def support(ctx: Ctx) -> SupportOut:
    now = ctx.now
    mine = ties(ctx.sub)
    meetings, entries = history(ctx.sub, now - QUARTER)
    recent = [e for e in entries if now - QUARTER <= e.occurred_at <= now]
    # People, not names: two colleagues called Sarah are two; a pact that is gone stands for its colleague.
    person_of = {v.pact_id: v.colleague_sub or v.pact_id for v in mine.views}
    in_month = [e for e in recent if e.occurred_at >= now - MONTH]
    colleagues = sorted({person_of.get(e.pact_id, e.pact_id) for e in in_month})
    active = sorted((v for v in mine.views if v.state == "active"), key=lambda v: v.created_at)
    pacts = [_pact_out(v, now) for v in active]
    lapsed = [(p.colleague, p.lapsed_since) for p in pacts if p.lapsed_since is not None]
    unanswered = [(p.colleague, p.invitation) for p in pacts if p.invitation is not None]
    group_names: dict[str, str] = {}
    if mine.memberships:
        keys = [Group.key(m.group_id) for m in mine.memberships]
        group_names = {g.group_id: g.name for g in Group.batch_get(keys) if isinstance(g, Group)}
    groups = [
        GroupSupportOut(
            id=m.group_id,
            name=group_names.get(m.group_id, ""),
            attended=int(m.attended),
            held=max(int(m.meetings_held or 0), int(m.attended)),
        )
        for m in sorted(mine.memberships, key=lambda m: m.gsi1sk or "")
    ]
    month_meetings = sum(1 for a in meetings if now - MONTH <= a.starts_at <= now)
    last = last_contact(mine.views, [a for a in meetings if a.starts_at <= now])
    return SupportOut(
        as_of=now,
        pacts=pacts,
        check_ins_30_days=len(in_month),
        check_ins_90_days=len(recent),
        colleagues_30_days=len(colleagues),
        meetings_attended_30_days=month_meetings,
        meetings_attended_90_days=sum(1 for a in meetings if a.starts_at <= now),
        groups=groups,
        last_contact_at=last,
        days_since_last_contact=None if last is None else max(0, (now - last).days),
        summary=summary(colleagues, month_meetings, [(n, s) for n, s in lapsed if s is not None], last, now, unanswered),
    )


def _pact_out(view: PactView, now: datetime) -> PactSupportOut:
    state = pact_status(view, now)
    waiting = invitation_state(view, now) if awaiting_answer(view) else None
    return PactSupportOut(
        id=view.pact_id,
        colleague=view.colleague_name,
        status=state.value,
        mutual=bool(view.mutual),
        last_check_in_at=view.last_check_in_at,
        next_due_at=view.next_due_at,
        lapsed_since=lapsed_since(view) if state is rhythm.Status.LAPSED and waiting is None else None,
        invitation=waiting if waiting in ("pending", "expired") else None,
        establishment=EstablishmentOut.model_validate(asdict(establishment_of(view, now))),
    )
