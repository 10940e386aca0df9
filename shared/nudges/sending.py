"""Nudges: the sweep finds what is due without scanning; the sender emails each member one digest, once.

Sweep: for each write shard DUE#0..N-1, one range query `nudge_due <= now` on the sparse
`nudge_due` index, so the items read grow with the nudges due, never with the pacts. A
run that was missed is caught up by the next (everything up to now is due), and the
sweep itself never recomputes anything: it groups by member and enqueues one message each.

Sender: for each message, re-reads the member's profile and the views in one consistent
batch read (the truth may have moved on), asks for the groups' missed-meetings line (one
query), then in one transaction claims each (member, pact, lapse, stage) with a conditional
write and stores the email's links; sends one email for what it claimed, then in one
transaction marks the claims sent, records the nudge and moves each view on (the reminder
a week later, or silence): 4 DynamoDB calls per member. A redelivered message, or a second
sweep's copy, finds the views moved on (one read) or the claims taken and sends nothing;
when another sender holds some of the claims, the rest are claimed one by one and the
email says only what this one claimed.

The residual window: SES accepted the email but the function died before marking the
claims sent. The claims then stay `sending`; after CLAIM_LEASE a redelivery may send
again. Marking happens right after SES answers, so the window is that one round trip.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import PutError, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from shared.adapters.db import connection, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.mail import Mailer, render
from shared.adapters.models import GroupMember, Item, LinkToken, Member, NudgeSent, PactView, SendClaim, member_pk
from shared.adapters.observability import logger
from shared.domain import nudges, rhythm
from shared.groups import attendance
from shared.invitations.use_cases import invitation_state
from shared.links.tokens import new_link
from shared.nudges.suppression import suppress_address
from shared.pacts.planning import (
    NUDGE_ATTRIBUTES,
    PREFERENCE_ATTRIBUTES,
    Ctx,
    iso_instant,
    pact_status,
    prefs_of,
    reschedule,
    stop_nudge_emails,
    view_actions,
)

CLAIM_LEASE = timedelta(minutes=15)
CLAIM_TTL = timedelta(days=60)
SENT_TTL = timedelta(days=90)
TRANSACTION_ITEMS = 100  # DynamoDB's limit on the items of one transaction
MODES = {"phone": "by phone", "video": "by video", "in_person": "in person"}


# ------------------------------------------------------------------ the sweep


@dataclass(frozen=True)
class SweepResult:
    items_read: int
    members: int
    nudges: int


def sweep(now: datetime, shards: int, enqueue: Callable[[list[dict[str, Any]]], None]) -> SweepResult:
    """Find every nudge due at or before `now` (missed runs included) and enqueue one message per member."""
    due: dict[str, list[dict[str, Any]]] = defaultdict(list)
    read = 0
    for number in range(shards):
        for view in PactView.nudge_due_index.query(f"DUE#{number}", PactView.nudge_due <= iso_instant(now)):
            read += 1
            if isinstance(view, PactView) and view.lapse_at is not None:
                due[view.member_sub].append(
                    {"pact_id": view.pact_id, "lapse_at": iso_instant(view.lapse_at), "stage": int(view.nudge_stage or 1)}
                )
    messages = [{"member_id": member, "as_of": iso_instant(now), "pacts": items} for member, items in due.items()]
    if messages:
        enqueue(messages)
    logger.info("sweep done", extra={"items_read": read, "members": len(messages)})
    return SweepResult(items_read=read, members=len(messages), nudges=sum(len(m["pacts"]) for m in messages))


# ------------------------------------------------------------------ the sender


@dataclass(frozen=True)
class SenderDeps:
    mailer: Mailer
    base_url: str
    shards: int
    clock: Callable[[], datetime]  # real time, for claim leases (redeliveries happen in real time)
    configuration_set: str | None = None


@cache
def deployed_deps() -> SenderDeps:
    """What every queue sender (nudges, meeting reminders, weekly digests) sends with: built once per container."""
    from shared.adapters.aws import client
    from shared.adapters.settings import get_settings

    settings = get_settings()
    return SenderDeps(
        mailer=Mailer(lambda: client("sesv2"), settings.sender_email),
        base_url=settings.public_base_url,
        shards=settings.due_shards,
        configuration_set=settings.ses_configuration_set or None,
        clock=lambda: datetime.now(UTC),
    )


class TransientSendError(Exception):
    """SES could not take it now (throttled, unavailable): the message goes back to the queue for a retry."""


# Only this one is about the member's address. Anything else (our configuration, a paused
# account, a timeout) is raised: the message is retried and then waits in the DLQ with an alarm.
PERMANENT = {"MessageRejected"}


def send_digest(message: dict[str, Any], now: datetime, deps: SenderDeps) -> str:
    """Handle one queued message; returns what happened (for logs and tests)."""
    member_id = str(message["member_id"])
    wanted = {(p["pact_id"], p["lapse_at"], int(p["stage"])) for p in message["pacts"]}
    member, views = read_member_and_views(member_id, sorted({pid for pid, _, _ in wanted}))
    if member is None:
        return "no-member"
    sendable: list[PactView] = []
    replan: list[PactView] = []
    endings: list[PactView] = []
    for view in views:
        key = (view.pact_id, iso_instant(view.lapse_at) if view.lapse_at else "", int(view.nudge_stage or 0))
        if key not in wanted or view.nudge_due is None or view.nudge_due > iso_instant(now):
            continue  # the pact moved on since the sweep (a check-in, a pause, an earlier send)
        if view.state == "ended":  # never a nudge about a pact with nobody on the other side; its notice, once
            if view.ended_notice == "pending" and member.wants_email_nudges:
                endings.append(view)
            else:  # by the member's channels as they are now (a text, or nothing)
                for name, value in prefs_of(member).items():
                    setattr(view, name, value)
                _move_on(view, deps.shards, PREFERENCE_ATTRIBUTES)
            continue
        state = pact_status(view, now)
        if state is not rhythm.Status.LAPSED or not member.wants_email_nudges or view.state != "active":
            replan.append(view)  # e.g. a colleague's away mode paused it without re-planning our nudge
            continue
        sendable.append(view)
    for view in replan:
        _move_on(view, deps.shards)
    for view in endings:
        if _claim(member_id, view, deps.clock()):
            _send_ended_notice(member_id, member, view, now, deps)
    if not sendable:
        return "notice-sent" if endings else "nothing-to-send"
    missed = attendance.missed_lines(member_id)  # a group's missed meetings: a line here, never an email of its own
    email = _compose(member_id, member, sendable, missed, now, deps)
    claimed, links_stored = _claim_with_links(member_id, sendable, email.links, deps.clock())
    if not claimed:
        return "notice-sent" if endings else "nothing-to-send"
    if not links_stored:  # claimed one by one: another sender held some, and the email says only what this one claimed
        if len(claimed) < len(sendable):
            email = _compose(member_id, member, claimed, missed, now, deps)
        with LinkToken.batch_write() as batch:
            for item in email.links:
                batch.save(item)
    try:
        message_id = _send(member, email, deps)
    except TransientSendError:
        for view in claimed:
            SendClaim(*_claim_key(member_id, view)).delete()
        raise
    except _Permanent as failure:
        for view in claimed:
            SendClaim(*_claim_key(member_id, view)).update(actions=[SendClaim.status.set("failed")])
        # The address itself is refused: no nudge email goes there again, and its pacts stop planning them;
        # no invitation email either.
        stop_nudge_emails(Ctx(sub=member_id, now=now, due_shards=deps.shards), failure.reason)
        suppress_address(member.email, failure.reason, now)
        logger.warning("nudge not deliverable; address marked", extra={"reason": failure.reason})
        return "permanent-failure"
    _record(member_id, claimed, now, message_id, deps)
    return "sent"


def _claim_key(member_id: str, view: PactView) -> tuple[str, str]:
    assert view.lapse_at is not None
    return member_pk(member_id), f"NUDGED#{view.pact_id}#{iso_instant(view.lapse_at)}#{int(view.nudge_stage or 1)}"


def _claim_item(member_id: str, view: PactView, now: datetime) -> SendClaim:
    return SendClaim(*_claim_key(member_id, view), status="sending", claimed_at=now, expires_at=now + CLAIM_TTL)


def _claimable(now: datetime) -> Condition:
    return SendClaim.claimable(now, CLAIM_LEASE)


def _claim(member_id: str, view: PactView, now: datetime) -> bool:
    """Take the right to send this nudge on its own."""
    try:
        _claim_item(member_id, view, now).save(condition=_claimable(now))
    except PutError:
        return False
    return True


class _Permanent(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def read_member_and_views(member_id: str, pact_ids: list[str]) -> tuple[Member | None, list[PactView]]:
    """The member's profile and their views of these pacts, as they are now: one consistent batch read."""
    keys = [Member.key(member_id), *(PactView.key(pid, member_id) for pid in pact_ids)]
    found = list(Item.batch_get(keys, consistent_read=True))
    member = next((item for item in found if isinstance(item, Member)), None)
    return member, [item for item in found if isinstance(item, PactView)]


