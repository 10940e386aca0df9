"""Consumes the nudge queue: one digest email per member, with partial batch failure reporting."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.observability import logger
from shared.nudges.sending import deployed_deps, queued_now, send_digest

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    message = json.loads(record.body)
    now = queued_now(message, record.attributes.sent_timestamp)
    outcome = send_digest(message, now, deployed_deps())
    logger.info("nudge message handled", extra={"outcome": outcome, "pacts": len(message["pacts"])})
    return outcome


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context))
