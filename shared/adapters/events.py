"""Domain events, written to the table in the same transaction as the change (a transactional outbox).

Schemas are documented in docs/events.md. Details carry ids and facts, never personal data
(no names, emails, phones or notes): a consumer that needs more reads it through the API's
data with its own permissions.

A change and its events commit together or not at all: each event is an `OutboxEvent` item
added to the change's own `TransactWrite`. The table's stream hands every new outbox item to
EventRelayFunction (functions/event_relay), which puts it on the bus, so each committed
change's events reach the bus at least once; `event_id` in the detail lets consumers drop a
repeat.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.connection import Connection
from pynamodb.transactions import TransactWrite

from shared.adapters.models import OutboxEvent

SOURCE = "peer-support"
# The outbox item only has to outlive its trip through the stream (kept 24 hours) to the bus.
OUTBOX_TTL = timedelta(days=1)


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class DomainEvent:
    detail_type: str  # PactCreated, CheckInRecorded, ...
    detail: dict[str, Any] = field(default_factory=dict)
    event_id: str = field(default_factory=_new_id)  # in the detail, so consumers can deduplicate


def detail_json(event: DomainEvent, now: datetime) -> str:
    return json.dumps({"event_id": event.event_id, "occurred_at": now.isoformat(), **event.detail}, default=str)


def add_events(tx: TransactWrite, events: Iterable[DomainEvent], now: datetime) -> None:
    """Add each event to the change's transaction as an outbox item.

    Call it last inside the `with TransactWrite(...)` block: the items are updates (an update
    creates the item), and PynamoDB sends updates after condition checks, deletes and puts,
    in the order added, so the cancellation reasons of the change's own items keep their indexes.
    """
    for event in events:
        tx.update(
            OutboxEvent(*OutboxEvent.key(event.event_id)),
            actions=[
                OutboxEvent.kind.set(OutboxEvent),  # the discriminator: the item is found as what it is
                OutboxEvent.detail_type.set(event.detail_type),
                OutboxEvent.detail.set(detail_json(event, now)),
                OutboxEvent.occurred_at.set(now),
                OutboxEvent.expires_at.set(now + OUTBOX_TTL),
            ],
            add_version_condition=False,
        )


def write_events(connection: Connection, events: list[DomainEvent], now: datetime) -> None:
    """Events of a change that has nothing left to write beside them (its transaction of outbox items only)."""
    if not events:
        return
    with TransactWrite(connection=connection) as tx:
        add_events(tx, events, now)
