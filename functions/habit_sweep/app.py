"""Scheduled every 15 minutes: the habit messages due (a reminder before a slot, "you've made it a habit", "reminders are back")."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.aws import client
from shared.adapters.mail import Mailer
from shared.adapters.observability import logger
from shared.adapters.settings import get_settings
from shared.nudges.habit import HabitDeps, habit_sweep


@cache
def _deps() -> HabitDeps:
    settings = get_settings()
    return HabitDeps(
        mailer=Mailer(lambda: client("sesv2"), settings.sender_email),
        sns=lambda: client("sns"),
        base_url=settings.public_base_url,
        shards=settings.due_shards,
        clock=lambda: datetime.now(UTC),
        configuration_set=settings.ses_configuration_set or None,
    )


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    # The scheduled instant is "now": a late or repeated delivery sweeps as of its own time.
    now = datetime.fromisoformat(str(event["time"]).replace("Z", "+00:00"))
    return asdict(habit_sweep(now, _deps()))
