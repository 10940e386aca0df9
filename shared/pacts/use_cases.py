"""Pact and check-in use-cases. Each takes the caller, `now` and the event publisher; none reads the clock.

DynamoDB budget per request (a transaction counts as one call): at most three, no Scan.
Reading a pact is one query of its partition (both party views come back together, and
the caller not being among them is a plain 404); changing it is one transaction that
writes every view, conditioned on the versions just read.
"""

from __future__ import annotations

import secrets
from contextlib import suppress
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from shared.adapters.db import cancellation_codes, connection, newest_first, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.models import (
    CheckIn,
    EmailClaim,
    Invitation,
    Item,
    LeftPact,
    Member,
    PactView,
    TimelineEntry,
    address_key,
    member_pk,
    pact_pk,
)
from shared.adapters.schema_types import WEEKDAY_CODES, Page
from shared.domain import rhythm
from shared.domain.errors import Conflict, Gone, InvalidField, NotFound
from shared.invitations.use_cases import (
    INVITATION_FIELDS,
    count_invitation,
    decline,
    invitation_state,
    invited_view,
    new_invitation,
    raise_if_limited,
)
from shared.network import circle
from shared.pacts.checkins import check_in_record
from shared.pacts.planning import (
    ENDED_ATTRIBUTES,
    MAX_TRANSACTION_ITEMS,
    PREFERENCE_ATTRIBUTES,
    Ctx,
    Retry,
    end_view,
    establishment_of,
    first_due_on_joining,
    is_pact_id,
    local_midnight,
    my_views,
    pact_status,
    persist_views,
    prefs_of,
    reschedule,
    share_progress,
    with_retries,
)
from shared.pacts.schemas import (
    CheckInOut,
    ColleagueOut,
    EstablishmentOut,
    InvitationOut,
    PactIn,
    PactOut,
    PactPatch,
    PauseIn,
    ResendIn,
    RhythmIn,
    RhythmOut,
)

FORMER_MEMBER = "A former colleague"


def rule_for(body: RhythmIn) -> str:
    if body.every_days is not None:
        return rhythm.every_days(body.every_days)
    assert body.weekday is not None
    assert body.time is not None
    hour, minute = (int(x) for x in body.time.split(":"))
    return rhythm.weekly(rhythm.Slot(WEEKDAY_CODES[body.weekday], hour, minute, body.every_weeks))


def pact_out(view: PactView, now: datetime, invited_email: str | None = None) -> PactOut:
    ended = view.state == "ended"
    # An invitation shows the pact as it would be if they said yes now (never lapsed before they joined).
    starts, due = first_due_on_joining(view, now) if view.state == "invited" else (view.starts_at, view.next_due_at)
    state = pact_status(view, now, due)
    invitation = invitation_state(view, now)
    return PactOut(
        id=view.pact_id,
        role=view.role,
        state=view.state,
        mutual=view.mutual,
        colleague=ColleagueOut(
            member_id=view.colleague_sub if (view.mutual or view.state == "invited") else None,
            name=view.colleague_name,
            email=view.colleague_email or (invited_email if view.role == "owner" and invitation == "pending" else None),
            phone=view.colleague_phone,
        ),
        invitation=(
            InvitationOut(
                state=invitation,
                expires_at=view.invitation_expires_at if invitation != "declined" else None,
            )
            if invitation
            else None
        ),
        ended_reason=view.ended_reason if ended else None,
        ended_at=view.ended_at if ended else None,
        rhythm=RhythmOut(rrule=view.rrule, description=rhythm.describe(view.rrule), time_zone=view.time_zone),
        mode=view.mode,
        time_limit_minutes=int(view.time_limit_minutes),
        grace_days=int(view.grace_days),
        starts_at=starts,
        last_check_in_at=view.last_check_in_at,
        next_due_at=due,
        status="ended" if ended else state.value,
        paused_until=view.paused_until if state is rhythm.Status.PAUSED and not ended else None,
        created_at=view.created_at,
        updated_at=view.updated_at,
        establishment=EstablishmentOut.model_validate(asdict(establishment_of(view, now))),
        slot_reminders=view.slot_reminders is not False,
    )


