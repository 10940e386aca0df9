"""Invitations by email: to colleagues who are members already and to those who are not members yet.

An invitation is an `Invitation` item under a key derived from the normalised address
(`INVITE#<sha256>` / `PACT#<id>`): the one place the address is kept in clear while the
invitation is open. Accepting, declining or withdrawing deletes it; after 30 days it
expires (checked against `valid_until`; DynamoDB's TTL removes it). When someone creates
their profile with a verified address that has open invitations, they become theirs: an
invited view appears in their `GET /pacts`, to accept or decline.

Abuse limits: one invitation email per address per 7 days whoever invites (a `SendClaim`
on the address), at most 20 invitations a member a day (a counter written in the same
transaction as the invitation), and none at all to an address that said "don't email me
again", bounced or complained (`AddressSuppression`). None of this shows in any answer:
the inviter gets the same 201 whether the address is a member's, suppressed or invited
already (no enumeration).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.adapters.db import MAX_TRANSACTION_ATTEMPTS, cancellation_codes, connection, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.models import (
    DailyCount,
    Invitation,
    Item,
    Member,
    PactView,
    address_key,
    member_pk,
)
from shared.domain.errors import Conflict, NotFound, TooManyRequests
from shared.pacts.planning import ENDED_ATTRIBUTES, Ctx, Retry, end_view, persist_views, views_of, with_retries

INVITATION_LIFETIME = timedelta(days=30)
DAILY_LIMIT = 20  # invitations (new and re-sent) per member per UTC day
INVITATION_FIELDS = ("invite_key", "invitation_expires_at", "invitation_state")


def new_invitation(pact_id: str, email: str, inviter_sub: str, now: datetime) -> Invitation:
    valid_until = now + INVITATION_LIFETIME
    return Invitation(
        *Invitation.key(address_key(email), pact_id),
        pact_id=pact_id,
        inviter_sub=inviter_sub,
        email=email.strip().lower(),
        created_at=now,
        valid_until=valid_until,
        expires_at=valid_until,
    )


def invitation_state(view: PactView, now: datetime) -> str | None:
    """pending | expired | declined, or None where no invitation is involved (any more)."""
    if view.invitation_state == "declined":
        return "declined"
    if view.invite_key is None or view.invitation_expires_at is None:
        return None
    return "expired" if now >= view.invitation_expires_at else "pending"


# ------------------------------------------------------------------ the daily limit


def _counter_key(sub: str, now: datetime) -> tuple[str, str]:
    return member_pk(sub), f"COUNT#invitations#{now.astimezone(UTC):%Y-%m-%d}"


def count_invitation(tx: TransactWrite, sub: str, now: datetime) -> None:
    """Add one to the member's invitations today, inside the transaction that invites (it fails past the limit)."""
    counter = DailyCount(*_counter_key(sub, now))
    tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)
    tx.update(
        counter,
        # The discriminator too: an item an update creates is still found (and erased) as what it is.
        actions=[DailyCount.kind.set(DailyCount), DailyCount.tally.add(1), DailyCount.expires_at.set(tomorrow + timedelta(days=1))],
        condition=DailyCount.tally.does_not_exist() | (DailyCount.tally < DAILY_LIMIT),
    )


def too_many(now: datetime) -> TooManyRequests:
    tomorrow = datetime.combine(now.astimezone(UTC).date() + timedelta(days=1), time(0), UTC)
    wait = max(1, math.ceil((tomorrow - now).total_seconds()))  # rounded up: waiting that long is enough
    return TooManyRequests(f"You can send at most {DAILY_LIMIT} invitations a day; please try again tomorrow (UTC).", wait)


def raise_if_limited(err: TransactWriteError, counter_index: int, now: datetime) -> None:
    codes = cancellation_codes(err)
    if 0 <= counter_index < len(codes) and codes[counter_index] == "ConditionalCheckFailed":
        raise too_many(now) from err


# ------------------------------------------------------------------ becoming a member


@dataclass
class Claimed:
    """Open invitations a new address takes over: each an invited view to add and the inviter's view to tell who it is."""

    pairs: list[tuple[PactView, PactView]] = field(default_factory=list)
    groups: list[Invitation] = field(default_factory=list)  # invitations into groups: the groups capability takes them over

    def __len__(self) -> int:
        return 2 * len(self.pairs)

    def write(self, tx: TransactWrite, pairs: list[tuple[PactView, PactView]]) -> None:
        for invited, owner in pairs:
            tx.save(invited, condition=Item.pk.does_not_exist())
            tx.update(owner, actions=[PactView.colleague_sub.set(owner.colleague_sub)], condition=PactView.pk.exists())

    def write_rest(self, first: int, member_sub: str, email: str, now: datetime) -> None:
        """Pairs beyond the first `first` (written with the profile), fifty to a transaction.

        A batch that meets a concurrent change (an inviter editing the pact) is claimed again from
        fresh reads: what was written already is skipped then, and nothing is left behind.
        """
        pairs = self.pairs[first:]
        for _ in range(MAX_TRANSACTION_ATTEMPTS):
            try:
                for start in range(0, len(pairs), 50):
                    with TransactWrite(connection=connection()) as tx:
                        self.write(tx, pairs[start : start + 50])
                return
            except TransactWriteError as err:
                if not refused(err):
                    raise
                pairs = claim_on_signup(member_sub, email, now).pairs
        raise Conflict("Some colleagues' invitations changed at the same moment; save your profile again to see them all.")


