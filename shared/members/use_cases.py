"""Member use-cases: the profile, away mode, export and erasure."""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DeleteError, DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.adapters.db import cancellation_codes, connection, newest_first, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.models import (
    CalendarSecret,
    Circle,
    EmailClaim,
    Invitation,
    Item,
    LeftPact,
    LinkToken,
    Member,
    NudgeSent,
    PactView,
    QuietHours,
    TimelineEntry,
    member_pk,
    pact_pk,
)
from shared.adapters.schema_types import WEEKDAY_NAMES, Page
from shared.digest import planning as digest_planning
from shared.domain.errors import Conflict, InvalidField
from shared.domain.tags import labelled
from shared.groups import use_cases as groups
from shared.invitations.use_cases import Claimed, claim_on_signup, decline
from shared.members.profile import load as _load
from shared.members.profile import member_out
from shared.members.schemas import AwayIn, ExportOut, MemberOut, NudgeOut, ProfileIn
from shared.network import circle
from shared.network.asks import use_cases as asks
from shared.network.directory import entries as directory
from shared.pacts.planning import (
    MAX_TRANSACTION_ITEMS,
    NUDGE_ATTRIBUTES,
    Ctx,
    active_views,
    carry_preferences,
    local_midnight,
    reschedule,
    view_actions,
    views_of,
)
from shared.pacts.use_cases import check_in_out, forget_member_in_pact, pact_out

MAX_CLAIMED_WITH_PROFILE = 20  # open invitations taken over in the profile's own transaction (two items each)


def _apply(member: Member, email: str, body: ProfileIn) -> None:
    member.display_name = body.display_name
    member.email = email
    member.phone = body.phone
    member.time_zone = body.time_zone
    specialties, modalities = labelled(body.specialties), labelled(body.modalities)
    member.specialties, member.specialty_labels = set(specialties) or None, specialties or None
    member.modalities, member.modality_labels = set(modalities) or None, modalities or None
    member.region_name = body.region
    member.in_directory = body.in_directory
    member.channels = list(body.notifications.channels)  # type: ignore[arg-type]  # PynamoDB types list items as attributes
    member.nudge_hour = body.notifications.nudge_hour
    member.weekly_digest = body.weekly_digest
    member.quiet_days = {WEEKDAY_NAMES.index(d) for d in body.notifications.quiet_days} or None
    member.quiet_hours = [
        QuietHours(weekday=WEEKDAY_NAMES.index(q.weekday), start=q.start, end=q.end) for q in body.notifications.quiet_hours
    ] or None