def _invited_addresses(views: list[PactView], now: datetime) -> dict[str, str]:
    """The addresses of the owner's open invitations (kept on the invitation only): one batch read, if any."""
    keys = [
        Invitation.key(v.invite_key, v.pact_id)
        for v in views
        if v.role == "owner" and v.invite_key and invitation_state(v, now) == "pending"
    ]
    if not keys:
        return {}
    return {i.pact_id: i.email for i in Invitation.batch_get(keys) if isinstance(i, Invitation)}


def get_pact(ctx: Ctx, pact_id: str) -> PactOut:
    try:
        if not is_pact_id(pact_id):
            raise DoesNotExist
        view = PactView.get(*PactView.key(pact_id, ctx.sub))
    except DoesNotExist:
        raise NotFound(f"You have no pact {pact_id}.") from None
    return pact_out(view, ctx.now, _invited_addresses([view], ctx.now).get(pact_id))


def list_pacts(ctx: Ctx, limit: int, cursor: str | None) -> Page[PactOut]:
    found, after = newest_first(
        PactView.gsi1.query,
        member_pk(ctx.sub),
        PactView.gsi1sk.startswith("PACT#"),
        limit=limit,
        cursor=cursor,
        cursor_keys={"pk": "PACT#", "sk": "MEMBER#", "gsi1pk": "MEMBER#", "gsi1sk": "PACT#"},
        partition_attribute="gsi1pk",
    )
    views = [v for v in found if isinstance(v, PactView)]
    addresses = _invited_addresses(views, ctx.now)
    return Page[PactOut](items=[pact_out(v, ctx.now, addresses.get(v.pact_id)) for v in views], next=after)


def _open(view: PactView) -> None:
    """Changes need a pact that is still on: an ended one can be kept (its history) or deleted."""
    if view.state == "ended":
        raise Conflict("This pact has ended; you can keep its history, delete it, or start a new pact.")


# ------------------------------------------------------------------ creating and changing pacts


def _new_pact_id() -> str:
    return "p_" + secrets.token_urlsafe(12)


def create_pact(ctx: Ctx, body: PactIn) -> PactOut:
    """A pact with a colleague: by email an invitation (a member or not, the answer is the same), else an outside colleague."""
    address = body.colleague.email
    keys = [Member.key(ctx.sub), *([EmailClaim.key(address)] if address else [])]
    found = {(i.pk, i.sk): i for i in Item.batch_get(keys)}  # the profile and who the address is, in one call
    me = found.get(Member.key(ctx.sub))
    if not isinstance(me, Member):
        raise Conflict("Create your profile first: PUT /members/me.")
    colleague_sub: str | None = None
    if address:
        if address == me.email:
            raise InvalidField("colleague.email", "that is your own address; a pact is with a colleague")
        claim = found.get(EmailClaim.key(address))
        colleague_sub = claim.sub if isinstance(claim, EmailClaim) else None
        _no_open_pact_with(ctx.sub, address, colleague_sub, ctx.now)
    # The owner's label is what they typed, or the address's local part until the colleague's own
    # name arrives with their acceptance: whether an address belongs to a member shows nowhere before.
    name = body.colleague.name or (address.split("@", 1)[0] if address else None)
    if not name:
        raise InvalidField("colleague.name", "give the colleague's name")
    starts = (body.starts_at or ctx.now).astimezone(UTC)
    if starts > ctx.now + timedelta(days=366) or starts < ctx.now - timedelta(days=5 * 366):
        raise InvalidField("starts_at", "must be within a year from now (or up to five years back)")
    rule = rule_for(body.rhythm)
    next_due = rhythm.Rhythm(rule, me.time_zone, starts).next_due(None)
    pact_id = _new_pact_id()
    invitation = new_invitation(pact_id, address, ctx.sub, ctx.now) if address else None
    mine = PactView(
        *PactView.key(pact_id, ctx.sub),
        member_sub=ctx.sub,
        role="owner",
        state="active",
        colleague_name=name,
        colleague_named=bool(body.colleague.name),
        colleague_phone=body.colleague.phone,
        gsi1pk=member_pk(ctx.sub),
        gsi1sk=f"PACT#{ctx.now.isoformat()}#{pact_id}",
        pact_id=pact_id,
        rrule=rule,
        time_zone=me.time_zone,
        starts_at=starts,
        mode=body.mode,
        time_limit_minutes=body.time_limit_minutes,
        grace_days=body.grace_days,
        next_due_at=next_due,
        created_at=ctx.now,
        updated_at=ctx.now,
        slot_reminders=body.slot_reminders,
        **prefs_of(me),
    )
    if invitation is not None:
        mine.invite_key, mine.invitation_expires_at, mine.invitation_state = (
            address_key(invitation.email),
            invitation.valid_until,
            "pending",
        )
    reschedule(mine, ctx.due_shards)
    puts: list[Item] = [mine]
    if colleague_sub and colleague_sub != ctx.sub:
        mine.colleague_sub = colleague_sub
        puts.append(invited_view(mine, colleague_sub, me, ctx.now))
    if invitation is not None:
        puts.append(invitation)
    events = [DomainEvent("PactCreated", {"pact_id": pact_id, "owner_id": ctx.sub, "colleague_id": None, "rrule": rule})]
    if invitation is not None:
        events.append(DomainEvent("InvitationSent", {"pact_id": pact_id, "owner_id": ctx.sub, "resent": False}))
    try:
        with TransactWrite(connection=connection()) as tx:
            for item in puts:
                tx.save(item, condition=Item.pk.does_not_exist())
            if invitation is not None:
                count_invitation(tx, ctx.sub, ctx.now)
            add_events(tx, events, ctx.now)
    except TransactWriteError as err:
        raise_if_limited(err, len(puts), ctx.now)
        raise
    return pact_out(mine, ctx.now, address)


