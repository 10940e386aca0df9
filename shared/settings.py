"""Settings: one validated model, read from the environment once per cold start."""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(min_length=3)
    event_bus_name: str = Field(min_length=1)
    stage: str = "dev"
    region: str = "eu-west-1"
    sender_email: str = "nudges@example.org"
    # Base of links sent by email and SMS; empty: the domain a request came in on.
    public_base_url: str = ""
    # How many shards the sparse due-indexes are written over (DUE#0..N-1).
    due_shards: int = Field(default=8, ge=1, le=64)
    nudge_queue_url: str = ""
    ses_configuration_set: str = ""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        return cls(
            table_name=env.get("TABLE_NAME", ""),
            event_bus_name=env.get("EVENT_BUS_NAME", ""),
            stage=env.get("STAGE", "dev"),
            region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-1",
            sender_email=env.get("SENDER_EMAIL", "nudges@example.org"),
            public_base_url=env.get("PUBLIC_BASE_URL", "").rstrip("/"),
            due_shards=int(env.get("DUE_SHARDS", "8")),
            nudge_queue_url=env.get("NUDGE_QUEUE_URL", ""),
            ses_configuration_set=env.get("SES_CONFIGURATION_SET", ""),
        )


@cache
def get_settings() -> Settings:
    """The process's settings, validated on first use (a bad deploy fails at cold start, loudly)."""
    return Settings.from_env()
