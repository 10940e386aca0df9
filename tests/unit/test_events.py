"""Publishing domain events: batches of ten, and a refusal never undoes the committed change."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from shared.adapters.events import DomainEvent, EventPublisher

NOW = datetime(2026, 12, 8, 9, tzinfo=UTC)


class RecordingEvents:
    """A stand-in EventBridge client for the faults moto cannot produce (refusals, partial failures)."""

    def __init__(self, fail: Exception | None = None, failed_entries: int = 0):
        self.calls: list[list[dict[str, Any]]] = []
        self.fail = fail
        self.failed_entries = failed_entries

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if self.fail:
            raise self.fail
        results = [{"ErrorCode": "InternalFailure"} if i < self.failed_entries else {"EventId": str(i)} for i in range(len(Entries))]
        return {"FailedEntryCount": self.failed_entries, "Entries": results}


def test_events_go_in_batches_of_ten_with_the_request_time() -> None:
    client = RecordingEvents()
    EventPublisher(lambda: client, "bus").publish([DomainEvent("PactCreated", {"pact_id": str(i)}) for i in range(23)], NOW)
    assert [len(batch) for batch in client.calls] == [10, 10, 3]
    first = client.calls[0][0]
    assert first["Source"] == "peer-support"
    assert first["EventBusName"] == "bus"
    assert json.loads(first["Detail"]) == {"occurred_at": NOW.isoformat(), "pact_id": "0"}


def test_the_client_is_only_built_when_something_is_published() -> None:
    built: list[int] = []
    EventPublisher(lambda: built.append(1), "bus").publish([], NOW)
    assert built == []


def test_a_refusal_is_logged_and_does_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    client = RecordingEvents(fail=RuntimeError("throttled for ann@example.org"))
    EventPublisher(lambda: client, "bus").publish([DomainEvent("CheckInRecorded", {"pact_id": "p"})] * 12, NOW)
    assert len(client.calls) == 2  # the second batch is still tried
    assert [r.getMessage() for r in caplog.records] == ["domain events not published"] * 2
    assert caplog.records[0].error_type == "RuntimeError"  # type: ignore[attr-defined]
    assert "ann@example.org" not in caplog.text


def test_partially_failed_entries_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    client = RecordingEvents(failed_entries=1)
    EventPublisher(lambda: client, "bus").publish([DomainEvent("PactCreated"), DomainEvent("PactAccepted")], NOW)
    assert [r.getMessage() for r in caplog.records] == ["some domain events not published"]
    assert caplog.records[0].types == ["PactCreated"]  # type: ignore[attr-defined]
