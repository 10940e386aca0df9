"""Habit messages: a reminder before each slot while a pact is establishing, and two things said once.

Sweep: every pact view carries its next habit message in the sparse, write-sharded `habit_due`
index (planned by `planning.reschedule` with every write of the view): `habit_kind` says what it
is (`reminder` before the slot `habit_for`; `notice`: "you've made it a habit" or "reminders are
back", said once; `check`: the instant an established pact would go back to establishing if no
check-in comes). For each shard DUE#0..N-1, one range query `habit_due <= now`: the items read
grow with the messages due, never with the pacts, and a missed run is caught up by the next.

Each message is sent by the member's channels as their pact view carries them (email, SMS or
both), each channel claimed first with a conditional write (MEMBER#<sub> /
HABIT#<pact>#<reminder|established|back>#<instant>#<email|sms>): the same scheduled event twice,
or two overlapping runs, send nothing twice. Then the view moves on (re-planned as of now).

The residual window is the nudges' one: the message went out but the function died before the
claim was marked; after CLAIM_LEASE a later run may send it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from shared.adapters.mail import Mailer, render
from shared.adapters.models import LinkToken, Member, PactView, SendClaim, member_pk
from shared.adapters.observability import logger
from shared.domain import habit, rhythm
from shared.links.tokens import new_link
from shared.pacts.planning import NUDGE_ATTRIBUTES, Ctx, establishment_of, iso_instant, reschedule, stop_texts, view_actions

CLAIM_LEASE = timedelta(minutes=15)
CLAIM_TTL = timedelta(days=60)
NOTICE_TOO_LATE = timedelta(days=2)  # a notice that could not go for this long goes unsaid
MODES = {"phone": "by phone", "video": "by video", "in_person": "in person"}


@dataclass(frozen=True)
class HabitDeps:
    mailer: Mailer
    sns: Callable[[], Any]
    base_url: str
    shards: int
    clock: Callable[[], datetime]  # real time, for claim leases
    configuration_set: str | None = None


@dataclass(frozen=True)
class HabitResult:
    items_read: int
    reminders: int  # reminders sent (a member with email and SMS gets one of each)
    notices: int
    checks: int


def habit_sweep(now: datetime, deps: HabitDeps) -> HabitResult:
    """Send every habit message due at or before `now` (missed runs included), each once."""
    read = reminders = notices = checks = 0
    for number in range(deps.shards):
        for found in PactView.habit_due_index.query(f"DUE#{number}", PactView.habit_due <= iso_instant(now)):
            read += 1
            if not isinstance(found, PactView):
                continue
            view = found
            for _ in range(3):  # what a run plans for "now" (the notice after a fall-back) goes in the same run
                kind, sent, written = _handle(view, now, deps)
                reminders += sent if kind == "reminder" else 0
                notices += sent if kind == "notice" else 0
                checks += 1 if kind == "check" else 0
                if written is None or written.habit_due is None or written.habit_due > iso_instant(now):
                    break
                view = written
    logger.info("habit sweep done", extra={"items_read": read, "reminders": reminders, "notices": notices, "checks": checks})
    return HabitResult(read, reminders, notices, checks)


def _handle(found: PactView, now: datetime, deps: HabitDeps) -> tuple[str, int, PactView | None]:
    """Handle one view's due habit message; returns what it was, how many went out, and the view as written (if it was)."""
    try:  # the index is eventually consistent: act on the view as it is now
        view = PactView.get(found.pk, found.sk, consistent_read=True)
    except DoesNotExist:
        return "gone", 0, None
    if view.habit_due is None or view.habit_due > iso_instant(now) or view.habit_for is None:
        return "moved-on", 0, None
    kind, about = str(view.habit_kind), view.habit_for
    due = datetime.fromisoformat(view.habit_due.replace("Z", "+00:00"))
    sent, done = 0, True
    if kind == "notice" and view.habit_notice and view.habit_notice_at == about and view.state == "active":
        if now - due <= NOTICE_TOO_LATE:
            sent, done = _say(view, str(view.habit_notice), about, now, deps)
        if done:
            view.habit_notice = view.habit_notice_at = None
    elif kind == "reminder":
        paused = view.paused_until is not None and now < view.paused_until
        establishing = establishment_of(view, now).state == habit.ESTABLISHING
        kept = view.habit_last is not None and view.habit_last >= about
        wanted = view.state == "active" and establishing and not paused and not kept and view.slot_reminders is not False
        if wanted and now <= about - habit.LEAD:  # a run this late says nothing about a slot about to start
            sent, done = _say(view, "reminder", about, now, deps)
        if done:
            view.habit_reminded_through = about + timedelta(minutes=1)
    if not done:
        return kind, sent, None  # a channel failed: the next run tries again (what went out is claimed)
    # "check": re-planning as of now counts the misses; a pact that lapsed twice goes back to establishing.
    view.updated_at = now
    reschedule(view, deps.shards)
    try:
        view.update(actions=view_actions(view, (*NUDGE_ATTRIBUTES, "updated_at")))
    except UpdateError:  # the pact changed meanwhile: that change planned the next message itself
        return kind, sent, None
    return kind, sent, view