def _no_open_pact_with(sub: str, address: str, colleague_sub: str | None, now: datetime) -> None:
    """One open pact a colleague: a second is a 409 naming the first (best effort: two requests at the same instant
    may both pass; each is still a sound pact).

    The caller's own views only (one query of their pacts): their invitation to the address (open or expired),
    a mutual pact with the member the address belongs to, or that member's open invitation to them. An ended pact
    does not count, nor an invitation to them that has expired (they could no longer accept it). Nothing is
    revealed: the caller typed the address, and each of those pacts is theirs to see; an unanswered invitation
    is compared by its address only (whether a new address is the same member's shows nowhere).
    """
    key = address_key(address)
    for view in PactView.gsi1.query(member_pk(sub), PactView.gsi1sk.startswith("PACT#")):
        if not isinstance(view, PactView) or view.state == "ended":
            continue
        same_member = colleague_sub is not None and view.colleague_sub == colleague_sub
        if view.state == "invited":
            if same_member and invitation_state(view, now) == "pending":
                raise Conflict(f"{view.colleague_name} has invited you already: accept pact {view.pact_id} (POST /pacts/{{id}}/accept).")
        elif view.invite_key == key:
            raise Conflict(f"You have invited this colleague already ({view.pact_id}): send that invitation again instead.")
        elif view.mutual and same_member:
            raise Conflict(f"You have a pact with this colleague already ({view.pact_id}): change its rhythm there (PATCH /pacts/{{id}}).")


def resend_invitation(ctx: Ctx, pact_id: str, body: ResendIn) -> PactOut:
    """The owner sends an open or expired invitation again (to the same or a corrected address), with the same limits."""

    def attempt() -> tuple[PactView, str]:
        mine, theirs = my_views(ctx, pact_id)
        if mine.role != "owner":
            raise Conflict("Only the colleague who sent the invitation can send it again.")
        if mine.state == "ended" or mine.mutual or (mine.invite_key is None and not body.email):
            raise Conflict("This pact has no open or expired invitation to send again.")
        address, me = _resend_to(ctx, mine, theirs, body.email)
        key, old_key = address_key(address), mine.invite_key
        changed = key != old_key
        invited: PactView | None = None
        invitation = new_invitation(pact_id, address, ctx.sub, ctx.now)
        mine.invite_key, mine.invitation_expires_at, mine.invitation_state = key, invitation.valid_until, "pending"
        # The same member (at the same address, or at the new one they changed to) keeps their invited view.
        same_member = theirs is not None and mine.colleague_sub == theirs.member_sub
        if mine.colleague_sub and isinstance(me, Member) and not same_member:
            invited = invited_view(mine, mine.colleague_sub, me, ctx.now)
        if changed and not mine.colleague_named:
            mine.colleague_name = address.split("@", 1)[0]  # the label was the old address's: now the new one's
        try:
            with TransactWrite(connection=connection()) as tx:
                if changed and old_key:
                    tx.delete(Invitation(*Invitation.key(old_key, pact_id)))
                if theirs is not None and not same_member:
                    tx.delete(theirs)  # the invitation went to someone else: the old invited view goes
                elif theirs is not None:
                    theirs.invite_key, theirs.invitation_expires_at, theirs.invitation_state = key, invitation.valid_until, "pending"
                    persist_views(ctx, [theirs], INVITATION_FIELDS, tx)
                if invited is not None:
                    tx.save(invited, condition=Item.pk.does_not_exist())
                persist_views(ctx, [mine], (*INVITATION_FIELDS, "colleague_sub", "colleague_name"), tx)
                tx.save(invitation)
                count_invitation(tx, ctx.sub, ctx.now)
                add_events(tx, [DomainEvent("InvitationSent", {"pact_id": pact_id, "owner_id": ctx.sub, "resent": True})], ctx.now)
        except TransactWriteError as err:
            raise_if_limited(err, len(cancellation_codes(err)) - 2, ctx.now)
            if refused(err):
                raise Retry from err
            raise
        return mine, address

    mine, address = with_retries(attempt)
    return pact_out(mine, ctx.now, address)


