"""Recording a check-in: one transaction for the check-in, both timelines, both views, the link or key.

Kept free of the API's pydantic models (plain dataclasses in and out), so the one-tap link
pages can record a check-in without loading them.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError, UpdateError
from pynamodb.transactions import TransactWrite

from shared.adapters.db import cancellation_codes, cancelled_item, connection, refused
from shared.adapters.events import DomainEvent, add_events
from shared.adapters.models import CheckIn, IdempotencyRecord, Item, LinkToken, TimelineEntry, member_pk, pact_pk
from shared.domain.errors import Conflict, InvalidField
from shared.links.tokens import LinkProblem, use_link
from shared.pacts.planning import Ctx, Retry, count_check_in, my_views, persist_views, recordable_from, rhythm_of, with_retries

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class CheckInRequest:
    occurred_at: datetime | None = None
    mode: str | None = None
    duration_minutes: int | None = None
    note: str | None = None


@dataclass(frozen=True)
class CheckInRecord:
    id: str
    pact_id: str
    occurred_at: datetime
    mode: str
    duration_minutes: int
    recorded_by_me: bool
    note: str | None
    source: str
    recorded_at: datetime

    def to_json(self) -> str:
        return json.dumps(asdict(self), default=lambda v: v.isoformat())

    @classmethod
    def from_json(cls, text: str) -> CheckInRecord:
        data: dict[str, Any] = json.loads(text)
        for name in ("occurred_at", "recorded_at"):
            data[name] = datetime.fromisoformat(data[name])
        return cls(**data)


def check_in_record(item: CheckIn | TimelineEntry, sub: str) -> CheckInRecord:
    """A check-in as `sub` sees it: a note only ever their own. On the pact's check-in that is the
    author's; on a timeline copy in their own partition it is theirs whoever recorded the call (a copy
    is written with its owner's note or none, never another's: the colleague's note on a call the
    other recorded lives there)."""
    mine = item.author_sub == sub
    own_copy = isinstance(item, TimelineEntry) and item.pk == member_pk(sub)
    return CheckInRecord(
        id=item.check_in_id,
        pact_id=item.pact_id,
        occurred_at=item.occurred_at,
        mode=item.mode,
        duration_minutes=int(item.duration_minutes),
        recorded_by_me=mine,
        note=item.note if mine or own_copy else None,
        source=item.source,
        recorded_at=item.recorded_at,
    )


@dataclass(frozen=True)
class Recorded:
    check_in: CheckInRecord
    replayed: bool


def _request_hash(pact_id: str, body: CheckInRequest) -> str:
    return hashlib.sha256(json.dumps([pact_id, asdict(body)], sort_keys=True, default=str).encode()).hexdigest()


def record_check_in(
    ctx: Ctx,
    pact_id: str,
    body: CheckInRequest,
    *,
    idempotency_key: str | None = None,
    source: str = "api",
    link: LinkToken | None = None,
) -> Recorded:
    """Write the check-in, both timelines and both views in one transaction.

    Once per pact and minute: a repeat (the same call recorded twice, by one party or
    both) finds the first and answers with it; the second party's note, if any, is kept
    on their own timeline copy of it. With an Idempotency-Key the response
    itself is kept, in the same transaction, and given back to a repeat of the request.
    From a one-tap link, the link is used up in the same transaction too.
    """
    if idempotency_key is not None and not (1 <= len(idempotency_key) <= 100):
        raise InvalidField("Idempotency-Key", "use 1 to 100 characters")
    request_hash = _request_hash(pact_id, body)

    def attempt() -> Recorded:
        mine, theirs = my_views(ctx, pact_id)
        if mine.state == "ended":
            raise Conflict("This pact has ended: your colleague is no longer part of it, so there is nothing to record.")
        if mine.state != "active":
            raise Conflict("Accept the invitation before recording check-ins on this pact.")
        occurred = (body.occurred_at or ctx.now).astimezone(UTC).replace(second=0, microsecond=0)
        if occurred > ctx.now + timedelta(minutes=1):
            raise InvalidField("occurred_at", "is in the future")
        if occurred < recordable_from(mine).replace(second=0, microsecond=0):
            raise InvalidField("occurred_at", "is before the pact began")
        minute = occurred.strftime("%Y-%m-%dT%H:%MZ")
        fields: dict[str, Any] = {
            "check_in_id": f"{pact_id}.{occurred.strftime('%Y%m%dT%H%M')}",
            "pact_id": pact_id,
            "author_sub": ctx.sub,
            "occurred_at": occurred,
            "mode": body.mode or mine.mode,
            "duration_minutes": body.duration_minutes or int(mine.time_limit_minutes),
            "source": source,
            "recorded_at": ctx.now,
        }
        check_in = CheckIn(pact_pk(pact_id), f"CHECKIN#{minute}", note=body.note, **fields)
        views = [mine] if theirs is None else [mine, theirs]
        timelines = [
            TimelineEntry(member_pk(v.member_sub), f"CHECKIN#{minute}#{pact_id}", note=body.note if v is mine else None, **fields)
            for v in views
            if v.state == "active"
        ]
        response = check_in_record(check_in, ctx.sub)
        last = max(filter(None, [mine.last_check_in_at, occurred]))
        next_due = rhythm_of(mine).next_due(last)
        puts: list[Item] = [check_in, *timelines]
        record = None
        if idempotency_key is not None:
            record = IdempotencyRecord(
                member_pk(ctx.sub),
                f"IDEMPOTENCY#{hashlib.sha256(idempotency_key.encode()).hexdigest()}",
                request_hash=request_hash,
                status=201,
                response=response.to_json(),
                expires_at=ctx.now + IDEMPOTENCY_TTL,
            )
            puts.append(record)
        for view in views:
            view.last_check_in_at, view.next_due_at = last, next_due
        count_check_in(views, occurred)  # the habit: a slot (or an interval) kept, maybe established
        recorded = DomainEvent(
            "CheckInRecorded",
            {
                "pact_id": pact_id,
                "check_in_id": fields["check_in_id"],
                "recorded_by": ctx.sub,
                "member_ids": [v.member_sub for v in views],
                "occurred_at": occurred.isoformat(),
                "mode": fields["mode"],
                "duration_minutes": fields["duration_minutes"],
                "source": source,
                "next_due_at": next_due.isoformat(),
            },
        )
        try:
            with TransactWrite(connection=connection()) as tx:
                for item in puts:
                    tx.save(item, condition=Item.pk.does_not_exist(), return_values="ALL_OLD")
                persist_views(ctx, views, ("last_check_in_at", "next_due_at"), tx)
                if link is not None:
                    use_link(tx, link, ctx.now, "check_in")
                add_events(tx, [recorded], ctx.now)
        except TransactWriteError as err:
            # The link's use is the last update before the event's outbox item.
            if link is not None and cancellation_codes(err)[-2:-1] == ["ConditionalCheckFailed"]:
                raise LinkProblem("used") from err
            return _settle_conflict(err, ctx.sub, request_hash, has_record=record is not None, puts=len(puts), note=body.note)
        return Recorded(response, replayed=False)

    return with_retries(attempt)


def _settle_conflict(err: TransactWriteError, sub: str, request_hash: str, *, has_record: bool, puts: int, note: str | None) -> Recorded:
    """Why the check-in transaction was cancelled: a repeat (answer with the first) or a race (retry)."""
    if has_record:
        stored = cancelled_item(err, puts - 1)
        if stored is not None:
            record = IdempotencyRecord.from_raw_data(stored)
            if record.request_hash != request_hash:
                raise InvalidField("Idempotency-Key", "was already used for a different request") from err
            return Recorded(CheckInRecord.from_json(record.response), replayed=True)
    existing = cancelled_item(err, 0)
    if existing is not None:
        first = CheckIn.from_raw_data(existing)
        if first.author_sub != sub and note:
            # The colleague recorded this call first: it stays one check-in, and this party's own note
            # goes on their own timeline copy of it (their partition: nobody else reads it).
            copy = TimelineEntry(member_pk(sub), f"{first.sk}#{first.pact_id}")
            try:
                copy.update(actions=[TimelineEntry.note.set(note)], condition=TimelineEntry.pk.exists())
            except UpdateError as missing:
                raise Conflict("Your colleague already recorded this call; it is not in your history to add a note to.") from missing
            return Recorded(replace(check_in_record(first, sub), note=note), replayed=True)
        return Recorded(check_in_record(first, sub), replayed=True)
    if refused(err):
        raise Retry from err
    raise err