def claim_on_signup(member_sub: str, email: str, now: datetime) -> Claimed:
    """Invitations to this verified address become the member's (open ones, and expired ones not yet deleted).

    An invited view per open invitation (the terms copied from the inviter's view), and the
    inviter's view told which member the address turned out to be. Costs one query of the
    address's invitations and, when there are some, one batch read (per hundred keys).
    """
    key = address_key(email)
    # One query for the address's invitations of every kind (pacts and groups).
    everything = [i for i in Invitation.query(f"INVITE#{key}", consistent_read=True) if isinstance(i, Invitation)]
    open_ones = [
        i
        for i in everything
        # Expired ones too (until TTL takes them): the new member sees them as expired, and a re-send reaches them.
        if i.sk.startswith("PACT#") and i.inviter_sub != member_sub
    ]
    claimed = Claimed(groups=[i for i in everything if i.sk.startswith("GROUP#")])
    if not open_ones:
        return claimed
    keys = {
        k
        for i in open_ones
        for k in (PactView.key(i.pact_id, i.inviter_sub), PactView.key(i.pact_id, member_sub), Member.key(i.inviter_sub))
    }
    found = {(item.pk, item.sk): item for item in Item.batch_get(list(keys), consistent_read=True)}
    for invitation in open_ones:
        owner = found.get(PactView.key(invitation.pact_id, invitation.inviter_sub))
        inviter = found.get(Member.key(invitation.inviter_sub))
        if not isinstance(owner, PactView) or not isinstance(inviter, Member) or owner.invite_key != key or owner.state != "active":
            continue  # withdrawn or answered meanwhile
        if PactView.key(invitation.pact_id, member_sub) in found:
            continue  # already theirs
        owner.colleague_sub = member_sub
        claimed.pairs.append((invited_view(owner, member_sub, inviter, now), owner))
    return claimed


def invited_view(owner: PactView, colleague_sub: str, inviter: Member, now: datetime) -> PactView:
    """The invited member's view of a pact: the shared terms, the inviter as their colleague."""
    terms = {
        name: getattr(owner, name)
        for name in (
            "pact_id",
            "rrule",
            "time_zone",
            "starts_at",
            "mode",
            "time_limit_minutes",
            "grace_days",
            "next_due_at",
            "last_check_in_at",
            "paused_until",
            "created_at",
            "invite_key",
            "invitation_expires_at",
        )
    }
    return PactView(
        *PactView.key(owner.pact_id, colleague_sub),
        member_sub=colleague_sub,
        role="colleague",
        state="invited",
        colleague_sub=inviter.pk.removeprefix("MEMBER#"),
        colleague_name=inviter.display_name,
        colleague_email=inviter.email,
        colleague_phone=None,
        invitation_state="pending",
        gsi1pk=member_pk(colleague_sub),
        gsi1sk=f"PACT#{owner.created_at.isoformat()}#{owner.pact_id}",
        updated_at=now,
        **terms,
    )


# ------------------------------------------------------------------ declining


def decline(ctx: Ctx, pact_id: str) -> None:
    """The invited member says no: their view goes, the address's invitation goes, the inviter is told once, kindly."""

    def attempt() -> str | None:
        views = views_of(pact_id)
        mine = views.pop(ctx.sub, None)
        if mine is None:
            raise NotFound(f"You have no pact {pact_id}.")
        if mine.state != "invited":
            raise Conflict("There is no open invitation to decline on this pact; to leave it, DELETE it.")
        _decline(ctx, pact_id, mine.invite_key, views, mine, ctx.sub)
        return next(iter(views), None)

    with_retries(attempt)


def decline_by_link(ctx: Ctx, pact_id: str, invite_key: str) -> bool:
    """From the invitation email's page (no account needed). False if the invitation is no longer open."""

    def attempt() -> str | None:
        views = views_of(pact_id)
        owner = next((v for v in views.values() if v.role == "owner"), None)
        if owner is None or owner.invite_key != invite_key or owner.state != "active":
            return None
        invited = next((v for v in views.values() if v.role == "colleague"), None)
        if invited is not None and invited.state != "invited":
            return None  # accepted meanwhile: leaving is the member's to do in the app
        _decline(ctx, pact_id, invite_key, {owner.member_sub: owner}, invited, None)
        return owner.member_sub

    return with_retries(attempt) is not None


def _decline(
    ctx: Ctx, pact_id: str, invite_key: str | None, others: dict[str, PactView], invited: PactView | None, member_id: str | None
) -> None:
    """`member_id`: who declined (None from the invitation page: maybe no member)."""
    owner_id = next(iter(others), None)
    declined = DomainEvent("InvitationDeclined", {"pact_id": pact_id, "member_id": member_id, "owner_id": owner_id})
    try:
        with TransactWrite(connection=connection()) as tx:
            if invited is not None:
                tx.delete(invited)
            if invite_key:
                tx.delete(Invitation(*Invitation.key(invite_key, pact_id)))
            for owner in others.values():
                end_view(owner, "declined", ctx.now)
                owner.colleague_email = None
                persist_views(ctx, [owner], (*ENDED_ATTRIBUTES, "colleague_email"), tx)
            add_events(tx, [declined], ctx.now)
    except TransactWriteError as err:
        if refused(err):
            raise Retry from err
        raise