def _resend_to(ctx: Ctx, mine: PactView, theirs: PactView | None, email: str | None) -> tuple[str, Member | None]:
    """The address a re-sent invitation goes to, and who it belongs to (mine.colleague_sub) where that needs a look-up.

    A corrected address (or one given again after the invitation item went) may be a member's,
    who then sees the invitation at once. The same address still on record needs no look-up: a
    member who signed up since took the invitation over then, expired or not.
    """
    if email is None:
        try:
            return Invitation.get(*Invitation.key(str(mine.invite_key), mine.pact_id), consistent_read=True).email, None
        except DoesNotExist:
            raise InvalidField("email", "the invitation expired and its address is no longer kept; give it again") from None
    if address_key(email) == mine.invite_key and theirs is not None:
        return email, None
    found = {(i.pk, i.sk): i for i in Item.batch_get([Member.key(ctx.sub), EmailClaim.key(email)])}
    me, claim = found.get(Member.key(ctx.sub)), found.get(EmailClaim.key(email))
    if not isinstance(me, Member) or email == me.email:
        raise InvalidField("email", "that is your own address; a pact is with a colleague")
    mine.colleague_sub = claim.sub if isinstance(claim, EmailClaim) else None
    return email, me


def update_pact(ctx: Ctx, pact_id: str, body: PactPatch) -> PactOut:
    def attempt() -> PactOut:
        mine, theirs = my_views(ctx, pact_id)
        _open(mine)
        views = [mine] if theirs is None else [mine, theirs]
        rule = rule_for(body.rhythm) if body.rhythm else mine.rrule
        agreed = (mine.rrule, mine.mode, int(mine.time_limit_minutes))  # the call both agreed: the other hears of a change
        for view in views:
            view.rrule = rule
            view.mode = body.mode or view.mode
            view.time_limit_minutes = body.time_limit_minutes or view.time_limit_minutes
            view.grace_days = view.grace_days if body.grace_days is None else body.grace_days
            view.next_due_at = rhythm.Rhythm(rule, view.time_zone, view.starts_at).next_due(view.last_check_in_at)
            view.slot_reminders = view.slot_reminders if body.slot_reminders is None else body.slot_reminders
        if body.colleague_name:
            mine.colleague_name, mine.colleague_named = body.colleague_name, True
        updated = [DomainEvent("PactUpdated", {"pact_id": pact_id, "member_id": ctx.sub})]
        if (mine.rrule, mine.mode, int(mine.time_limit_minutes)) != agreed:
            updated.append(DomainEvent("PactTermsChanged", {"pact_id": pact_id, "member_id": ctx.sub}))
        terms = ("rrule", "mode", "time_limit_minutes", "grace_days", "next_due_at", "slot_reminders")
        persist_views(ctx, views, terms, events=() if body.colleague_name else updated)
        if body.colleague_name:
            persist_views(ctx, [mine], ("colleague_name", "colleague_named"), events=updated)
        return pact_out(mine, ctx.now)

    return with_retries(attempt)


