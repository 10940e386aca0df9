"""The one kind invitation email (sent by NotifyFunction when an invitation is made or re-sent).

Kept apart from the invitation use-cases so that the notify function loads no pact-writing code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError

from shared.adapters.mail import Mailer, render
from shared.adapters.models import AddressSuppression, Invitation, LinkToken, Member, PactView, SendClaim
from shared.adapters.observability import logger
from shared.domain import rhythm
from shared.domain.groups import describe_rhythm
from shared.groups import series
from shared.links.tokens import new_link
from shared.nudges.suppression import suppress_address
from shared.pacts.planning import first_due_on_joining

EMAIL_INTERVAL = timedelta(days=7)  # at most one invitation email per address in this time, whoever invites
PAGE_AFTERLIFE = timedelta(days=30)  # the page outlives the invitation, to say that it expired (or was answered)
MODES = {"phone": "by phone", "video": "by video", "in_person": "in person"}
CLAIM_LEASE = timedelta(minutes=15)


def _wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class InvitationMail:
    mailer: Mailer
    base_url: str
    app_url: str = ""
    configuration_set: str | None = None
    clock: Callable[[], datetime] = _wall_clock  # real time, for the claim's lease


def send_invitation_email(pact_id: str, owner_sub: str, now: datetime, mail: InvitationMail) -> str:
    """The one kind invitation email for an invitation just made or re-sent; returns what happened.

    Nothing goes to an address that asked for no more email, bounced or complained, or that
    had an invitation email in the last 7 days (whoever sent it). A redelivered event finds
    the address's claim and sends nothing twice.
    """
    try:
        owner = PactView.get(*PactView.key(pact_id, owner_sub), consistent_read=True)
        inviter = Member.get(*Member.key(owner_sub))
    except DoesNotExist:
        return "gone"
    if owner.invite_key is None or owner.state != "active":
        return "not-open"
    try:
        invitation = Invitation.get(*Invitation.key(owner.invite_key, pact_id), consistent_read=True)
    except DoesNotExist:
        return "not-open"
    if invitation.valid_until <= now:
        return "expired"

    def context(page_url: str, stop_url: str) -> tuple[str, dict[str, Any]]:
        return "invitation", invitation_context(owner, inviter, invitation, page_url, stop_url, mail.app_url, now)

    return _send_once(owner.invite_key, invitation, now, mail, context, page=("invitation", pact_id, None))


def send_group_invitation_email(group_id: str, invitation_id: str, now: datetime, mail: InvitationMail) -> str:
    """The one kind email inviting an address into a peer supervision group, under the same limits as pacts."""
    state = series.load(group_id, now - series.LOOK_BACK)  # the group, the invited entry, its coming meetings
    invited = state.people.get(f"@{invitation_id}") if state is not None else None
    if state is None or invited is None or invited.state != "invited" or not invited.invite_key:
        return "not-open"
    group, invite_key = state.group, invited.invite_key
    try:
        invitation = Invitation.get(*Invitation.group_key(invite_key, group_id), consistent_read=True)
        inviter = Member.get(*Member.key(invitation.inviter_sub))
    except DoesNotExist:
        return "not-open"
    if invitation.valid_until <= now:
        return "expired"

    def context(page_url: str, stop_url: str) -> tuple[str, dict[str, Any]]:
        return "group_invitation", {
            **group_terms(state, now),
            "page_url": page_url,
            "subject": f"{inviter.display_name} invites you to the peer supervision group {group.name}",
            "inviter": inviter.display_name,
            "group": group.name,
            "unsubscribe_url": stop_url,
            "app_url": mail.app_url,
            "expires_on": f"{invitation.valid_until.astimezone(ZoneInfo(group.time_zone)):%A %-d %B}",
        }

    return _send_once(invite_key, invitation, now, mail, context, page=("group_invitation", None, group_id))


def _send_once(
    invite_key: str,
    invitation: Invitation,
    now: datetime,
    mail: InvitationMail,
    context_of: Callable[[str, str], tuple[str, dict[str, Any]]],
    page: tuple[str, str | None, str | None],
) -> str:
    """Send one invitation email to an address unless it is suppressed or had one in the last 7 days."""
    try:
        AddressSuppression.get(*AddressSuppression.key(invite_key))
        return "suppressed"
    except DoesNotExist:
        pass
    # One email per address per 7 days. A claim left `sending` (a crash between claiming and SES's answer)
    # can be retaken after a 15-minute lease on the wall clock, as redeliveries happen in real time.
    wall = mail.clock()
    claim = SendClaim(
        f"ADDRESS#{invite_key}",
        "INVITATION_EMAIL",
        status="sending",
        claimed_at=now,
        lease_until=wall + CLAIM_LEASE,
        expires_at=now + EMAIL_INTERVAL,
    )
    stale = (SendClaim.status == "sending") & (SendClaim.lease_until < wall)
    try:
        claim.save(condition=SendClaim.pk.does_not_exist() | (SendClaim.claimed_at <= now - EMAIL_INTERVAL) | stale)
    except PutError:
        return "recently-emailed"
    stop_token, stop = new_link("", "unsubscribe", now, None)
    stop.invite_key = invite_key
    stop_url = f"{mail.base_url}/u/{stop_token}"
    links = [stop]
    # The invitation's own page (/i/<token>: what it is, and "No, thank you" without an account), for
    # a pact ("invitation", pact id) or a group ("group_invitation", group id).
    action, pact_id, group_id = page
    page_token, page_link = new_link("", action, now, pact_id, lifetime=invitation.valid_until - now + PAGE_AFTERLIFE)
    page_link.invite_key, page_link.group_id = invite_key, group_id
    page_url = f"{mail.base_url}/i/{page_token}"
    links.append(page_link)
    with LinkToken.batch_write() as batch:
        for link in links:
            batch.save(link)
    template, context = context_of(page_url, stop_url)
    text, html = render(template, **context)
    headers = {
        "List-Unsubscribe": f"<{stop_url}>, <mailto:{mail.mailer.sender}?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    try:
        message_id = mail.mailer.send(
            invitation.email, context["subject"], text, html, headers=headers, configuration_set=mail.configuration_set
        )
    except Exception as exc:
        response = getattr(exc, "response", None) or {}
        if str(response.get("Error", {}).get("Code") or "") == "MessageRejected":
            # The address itself is refused: never again, and no retry.
            claim.update(actions=[SendClaim.status.set("failed")])
            suppress_address("", "rejected", now, key=invite_key)
            return "rejected"
        claim.delete()  # let the retry send it
        # The provider's message may name the recipient: only its type goes on.
        raise InvitationNotSent(f"invitation email not sent ({type(exc).__name__})") from None
    claim.update(actions=[SendClaim.status.set("sent"), SendClaim.message_id.set(message_id)])
    logger.info("invitation email sent")
    return "sent"


class InvitationNotSent(Exception):
    """Sending failed; raised without the provider's message (it may carry the address)."""


