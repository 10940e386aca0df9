"""The check-in text after an agreed slot: found through the sparse `sms_due` index, sent once per pact and slot.

The sweep queries each write shard for texts due at or before now (no Scan), claims
each (pact, member, slot) with a conditional write, and sends "Did you talk with
<name> today? Tap to record it: <link>" through SNS as a transactional SMS. Then the
view moves on to the next slot. A repeated or overlapping run finds the claim and sends
nothing. A claim left `sending` by a run that died before sending is retaken after
CLAIM_LEASE, so the text is not lost (the residual window, as for nudges: SNS took it but
the run died before marking the claim, and a later run texts again). A number that replied
STOP is never texted (the SMS service keeps the list; the member is marked so their pacts
stop planning texts).
"""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError, UpdateError

from shared.adapters.models import Member, PactView, SendClaim, member_pk
from shared.adapters.observability import logger
from shared.domain import sms
from shared.links.tokens import new_link
from shared.pacts.planning import NUDGE_ATTRIBUTES, Ctx, iso_instant, reschedule, stop_texts, view_actions

TOO_LATE = timedelta(hours=2)  # a run that comes this late sends no "today?" text for that slot
CLAIM_TTL = timedelta(days=30)
CLAIM_LEASE = timedelta(minutes=3)  # longer than the function's timeout (2 minutes), shorter than the schedule (5)


@dataclass(frozen=True)
class TextResult:
    items_read: int
    sent: int
    skipped: int


def text_sweep(now: datetime, shards: int, sns: Any, base_url: str) -> TextResult:
    read = sent = skipped = 0
    for number in range(shards):
        for found in PactView.sms_due_index.query(f"DUE#{number}", PactView.sms_due <= iso_instant(now)):
            read += 1
            if not isinstance(found, PactView):
                continue
            if _text_one(found, now, shards, sns, base_url):
                sent += 1
            else:
                skipped += 1
    logger.info("text sweep done", extra={"items_read": read, "sent": sent, "skipped": skipped})
    return TextResult(read, sent, skipped)


def _text_one(found: PactView, now: datetime, shards: int, sns: Any, base_url: str) -> bool:
    try:  # the index is eventually consistent: act on the item as it is now
        view = PactView.get(found.pk, found.sk, consistent_read=True)
    except DoesNotExist:
        return False
    if view.sms_due is None or view.sms_due > iso_instant(now):
        return False
    if view.state == "ended":
        return _text_ended_notice(view, now, shards, sns)
    if view.sms_slot is None:
        return False
    slot = view.sms_slot
    if view.state != "active" or (view.paused_until is not None and now < view.paused_until):
        # e.g. the colleague's away mode paused it without re-planning this text: let the slot go
        _next_slot(view, slot, now, shards)
        return False
    sent = False
    claim = SendClaim(member_pk(view.member_sub), f"SMS#{view.pact_id}#{iso_instant(slot)}", status="sending", claimed_at=now)
    claim.expires_at = now + CLAIM_TTL
    try:
        claim.save(condition=SendClaim.claimable(now, CLAIM_LEASE))  # or its run died before sending
    except PutError:
        _next_slot(view, slot, now, shards)  # a repeated run: this slot's text is someone else's job (or done)
        return False
    talked = view.last_check_in_at is not None and view.last_check_in_at >= slot - timedelta(hours=12)
    late = now - datetime.fromisoformat(view.sms_due.replace("Z", "+00:00")) > TOO_LATE
    if not talked and not late:
        try:
            sent = _send(view, now, sns, base_url, claim, shards)
        except Exception as exc:
            # Not sent: give the claim back so the next run (every 5 minutes, until it is too late) tries again.
            claim.delete()
            logger.error("check-in text not sent", extra={"error_type": type(exc).__name__})
            return False
    _next_slot(view, slot, now, shards)
    return sent


def _send(view: PactView, now: datetime, sns: Any, base_url: str, claim: SendClaim, shards: int) -> bool:
    try:
        member = Member.get(*Member.key(view.member_sub))
    except DoesNotExist:
        return False
    if not member.wants_sms or not member.phone:
        return False
    if sns.check_if_phone_number_is_opted_out(phoneNumber=member.phone).get("isOptedOut"):
        stop_texts(Ctx(sub=view.member_sub, now=now, due_shards=shards))
        return False
    token, link = new_link(view.member_sub, "check_in", now, view.pact_id)
    link.save()
    response = sns.publish(
        PhoneNumber=member.phone,
        Message=sms.message(view.colleague_name, f"{base_url}/c/{token}"),
        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
    )
    claim.update(actions=[SendClaim.status.set("sent"), SendClaim.message_id.set(str(response.get("MessageId", "")))])
    return True


def _text_ended_notice(view: PactView, now: datetime, shards: int, sns: Any) -> bool:
    """The one text that a pact has ended, for a member who takes texts and not email; claimed, so sent once."""
    sent = False
    claim = SendClaim(member_pk(view.member_sub), f"SMS#{view.pact_id}#ended", status="sending", claimed_at=now)
    claim.expires_at = now + CLAIM_TTL
    if view.ended_notice == "pending":
        try:
            claim.save(condition=SendClaim.pk.does_not_exist())
            member = Member.get(*Member.key(view.member_sub))
        except (PutError, DoesNotExist):
            member = None
        if member is not None and member.wants_sms and member.phone:
            if sns.check_if_phone_number_is_opted_out(phoneNumber=member.phone).get("isOptedOut"):
                stop_texts(Ctx(sub=view.member_sub, now=now, due_shards=shards))
            else:
                name = view.colleague_name if view.ended_reason != "colleague_erased" else None
                try:
                    response = sns.publish(
                        PhoneNumber=member.phone,
                        Message=sms.ended_message(name),
                        MessageAttributes={"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}},
                    )
                except Exception as exc:
                    claim.delete()  # the next run tries again
                    logger.error("ended-pact text not sent", extra={"error_type": type(exc).__name__})
                    return False
                claim.update(actions=[SendClaim.status.set("sent"), SendClaim.message_id.set(str(response.get("MessageId", "")))])
                sent = True
    view.ended_notice = "sent" if view.ended_notice == "pending" else view.ended_notice
    view.updated_at = now
    reschedule(view, shards)
    with suppress(UpdateError):
        view.update(actions=view_actions(view, ("ended_notice", *NUDGE_ATTRIBUTES, "updated_at")))
    return sent


def _next_slot(view: PactView, slot: datetime, now: datetime, shards: int) -> None:
    view.sms_through = slot + timedelta(minutes=1)  # re-planning from just after this slot finds the next one
    view.updated_at = now  # and never one that has already ended
    reschedule(view, shards)
    with suppress(UpdateError):  # the pact changed meanwhile; that change re-planned the text already
        view.update(actions=view_actions(view, (*NUDGE_ATTRIBUTES, "updated_at")))
