"""The outbox's relay: each new outbox item on the table's stream goes onto the domain bus.

The stream's event source only invokes this for INSERTs of `EVENT#` items (FilterCriteria in
template.yaml). Entries go ten to a PutEvents call, in stream order. What EventBridge refuses
(FailedEntryCount), or every entry of a call that fails, is reported as a batch item failure,
and the other calls still go: Lambda retries the batch from the first failure (the records
before it are done), so every event reaches the bus at least once; a repeat carries the same
`event_id`. A record that keeps failing ends, after the retries, in EventRelayDeadLetterQueue
(with an alarm).
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.aws import client
from shared.adapters.observability import logger
from shared.adapters.settings import get_settings

SOURCE = "peer-support"
PER_CALL = 10  # PutEvents takes at most ten entries


@cache
def _bus() -> str:
    return get_settings().event_bus_name


def entry(image: dict[str, Any], bus: str) -> dict[str, Any]:
    """The bus entry an outbox item's new image stands for (the image is already plain values)."""
    return {
        "Source": SOURCE,
        "DetailType": str(image["detail_type"]),
        "Detail": str(image["detail"]),
        "EventBusName": bus,
        "Time": datetime.fromisoformat(str(image["occurred_at"]).replace("Z", "+00:00")),
    }


@logger.inject_lambda_context
@event_source(data_class=DynamoDBStreamEvent)
def handler(event: DynamoDBStreamEvent, context: LambdaContext) -> dict[str, Any]:
    records = [r for r in event.records if r.dynamodb is not None and r.dynamodb.new_image]
    events = client("events")
    failed: list[Any] = []
    for start in range(0, len(records), PER_CALL):
        batch = records[start : start + PER_CALL]
        entries = [entry(r.dynamodb.new_image, _bus()) for r in batch]  # type: ignore[union-attr]
        try:
            results = events.put_events(Entries=entries).get("Entries", [])
        except Exception as exc:  # the whole call failed: these ten come again (the later ones are still tried)
            logger.error("domain events not relayed", extra={"error_type": type(exc).__name__, "events": len(batch)})
            failed.extend(batch)
            continue
        refused = [r for r, result in zip(batch, results, strict=False) if result.get("ErrorCode")]
        if refused:
            codes = sorted({str(result["ErrorCode"]) for result in results if result.get("ErrorCode")})
            logger.error("domain events refused by the bus", extra={"events": len(refused), "error_codes": codes})
            failed.extend(refused)
    logger.info("domain events relayed", extra={"events": len(records) - len(failed), "failed": len(failed)})
    # Lambda resumes the stream at the first failure reported: that record and every later one come again.
    return {"batchItemFailures": [{"itemIdentifier": r.dynamodb.sequence_number} for r in failed]}
