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
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.checkins import check_in_record
from shared.db import cancellation_codes, connection, newest_first
from shared.domain import rhythm
from shared.domain.errors import Conflict, InvalidField, NotFound
from shared.events import DomainEvent
from shared.models import (
    CheckIn,
    EmailClaim,
    Item,
    LeftPact,
    Member,
    PactView,
    TimelineEntry,
    member_pk,
    pact_pk,
)
from shared.planning import (
    PREFERENCE_ATTRIBUTES,
    Ctx,
    Retry,
    is_pact_id,
    local_midnight,
    my_views,
    persist_views,
    prefs_of,
    reschedule,
    with_retries,
)
from shared.schemas import (
    WEEKDAY_CODES,
    CheckInOut,
    ColleagueOut,
    PactIn,
    PactOut,
    PactPatch,
    Page,
    PauseIn,
    RhythmIn,
    RhythmOut,
)

FORMER_MEMBER = "A former member"


def rule_for(body: RhythmIn) -> str:
    if body.every_days is not None:
        return rhythm.every_days(body.every_days)
    assert body.weekday is not None
    assert body.time is not None
    hour, minute = (int(x) for x in body.time.split(":"))
    return rhythm.weekly(rhythm.Slot(WEEKDAY_CODES[body.weekday], hour, minute, body.every_weeks))


def pact_out(view: PactView, now: datetime) -> PactOut:
    state = rhythm.status(now=now, next_due=view.next_due_at, grace=timedelta(days=view.grace_days), paused_until=view.paused_until)
    return PactOut(
        id=view.pact_id,
        role=view.role,
        state=view.state,
        mutual=view.mutual,
        colleague=ColleagueOut(
            member_id=view.colleague_sub if (view.mutual or view.state == "invited") else None,
            name=view.colleague_name,
            email=view.colleague_email,
            phone=view.colleague_phone,
        ),
        rhythm=RhythmOut(rrule=view.rrule, description=rhythm.describe(view.rrule), time_zone=view.time_zone),
        mode=view.mode,
        time_limit_minutes=int(view.time_limit_minutes),
        grace_days=int(view.grace_days),
        starts_at=view.starts_at,
        last_check_in_at=view.last_check_in_at,
        next_due_at=view.next_due_at,
        status=state.value,
        paused_until=view.paused_until if state is rhythm.Status.PAUSED else None,
        created_at=view.created_at,
        updated_at=view.updated_at,
    )


def get_pact(ctx: Ctx, pact_id: str) -> PactOut:
    try:
        if not is_pact_id(pact_id):
            raise DoesNotExist
        view = PactView.get(*PactView.key(pact_id, ctx.sub))
    except DoesNotExist:
        raise NotFound(f"You have no pact {pact_id}.") from None
    return pact_out(view, ctx.now)


def list_pacts(ctx: Ctx, limit: int, cursor: str | None) -> Page[PactOut]:
    views, after = newest_first(
        PactView.gsi1.query,
        member_pk(ctx.sub),
        PactView.gsi1sk.startswith("PACT#"),
        limit=limit,
        cursor=cursor,
        cursor_keys={"pk": "PACT#", "sk": "MEMBER#", "gsi1pk": "MEMBER#", "gsi1sk": "PACT#"},
        partition_attribute="gsi1pk",
    )
    return Page[PactOut](items=[pact_out(v, ctx.now) for v in views if isinstance(v, PactView)], next=after)


# ------------------------------------------------------------------ creating and changing pacts


def _new_pact_id() -> str:
    return "p_" + secrets.token_urlsafe(12)


