"""The one introduction email (sent by NotifyFunction when `IntroductionRequested` arrives).

Kept apart from the use-cases so that the notify function loads no pact-writing code. Sent once per
introduction whatever the delivery (a `SendClaim` MEMBER#<to> / INTRO#<id>, with a lease for a crash
between claiming and SES's answer), and never to an address that bounced, complained or said "don't
email me again" (the member's `email_suppressed`, the address's `AddressSuppression`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError

from shared.adapters.mail import Mailer, render
from shared.adapters.models import AddressSuppression, Introduction, LinkToken, Member, SendClaim, address_key, member_pk
from shared.adapters.observability import logger
from shared.domain.tags import labels_of
from shared.links.tokens import new_link
from shared.nudges.suppression import suppress_address

CLAIM_LEASE = timedelta(minutes=15)
PAGE_AFTERLIFE = timedelta(days=30)  # the links outlive the request, to say that it closed (or was answered)
CLAIM_KEPT = timedelta(days=15)  # longer than an introduction stays open: a late redelivery still finds it


class IntroductionNotSent(Exception):
    """Sending failed; raised without the provider's message (it may carry the address)."""


def _wall_clock() -> datetime:
    return datetime.now(UTC)


def send_introduction_email(
    intro_id: str,
    now: datetime,
    mailer: Mailer,
    base_url: str,
    app_url: str = "",
    configuration_set: str | None = None,
    clock: Callable[[], datetime] = _wall_clock,
) -> str:
    """Email the colleague asked for an introduction, once; returns what happened (sent, suppressed, not-open, ...)."""
    try:
        intro = Introduction.get(*Introduction.key(intro_id), consistent_read=True)
        recipient = Member.get(*Member.key(intro.to_sub))
    except DoesNotExist:
        return "gone"
    if intro.state != "pending" or now >= intro.valid_until:
        return "not-open"
    if recipient.email_suppressed:
        return "suppressed"
    stop_key = address_key(recipient.email)
    with suppress(DoesNotExist):
        AddressSuppression.get(*AddressSuppression.key(stop_key))
        return "suppressed"
    wall = clock()
    claim = SendClaim(
        member_pk(intro.to_sub),
        f"INTRO#{intro_id}",
        status="sending",
        claimed_at=now,
        lease_until=wall + CLAIM_LEASE,
        expires_at=now + CLAIM_KEPT,
    )
    try:
        claim.save(condition=SendClaim.pk.does_not_exist() | ((SendClaim.status == "sending") & (SendClaim.lease_until < wall)))
    except PutError:
        return "sent-already"
    requester = None
    with suppress(DoesNotExist):
        requester = Member.get(*Member.key(intro.from_sub))
    lifetime = intro.valid_until - now + PAGE_AFTERLIFE  # past its 14 days, the page says it closed
    accept_token, accept = new_link(intro.to_sub, "intro_accept", now, lifetime=lifetime)
    decline_token, decline = new_link(intro.to_sub, "intro_decline", now, lifetime=lifetime)
    stop_token, stop = new_link("", "unsubscribe", now)
    stop.invite_key = stop_key
    for link in (accept, decline, stop):
        link.intro_id = intro_id
    with LinkToken.batch_write() as batch:
        for link in (accept, decline, stop):
            batch.save(link)
    stop_url = f"{base_url}/u/{stop_token}"
    subject = f"{intro.from_name} would like to be introduced to you"
    text, html = render(
        "introduction",
        subject=subject,
        requester=intro.from_name,
        recipient=recipient.display_name,
        message=intro.message,
        specialties=labels_of(requester.specialties, requester.specialty_labels) if requester else [],
        region=(requester.region_name or "") if requester else "",
        accept_url=f"{base_url}/i/{accept_token}",
        decline_url=f"{base_url}/i/{decline_token}",
        unsubscribe_url=stop_url,
        app_url=app_url,
        open_until=f"{intro.valid_until.astimezone(ZoneInfo(recipient.time_zone)):%A %-d %B}",
    )
    headers = {
        "List-Unsubscribe": f"<{stop_url}>, <mailto:{mailer.sender}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    try:
        message_id = mailer.send(recipient.email, subject, text, html, headers=headers, configuration_set=configuration_set)
    except Exception as exc:
        response = getattr(exc, "response", None) or {}
        if str(response.get("Error", {}).get("Code") or "") == "MessageRejected":
            claim.update(actions=[SendClaim.status.set("failed")])
            suppress_address("", "rejected", now, key=stop_key)
            return "rejected"
        claim.delete()  # let the retry send it
        raise IntroductionNotSent(f"introduction email not sent ({type(exc).__name__})") from None
    claim.update(actions=[SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)])
    logger.info("introduction email sent")
    return "sent"


def send_acceptance_email(
    intro_id: str, now: datetime, mailer: Mailer, app_url: str = "", clock: Callable[[], datetime] = _wall_clock
) -> str:
    """Tell the requester, once, that their introduction was accepted (contact details stay in the app).

    Declines and silence send nothing, so this email is the only thing that ever differs between them: it
    tells what the requester's own GET /introductions/{id} says anyway.
    """
    try:
        intro = Introduction.get(*Introduction.key(intro_id), consistent_read=True)
        requester = Member.get(*Member.key(intro.from_sub))
    except DoesNotExist:
        return "gone"
    if intro.state != "accepted":
        return "not-accepted"
    if requester.email_suppressed:
        return "suppressed"
    with suppress(DoesNotExist):
        AddressSuppression.get(*AddressSuppression.key(address_key(requester.email)))
        return "suppressed"
    wall = clock()
    claim = SendClaim(
        member_pk(intro.from_sub),
        f"INTRO_ACCEPTED#{intro_id}",
        status="sending",
        claimed_at=now,
        lease_until=wall + CLAIM_LEASE,
        expires_at=now + CLAIM_KEPT,
    )
    try:
        claim.save(condition=SendClaim.pk.does_not_exist() | ((SendClaim.status == "sending") & (SendClaim.lease_until < wall)))
    except PutError:
        return "sent-already"
    subject = f"{intro.to_name} accepted your introduction"
    text, html = render(
        "introduction_accepted", subject=subject, requester=requester.display_name, recipient=intro.to_name, app_url=app_url
    )
    try:
        message_id = mailer.send(requester.email, subject, text, html)
    except Exception as exc:
        claim.delete()  # let the retry send it
        raise IntroductionNotSent(f"introduction acceptance email not sent ({type(exc).__name__})") from None
    claim.update(actions=[SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)])
    logger.info("introduction acceptance email sent")
    return "sent"
