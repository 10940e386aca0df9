"""Domain events on the EventBridge bus. Schemas are documented in docs/events.md.

Details carry ids and facts, never personal data (no names, emails, phones or notes):
a consumer that needs more reads it through the API's data with its own permissions.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shared.adapters.observability import logger

SOURCE = "peer-support"


@dataclass(frozen=True)
class DomainEvent:
    detail_type: str  # PactCreated, CheckInRecorded, ...
    detail: dict[str, Any] = field(default_factory=dict)


class EventPublisher:
    """Puts domain events on the bus, ten to a call. Publishing never undoes a committed change."""

    def __init__(self, client: Callable[[], Any], bus_name: str):
        self._client = client  # called on first publish: requests that publish nothing never build it
        self.bus_name = bus_name

    def publish(self, events: list[DomainEvent], now: datetime) -> None:
        for start in range(0, len(events), 10):
            batch = events[start : start + 10]
            entries = [
                {
                    "Source": SOURCE,
                    "DetailType": e.detail_type,
                    "Detail": json.dumps({"occurred_at": now.isoformat(), **e.detail}, default=str),
                    "EventBusName": self.bus_name,
                    "Time": now,
                }
                for e in batch
            ]
            try:
                response = self._client().put_events(Entries=entries)
            except Exception as exc:
                logger.error(
                    "domain events not published", extra={"types": [e.detail_type for e in batch], "error_type": type(exc).__name__}
                )
                continue
            if response.get("FailedEntryCount"):
                failed = [batch[i].detail_type for i, r in enumerate(response["Entries"]) if r.get("ErrorCode")]
                logger.error("some domain events not published", extra={"types": failed})