def _claim_with_links(member_id: str, views: list[PactView], links: list[LinkToken], now: datetime) -> tuple[list[PactView], bool]:
    """Claim every view's nudge and store the email's links in one transaction: (the views claimed, links stored).

    Another sender holding one claim cancels the transaction: then each is claimed on its own
    (and the caller stores the links of what it claimed).
    """
    if len(views) + len(links) <= TRANSACTION_ITEMS:
        try:
            with TransactWrite(connection=connection()) as tx:
                for view in views:
                    tx.save(_claim_item(member_id, view, now), condition=_claimable(now))
                for link in links:
                    tx.save(link)
        except TransactWriteError as error:
            if not refused(error):
                raise
        else:
            return views, True
    return [view for view in views if _claim(member_id, view, now)], False


@dataclass(frozen=True)
class _Email:
    subject: str
    text: str
    html: str
    unsubscribe_url: str
    links: list[LinkToken]
    missed: list[GroupMember]


def _compose(
    member_id: str, member: Member, views: list[PactView], missed: list[tuple[GroupMember, str]], now: datetime, deps: SenderDeps
) -> _Email:
    """The digest about these views (and the member's missed group meetings), with the links it carries (not yet stored)."""
    links: list[LinkToken] = []

    def link(action: str, pact_id: str | None) -> str:
        token, item = new_link(member_id, action, now, pact_id)
        links.append(item)
        return f"{deps.base_url}/{'u' if action == 'unsubscribe' else 'c'}/{token}"

    zone = ZoneInfo(member.time_zone)
    pacts = [
        {
            "colleague": view.colleague_name,
            "rhythm": rhythm.describe(view.rrule),
            "mode": MODES.get(view.mode, view.mode),
            "time_limit": int(view.time_limit_minutes),
            "since": pact_line(view, now, zone),
            "check_in_url": link("check_in", view.pact_id),
            "snooze_url": link("snooze", view.pact_id),
            "pause_url": link("pause", view.pact_id),
        }
        for view in views
    ]
    unsubscribe_url = link("unsubscribe", None)
    reminder = all(int(v.nudge_stage or 1) >= nudges.REMINDER for v in views)
    never_talked = all(v.last_check_in_at is None for v in views)  # "since you last talked" would not be true
    names = ", ".join(str(p["colleague"]) for p in pacts)
    subject = f"A gentle reminder: time to catch up with {names}" if reminder else f"Time to catch up with {names}?"
    context = {
        "name": member.display_name,
        "pacts": pacts,
        "groups": [line for _, line in missed],
        "unsubscribe_url": unsubscribe_url,
        "reminder": reminder,
        "never_talked": never_talked,
        "subject": subject,
    }
    text, html = render("nudge", **context)
    return _Email(subject, text, html, unsubscribe_url, links, [m for m, _ in missed])


