"""Consumes the group reminder queue: one reminder email (with the meeting's .ics) per member and meeting, once."""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.observability import logger
from shared.groups.reminders import send_reminder
from shared.nudges.sending import deployed_deps, queued_now

processor = BatchProcessor(event_type=EventType.SQS)


def record_handler(record: SQSRecord) -> str:
    message = json.loads(record.body)
    now = queued_now(message, record.attributes.sent_timestamp)
    outcome = send_reminder(message, now, deployed_deps())
    logger.info("reminder message handled", extra={"outcome": outcome})
    return outcome


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context))
