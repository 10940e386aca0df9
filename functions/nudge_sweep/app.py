"""Scheduled every 15 minutes: enqueue one message per member whose nudges are due (no Scan, no recomputing)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.aws import client
from shared.adapters.observability import logger
from shared.adapters.queue import sqs_enqueue
from shared.adapters.settings import get_settings
from shared.nudges.sending import sweep


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The scheduled instant is "now": a late or repeated delivery sweeps as of its own time.
    now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    settings = get_settings()
    result = sweep(now, settings.due_shards, sqs_enqueue(client("sqs"), settings.nudge_queue_url, "nudge messages"))
    return asdict(result)