def pact_line(view: PactView, now: datetime, zone: ZoneInfo) -> str:
    """Where this pact stands, in a line: the last talk, or that none is recorded yet (and, for an invitation
    the colleague has not answered, that it is waiting or expired: the inviter may call them all the same)."""
    if view.last_check_in_at is not None:
        return f"Last talked {view.last_check_in_at.astimezone(zone):%A %-d %B}."
    waiting = invitation_state(view, now)
    if waiting == "pending" and view.invitation_expires_at is not None:
        until = view.invitation_expires_at.astimezone(zone)
        return f"No check-in recorded yet; {view.colleague_name} has not answered your invitation (open until {until:%A %-d %B})."
    if waiting == "expired":
        return f"No check-in recorded yet; your invitation to {view.colleague_name} expired: you can send it again in the app."
    return "No check-in recorded yet."


def _send(member: Member, email: _Email, deps: SenderDeps) -> str:
    headers = {
        # RFC 8058 one-click unsubscribe (and RFC 2369's mailto alternative)
        "List-Unsubscribe": f"<{email.unsubscribe_url}>, <mailto:{deps.mailer.sender}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    try:
        message_id = deps.mailer.send(
            member.email, email.subject, email.text, email.html, headers=headers, configuration_set=deps.configuration_set
        )
    except Exception as exc:
        response = getattr(exc, "response", None) or {}
        code = str(response.get("Error", {}).get("Code") or type(exc).__name__)
        if code in PERMANENT:
            raise _Permanent("rejected") from None
        raise TransientSendError(code) from None
    attendance.said(email.missed)
    return message_id


def _record(member_id: str, views: list[PactView], now: datetime, message_id: str, deps: SenderDeps) -> None:
    """In one transaction: the claims are sent, the nudge is on record, each view moves on.

    The views are written on the versions just read. If one changed meanwhile (a check-in
    while the email was on its way), the record is kept and that view is re-read and moved
    on from what it is now, never overwritten with what it was.
    """
    sent = NudgeSent(
        member_pk(member_id),
        f"NUDGE#{iso_instant(now)}#{message_id[:16]}",
        sent_at=now,
        message_id=message_id,
        pact_ids=[v.pact_id for v in views],
        reminder=all(int(v.nudge_stage or 1) >= nudges.REMINDER for v in views),
        expires_at=now + SENT_TTL,
    )
    first_lapses = [v.pact_id for v in views if int(v.nudge_stage or 1) == nudges.FIRST]
    lapsed = [DomainEvent("PactLapsed", {"pact_id": pid, "member_id": member_id}) for pid in first_lapses]
    done = [SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)]
    claims = [SendClaim(*_claim_key(member_id, view)) for view in views]
    sent_about = {view.pact_id: (view.lapse_at, int(view.nudge_stage or 1)) for view in views}
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(sent)
            for claim in claims:
                tx.update(claim, actions=list(done))
            for view in views:
                _advance(view, now, deps.shards)
                tx.update(view, actions=view_actions(view, NUDGE_ATTRIBUTES))
            add_events(tx, lapsed, now)
    except TransactWriteError:
        with TransactWrite(connection=connection()) as tx:  # the record and its events, whatever the views became
            tx.save(sent)
            add_events(tx, lapsed, now)
        for claim in claims:
            claim.update(actions=list(done))
        for view in views:
            fresh = PactView.get(view.pk, view.sk, consistent_read=True)
            if (fresh.lapse_at, int(fresh.nudge_stage or 1)) == sent_about[view.pact_id]:
                _advance(fresh, now, deps.shards)
            else:
                reschedule(fresh, deps.shards)
            with suppress(UpdateError):  # changed yet again: that change planned the nudge itself
                fresh.update(actions=view_actions(fresh, NUDGE_ATTRIBUTES))