def accept_pact(ctx: Ctx, pact_id: str) -> PactOut:
    """The invited member says yes: the pact is mutual, the address's invitation goes, and its history is theirs too."""

    def attempt() -> PactOut:
        mine, theirs = my_views(ctx, pact_id)
        if mine.role != "colleague" or mine.state != "invited":
            raise Conflict("There is no open invitation to accept on this pact.")
        if mine.invitation_expires_at is not None and ctx.now >= mine.invitation_expires_at:
            raise Gone(f"This invitation expired; {mine.colleague_name} can send it again.")
        me = Member.get(*Member.key(ctx.sub))
        invite_key = mine.invite_key
        mine.state, mine.mutual = "active", theirs is not None
        for name, value in prefs_of(me).items():
            setattr(mine, name, value)
        views = [mine]
        if theirs is not None:
            mine.paused_until = theirs.paused_until  # a pause set meanwhile (the inviter's away mode) holds for both
            theirs.mutual, theirs.colleague_sub, theirs.colleague_email = True, ctx.sub, me.email
            if not theirs.colleague_named:
                theirs.colleague_name, theirs.colleague_named = me.display_name, True  # the owner only knew the address
            views.append(theirs)
            share_progress(theirs, mine)  # the habit so far (the owner may have recorded check-ins meanwhile)
        starts, due = first_due_on_joining(mine, ctx.now)  # a first slot that passed unused: the pact starts now
        restarted = (starts, due) != (mine.starts_at, mine.next_due_at)
        for view in views:
            view.invite_key = view.invitation_expires_at = view.invitation_state = None
            if restarted:
                view.starts_at, view.next_due_at = starts, due
        # Check-ins the owner recorded before the acceptance: one history, the same from both places.
        copies = _history_copies(pact_id, ctx.sub) if mine.last_check_in_at is not None else []
        names = (
            "state",
            "mutual",
            "colleague_name",
            "colleague_named",
            "colleague_sub",
            "colleague_email",
            "paused_until",
            "slot_reminders",
            "starts_at",
            "next_due_at",
            *INVITATION_FIELDS,
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                # Each view keeps its own values for what did not change on it; one transaction writes both.
                persist_views(ctx, views, (*names, *PREFERENCE_ATTRIBUTES), tx)
                if invite_key:
                    tx.delete(Invitation(*Invitation.key(invite_key, pact_id)))
                if theirs is not None:  # mutual now: each party's circle gets the other
                    circle.pact_made(tx, pact_id, ctx.sub, theirs.member_sub)
                for copy in copies[:IN_ACCEPT]:
                    tx.save(copy)
                accepted = {"pact_id": pact_id, "member_id": ctx.sub}
                add_events(tx, [DomainEvent("PactAccepted", accepted), DomainEvent("InvitationAccepted", accepted)], ctx.now)
        except TransactWriteError as err:
            if refused(err):
                raise Retry from err
            raise
        with TimelineEntry.batch_write() as batch:  # a long history: the rest (puts, so a retry is harmless)
            for copy in copies[IN_ACCEPT:]:
                batch.save(copy)
        return pact_out(mine, ctx.now)

    return with_retries(attempt)


IN_ACCEPT = MAX_TRANSACTION_ITEMS - 7  # history copies beside two views, the invitation, two circles and two events


def _history_copies(pact_id: str, sub: str) -> list[TimelineEntry]:
    """The member's timeline copies of a pact's check-ins (never with anyone's note: notes stay with their author)."""
    copies = []
    for check_in in CheckIn.query(pact_pk(pact_id), CheckIn.sk.startswith("CHECKIN#")):
        if isinstance(check_in, CheckIn):
            fields = {
                name: getattr(check_in, name)
                for name in ("check_in_id", "pact_id", "author_sub", "occurred_at", "mode", "duration_minutes", "source", "recorded_at")
            }
            copies.append(TimelineEntry(member_pk(sub), f"{check_in.sk}#{pact_id}", note=None, **fields))
    return copies


def pause_pact(ctx: Ctx, pact_id: str, body: PauseIn) -> PactOut:
    try:
        zone = Member.get(*Member.key(ctx.sub)).time_zone
    except DoesNotExist:
        zone = "UTC"
    until = local_midnight(body.until, zone)
    if until <= ctx.now:
        raise InvalidField("until", "must be a date after today")
    if until > ctx.now + timedelta(days=366):
        raise InvalidField("until", "can be at most a year ahead")
    return _set_pause(ctx, pact_id, until, "PactPaused")


def resume_pact(ctx: Ctx, pact_id: str) -> PactOut:
    return _set_pause(ctx, pact_id, None, "PactResumed")


def _set_pause(ctx: Ctx, pact_id: str, until: datetime | None, event: str) -> PactOut:
    def attempt() -> PactOut:
        mine, theirs = my_views(ctx, pact_id)
        _open(mine)
        views = [mine] if theirs is None else [mine, theirs]
        for view in views:
            view.paused_until = until
        persist_views(ctx, views, ("paused_until",), events=[DomainEvent(event, detail)])
        return pact_out(mine, ctx.now)

    detail: dict[str, Any] = {"pact_id": pact_id, "member_id": ctx.sub}
    if until:
        detail["until"] = until.isoformat()
    return with_retries(attempt)


def end_pact(ctx: Ctx, pact_id: str) -> PactOut:
    """The caller ends the pact and keeps its history, as the colleague does.

    Both views end in one transaction: the caller's (`you_ended`, nothing to tell them) and the
    colleague's (`colleague_left`, one short notice); each keeps every check-in and only their own
    notes, never nudged, texted or reminded again. An invitation nobody answered is withdrawn (the
    address's invitation and any invited view go). Ending an ended pact answers it as it is; each
    side may DELETE its own ended view later, and the other side keeps theirs.
    """

    def attempt() -> PactView:
        mine, theirs = my_views(ctx, pact_id)
        if mine.state == "invited":
            raise Conflict("This is an invitation to you: decline it (POST /pacts/{id}/decline) rather than end it.")
        if mine.state == "ended":
            return mine
        invite_key, mutual = mine.invite_key, mine.mutual
        end_view(mine, "you_ended", ctx.now)
        mine.ended_notice = None  # they ended it themselves: nothing to tell them
        views = [mine]
        try:
            with TransactWrite(connection=connection()) as tx:
                if invite_key:
                    tx.delete(Invitation(*Invitation.key(invite_key, pact_id)))  # withdrawn
                if theirs is not None and mutual:  # the tie goes from both circles
                    circle.pact_ended(tx, pact_id, ctx.sub, theirs.member_sub)
                if theirs is not None and theirs.state == "invited":
                    tx.delete(theirs)
                elif theirs is not None and theirs.state == "active":
                    end_view(theirs, "colleague_left", ctx.now)
                    views.append(theirs)
                persist_views(ctx, views, ENDED_ATTRIBUTES, tx)
                add_events(tx, [DomainEvent("PactEnded", {"pact_id": pact_id, "member_id": ctx.sub})], ctx.now)
        except TransactWriteError as err:
            if refused(err):
                raise Retry from err
            raise
        return mine

    return pact_out(with_retries(attempt), ctx.now)


def delete_pact(ctx: Ctx, pact_id: str) -> None:
    """The caller leaves the pact and deletes their side of it; an invited member's DELETE declines the invitation.

    A colleague who keeps the pact (on, or ended with its history) keeps the pact's whole
    history; if it was on, their view ends (`ended`, `colleague_left`): never nudged or texted
    again, one short notice. The leaver's private notes on it go (nobody could read them any
    more), and so do the leaver's own copies. An invitation the owner leaves behind is
    withdrawn: the invited view and the address's invitation go. The view that grants access
    is removed last, so a retry after a failure finishes the job. (`end_pact` ends it and keeps
    the caller's history too.)
    """

    def attempt() -> bool:
        mine, theirs = my_views(ctx, pact_id)
        if mine.state == "invited":
            return False
        _delete_my_timeline(ctx.sub, pact_id)
        keeps = theirs is not None and theirs.state in ("active", "ended")
        if keeps:
            _strip_notes(pact_id, ctx.sub)
        else:
            _delete_partition_items(pact_pk(pact_id), "CHECKIN#")
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(mine)
                if mine.invite_key:
                    tx.delete(Invitation(*Invitation.key(mine.invite_key, pact_id)))  # withdrawn
                if theirs is not None and mine.mutual:  # the tie goes from both circles
                    circle.pact_ended(tx, pact_id, ctx.sub, theirs.member_sub)
                if theirs is not None and not keeps:
                    tx.delete(theirs)
                if theirs is not None and keeps:
                    if theirs.state == "active":
                        end_view(theirs, "colleague_left", ctx.now)
                        persist_views(ctx, [theirs], ENDED_ATTRIBUTES, tx)
                    else:  # their ended view, as read: if they delete it meanwhile, read again (nobody keeps it then)
                        tx.condition_check(PactView, theirs.pk, theirs.sk, condition=PactView.version == theirs.version)
                    tx.save(
                        LeftPact(member_pk(ctx.sub), f"LEFT#{pact_id}", pact_id=pact_id, colleague_sub=theirs.member_sub, left_at=ctx.now)
                    )
                add_events(tx, [DomainEvent("PactDeleted", {"pact_id": pact_id, "member_id": ctx.sub})], ctx.now)
        except TransactWriteError as err:
            if refused(err):
                raise Retry from err
            raise
        return True

    if not with_retries(attempt):
        decline(ctx, pact_id)


def _strip_notes(pact_id: str, author: str) -> None:
    """Remove an author's private notes from a pact's check-ins (they can no longer read them)."""
    mine = CheckIn.author_sub == author
    for check_in in CheckIn.query(pact_pk(pact_id), CheckIn.sk.startswith("CHECKIN#"), filter_condition=mine):
        if check_in.note is not None:
            check_in.update(actions=[CheckIn.note.remove()])


def forget_member_in_pact(pact_id: str, sub: str, colleague_sub: str, ctx: Ctx, lift_pause: datetime | None = None) -> None:
    """Erasure, in one pact a colleague keeps: no name, email, phone, note or author left of the member there.

    The colleague's view ends (`colleague_erased`, one notice without a name) unless it had
    ended already; an invitation from the erased member is withdrawn.
    """
    for check_in in CheckIn.query(pact_pk(pact_id), CheckIn.sk.startswith("CHECKIN#"), filter_condition=CheckIn.author_sub == sub):
        check_in.update(actions=[CheckIn.author_sub.remove(), CheckIn.note.remove()])
        copy = TimelineEntry(member_pk(colleague_sub), f"{check_in.sk}#{pact_id}")
        with suppress(UpdateError):  # the colleague has no copy of this one (they joined later, or left)
            copy.update(actions=[TimelineEntry.author_sub.remove()], condition=TimelineEntry.pk.exists())

    def attempt() -> None:
        # Read afresh on every attempt: the colleague may be changing the pact at this very moment.
        try:
            theirs = PactView.get(*PactView.key(pact_id, colleague_sub), consistent_read=True)
        except DoesNotExist:
            return
        if theirs.state == "invited":
            theirs.delete(add_version_condition=False)  # an invitation from the erased member: withdrawn
            return
        if theirs.state == "ended" and theirs.ended_notice == "pending":
            theirs.ended_reason = "colleague_erased"  # left, then erased before the notice went: it names nobody
        end_view(theirs, "colleague_erased", ctx.now)
        theirs.colleague_name, theirs.colleague_named = FORMER_MEMBER, True
        theirs.colleague_email = theirs.colleague_phone = None
        if lift_pause is not None and theirs.paused_until == lift_pause:
            theirs.paused_until = None  # a pause that only the erased member's away mode set
        names = (*ENDED_ATTRIBUTES, "colleague_name", "colleague_named", "colleague_email", "colleague_phone", "paused_until")
        persist_views(ctx, [theirs], names)  # a concurrent change: Retry, read again

    # Still failing after the retries: a 409 before the erased member's own view goes, so that
    # erasing again finds this pact again and finishes the job.
    with_retries(attempt)


def _delete_my_timeline(sub: str, pact_id: str) -> None:
    """The caller's copies of a pact's check-ins (a query of their own partition, filtered to the pact)."""
    entries = TimelineEntry.query(
        member_pk(sub), TimelineEntry.sk.startswith("CHECKIN#"), filter_condition=TimelineEntry.pact_id == pact_id
    )
    with TimelineEntry.batch_write() as batch:
        for entry in entries:
            batch.delete(entry)


def _delete_partition_items(pk: str, prefix: str) -> None:
    with Item.batch_write() as batch:
        for item in Item.query(pk, Item.sk.startswith(prefix)):
            batch.delete(item)


# ------------------------------------------------------------------ check-ins


def check_in_out(item: CheckIn | TimelineEntry, sub: str) -> CheckInOut:
    return CheckInOut.model_validate(asdict(check_in_record(item, sub)))


def list_pact_check_ins(ctx: Ctx, pact_id: str, limit: int, cursor: str | None) -> Page[CheckInOut]:
    get_pact(ctx, pact_id)  # 404 unless the caller is a party
    check_ins, after = newest_first(
        CheckIn.query,
        pact_pk(pact_id),
        CheckIn.sk.startswith("CHECKIN#"),
        limit=limit,
        cursor=cursor,
        cursor_keys={"pk": "PACT#", "sk": "CHECKIN#"},
    )
    items = [c for c in check_ins if isinstance(c, CheckIn)]
    out = [check_in_out(c, ctx.sub) for c in items]
    # My own notes on calls my colleague recorded first live on my timeline copies: one batch read, only
    # when the page has such calls (the third call of the request).
    theirs = [(member_pk(ctx.sub), f"{c.sk}#{pact_id}") for c in items if c.author_sub != ctx.sub]
    if theirs:
        notes = {t.sk: t.note for t in TimelineEntry.batch_get(theirs) if isinstance(t, TimelineEntry) and t.note}
        for c, shown in zip(items, out, strict=True):
            if c.author_sub != ctx.sub:
                shown.note = notes.get(f"{c.sk}#{pact_id}")
    return Page[CheckInOut](items=out, next=after)


def list_my_check_ins(ctx: Ctx, limit: int, cursor: str | None) -> Page[CheckInOut]:
    entries, after = newest_first(
        TimelineEntry.query,
        member_pk(ctx.sub),
        TimelineEntry.sk.startswith("CHECKIN#"),
        limit=limit,
        cursor=cursor,
        cursor_keys={"pk": "MEMBER#", "sk": "CHECKIN#"},
    )
    return Page[CheckInOut](items=[check_in_out(t, ctx.sub) for t in entries if isinstance(t, TimelineEntry)], next=after)


def agreed_pact_views(ctx: Ctx, me: Member, colleague: Member, terms: Any) -> tuple[PactView, PactView]:
    """A pact both members have agreed to already (an accepted introduction): both views active and mutual.

    `terms` carries the usual pact terms (rhythm, mode, time_limit_minutes, grace_days, starts_at); the
    caller writes the two views in its own transaction. No invitation round: nobody is left to ask.
    """
    starts = (terms.starts_at or ctx.now).astimezone(UTC)
    if starts > ctx.now + timedelta(days=366) or starts < ctx.now - timedelta(days=5 * 366):
        raise InvalidField("starts_at", "must be within a year from now (or up to five years back)")
    rule = rule_for(terms.rhythm)
    pact_id = _new_pact_id()
    colleague_sub = colleague.pk.removeprefix("MEMBER#")
    mine = PactView(
        *PactView.key(pact_id, ctx.sub),
        member_sub=ctx.sub,
        role="owner",
        state="active",
        mutual=True,
        colleague_sub=colleague_sub,
        colleague_name=colleague.display_name,
        colleague_email=colleague.email,
        gsi1pk=member_pk(ctx.sub),
        gsi1sk=f"PACT#{ctx.now.isoformat()}#{pact_id}",
        pact_id=pact_id,
        rrule=rule,
        time_zone=me.time_zone,
        starts_at=starts,
        mode=terms.mode,
        time_limit_minutes=terms.time_limit_minutes,
        grace_days=terms.grace_days,
        next_due_at=rhythm.Rhythm(rule, me.time_zone, starts).next_due(None),
        created_at=ctx.now,
        updated_at=ctx.now,
        **prefs_of(me),
    )
    theirs = invited_view(mine, colleague_sub, me, ctx.now)
    theirs.state, theirs.mutual, theirs.invitation_state = "active", True, None
    for name, value in prefs_of(colleague).items():
        setattr(theirs, name, value)
    reschedule(mine, ctx.due_shards)
    reschedule(theirs, ctx.due_shards)
    return mine, theirs
