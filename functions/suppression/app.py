"""SES bounce and complaint notifications (through SNS): the address is never emailed again."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.observability import logger
from shared.adapters.settings import get_settings
from shared.nudges.suppression import suppress_from_notification


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    handled = 0
    for record in event.get("Records", []):
        sns = record["Sns"]
        now = datetime.fromisoformat(sns["Timestamp"].replace("Z", "+00:00"))
        handled += suppress_from_notification(json.loads(sns["Message"]), now, get_settings().due_shards)
    return {"suppressed": handled}