def put_profile(ctx: Ctx, email: str | None, email_verified: bool, body: ProfileIn) -> MemberOut:  # noqa: PLR0915 - one transaction, read top to bottom
    """Create or replace the profile. The email is the sign-in's verified email, never the body's."""
    if not email or not email_verified:
        raise InvalidField("email", "your sign-in carries no verified email address")
    try:
        member = Member.get(*Member.key(ctx.sub))
        old_email: str | None = member.email
    except DoesNotExist:
        member = Member(*Member.key(ctx.sub), created_at=ctx.now)
        old_email = None
    old_phone = member.phone if old_email is not None else None
    listed = directory.terms_of(member) if old_email is not None else set()
    _apply(member, email, body)
    member.updated_at = ctx.now
    claim = EmailClaim(*EmailClaim.key(email), sub=ctx.sub, display_name=body.display_name)
    releases = old_email is not None and old_email != email
    if "email" in body.notifications.channels:
        member.nudges_unsubscribed = False  # saving email as a channel is how nudges are turned back on
    if body.phone != old_phone:
        member.sms_opted_out = False  # a new number has not said STOP
    if releases:
        member.email_suppressed = None  # a new address gets a fresh start
    # Open invitations to this verified address become the member's (on creation, or a new address).
    claiming = old_email != email or member.invitations_pending
    claimed = claim_on_signup(ctx.sub, email, ctx.now) if claiming else Claimed()
    # The directory entries ride in the profile's transaction (opting out removes them at once).
    cards, gone = directory.changes(ctx.sub, listed, member)
    used = 5 + len(cards) + len(gone)  # the profile, the claim, a released claim, and two events
    first = claimed.pairs[: min(MAX_CLAIMED_WITH_PROFILE, (MAX_TRANSACTION_ITEMS - used) // 2)]
    member.invitations_pending = len(claimed.pairs) > len(first)  # the rest follow; saving again finishes them
    digest_planning.plan(member, ctx.now, ctx.due_shards)  # the weekly digest: its next slot by these preferences
    events = [DomainEvent("MemberProfileUpdated", {"member_id": ctx.sub, "created": old_email is None})]
    if claimed:
        pact_ids = [invited.pact_id for invited, _ in claimed.pairs]
        events.append(DomainEvent("InvitationsClaimed", {"member_id": ctx.sub, "pact_ids": pact_ids}))
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(member)
            tx.save(claim, condition=EmailClaim.pk.does_not_exist() | (EmailClaim.sub == ctx.sub))
            if releases:
                tx.delete(EmailClaim(*EmailClaim.key(str(old_email))), condition=EmailClaim.sub == ctx.sub)
            directory.write(tx, cards, gone)
            claimed.write(tx, first)
            if old_email is not None:
                carry_preferences(ctx, member, tx, room=MAX_TRANSACTION_ITEMS - used - 2 * len(first))
            add_events(tx, events, ctx.now)
    except TransactWriteError as err:
        _profile_refused(err, deletes=int(releases) + len(gone))
        raise
    if member.invitations_pending:  # more open invitations than fit beside the profile (rare): their own transactions
        claimed.write_rest(len(first), ctx.sub, email, ctx.now)
        member.invitations_pending = False
        member.update(actions=[Member.invitations_pending.set(False)], add_version_condition=False)
    if claimed.groups:  # group invitations to the address show in the member's GET /groups
        groups.claim_invitations(ctx.sub, ctx.now, claimed.groups)
    return member_out(ctx.sub, member)


def _profile_refused(err: TransactWriteError, deletes: int) -> None:
    """The profile's transaction was cancelled: a 409 saying why, if it was a clash (else the caller re-raises)."""
    codes = cancellation_codes(err)  # deletes come first, then the profile, then the claim
    if len(codes) > deletes + 1 and codes[deletes + 1] == "ConditionalCheckFailed":
        raise Conflict("This email address belongs to another member's profile.") from err
    if refused(err):
        raise Conflict("Your profile changed at the same moment elsewhere; please try again.") from err


# ------------------------------------------------------------------ away mode


def set_away(ctx: Ctx, body: AwayIn) -> MemberOut:
    """Pause every pact of the member (on both parties' views) until a date; it all resumes by itself then."""
    member = _load(ctx.sub)
    until = local_midnight(body.until, member.time_zone)
    if until <= ctx.now:
        raise InvalidField("until", "must be a date after today")
    if until > ctx.now + timedelta(days=366):
        raise InvalidField("until", "can be at most a year ahead")
    previous = member.away_until
    views = active_views(ctx.sub)

    def pause(view: PactView) -> datetime:
        # A pause of the pact's own stands if it is longer; one that only earlier away mode set is replaced.
        own = view.paused_until if view.paused_until != previous else None
        return max(filter(None, [own, until]))

    away = DomainEvent("MemberWentAway", {"member_id": ctx.sub, "until": until.isoformat(), "pact_ids": [v.pact_id for v in views]})
    _pause_everywhere(ctx, member, views, until, pause, away)
    member.away_until = until
    return member_out(ctx.sub, member)


def clear_away(ctx: Ctx) -> MemberOut:
    """Back early: lift the pauses that away mode set (a pact paused on its own stays paused)."""
    member = _load(ctx.sub)
    if member.away_until is None:
        return member_out(ctx.sub, member)
    away = member.away_until
    views = [v for v in active_views(ctx.sub) if v.paused_until == away]
    _pause_everywhere(ctx, member, views, None, lambda _: None, DomainEvent("MemberBack", {"member_id": ctx.sub}))
    member.away_until = None
    return member_out(ctx.sub, member)


def _pause_everywhere(ctx: Ctx, member: Member, views: list[PactView], away_until: datetime | None, pause: Any, event: DomainEvent) -> None:
    """The profile, the member's views, and their colleagues' views of the same pacts.

    One transaction for up to a hundred items (some fifty pacts); a member with more
    gets consecutive transactions, each consistent, the profile and the event in the first.
    """
    writes: list[tuple[Item, list[Action], dict[str, Any]]] = [
        (member, [Member.away_until.set(away_until) if away_until else Member.away_until.remove(), Member.updated_at.set(ctx.now)], {})
    ]
    for view in views:
        until = pause(view)
        view.paused_until, view.updated_at = until, ctx.now
        reschedule(view, ctx.due_shards)
        writes.append((view, view_actions(view, ("paused_until", "updated_at", *NUDGE_ATTRIBUTES)), {}))
        if view.colleague_sub and view.mutual:
            # Their view's version is not known here: bump it blindly, so a concurrent writer retries.
            # Their nudge is not recomputed here; the sender re-plans a nudge that meets a pause.
            theirs = PactView(*PactView.key(view.pact_id, view.colleague_sub), version=0)
            blind = view_actions(view, ("paused_until", "updated_at"))
            writes.append((theirs, blind, {"condition": PactView.pk.exists(), "add_version_condition": False}))
    try:
        size = MAX_TRANSACTION_ITEMS - 1  # room for the event
        for start in range(0, len(writes), size):
            with TransactWrite(connection=connection()) as tx:
                for item, actions, options in writes[start : start + size]:
                    tx.update(item, actions=list(actions), **options)  # PynamoDB appends the version action
                add_events(tx, [event] if start == 0 else [], ctx.now)
    except TransactWriteError as err:
        if refused(err):
            raise Conflict("Your pacts changed at the same moment elsewhere; please try again.") from err
        raise


# ------------------------------------------------------------------ export and erasure


def export(ctx: Ctx) -> ExportOut:
    """Everything the member owns: the profile, their pacts, their check-ins with their own notes.

    Cost grows with the member's own data (paged queries of their partition and of
    their pacts), never with the table.
    """
    try:
        profile: MemberOut | None = member_out(ctx.sub, Member.get(*Member.key(ctx.sub)))
    except DoesNotExist:
        profile = None
    pacts = [
        pact_out(v, ctx.now)
        for v in PactView.gsi1.query(member_pk(ctx.sub), PactView.gsi1sk.startswith("PACT#"))
        if isinstance(v, PactView)
    ]
    check_ins = [
        check_in_out(t, ctx.sub)
        for t in TimelineEntry.query(member_pk(ctx.sub), TimelineEntry.sk.startswith("CHECKIN#"), scan_index_forward=False)
        if isinstance(t, TimelineEntry)
    ]
    return ExportOut(exported_at=ctx.now, profile=profile, pacts=pacts, check_ins=check_ins, asks=asks.export_asks(ctx))


def erase(ctx: Ctx) -> None:
    """Erase the member and everything they own, without touching what a colleague recorded.

    A colleague who shares a pact (now or before the member left it) keeps it, one-sided,
    with its history; the erased member's name, email and phone leave their view, and the
    check-ins the erased member recorded there stay as facts ("we talked") with no author
    and no note. Pacts nobody else keeps go entirely. The profile goes last, so a retry
    after a failure finds everything again.
    """
    own = list(Item.query(member_pk(ctx.sub)))
    profile = next((i for i in own if isinstance(i, Member)), None)
    directory.remove_all(own)  # out of the directory first, at once
    my_circle = next((i for i in own if isinstance(i, Circle)), None)
    away_until = profile.away_until if profile else None
    for left in (i for i in own if isinstance(i, LeftPact)):
        forget_member_in_pact(left.pact_id, ctx.sub, left.colleague_sub, ctx)
    views = [v for v in PactView.gsi1.query(member_pk(ctx.sub), PactView.gsi1sk.startswith("PACT#")) if isinstance(v, PactView)]
    for view in views:
        if view.state == "invited":
            # An invitation to the erased member: as if declined (the inviter learns nothing about accounts).
            decline(ctx, view.pact_id)
            continue
        if view.invite_key:  # an invitation the member sent: withdrawn, and its address goes too
            Invitation(*Invitation.key(view.invite_key, view.pact_id)).delete()
        others = views_of(view.pact_id)
        others.pop(ctx.sub, None)
        theirs = next(iter(others.values()), None)
        if theirs is None or theirs.state == "invited":
            # Nobody else keeps the pact (an invitation from the erased member is withdrawn).
            if theirs is not None:
                theirs.delete(add_version_condition=False)
            with Item.batch_write() as batch:
                for item in Item.query(pact_pk(view.pact_id), Item.sk.startswith("CHECKIN#")):
                    batch.delete(item)
        else:
            lift = away_until if view.state == "active" else None
            forget_member_in_pact(view.pact_id, ctx.sub, theirs.member_sub, ctx, lift_pause=lift)
        view.delete(add_version_condition=False)
    asks.erase_member(ctx)  # their asks go (replies, inboxes); their replies elsewhere become "a former member"
    group_ids = groups.erase_member(ctx)  # the member leaves every group; their attendance stays only as a count
    from shared.network.introductions.use_cases import erase_member as erase_introductions

    erase_introductions(ctx.sub)  # introductions to and from them go, and the requesters' sides about them
    circle.forget_member(ctx.sub, my_circle)  # out of each colleague's circle (their own goes with the partition)
    links = LinkToken.gsi1.query(member_pk(ctx.sub), LinkToken.gsi1sk.startswith("LINK#"))  # from nudges and texts
    with Item.batch_write() as batch:
        if profile is not None and profile.calendar_key:  # the calendar feed's address stops answering
            batch.delete(CalendarSecret(*CalendarSecret.key(profile.calendar_key)))
        for item in [*own, *links]:
            if item is not profile:
                batch.delete(item)
    erased = DomainEvent("MemberErased", {"member_id": ctx.sub, "pact_ids": [v.pact_id for v in views], "group_ids": group_ids})
    if profile is not None:
        with suppress(DeleteError):  # already gone (a retry), or someone else's since
            EmailClaim(*EmailClaim.key(profile.email)).delete(condition=EmailClaim.sub == ctx.sub)
    with TransactWrite(connection=connection()) as tx:  # the profile goes last, with the event
        if profile is not None:
            tx.delete(profile, add_version_condition=False)
        add_events(tx, [erased], ctx.now)


def recent_nudges(ctx: Ctx, limit: int, cursor: str | None) -> Page[NudgeOut]:
    """The nudge emails sent to the member lately (kept 90 days), newest first."""
    sent, after = newest_first(
        NudgeSent.query,
        member_pk(ctx.sub),
        NudgeSent.sk.startswith("NUDGE#"),
        limit=limit,
        cursor=cursor,
        cursor_keys={"pk": "MEMBER#", "sk": "NUDGE#"},
    )
    items = [NudgeOut(sent_at=n.sent_at, pact_ids=list(n.pact_ids), reminder=n.reminder) for n in sent if isinstance(n, NudgeSent)]
    return Page[NudgeOut](items=items, next=after)
