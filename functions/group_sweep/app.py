"""Scheduled every 15 minutes: fix the meetings a week away (and plan each member's reminder), then queue the reminders due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.aws import client
from shared.adapters.observability import logger
from shared.adapters.queue import sqs_enqueue
from shared.adapters.settings import get_settings
from shared.groups.reminders import sweep_reminders
from shared.groups.scheduling import sweep_groups


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The scheduled instant is "now": a late or repeated delivery sweeps as of its own time.
    now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    settings = get_settings()
    groups = sweep_groups(now, settings.due_shards)
    # Second, so that a reminder the scheduling just planned for "at once" goes in this run.
    reminders = sweep_reminders(
        now, settings.due_shards, sqs_enqueue(client("sqs"), settings.group_reminder_queue_url, "reminder messages")
    )
    return {
        "groups_read": groups.items_read,
        "scheduled": groups.scheduled,
        "reviews": groups.reviews,
        "reminders_read": reminders.items_read,
        "reminders": reminders.reminders,
    }