def create_pact(ctx: Ctx, body: PactIn) -> PactOut:
    try:
        me = Member.get(*Member.key(ctx.sub))
    except DoesNotExist:
        raise Conflict("Create your profile first: PUT /members/me.") from None
    colleague_sub: str | None = None
    name = body.colleague.name
    if body.colleague.email:
        if body.colleague.email == me.email:
            raise InvalidField("colleague.email", "that is your own address; a pact is with a colleague")
        with suppress(DoesNotExist):
            colleague_sub = EmailClaim.get(*EmailClaim.key(body.colleague.email)).sub
    # The owner's label is what they typed (or the address): whether an email belongs to a
    # member shows nowhere until that member accepts.
    name = name or body.colleague.email
    if not name:
        raise InvalidField("colleague.name", "give the colleague's name")
    starts = (body.starts_at or ctx.now).astimezone(UTC)
    if starts > ctx.now + timedelta(days=366) or starts < ctx.now - timedelta(days=5 * 366):
        raise InvalidField("starts_at", "must be within a year from now (or up to five years back)")
    rule = rule_for(body.rhythm)
    next_due = rhythm.Rhythm(rule, me.time_zone, starts).next_due(None)
    pact_id = _new_pact_id()
    terms: dict[str, Any] = {
        "pact_id": pact_id,
        "rrule": rule,
        "time_zone": me.time_zone,
        "starts_at": starts,
        "mode": body.mode,
        "time_limit_minutes": body.time_limit_minutes,
        "grace_days": body.grace_days,
        "next_due_at": next_due,
        "created_at": ctx.now,
        "updated_at": ctx.now,
    }
    mine = PactView(
        *PactView.key(pact_id, ctx.sub),
        member_sub=ctx.sub,
        role="owner",
        state="active",
        colleague_sub=colleague_sub,
        colleague_name=name,
        colleague_email=body.colleague.email,
        colleague_phone=body.colleague.phone,
        gsi1pk=member_pk(ctx.sub),
        gsi1sk=f"PACT#{ctx.now.isoformat()}#{pact_id}",
        **terms,
        **prefs_of(me),  # type: ignore[misc]
    )
    reschedule(mine, ctx.due_shards)
    views = [mine]
    if colleague_sub:
        views.append(
            PactView(
                *PactView.key(pact_id, colleague_sub),
                member_sub=colleague_sub,
                role="colleague",
                state="invited",
                colleague_sub=ctx.sub,
                colleague_name=me.display_name,
                colleague_email=me.email,
                colleague_phone=None,
                gsi1pk=member_pk(colleague_sub),
                gsi1sk=f"PACT#{ctx.now.isoformat()}#{pact_id}",
                **terms,
            )
        )
    with TransactWrite(connection=connection()) as tx:
        for view in views:
            tx.save(view, condition=PactView.pk.does_not_exist())
    events = [DomainEvent("PactCreated", {"pact_id": pact_id, "owner_id": ctx.sub, "colleague_id": colleague_sub, "rrule": rule})]
    if colleague_sub:
        events.append(DomainEvent("PactInvitationSent", {"pact_id": pact_id, "owner_id": ctx.sub, "colleague_id": colleague_sub}))
    ctx.events.publish(events, ctx.now)
    return pact_out(mine, ctx.now)


def update_pact(ctx: Ctx, pact_id: str, body: PactPatch) -> PactOut:
    def attempt() -> PactOut:
        mine, theirs = my_views(ctx, pact_id)
        views = [mine] if theirs is None else [mine, theirs]
        rule = rule_for(body.rhythm) if body.rhythm else mine.rrule
        for view in views:
            view.rrule = rule
            view.mode = body.mode or view.mode
            view.time_limit_minutes = body.time_limit_minutes or view.time_limit_minutes
            view.grace_days = view.grace_days if body.grace_days is None else body.grace_days
            view.next_due_at = rhythm.Rhythm(rule, view.time_zone, view.starts_at).next_due(view.last_check_in_at)
        if body.colleague_name:
            mine.colleague_name = body.colleague_name
        persist_views(ctx, views, ("rrule", "mode", "time_limit_minutes", "grace_days", "next_due_at"))
        if body.colleague_name:
            persist_views(ctx, [mine], ("colleague_name",))
        return pact_out(mine, ctx.now)

    result = with_retries(attempt)
    ctx.events.publish([DomainEvent("PactUpdated", {"pact_id": pact_id, "member_id": ctx.sub})], ctx.now)
    return result


def accept_pact(ctx: Ctx, pact_id: str) -> PactOut:
    def attempt() -> PactOut:
        mine, theirs = my_views(ctx, pact_id)
        if mine.role != "colleague" or mine.state != "invited":
            raise Conflict("There is no open invitation to accept on this pact.")
        me = Member.get(*Member.key(ctx.sub))
        mine.state, mine.mutual = "active", theirs is not None
        for name, value in prefs_of(me).items():
            setattr(mine, name, value)
        views = [mine]
        if theirs is not None:
            theirs.mutual = True
            if theirs.colleague_name == theirs.colleague_email:
                theirs.colleague_name = me.display_name  # the owner only knew the address: now the name
            views.append(theirs)
        # Each view keeps its own values for what did not change on it; one transaction writes both.
        persist_views(ctx, views, ("state", "mutual", "colleague_name", *PREFERENCE_ATTRIBUTES))
        return pact_out(mine, ctx.now)

    result = with_retries(attempt)
    ctx.events.publish([DomainEvent("PactAccepted", {"pact_id": pact_id, "member_id": ctx.sub})], ctx.now)
    return result


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
        views = [mine] if theirs is None else [mine, theirs]
        for view in views:
            view.paused_until = until
        persist_views(ctx, views, ("paused_until",))
        return pact_out(mine, ctx.now)

    result = with_retries(attempt)
    detail: dict[str, Any] = {"pact_id": pact_id, "member_id": ctx.sub}
    if until:
        detail["until"] = until.isoformat()
    ctx.events.publish([DomainEvent(event, detail)], ctx.now)
    return result


