"""Consumes the digest queue: one weekly digest email per member and week, once, with partial batch failure reporting."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.aws import client
from shared.adapters.events import EventPublisher
from shared.adapters.mail import Mailer
from shared.adapters.observability import logger
from shared.adapters.settings import get_settings
from shared.digest.send import send_weekly
from shared.nudges.sending import SenderDeps, utc

processor = BatchProcessor(event_type=EventType.SQS)


@cache
def _deps() -> SenderDeps:
    settings = get_settings()
    return SenderDeps(
        mailer=Mailer(lambda: client("sesv2"), settings.sender_email),
        events=EventPublisher(lambda: client("events"), settings.event_bus_name),
        base_url=settings.public_base_url,
        shards=settings.due_shards,
        configuration_set=settings.ses_configuration_set or None,
        clock=lambda: datetime.now(UTC),
    )


def record_handler(record: SQSRecord) -> str:
    message = json.loads(record.body)
    sent_at = datetime.fromtimestamp(int(record.attributes.sent_timestamp) / 1000, tz=UTC)
    # "now": when the sweep saw the digest due (the local stack's clock may run ahead of the wall clock).
    # Claim leases are measured on the wall clock (deps.clock), as redeliveries happen.
    now = max(utc(message["as_of"]), sent_at)
    outcome = send_weekly(message, now, _deps())
    logger.info("digest message handled", extra={"outcome": outcome})
    return outcome


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context))
