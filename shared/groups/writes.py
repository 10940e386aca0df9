"""Writing a group: one transaction, retried from fresh reads on a clash; when the scheduler looks at it next.

Kept free of the API's request/response models, so the scheduled functions load no pydantic schemas.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.db import connection, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.models import Group, GroupMember, Invitation, Member
from shared.domain import groups as domain
from shared.domain import nudges
from shared.domain.errors import Conflict
from shared.groups import series
from shared.pacts.planning import iso_instant

T = TypeVar("T")
SCHEDULE_AHEAD = timedelta(days=7)  # a meeting's presenters, roles and host are fixed this long before it
ATTEMPTS = 3


class Retry(Exception):
    """Something changed between read and write: read again and redo."""


def with_retries(operation: Callable[[], T]) -> T:
    for attempt in range(ATTEMPTS):
        try:
            return operation()
        except Retry:
            if attempt == ATTEMPTS - 1:
                raise Conflict("The group was changed by someone else at the same moment; please try again.") from None
    raise AssertionError("unreachable")


def transact(write: Callable[[TransactWrite], None], events: Sequence[DomainEvent] = (), now: datetime | None = None) -> None:
    """One transaction (with the change's events, at `now`); a failed condition or a clash means read again (`Retry`)."""
    try:
        with TransactWrite(connection=connection()) as tx:
            write(tx)
            if events:
                if now is None:
                    raise TypeError("events need the instant they occurred at")
                add_events(tx, events, now)
    except TransactWriteError as err:
        if refused(err):
            raise Retry from err
        raise


def withdraw_invitation(person: GroupMember, group_id: str, events: Sequence[DomainEvent] = (), now: datetime | None = None) -> None:
    """An invitation into a group goes (declined, withdrawn, or its person erased): the invited entry and its address item."""

    def write(tx: TransactWrite) -> None:
        tx.delete(person)
        if person.invite_key:
            tx.delete(Invitation(*Invitation.group_key(person.invite_key, group_id)))

    transact(write, events, now)


@dataclass(frozen=True)
class AddressInvitation:
    """An address's open invitation into a group: the invitation, the invited entry, and the group as one read has it."""

    invitation: Invitation
    person: GroupMember
    state: series.GroupState


def invitation_of_address(group_id: str, invite_key: str, now: datetime) -> AddressInvitation | None:
    """The invitation of an address into a group (two reads: the invitation, the group's partition); None once answered
    or withdrawn."""
    try:
        invitation = Invitation.get(*Invitation.group_key(invite_key, group_id), consistent_read=True)
    except DoesNotExist:
        return None
    state = series.load(group_id, now - series.LOOK_BACK)
    person = state.people.get(f"@{invitation.invitation_id}") if state is not None else None
    if state is None or person is None or person.state != "invited" or person.invite_key != invite_key:
        return None
    return AddressInvitation(invitation, person, state)


def decline_group_by_link(found: AddressInvitation, now: datetime) -> None:
    """ "No, thank you" on a group invitation's page (no account needed): it goes as a decline. Conditioned on the
    entry as read: a change meanwhile (an acceptance, a resend, a sign-up taking it over) is `Retry`."""
    person = found.person
    declined = DomainEvent("InvitationDeclined", {"group_id": found.state.group.group_id, "member_id": person.member_sub or None})
    withdraw_invitation(person, found.state.group.group_id, [declined], now)


def fix_at(group: Group, start: datetime) -> datetime:
    """When a meeting is fixed: a week ahead, or halfway from the one before (or to the one after) if they are closer,
    so that each member's reminder of one meeting has gone before the next is fixed."""
    ahead = SCHEDULE_AHEAD
    before = domain.occurrences_before(group.rrule, group.time_zone, group.starts_at, start, 1)
    after = domain.occurrences(group.rrule, group.time_zone, group.starts_at, start, 1, inclusive=False)
    for gap in ([start - before[0]] if before else []) + ([after[0] - start] if after else []):
        ahead = min(ahead, gap / 2)
    return start - ahead


def plan_schedule(group: Group, shards: int, earliest: datetime | None = None) -> None:
    """When the group sweep next has work here: fixing the next meeting, or prompting the agreement's review.

    `earliest`: a meeting moved earlier than its series would say is fixed by then.
    """
    after = group.scheduled_through + timedelta(seconds=1) if group.scheduled_through else group.starts_at
    nxt = domain.occurrences(group.rrule, group.time_zone, group.starts_at, after, 1)
    candidates = [t for t in (fix_at(group, nxt[0]) if nxt else None, group.review_due_at, earliest) if t is not None]
    if not candidates:
        group.group_shard = group.group_due = None
        return
    group.group_shard = nudges.shard(group.group_id, shards)
    group.group_due = iso_instant(min(candidates))


def prefs_of(member: Member) -> dict[str, Any]:
    """A member's reminder preferences as their membership carries them."""
    return {
        "party_time_zone": member.time_zone,
        "party_nudge_hour": int(member.nudge_hour),
        "party_quiet_days": set(member.quiet_days or ()) or None,
        "party_quiet_hours": json.dumps([{"weekday": int(q.weekday), "start": q.start, "end": q.end} for q in member.quiet_hours or []]),
        "party_wants_email": member.wants_email_nudges,
    }
