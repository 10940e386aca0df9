"""Short notices to pact colleagues (away mode), sent when the domain event arrives."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from pynamodb.exceptions import DoesNotExist, PutError

from shared.adapters.mail import Mailer
from shared.adapters.models import Member, PactView, SentNotice, member_pk
from shared.adapters.observability import logger

NOTICE_TTL = timedelta(days=14)


class NoticeNotSent(Exception):
    """Sending failed; raised without the provider's message (it may carry an address)."""


@dataclass(frozen=True)
class Notice:
    subject: str
    text: str
    html: str


def render_away_notice(member_name: str, colleague_name: str, back_on: str) -> Notice:
    """The one short email a colleague gets when someone they meet regularly goes away. Pure."""
    subject = f"{member_name} is away until {back_on}"
    text = (
        f"Hello {colleague_name},\n\n"
        f"{member_name} is away until {back_on}. Your regular check-ins are paused until then "
        "and pick up again by themselves; there is nothing you need to do.\n\n"
        "Peer support\n"
    )
    html = (
        f"<p>Hello {escape(colleague_name)},</p>"
        f"<p>{escape(member_name)} is away until <strong>{escape(back_on)}</strong>. Your regular check-ins are paused "
        "until then and pick up again by themselves; there is nothing you need to do.</p><p>Peer support</p>"
    )
    return Notice(subject, text, html)


def hears_from_us(view: PactView) -> bool:
    """Only people the member actually meets: an accepted pact with a member, or an outside colleague.

    Not someone who merely invited the member, not a member who has not accepted, not one who left.
    """
    if not view.colleague_email or view.state != "active" or view.colleague_left:
        return False
    return view.colleague_sub is None or view.mutual


def send_away_notices(event_id: str, member_id: str, until: datetime, now: datetime, mailer: Mailer) -> int:
    """Tell each colleague of an away member, once per event and recipient. Returns how many were sent."""
    try:
        member = Member.get(*Member.key(member_id))
    except DoesNotExist:
        return 0  # erased meanwhile: nobody to speak for
    if member.away_until is None or member.away_until != until:
        return 0  # already back, or away again with another date: that event speaks for itself
    back_on = until.astimezone(ZoneInfo(member.time_zone)).strftime("%A %-d %B %Y")
    recipients: dict[str, str] = {}
    for view in PactView.gsi1.query(member_pk(member_id), PactView.gsi1sk.startswith("PACT#")):
        if isinstance(view, PactView) and hears_from_us(view):
            recipients.setdefault(str(view.colleague_email), view.colleague_name)
    sent = sum(
        send_once(member_id, event_id, address, render_away_notice(member.display_name, name, back_on), now, mailer)
        for address, name in recipients.items()
    )
    logger.info("away notices sent", extra={"count": sent})
    return sent


def send_once(member_id: str, event_id: str, address: str, notice: Notice, now: datetime, mailer: Mailer) -> bool:
    """Send a notice that an event of this member's occasions, once per event and address (a redelivered
    event finds the record and sends nothing); True if it went now. A failed send leaves no record and
    raises NoticeNotSent, so the event's retry sends it."""
    record = SentNotice(
        member_pk(member_id),
        f"SENT#{event_id}#{hashlib.sha256(address.encode()).hexdigest()[:24]}",
        sent_at=now,
        expires_at=now + NOTICE_TTL,
    )
    try:
        record.save(condition=SentNotice.pk.does_not_exist())
    except PutError:
        return False  # this recipient already has it (a redelivered event)
    try:
        record.message_id = mailer.send(address, notice.subject, notice.text, notice.html)
    except Exception as exc:
        record.delete()  # let the retry send it
        # SES's own message can name the recipient: only its type goes on, into logs and retries.
        raise NoticeNotSent(f"notice not sent ({type(exc).__name__})") from None
    record.save()
    return True
