"""The digest sender: one weekly digest per member and week, once, or nothing when there is nothing to say.

For each queued message: re-read the profile (strongly consistent); the message is stale unless the
profile's `digest_due` is still the one the sweep saw. A member who no longer wants it (turned off,
one-click unsubscribed, address suppressed) or is away is moved on without an email. Otherwise the
digest is composed; with nothing in it, the due moves on a week and nothing is sent. With something,
MEMBER#<sub> / DIGEST#<ISO week> is claimed with a conditional write in one transaction with the email's
link (the guard against a redelivered message or a second sweep's copy), the email goes, then one
transaction marks the claim sent, marks the asks and introductions it mentioned `digested` and plans the
next digest (a later week than this one).

The residual window is the nudges' one: SES accepted the email but the function died before marking
the claim sent; after CLAIM_LEASE a redelivery may send again.
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError, UpdateError
from pynamodb.expressions.update import Action
from pynamodb.transactions import TransactWrite

from shared.adapters.db import connection, refused
from shared.adapters.mail import render
from shared.adapters.models import AskReceived, Introduction, LinkToken, Member, SendClaim, iso_z, member_pk
from shared.adapters.observability import logger
from shared.digest import planning
from shared.digest.compose import Content, gather
from shared.links.tokens import new_link
from shared.nudges.sending import CLAIM_LEASE, CLAIM_TTL, PERMANENT, TRANSACTION_ITEMS, SenderDeps, TransientSendError
from shared.nudges.suppression import suppress_address
from shared.pacts.planning import Ctx, stop_nudge_emails

SUBJECT = "Your week in peer support"


def claim_key(member_id: str, week: str) -> tuple[str, str]:
    return member_pk(member_id), f"DIGEST#{week}"


def send_weekly(message: dict[str, object], now: datetime, deps: SenderDeps) -> str:
    """Handle one queued digest; returns what happened (for logs and tests)."""
    member_id, due = str(message["member_id"]), str(message["due"])
    try:
        member = Member.get(*Member.key(member_id), consistent_read=True)
    except DoesNotExist:
        return "no-member"
    if member.digest_due != due or due > iso_z(now):
        return "moved-on"  # sent, re-planned or turned off since the sweep: that change planned what comes next
    if not planning.wants_digest(member):
        _move_on(member, due, now, deps.shards)
        return "not-wanted"
    week = planning.week_of(now, member.time_zone)  # the week it goes in (a late run is still one digest that week)
    if member.away_until is not None and member.away_until > now:
        _move_on(member, due, now, deps.shards)
        return "away"
    content = gather(member_id, member.time_zone, member.isolation_said_at, member.created_at, now, member.digest_sent_at)
    if content.empty:
        _move_on(member, due, now, deps.shards)
        return "nothing-to-say"
    key = claim_key(member_id, week)
    email = _compose(member_id, member, content, now, deps)
    if not _claim(key, email.link, now, deps.clock()):
        with suppress(DoesNotExist):
            if SendClaim.get(*key, consistent_read=True).status != "sending":
                _move_on(member, due, now, deps.shards, week=week)
        return "already-claimed"
    try:
        message_id = _send(member, email, deps)
    except TransientSendError:
        SendClaim(*key).delete()
        raise
    except _Permanent as failure:
        SendClaim(*key).update(actions=[SendClaim.status.set("failed")])
        stop_nudge_emails(Ctx(sub=member_id, now=now, due_shards=deps.shards), failure.reason)
        suppress_address(member.email, failure.reason, now)
        member.email_suppressed = failure.reason
        _move_on(member, due, now, deps.shards)
        logger.warning("digest not deliverable; address marked", extra={"reason": failure.reason})
        return "permanent-failure"
    _close(key, message_id, member, due, now, deps.shards, week, content)
    return "sent"


def _claim(key: tuple[str, str], link: LinkToken, now: datetime, clock: datetime) -> bool:
    """Take the right to send this week's digest and store its link, in one transaction.

    A claim left `sending` longer than the lease can be retaken.
    """
    claim = SendClaim(*key, status="sending", claimed_at=clock, expires_at=now + CLAIM_TTL)
    try:
        with TransactWrite(connection=connection()) as tx:
            tx.save(claim, condition=SendClaim.claimable(clock, CLAIM_LEASE))
            tx.save(link)
    except TransactWriteError as error:
        if not refused(error):
            raise
        return False
    return True


def _close(
    key: tuple[str, str], message_id: str, member: Member, due: str, now: datetime, shards: int, week: str, content: Content
) -> None:
    """Sent: in one transaction the claim says so, the next digest is planned and what it mentioned is digested.

    If one of them changed meanwhile (a profile save re-planned the digest, an ask expired), each is written
    on its own, as far as it still applies.
    """
    sent: list[Action] = [SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)]
    isolation = content.isolation is not None
    mentioned = [*content.asks, *content.settled, *content.intros]
    if len(mentioned) + 2 <= TRANSACTION_ITEMS:
        try:
            with TransactWrite(connection=connection()) as tx:
                tx.update(SendClaim(*key), actions=sent)
                actions = _next_digest(member, now, shards, week=week, isolation=isolation)
                tx.update(member, actions=actions, condition=Member.digest_due == due, add_version_condition=False)
                for ask in [*content.asks, *content.settled]:
                    tx.update(ask, actions=[AskReceived.digested.set(True)], condition=AskReceived.pk.exists())
                for intro in content.intros:
                    tx.update(intro, actions=[Introduction.digested.set(True)], condition=Introduction.pk.exists())
        except TransactWriteError:
            pass
        else:
            return
    SendClaim(*key).update(actions=sent)
    _move_on(member, due, now, shards, week=week, isolation=isolation)
    _mark_digested(content)


def _move_on(member: Member, due: str, now: datetime, shards: int, *, week: str | None = None, isolation: bool = False) -> None:
    """Plan the next digest (a sent week is never planned again); only if nothing re-planned it meanwhile."""
    actions = _next_digest(member, now, shards, week=week, isolation=isolation)
    with suppress(UpdateError):  # changed meanwhile (a profile save): that change planned the next one
        member.update(actions=actions, condition=Member.digest_due == due, add_version_condition=False)


def _next_digest(member: Member, now: datetime, shards: int, *, week: str | None = None, isolation: bool = False) -> list[Action]:
    """The profile's changes planning the next digest (a sent week is never planned again)."""
    actions: list[Action] = []
    if week is not None:
        member.digest_week, member.digest_sent_at = week, now
        actions += [Member.digest_week.set(week), Member.digest_sent_at.set(now)]
    if isolation:
        member.isolation_said_at = now
        actions.append(Member.isolation_said_at.set(now))
    planning.plan(member, now, shards)
    if member.digest_due is None:
        actions += [Member.digest_due.remove(), Member.digest_shard.remove()]
    else:
        actions += [Member.digest_due.set(member.digest_due), Member.digest_shard.set(member.digest_shard)]
    return actions


