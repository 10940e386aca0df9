"""Scheduled every 15 minutes: queue one message per member whose weekly digest is due (sparse sharded index, no Scan)."""

from __future__ import annotations

import os
from dataclasses import asdict
from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.aws import client
from shared.adapters.observability import logger
from shared.adapters.queue import sqs_enqueue
from shared.adapters.settings import SettingsError, get_settings
from shared.digest.sweep import sweep_digests


def queue_url() -> str:
    # Read here rather than in the shared Settings: only this function needs it (template.yaml sets it).
    url = os.environ.get("DIGEST_QUEUE_URL", "")
    if not url:
        raise SettingsError("DIGEST_QUEUE_URL: give the digest queue's URL")
    return url


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The scheduled instant is "now": a late or repeated delivery sweeps as of its own time.
    now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    settings = get_settings()
    result = sweep_digests(now, settings.due_shards, sqs_enqueue(client("sqs"), queue_url(), "digest messages"))
    return asdict(result)
