"""The agreement review prompt: every `review_months` the conveners are asked, once, to review the group's agreement."""

from __future__ import annotations

from datetime import datetime, timedelta

from pynamodb.exceptions import DoesNotExist, PutError

from shared.adapters.mail import Mailer, render
from shared.adapters.models import Member, SentNotice, member_pk
from shared.adapters.observability import logger
from shared.domain import groups as domain
from shared.groups import series

NOTICE_TTL = timedelta(days=60)


class PromptNotSent(Exception):
    """Sending failed; raised without the provider's message (it may carry the address)."""


def send_review_prompts(event_id: str, group_id: str, now: datetime, mailer: Mailer, app_url: str = "") -> int:
    """One email to each convener (once per event and convener): the agreement as it stands, and what to review."""
    state = series.load(group_id, now)
    if state is None:
        return 0
    group = state.group
    fmt = state.format
    sent = 0
    for convener in state.conveners:
        sub = str(convener.member_sub)
        try:
            member = Member.get(*Member.key(sub))
        except DoesNotExist:
            continue
        if not member.wants_email_nudges:
            continue
        record = SentNotice(member_pk(sub), f"SENT#{event_id}#review", sent_at=now, expires_at=now + NOTICE_TTL)
        try:
            record.save(condition=SentNotice.pk.does_not_exist())
        except PutError:
            continue  # a redelivered event: this convener has it
        subject = f"Time to review {group.name}'s agreement together"
        text, html = render(
            "group_review",
            subject=subject,
            name=member.display_name,
            group=group.name,
            group_id=group.group_id,
            version=int(group.agreement_version),
            changed_on=f"{group.agreement_changed_at:%-d %B %Y}",
            months=int(group.review_months),
            purpose=group.purpose or "",
            objectives=group.objectives or "",
            when=domain.describe_rhythm(group.rrule, group.time_zone, group.starts_at),
            minutes=int(group.duration_minutes),
            where=_where(state),
            segments=[(s.title, s.minutes, s.repeat) for s in fmt.segments],
            app_url=app_url,
        )
        try:
            record.message_id = mailer.send(member.email, subject, text, html)
        except Exception as exc:
            record.delete()
            raise PromptNotSent(f"review prompt not sent ({type(exc).__name__})") from None
        record.save()
        sent += 1
    logger.info("review prompts sent", extra={"count": sent})
    return sent


def _where(state: series.GroupState) -> str:
    group = state.group
    if group.venue_kind == "online":
        return "online"
    if group.venue_kind == "rotation":
        return "rotating: " + ", ".join(s.venue or state.name_of(s.host) for s in state.stops)
    return group.venue or ""
