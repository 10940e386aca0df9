"""Settings: one validated object, read from the environment once per cold start.

A plain dataclass checked in `__post_init__` rather than a pydantic model: every function
reads settings, and the scheduled ones would otherwise import pydantic for this alone.
A bad deploy fails at cold start, loudly, naming the variable.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache


class SettingsError(ValueError):
    pass


@dataclass(frozen=True)
class Settings:
    table_name: str
    event_bus_name: str
    stage: str = "dev"
    region: str = "eu-west-1"
    sender_email: str = "nudges@example.org"
    # Base of links sent by email and SMS; empty: the domain a request came in on.
    public_base_url: str = ""
    # How many shards the sparse due-indexes are written over (DUE#0..N-1).
    due_shards: int = 8
    # Where therapists sign in or sign up (named in invitation emails); empty: "the Peer support app".
    app_url: str = ""
    nudge_queue_url: str = ""
    group_reminder_queue_url: str = ""
    ses_configuration_set: str = ""

    def __post_init__(self) -> None:
        if len(self.table_name) < 3:
            raise SettingsError("TABLE_NAME: give the DynamoDB table's name")
        if not self.event_bus_name:
            raise SettingsError("EVENT_BUS_NAME: give the event bus's name")
        if not 1 <= self.due_shards <= 64:
            raise SettingsError("DUE_SHARDS: between 1 and 64")
        if self.public_base_url.endswith("/"):
            raise SettingsError("PUBLIC_BASE_URL: without a trailing slash")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        try:
            shards = int(env.get("DUE_SHARDS", "8"))
        except ValueError:
            raise SettingsError("DUE_SHARDS: a whole number") from None
        return cls(
            table_name=env.get("TABLE_NAME", ""),
            event_bus_name=env.get("EVENT_BUS_NAME", ""),
            stage=env.get("STAGE", "dev"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-1",
            sender_email=env.get("SENDER_EMAIL", "nudges@example.org"),
            public_base_url=env.get("PUBLIC_BASE_URL", "").rstrip("/"),
            due_shards=shards,
            app_url=env.get("APP_URL", ""),
            nudge_queue_url=env.get("NUDGE_QUEUE_URL", ""),
            group_reminder_queue_url=env.get("GROUP_REMINDER_QUEUE_URL", ""),
            ses_configuration_set=env.get("SES_CONFIGURATION_SET", ""),
        )


@cache
def get_settings() -> Settings:
    """The process's settings, validated on first use."""
    return Settings.from_env()
