"""moto's SQS, changed in place where its cost grows with the queue.

moto's SendMessage reads the queue's attributes to see whether it deduplicates by content, and the
attributes count the queue's messages three ways (visible, in flight, delayed), each reading the
clock (a timezone-aware datetime built and converted) once per message held. Sending to a queue that
holds n messages costs n clock reads and more: a sweep queueing 800 nudges spent 17 of its 53 s
there (`make bench`), growing with every message it had queued before, where SQS's cost per call
does not grow with the queue. Here each count reads moto's clock once and compares the messages'
own times against it: the same messages, the same counts, as moto's per-message checks at one moment.

`install()` is called by the local stack (with the DynamoDB changes, infra/local/moto_dynamodb.py),
by tests/conftest.py and by the bench's child processes (infra/benchenv.py);
tests/integration/test_moto_sqs.py checks the counts and lists against moto's own.
"""

from __future__ import annotations

from typing import Any

_installed = False
# moto's own properties this module stands in for (by "Queue.name"), kept to compare against.
moto_originals: dict[str, Any] = {}


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.sqs import models
    from moto.sqs.models import Queue

    def now() -> float:
        return float(models.unix_time_millis())  # looked up on each call: a test may stand in for it

    def messages(self: Any) -> list[Any]:
        at = now()
        return [m for m in self._messages if at > m.visible_at and not at < m.delayed_until]

    def delayed(self: Any) -> int:
        at = now()
        return sum(1 for m in self._messages if at < m.delayed_until)

    def not_visible(self: Any) -> int:
        at = now()
        return sum(1 for m in self._messages if not at > m.visible_at)

    for name, replacement in (
        ("messages", messages),
        ("approximate_number_of_messages_delayed", delayed),
        ("approximate_number_of_messages_not_visible", not_visible),
    ):
        moto_originals[f"Queue.{name}"] = getattr(Queue, name)
        setattr(Queue, name, property(replacement))
    _installed = True
