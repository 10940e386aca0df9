"""Planning what a pact view says about nudges and texts, and writing views: the code every writer shares.

Kept apart from the API's request/response models so that the scheduled functions
(sweeps, sender, suppression) import no pydantic schemas: their cold starts stay small.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.adapters.db import MAX_TRANSACTION_ATTEMPTS, connection, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.models import Member, PactView, member_pk, pact_pk
from shared.domain import habit, nudges, rhythm, sms
from shared.domain.errors import Conflict, NotFound

T = TypeVar("T")
MAX_TRANSACTION_ITEMS = 100


@dataclass(frozen=True)
class Ctx:
    """Who is asking and when: everything a use-case needs from outside (its events ride in its own transactions)."""

    sub: str
    now: datetime
    due_shards: int = 8  # how many write shards the sparse due-index has (a setting)


class Retry(Exception):
    """A view changed between read and write: read again and redo."""


def with_retries(operation: Callable[[], T]) -> T:
    for attempt in range(MAX_TRANSACTION_ATTEMPTS):
        try:
            return operation()
        except Retry:
            if attempt == MAX_TRANSACTION_ATTEMPTS - 1:
                raise Conflict("The pact was changed by someone else at the same moment; please try again.") from None
    raise AssertionError("unreachable")


# ------------------------------------------------------------------ reading


def rhythm_of(view: PactView) -> rhythm.Rhythm:
    return rhythm.Rhythm(view.rrule, view.time_zone, view.starts_at)


def lapsed_since(view: PactView) -> datetime:
    """When contact on this pact lapses (or lapsed): the next check-in due plus the grace days."""
    return view.next_due_at + timedelta(days=int(view.grace_days))


def pact_status(view: PactView, now: datetime, next_due: datetime | None = None) -> rhythm.Status:
    """On track, due, lapsed or paused at `now` (with `next_due` instead of the view's own, where given)."""
    due = view.next_due_at if next_due is None else next_due
    return rhythm.status(now=now, next_due=due, grace=timedelta(days=int(view.grace_days)), paused_until=view.paused_until)


def awaiting_answer(view: PactView) -> bool:
    """An invitation the colleague has not said yes to (open or expired), on a pact nobody has recorded a call on:
    in the digest and on the support page an unanswered invitation, not contact that lapsed."""
    return view.invite_key is not None and view.last_check_in_at is None


def slot_messages_end(view: PactView) -> datetime | None:
    """The last slot that may have a reminder before it or a text after it, where there is one.

    While an invitation is open the inviter may well call their colleague (who may never want an
    account) and is reminded and texted as for any pact; once it has expired with no call recorded,
    nobody is using the pact: its slots go quiet (the digest says once that it expired). A call
    recorded, a yes, or the invitation sent again, and they come back (each is a write, re-planned).
    """
    return view.invitation_expires_at if awaiting_answer(view) else None


def recordable_from(view: PactView) -> datetime:
    """The earliest call a check-in may record: the pact's start, or its proposal if that came first (a pact
    restarted when its colleague said yes keeps the calls they had meanwhile)."""
    return min(view.starts_at, view.created_at)


def first_due_on_joining(view: PactView, now: datetime) -> tuple[datetime, datetime]:
    """(starts_at, next_due_at) of a pact for a colleague who says yes to it at `now`.

    As they are, unless nobody has checked in yet and the first check-in was due before `now` (an
    invitation answered, or re-sent, after its first slot): then the pact starts when they say yes,
    its first check-in the next one due from there, and nobody is told their contact has lapsed
    on the day they joined. A start the inviter dated back on purpose (before the proposal: "we have
    talked since January") is theirs to keep. Calls since the proposal can still be recorded
    (`recordable_from`).
    """
    if view.last_check_in_at is not None or view.next_due_at >= now or view.starts_at < view.created_at:
        return view.starts_at, view.next_due_at
    return now, rhythm.Rhythm(view.rrule, view.time_zone, now).next_due(None)


NUDGE_ATTRIBUTES = (
    "nudge_shard",
    "nudge_due",
    "nudge_stage",
    "lapse_at",
    "last_nudged_at",
    "snoozed_until",
    "sms_shard",
    "sms_due",
    "sms_slot",
    "sms_through",
    # The habit: the progress (the same on both views) and this party's pending habit message.
    "habit_shard",
    "habit_due",
    "habit_kind",
    "habit_for",
    "habit_kept",
    "habit_last",
    "habit_established_at",
    "habit_misses",
    "habit_since",
    "habit_notice",
    "habit_notice_at",
    "habit_reminded_through",
)


def iso_instant(value: datetime) -> str:
    """Sortable fixed-width UTC text for the sparse due-indexes' range keys."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PREFERENCE_ATTRIBUTES = (
    "party_time_zone",
    "party_nudge_hour",
    "party_quiet_days",
    "party_wants_email",
    "party_wants_sms",
    "party_quiet_hours",
)


def prefs_of(member: Member) -> dict[str, Any]:
    """A member's nudge preferences as their pact views carry them."""
    return {
        "party_time_zone": member.time_zone,
        "party_nudge_hour": int(member.nudge_hour),
        "party_quiet_days": set(member.quiet_days or ()) or None,
        "party_wants_email": member.wants_email_nudges,
        "party_wants_sms": member.wants_sms,
        "party_quiet_hours": json.dumps([{"weekday": int(q.weekday), "start": q.start, "end": q.end} for q in member.quiet_hours or []]),
    }


def reschedule(view: PactView, shards: int) -> None:
    """Recompute this party's next nudge on the in-memory view (persist NUDGE_ATTRIBUTES after)."""
    lapse = lapsed_since(view)
    prefs = nudges.Preferences(
        time_zone=view.party_time_zone or view.time_zone,
        nudge_hour=int(view.party_nudge_hour if view.party_nudge_hour is not None else 9),
        quiet_days=frozenset(int(d) for d in view.party_quiet_days or ()),
    )
    _plan_habit(view, shards)
    if view.state == "ended":
        _plan_ended_notice(view, prefs, shards)
        return
    if view.lapse_at != lapse:  # a new lapse: a snooze or a sent nudge belonged to the old one
        view.snoozed_until = view.last_nudged_at = None
    holds = [t for t in (view.paused_until, view.snoozed_until) if t is not None]
    plan = nudges.plan(
        lapse_at=lapse,
        prefs=prefs,
        stage=int(view.nudge_stage or nudges.FIRST),
        previous_lapse=view.lapse_at,
        paused_until=max(holds) if holds else None,
        last_sent=view.last_nudged_at,
        wants_email=view.state == "active" and bool(view.party_wants_email) and view.party_time_zone is not None,
    )
    view.nudge_stage, view.lapse_at = plan.stage, plan.lapse_at
    if plan.due is None:
        view.nudge_shard = view.nudge_due = None
    else:
        view.nudge_shard = nudges.shard(f"{view.pact_id}#{view.member_sub}", shards)
        view.nudge_due = iso_instant(plan.due)
    _plan_text(view, prefs, shards)


def _plan_ended_notice(view: PactView, prefs: nudges.Preferences, shards: int) -> None:
    """An ended pact is never nudged or texted again; its one notice goes at the member's next nudge hour."""
    view.sms_slot = view.sms_shard = view.sms_due = None
    ended = view.ended_at or view.updated_at
    due = None
    pending = view.ended_notice == "pending" and view.party_time_zone is not None
    if pending and view.party_wants_email:
        due = nudges.nudge_at(ended, prefs)
    elif pending and view.party_wants_sms:  # they chose texts, not email: the notice is a text, out of quiet hours
        at = sms.notice_at(ended, prefs.time_zone, prefs.nudge_hour, prefs.quiet_days, sms.quiet_hours_from_json(view.party_quiet_hours))
        if at is not None:
            view.sms_shard, view.sms_due = nudges.shard(f"{view.pact_id}#{view.member_sub}#sms", shards), iso_instant(at)
    view.nudge_stage, view.lapse_at = nudges.ENDED_NOTICE, ended
    if due is None:
        view.nudge_shard = view.nudge_due = None
    else:
        view.nudge_shard = nudges.shard(f"{view.pact_id}#{view.member_sub}", shards)
        view.nudge_due = iso_instant(due)


def end_view(view: PactView, reason: str, now: datetime) -> None:
    """The other side is gone: this party's view of the pact is over (persist with ENDED_ATTRIBUTES).

    Said once, kindly: the notice is planned like a nudge (the member's nudge hour, never a
    quiet day) unless the view had already ended.
    """
    if view.state != "ended":
        view.ended_notice = "pending" if view.state == "active" else None
        view.ended_reason, view.ended_at = reason, now
    view.state = "ended"
    view.mutual = False
    view.colleague_left = True
    view.colleague_sub = None
    view.invite_key = view.invitation_expires_at = None
    if reason == "declined":
        view.invitation_state = "declined"


ENDED_ATTRIBUTES = (
    "state",
    "mutual",
    "colleague_left",
    "colleague_sub",
    "invite_key",
    "invitation_expires_at",
    "invitation_state",
    "ended_reason",
    "ended_at",
    "ended_notice",
)


def _plan_text(view: PactView, prefs: nudges.Preferences, shards: int) -> None:
    """The next check-in text: after the next agreed slot (or the one after, if that one gets no text)."""
    rule = rhythm_of(view)
    wants = view.state == "active" and bool(view.party_wants_sms) and rule.is_slot and view.party_time_zone is not None
    # Never a slot that ended before this change was made (the view's updated_at is the change's "now").
    ended = view.updated_at - timedelta(minutes=int(view.time_limit_minutes)) - sms.AFTER_THE_CALL
    slot = rule.slot_after(max(t for t in (view.sms_through, view.starts_at, ended) if t is not None)) if wants else None
    quiet = sms.quiet_hours_from_json(view.party_quiet_hours)
    last = slot_messages_end(view)
    for _ in range(8):  # a slot that falls on a quiet day gets no text: the next one may
        if slot is None or (last is not None and slot > last):
            break
        if view.paused_until is not None and slot < view.paused_until:
            slot = rule.slot_after(view.paused_until)
            continue
        at = sms.send_at(slot, int(view.time_limit_minutes), prefs.time_zone, prefs.quiet_days, quiet)
        if at is not None:
            view.sms_slot, view.sms_shard, view.sms_due = (
                slot,
                nudges.shard(f"{view.pact_id}#{view.member_sub}#sms", shards),
                iso_instant(at),
            )
            return
        slot = rule.slot_after(slot + timedelta(minutes=1))
    view.sms_slot = view.sms_shard = view.sms_due = None


# ------------------------------------------------------------------ the habit


def habit_terms(view: PactView) -> habit.Terms:
    """The habit's terms: with no grace days, a call within its time limit still keeps the slot."""
    grace = max(timedelta(days=int(view.grace_days)), timedelta(minutes=int(view.time_limit_minutes)))
    return habit.Terms(rhythm_of(view), grace)


def progress_of(view: PactView) -> habit.Progress:
    return habit.Progress(
        kept=int(view.habit_kept or 0),
        last=view.habit_last,
        established_at=view.habit_established_at,
        misses=tuple(datetime.fromisoformat(t) for t in json.loads(view.habit_misses or "[]")),
        since=view.habit_since,
    )


def set_progress(view: PactView, progress: habit.Progress) -> None:
    view.habit_kept = progress.kept
    view.habit_last = progress.last
    view.habit_established_at = progress.established_at
    view.habit_misses = json.dumps([t.isoformat() for t in progress.misses]) if progress.misses else None
    view.habit_since = progress.since


def establishment_of(view: PactView, now: datetime) -> habit.Establishment:
    return habit.establishment(habit_terms(view), progress_of(view), now)


def say_once(view: PactView, event: str | None, at: datetime | None) -> None:
    """An event said once to this party (established, back to establishing): pending until the habit sweep sends it."""
    if event is not None and at is not None and view.state == "active":
        view.habit_notice, view.habit_notice_at = event, at


def count_check_in(views: list[PactView], occurred: datetime) -> None:
    """A check-in counts towards the habit on every view; each party is told once of a change.

    Each view counts from its own copy of the progress (the copies agree: the same check-ins, the same
    rules), so a party whose view a sweep already took back to establishing is not told twice, and one
    whose view it had not yet is still told.
    """
    for view in views:
        outcome = habit.on_check_in(habit_terms(view), progress_of(view), occurred)
        set_progress(view, outcome.progress)
        say_once(view, outcome.event, outcome.event_at)


def share_progress(source: PactView, target: PactView) -> None:
    """A view that joins late (an accepted invitation) takes the pact's progress as the other view has it."""
    set_progress(target, progress_of(source))
    target.slot_reminders = source.slot_reminders


def habit_prefs(view: PactView) -> habit.Prefs:
    return habit.Prefs(
        time_zone=view.party_time_zone or view.time_zone,
        nudge_hour=int(view.party_nudge_hour if view.party_nudge_hour is not None else 9),
        quiet_days=frozenset(int(d) for d in view.party_quiet_days or ()),
        quiet_hours=sms.quiet_hours_from_json(view.party_quiet_hours),
    )


def _plan_habit(view: PactView, shards: int) -> None:
    """This party's next habit message: a notice said once, a reminder before the next slot, or the fall-back check.

    Settles the progress as of the change (view.updated_at): misses are counted, and a pact that
    lapsed twice within eight weeks of being established goes back to establishing (said once).
    """
    view.habit_shard = view.habit_due = view.habit_kind = view.habit_for = None
    if view.state != "active":
        view.habit_notice = view.habit_notice_at = None  # an ended pact has no reminders and nothing to celebrate
        return
    now = view.updated_at
    terms = habit_terms(view)
    progress, back_at = habit.settle(terms, progress_of(view), now)
    say_once(view, "back" if back_at else None, back_at)
    paused = view.paused_until if view.paused_until is not None and view.paused_until > now else None
    if paused is not None and (progress.since is None or progress.since < paused):
        progress = replace(progress, since=paused)  # slots while paused are neither kept nor missed
    elif paused is None and progress.since is not None and progress.since > now and progress.last != progress.since:
        progress = replace(progress, since=now)  # resumed early
    set_progress(view, progress)
    prefs = habit_prefs(view)
    wants = view.party_time_zone is not None and bool(view.party_wants_email or view.party_wants_sms)
    plans: list[tuple[datetime, str, datetime]] = []
    if view.habit_notice and view.habit_notice_at is not None:
        at = sms.notice_at(max(now, paused or now), prefs.time_zone, prefs.nudge_hour, prefs.quiet_days, prefs.quiet_hours)
        if at is not None and wants:
            plans.append((at, "notice", view.habit_notice_at))
        else:
            view.habit_notice = view.habit_notice_at = None  # no channel to say it by: it goes unsaid
    if progress.established_at is None:
        reminder = _next_reminder(view, terms, progress, prefs, now, paused) if wants and view.slot_reminders is not False else None
        if reminder is not None:
            plans.append(reminder)
    else:
        check = habit.falls_back_at(terms, progress)
        if check is not None:
            plans.append((check, "check", check))
    if plans:
        due, kind, about = min(plans)
        view.habit_shard = nudges.shard(f"{view.pact_id}#{view.member_sub}#habit", shards)
        view.habit_due, view.habit_kind, view.habit_for = iso_instant(due), kind, about


def _next_reminder(
    view: PactView, terms: habit.Terms, progress: habit.Progress, prefs: habit.Prefs, now: datetime, paused: datetime | None
) -> tuple[datetime, str, datetime] | None:
    """The reminder before the next slot that can still have one (not kept already, not paused, not quiet)."""
    rule = terms.rhythm
    if not rule.is_slot:
        return None  # only slot pacts have slots: an every-N-days pact gets no reminder before one
    starts = [t for t in (view.habit_reminded_through, progress.last and progress.last + timedelta(minutes=1), now, paused) if t]
    slot = rule.slot_after(max(starts))
    last = slot_messages_end(view)
    for _ in range(8):  # a slot on a quiet day (or whose reminder time has passed) gets none: the next may
        if slot is None or (last is not None and slot > last):
            return None
        at = habit.reminder_at(slot, prefs)
        if at is not None and at >= now:
            return at, "reminder", slot
        slot = rule.slot_after(slot + timedelta(minutes=1))
    return None


def view_actions(view: PactView, names: tuple[str, ...]) -> list[Action]:
    """SET each named attribute to the view's in-memory value, or REMOVE it where that is None."""
    out: list[Action] = []
    for name in names:
        attribute = getattr(PactView, name)
        value = getattr(view, name)
        out.append(attribute.set(value) if value is not None else attribute.remove())
    return out


def persist_views(
    ctx: Ctx, views: list[PactView], names: tuple[str, ...], tx: TransactWrite | None = None, events: Sequence[DomainEvent] = ()
) -> None:
    """Write the named attributes of every view, with each party's nudge recomputed, in one transaction.

    Each update is conditioned on the version read; a stale one means somebody else
    changed the pact meanwhile: read again and redo (`Retry`). `events` ride in the
    transaction it opens (with a caller's `tx`, the caller adds its own).
    """
    for view in views:
        view.updated_at = ctx.now
        reschedule(view, ctx.due_shards)
    if tx is not None:
        for view in views:
            tx.update(view, actions=view_actions(view, tuple(dict.fromkeys((*names, "updated_at", *NUDGE_ATTRIBUTES)))))
        return
    try:
        with TransactWrite(connection=connection()) as own:
            persist_views(ctx, views, names, own)
            add_events(own, events, ctx.now)
    except TransactWriteError as err:
        if refused(err):
            raise Retry from err
        raise


def _all_views(sub: str) -> list[PactView]:
    views = PactView.gsi1.query(member_pk(sub), PactView.gsi1sk.startswith("PACT#"))
    return [v for v in views if isinstance(v, PactView)]


def active_views(sub: str) -> list[PactView]:
    """The member's pacts that are under way (not invitations waiting for them, not ended ones)."""
    return [v for v in _all_views(sub) if v.state == "active"]


def carry_preferences(ctx: Ctx, member: Member, tx: TransactWrite, room: int) -> None:
    """The member's pacts carry their nudge preferences: bring them along (and re-plan each nudge).

    The first `room` views ride in the caller's transaction; more follow in their own.
    """
    # Ended views too: their one notice goes by the channels the member has now.
    views = [v for v in _all_views(ctx.sub) if v.state in ("active", "ended")]
    for view in views:
        for name, value in prefs_of(member).items():
            setattr(view, name, value)
    persist_views(ctx, views[:room], PREFERENCE_ATTRIBUTES, tx)
    for start in range(room, len(views), MAX_TRANSACTION_ITEMS):
        persist_views(ctx, views[start : start + MAX_TRANSACTION_ITEMS], PREFERENCE_ATTRIBUTES)


def stop_nudge_emails(ctx: Ctx, reason: str) -> None:
    """One-click unsubscribe ("unsubscribed") or a bounce/complaint: no nudge email goes to this member again."""
    try:
        member = Member.get(*Member.key(ctx.sub))
    except DoesNotExist:
        return  # erased meanwhile
    if reason == "unsubscribed":
        member.nudges_unsubscribed = True
    else:
        member.email_suppressed = reason
    member.updated_at = ctx.now
    with TransactWrite(connection=connection()) as tx:
        actions: list[Action] = [Member.nudges_unsubscribed.set(member.nudges_unsubscribed), Member.updated_at.set(ctx.now)]
        if member.email_suppressed:
            actions.append(Member.email_suppressed.set(member.email_suppressed))
        tx.update(member, actions=actions)
        carry_preferences(ctx, member, tx, room=MAX_TRANSACTION_ITEMS - 2)
        add_events(tx, [DomainEvent("NudgeEmailsStopped", {"member_id": ctx.sub, "reason": reason})], ctx.now)


def stop_texts(ctx: Ctx) -> None:
    """The number replied STOP: no text goes to it again (until the member saves SMS as a channel anew)."""
    try:
        member = Member.get(*Member.key(ctx.sub))
    except DoesNotExist:
        return
    member.sms_opted_out = True
    with TransactWrite(connection=connection()) as tx:
        tx.update(member, actions=[Member.sms_opted_out.set(True), Member.updated_at.set(ctx.now)])
        carry_preferences(ctx, member, tx, room=MAX_TRANSACTION_ITEMS - 2)
        add_events(tx, [DomainEvent("TextsStopped", {"member_id": ctx.sub})], ctx.now)


def is_pact_id(pact_id: str) -> bool:
    return pact_id.startswith("p_") and len(pact_id) <= 40


def views_of(pact_id: str) -> dict[str, PactView]:
    """Both party views of a pact, by member: one query, strongly consistent."""
    if not is_pact_id(pact_id):
        return {}
    return {
        v.member_sub: v
        for v in PactView.query(pact_pk(pact_id), PactView.sk.startswith("MEMBER#"), consistent_read=True)
        if isinstance(v, PactView)
    }


def my_views(ctx: Ctx, pact_id: str) -> tuple[PactView, PactView | None]:
    views = views_of(pact_id)
    mine = views.pop(ctx.sub, None)
    if mine is None:
        raise NotFound(f"You have no pact {pact_id}.")
    return mine, next(iter(views.values()), None)


def local_midnight(day: Any, zone: str) -> datetime:
    return datetime.combine(day, time(0), ZoneInfo(zone)).astimezone(UTC)