def claim_key(view: PactView, what: str, about: datetime, channel: str) -> tuple[str, str]:
    return member_pk(view.member_sub), f"HABIT#{view.pact_id}#{what}#{iso_instant(about)}#{channel}"


def _claim(key: tuple[str, str], now: datetime, clock: datetime) -> bool:
    claim = SendClaim(*key, status="sending", claimed_at=clock, expires_at=now + CLAIM_TTL)
    stale = (SendClaim.status == "sending") & (SendClaim.claimed_at < clock - CLAIM_LEASE)
    try:
        claim.save(condition=SendClaim.pk.does_not_exist() | stale)
    except PutError:
        return False
    return True


def _say(view: PactView, what: str, about: datetime, now: datetime, deps: HabitDeps) -> tuple[int, bool]:
    """Send one habit message by each of the member's channels, each claimed first. (sent, all channels done)."""
    try:
        member = Member.get(*Member.key(view.member_sub))
    except DoesNotExist:
        return 0, True
    email = bool(view.party_wants_email) and member.wants_email_nudges
    channels = [c for c, wanted in (("email", email), ("sms", bool(view.party_wants_sms))) if wanted]
    sent, done = 0, True
    for channel in channels:
        key = claim_key(view, what, about, channel)
        if not _claim(key, now, deps.clock()):
            continue  # sent already (or being sent by an overlapping run)
        try:
            message_id = _email(view, member, what, about, now, deps) if channel == "email" else _text(view, member, what, about, now, deps)
        except Exception as exc:
            SendClaim(*key).delete()  # not sent: the next run tries again
            logger.error("habit message not sent", extra={"channel": channel, "error_type": type(exc).__name__})
            done = False
            continue
        if message_id is None:
            SendClaim(*key).update(actions=[SendClaim.status.set("failed")])
            continue
        SendClaim(*key).update(actions=[SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)])
        sent += 1
    return sent, done


def _context(view: PactView, member: Member, what: str, about: datetime, now: datetime) -> dict[str, Any]:
    zone = member.time_zone or view.party_time_zone or view.time_zone
    progress = establishment_of(view, now)
    name = view.colleague_name
    rrule_text = view.rrule
    subjects = {
        "reminder": f"Reminder: your call with {name}, {habit.day_phrase(about, now, zone)} at {about.astimezone(ZoneInfo(zone)):%H:%M}",
        "established": f"{habit.in_a_row(rrule_text, progress.of).capitalize()} with {name}: you've made it a habit",
        "back": f"Reminders are back for your calls with {name}",
    }
    return {
        "what": what,
        "subject": subjects[what],
        "name": member.display_name,
        "colleague": name,
        "day": habit.day_phrase(about, now, zone),
        "when": f"{about.astimezone(ZoneInfo(zone)):%A %-d %B at %H:%M}",
        "rhythm": rhythm.describe(rrule_text),
        "mode": MODES.get(view.mode, view.mode),
        "time_limit": int(view.time_limit_minutes),
        "kept": progress.kept,
        "of": progress.of,
        "in_a_row": habit.in_a_row(rrule_text, progress.of),
        "slots": "FREQ=WEEKLY" in rrule_text,
    }


def _email(view: PactView, member: Member, what: str, about: datetime, now: datetime, deps: HabitDeps) -> str:
    token, link = new_link(view.member_sub, "unsubscribe", now)
    unsubscribe_url = f"{deps.base_url}/u/{token}"
    context = _context(view, member, what, about, now)
    text, html = render("habit_message", unsubscribe_url=unsubscribe_url, **context)
    with LinkToken.batch_write() as batch:
        batch.save(link)
    headers = {
        "List-Unsubscribe": f"<{unsubscribe_url}>, <mailto:{deps.mailer.sender}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return deps.mailer.send(member.email, context["subject"], text, html, headers=headers, configuration_set=deps.configuration_set)


def _text(view: PactView, member: Member, what: str, about: datetime, now: datetime, deps: HabitDeps) -> str | None:
    if not member.wants_sms or not member.phone:
        return None
    sns = deps.sns()
    if sns.check_if_phone_number_is_opted_out(phoneNumber=member.phone).get("isOptedOut"):
        stop_texts(Ctx(sub=view.member_sub, now=now, due_shards=deps.shards))
        return None
    zone = ZoneInfo(member.time_zone or view.time_zone)
    message = habit.sms_text(
        what,
        view.colleague_name,
        day=habit.day_phrase(about, now, str(zone)),
        at=f"{about.astimezone(zone):%H:%M}",
        in_a_row_text=habit.in_a_row(view.rrule, habit.TARGET),
    )
    response = sns.publish(
        PhoneNumber=member.phone,
        Message=message,
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )
    return str(response.get("MessageId", ""))