def _mark_digested(content: Content) -> None:
    """The asks and introductions this digest mentioned are not mentioned again."""
    for ask in [*content.asks, *content.settled]:
        with suppress(UpdateError):  # gone meanwhile (expired, erased)
            ask.update(actions=[AskReceived.digested.set(True)], condition=AskReceived.pk.exists())
    for intro in content.intros:
        with suppress(UpdateError):
            intro.update(actions=[Introduction.digested.set(True)], condition=Introduction.pk.exists())


class _Permanent(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Email:
    text: str
    html: str
    unsubscribe_url: str
    link: LinkToken


def _compose(member_id: str, member: Member, content: Content, now: datetime, deps: SenderDeps) -> _Email:
    """The digest and its unsubscribe link (stored with the claim)."""
    token, link = new_link(member_id, "unsubscribe", now)
    unsubscribe_url = f"{deps.base_url}/u/{token}"
    text, html = render("weekly_digest", subject=SUBJECT, name=member.display_name, unsubscribe_url=unsubscribe_url, **content.context())
    return _Email(text, html, unsubscribe_url, link)


def _send(member: Member, email: _Email, deps: SenderDeps) -> str:
    headers = {
        # RFC 8058 one-click unsubscribe (and RFC 2369's mailto alternative), as the nudges have
        "List-Unsubscribe": f"<{email.unsubscribe_url}>, <mailto:{deps.mailer.sender}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    try:
        return deps.mailer.send(member.email, SUBJECT, email.text, email.html, headers=headers, configuration_set=deps.configuration_set)
    except Exception as exc:
        response = getattr(exc, "response", None) or {}
        code = str(response.get("Error", {}).get("Code") or type(exc).__name__)
        if code in PERMANENT:
            raise _Permanent("rejected") from None
        raise TransientSendError(code) from None