ENDED_SUBJECTS = {
    "colleague_left": "Your regular check-ins with {name} have ended",
    "colleague_erased": "One of your check-in pacts has ended",
    "declined": "{name} won't be joining the check-ins you proposed",
}


def _send_ended_notice(member_id: str, member: Member, view: PactView, now: datetime, deps: SenderDeps) -> None:
    """The one short notice that a pact has ended (the colleague left, closed their account, or said no)."""
    reason = str(view.ended_reason or "colleague_left")
    name = view.colleague_name if reason != "colleague_erased" else None
    subject = ENDED_SUBJECTS.get(reason, ENDED_SUBJECTS["colleague_left"]).format(name=name)
    context = {
        "subject": subject,
        "name": member.display_name,
        "colleague": name,
        "reason": reason,
        "rhythm": rhythm.describe(view.rrule),
        "mode": MODES.get(view.mode, view.mode),
    }
    text, html = render("ended", **context)
    try:
        message_id = deps.mailer.send(member.email, subject, text, html, configuration_set=deps.configuration_set)
    except Exception as exc:
        SendClaim(*_claim_key(member_id, view)).delete()
        response = getattr(exc, "response", None) or {}
        if str(response.get("Error", {}).get("Code") or "") in PERMANENT:
            stop_nudge_emails(Ctx(sub=member_id, now=now, due_shards=deps.shards), "rejected")
            return
        raise TransientSendError(type(exc).__name__) from None
    SendClaim(*_claim_key(member_id, view)).update(actions=[SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)])
    view.ended_notice = "sent"
    reschedule(view, deps.shards)
    try:
        view.update(actions=view_actions(view, ("ended_notice", *NUDGE_ATTRIBUTES)))
    except UpdateError:  # changed meanwhile (a second end, an erasure): the claim keeps it sent once
        fresh = PactView.get(view.pk, view.sk, consistent_read=True)
        fresh.ended_notice = "sent"
        reschedule(fresh, deps.shards)
        with suppress(UpdateError):
            fresh.update(actions=view_actions(fresh, ("ended_notice", *NUDGE_ATTRIBUTES)))


def _advance(view: PactView, now: datetime, shards: int) -> None:
    view.nudge_stage = int(view.nudge_stage or 1) + 1
    view.last_nudged_at = now
    reschedule(view, shards)


def _move_on(view: PactView, shards: int, also: tuple[str, ...] = ()) -> None:
    """Re-plan a view whose nudge met a changed pact (paused, back on track, unsubscribed)."""
    reschedule(view, shards)
    with suppress(UpdateError):  # changed meanwhile: that change planned the nudge itself
        view.update(actions=view_actions(view, (*also, *NUDGE_ATTRIBUTES)))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def queued_now(message: dict[str, Any], sent_timestamp: str) -> datetime:
    """ "Now" for a queued message: when the sweep saw it due, or when it was queued if later (the local
    stack's clock may run ahead of the wall clock). Claim leases are measured on the wall clock (deps.clock)."""
    return max(utc(message["as_of"]), datetime.fromtimestamp(int(sent_timestamp) / 1000, tz=UTC))
