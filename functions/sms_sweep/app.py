"""Scheduled every 5 minutes: the one-tap check-in texts for slots that just ended."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.aws import client
from shared.adapters.observability import logger
from shared.adapters.settings import get_settings
from shared.texts.sending import text_sweep


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    settings = get_settings()
    return asdict(text_sweep(now, settings.due_shards, client("sns"), settings.public_base_url))
