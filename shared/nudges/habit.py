"""Habit messages: a reminder before each slot while a pact is establishing, and two things said once.

Sweep: every pact view carries its next habit message in the sparse, write-sharded `habit_due`
index (planned by `planning.reschedule` with every write of the view): `habit_kind` says what it
is (`reminder` before the slot `habit_for`; `notice`: "you've made it a habit" or "reminders are
back", said once; `check`: the instant an established pact would go back to establishing if no
check-in comes). For each shard DUE#0..N-1, one range query `habit_due <= now`: the items read
grow with the messages due, never with the pacts, and a missed run is caught up by the next.

Each message is sent by the member's channels as their pact view carries them (email, SMS or
both): the view and the profile are read again in one batch, each channel is claimed first with
a conditional write (MEMBER#<sub> / HABIT#<pact>#<reminder|established|back>#<instant>#<email|sms>),
all in one transaction with the email's link: the same scheduled event twice, or two overlapping
runs, send nothing twice. Then one transaction marks the claims and moves the view on (re-planned
as of now): 3 DynamoDB calls per reminder beyond the index queries.

The residual window is the nudges' one: the message went out but the function died before the
claim was marked; after CLAIM_LEASE a later run may send it again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.adapters.db import connection, refused
from shared.adapters.mail import Mailer, render
from shared.adapters.models import Item, LinkToken, Member, PactView, SendClaim, member_pk
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


def due_views(now: datetime, shards: int) -> Iterator[Any]:
    """What the habit index holds due at or before `now`: one range query per shard (the items read)."""
    for number in range(shards):
        yield from PactView.habit_due_index.query(f"DUE#{number}", PactView.habit_due <= iso_instant(now))


def habit_sweep(now: datetime, deps: HabitDeps) -> HabitResult:
    """Send every habit message due at or before `now` (missed runs included), each once."""
    read = reminders = notices = checks = 0
    for found in due_views(now, deps.shards):
        read += 1
        if isinstance(found, PactView):
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
    # The index is eventually consistent: act on the view as it is now (read with the member's profile, one batch).
    view, member = _read(found.pk, found.sk, found.member_sub)
    if view is None:
        return "gone", 0, None
    if view.habit_due is None or view.habit_due > iso_instant(now) or view.habit_for is None:
        return "moved-on", 0, None
    kind, about = str(view.habit_kind), view.habit_for
    due = datetime.fromisoformat(view.habit_due.replace("Z", "+00:00"))
    sent, done = 0, True
    closing: list[tuple[tuple[str, str], list[Action]]] = []
    if kind == "notice" and view.habit_notice and view.habit_notice_at == about and view.state == "active":
        if now - due <= NOTICE_TOO_LATE:
            sent, done, closing = _say(view, member, str(view.habit_notice), about, now, deps)
        if done:
            view.habit_notice = view.habit_notice_at = None
    elif kind == "reminder":
        paused = view.paused_until is not None and now < view.paused_until
        establishing = establishment_of(view, now).state == habit.ESTABLISHING
        kept = view.habit_last is not None and view.habit_last >= about
        wanted = view.state == "active" and establishing and not paused and not kept and view.slot_reminders is not False
        if wanted and now <= about - habit.LEAD:  # a run this late says nothing about a slot about to start
            sent, done, closing = _say(view, member, "reminder", about, now, deps)
        if done:
            view.habit_reminded_through = about + timedelta(minutes=1)
    if not done:
        _close_claims(closing)
        return kind, sent, None  # a channel failed: the next run tries again (what went out is claimed)
    # "check": re-planning as of now counts the misses; a pact that lapsed twice goes back to establishing.
    view.updated_at = now
    reschedule(view, deps.shards)
    actions = view_actions(view, (*NUDGE_ATTRIBUTES, "updated_at"))
    if not closing:
        try:
            view.update(actions=actions)
        except UpdateError:  # the pact changed meanwhile: that change planned the next message itself
            return kind, sent, None
        return kind, sent, view
    try:  # the claims marked and the view moved on, in one transaction
        with TransactWrite(connection=connection()) as tx:
            for key, claim_actions in closing:
                tx.update(SendClaim(*key), actions=claim_actions)
            tx.update(view, actions=actions)
    except TransactWriteError:  # the pact changed meanwhile (that change planned the next message): the claims alone
        _close_claims(closing)
        return kind, sent, None
    return kind, sent, view


def _read(pk: str, sk: str, member_sub: str) -> tuple[PactView | None, Member | None]:
    found = list(Item.batch_get([(pk, sk), Member.key(member_sub)], consistent_read=True))
    view = next((item for item in found if isinstance(item, PactView)), None)
    return view, next((item for item in found if isinstance(item, Member)), None)


def _close_claims(closing: list[tuple[tuple[str, str], list[Action]]]) -> None:
    for key, actions in closing:
        SendClaim(*key).update(actions=actions)


def claim_key(view: PactView, what: str, about: datetime, channel: str) -> tuple[str, str]:
    return member_pk(view.member_sub), f"HABIT#{view.pact_id}#{what}#{iso_instant(about)}#{channel}"


def _claimable(clock: datetime) -> Condition:
    return SendClaim.claimable(clock, CLAIM_LEASE)


def _claim_all(keys: list[tuple[str, str]], links: list[LinkToken], now: datetime, clock: datetime) -> list[tuple[str, str]]:
    """Claim each channel's message and store the email's link in one transaction; the claims taken.

    A claim held elsewhere (an overlapping run) cancels it: then each is claimed on its own, and the link stored
    if the email was claimed.
    """

    def claim(key: tuple[str, str]) -> SendClaim:
        return SendClaim(*key, status="sending", claimed_at=clock, expires_at=now + CLAIM_TTL)

    try:
        with TransactWrite(connection=connection()) as tx:
            for key in keys:
                tx.save(claim(key), condition=_claimable(clock))
            for link in links:
                tx.save(link)
    except TransactWriteError as error:
        if not refused(error):
            raise
    else:
        return keys
    taken = []
    for key in keys:
        with suppress(PutError):
            claim(key).save(condition=_claimable(clock))
            taken.append(key)
    if links and any(key[1].endswith("#email") for key in taken):
        with LinkToken.batch_write() as batch:
            for link in links:
                batch.save(link)
    return taken


def _say(
    view: PactView, member: Member | None, what: str, about: datetime, now: datetime, deps: HabitDeps
) -> tuple[int, bool, list[tuple[tuple[str, str], list[Action]]]]:
    """Send one habit message by each of the member's channels, each claimed first.

    Returns (sent, all channels done, each claim's closing update: for the caller's closing transaction).
    """
    if member is None:
        return 0, True, []
    email = bool(view.party_wants_email) and member.wants_email_nudges
    channels = [c for c, wanted in (("email", email), ("sms", bool(view.party_wants_sms))) if wanted]
    if not channels:
        return 0, True, []
    token, link = new_link(view.member_sub, "unsubscribe", now)
    keys = {channel: claim_key(view, what, about, channel) for channel in channels}
    taken = _claim_all(list(keys.values()), [link] if "email" in channels else [], now, deps.clock())
    sent, done = 0, True
    closing: list[tuple[tuple[str, str], list[Action]]] = []
    for channel, key in keys.items():
        if key not in taken:
            continue  # sent already (or being sent by an overlapping run)
        try:
            message_id = (
                _email(view, member, what, about, now, deps, token) if channel == "email" else _text(view, member, what, about, now, deps)
            )
        except Exception as exc:
            SendClaim(*key).delete()  # not sent: the next run tries again
            logger.error("habit message not sent", extra={"channel": channel, "error_type": type(exc).__name__})
            done = False
            continue
        if message_id is None:
            closing.append((key, [SendClaim.status.set("failed")]))
            continue
        closing.append((key, [SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)]))
        sent += 1
    return sent, done, closing


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


def _email(view: PactView, member: Member, what: str, about: datetime, now: datetime, deps: HabitDeps, token: str) -> str:
    unsubscribe_url = f"{deps.base_url}/u/{token}"  # its link was stored with the claim
    context = _context(view, member, what, about, now)
    text, html = render("habit_message", unsubscribe_url=unsubscribe_url, **context)
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