def proposed_terms(view: PactView, now: datetime) -> dict[str, Any]:
    """The proposed rhythm in the invited person's words, said in the inviter's zone; the first check-in
    as it would be if they said yes now (never one that has already passed unused)."""
    zone = view.time_zone
    place = zone.rsplit("/", 1)[-1].replace("_", " ")
    rule = rhythm.Rhythm(view.rrule, zone, view.starts_at)
    when = rhythm.describe(view.rrule)
    if rule.is_slot:
        when = f"{when} ({place} time, {zone})"
    first = first_due_on_joining(view, now)[1].astimezone(ZoneInfo(zone))
    return {
        "when": when,
        "mode": MODES.get(view.mode, view.mode),
        "time_limit": int(view.time_limit_minutes),
        "first": f"{first:%A %-d %B} at {first:%H:%M}" if rule.is_slot else f"by {first:%A %-d %B}",
    }


def group_terms(state: series.GroupState, now: datetime) -> dict[str, Any]:
    """A group's terms as an invitation says them: its rhythm, length and purpose, and its first meeting (or, for a
    group that has met already, its next one: as the group's calendar has it, moved or cancelled meetings included)."""
    group = state.group
    coming = (o.starts_at for o in series.expand(state, now, 3) if o.status != "cancelled" and o.starts_at > now)
    start = next(coming, None)
    local = start.astimezone(ZoneInfo(group.time_zone)) if start is not None else None
    return {
        "when": describe_rhythm(group.rrule, group.time_zone, group.starts_at),
        "minutes": int(group.duration_minutes),
        "purpose": group.purpose or "",
        "first_label": "First meeting" if group.starts_at > now else "Next meeting",
        "first": f"{local:%A %-d %B %Y} at {local:%H:%M}" if local is not None else "to be arranged",
    }


def invitation_context(
    owner: PactView, inviter: Member, invitation: Invitation, page_url: str, stop_url: str, app_url: str, now: datetime
) -> dict[str, Any]:
    return {
        "subject": f"{inviter.display_name} would like to keep in regular touch with you",
        "inviter": inviter.display_name,
        "terms": proposed_terms(owner, now),
        "page_url": page_url,
        "unsubscribe_url": stop_url,
        "app_url": app_url,
        "expires_on": f"{invitation.valid_until.astimezone(ZoneInfo(owner.time_zone)):%A %-d %B}",
    }