def delete_pact(ctx: Ctx, pact_id: str) -> None:
    """The caller leaves the pact (or declines an invitation to it).

    A colleague who stays keeps the pact, one-sided, with its whole history; the
    leaver's private notes on it go (nobody could read them any more), and so do the
    leaver's own copies. An invitation the owner leaves behind is withdrawn. The view
    that grants access is removed last, so a retry after a failure finishes the job.
    """

    def attempt() -> None:
        mine, theirs = my_views(ctx, pact_id)
        _delete_my_timeline(ctx.sub, pact_id)
        stays = theirs is not None and theirs.state == "active"
        if stays:
            _strip_notes(pact_id, ctx.sub)
        else:
            _delete_partition_items(pact_pk(pact_id), "CHECKIN#")
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.delete(mine)
                if theirs is not None and not stays:
                    tx.delete(theirs)
                if theirs is not None and stays:
                    tx.update(
                        theirs,
                        actions=[
                            PactView.colleague_sub.remove(),
                            PactView.mutual.set(False),
                            PactView.colleague_left.set(True),
                            PactView.updated_at.set(ctx.now),
                        ],
                    )
                    tx.save(
                        LeftPact(member_pk(ctx.sub), f"LEFT#{pact_id}", pact_id=pact_id, colleague_sub=theirs.member_sub, left_at=ctx.now)
                    )
        except TransactWriteError as err:
            if set(cancellation_codes(err)) & {"ConditionalCheckFailed", "TransactionConflict"}:
                raise Retry from err
            raise

    with_retries(attempt)
    ctx.events.publish([DomainEvent("PactDeleted", {"pact_id": pact_id, "member_id": ctx.sub})], ctx.now)


def _strip_notes(pact_id: str, author: str) -> None:
    """Remove an author's private notes from a pact's check-ins (they can no longer read them)."""
    mine = CheckIn.author_sub == author
    for check_in in CheckIn.query(pact_pk(pact_id), CheckIn.sk.startswith("CHECKIN#"), filter_condition=mine):
        if check_in.note is not None:
            check_in.update(actions=[CheckIn.note.remove()])


def forget_member_in_pact(pact_id: str, sub: str, colleague_sub: str, now: datetime, lift_pause: datetime | None = None) -> None:
    """Erasure, in one pact a colleague keeps: no name, email, phone, note or author left of the member there."""
    try:
        theirs = PactView.get(*PactView.key(pact_id, colleague_sub), consistent_read=True)
    except DoesNotExist:
        theirs = None
    for check_in in CheckIn.query(pact_pk(pact_id), CheckIn.sk.startswith("CHECKIN#"), filter_condition=CheckIn.author_sub == sub):
        check_in.update(actions=[CheckIn.author_sub.remove(), CheckIn.note.remove()])
        copy = TimelineEntry(member_pk(colleague_sub), f"{check_in.sk}#{pact_id}")
        with suppress(UpdateError):  # the colleague has no copy of this one (they joined later, or left)
            copy.update(actions=[TimelineEntry.author_sub.remove()], condition=TimelineEntry.pk.exists())
    if theirs is None:
        return
    if theirs.state != "active":
        theirs.delete(add_version_condition=False)  # an invitation from the erased member: withdrawn
        return
    actions: list[Action] = [
        PactView.colleague_sub.remove(),
        PactView.colleague_email.remove(),
        PactView.colleague_phone.remove(),
        PactView.colleague_name.set(FORMER_MEMBER),
        PactView.mutual.set(False),
        PactView.colleague_left.set(True),
        PactView.updated_at.set(now),
    ]
    if lift_pause is not None and theirs.paused_until == lift_pause:
        actions.append(PactView.paused_until.remove())  # a pause that only the erased member's away mode set
    theirs.update(actions=actions, add_version_condition=False)


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
    return Page[CheckInOut](items=[check_in_out(c, ctx.sub) for c in check_ins if isinstance(c, CheckIn)], next=after)


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
