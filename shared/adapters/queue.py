"""Putting a sweep's messages on an SQS queue: ten to a call; a refused entry fails the sweep (so it is retried)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any


def sqs_enqueue(client: Any, queue_url: str, what: str = "messages") -> Callable[[list[dict[str, Any]]], None]:
    """An `enqueue(messages)` for one queue; `what` names them in the error ("nudge messages")."""

    def enqueue(messages: list[dict[str, Any]]) -> None:
        for start in range(0, len(messages), 10):
            batch = messages[start : start + 10]
            entries = [{"Id": str(i), "MessageBody": json.dumps(m)} for i, m in enumerate(batch)]
            response = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
            if response.get("Failed"):
                raise RuntimeError(f"{len(response['Failed'])} {what} were not queued")

    return enqueue
