"""The local stack's and the tests' moto SQS, as infra/local/moto_sqs.py changes it.

What must hold: the queue's messages and its three counts are what moto's own per-message checks give
(visible, in flight after a receive, delayed, delayed and then due), and a send no longer reads the
clock once per message the queue holds.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from moto.sqs import models

from infra.local import moto_sqs

COUNTS = ("approximate_number_of_messages_delayed", "approximate_number_of_messages_not_visible")


@pytest.fixture
def queue(aws: dict[str, Any]) -> tuple[Any, str, Any]:
    sqs = boto3.client("sqs")
    url = sqs.create_queue(QueueName="moto-sqs", Attributes={"VisibilityTimeout": "30"})["QueueUrl"]
    backend = models.sqs_backends["123456789012"][sqs.meta.region_name]
    return sqs, url, backend.queues["moto-sqs"]


def _moto_own(queue: Any) -> dict[str, Any]:
    originals = moto_sqs.moto_originals
    return {
        "messages": [m.id for m in originals["Queue.messages"].fget(queue)],
        **{name: originals[f"Queue.{name}"].fget(queue) for name in COUNTS},
    }


def _ours(queue: Any) -> dict[str, Any]:
    return {"messages": [m.id for m in queue.messages], **{name: getattr(queue, name) for name in COUNTS}}


def _visible_in_flight_delayed(state: dict[str, Any]) -> tuple[int, int, int]:
    return len(state["messages"]), state["approximate_number_of_messages_not_visible"], state["approximate_number_of_messages_delayed"]


def test_messages_and_counts_are_moto_own(queue: tuple[Any, str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    sqs, url, q = queue
    for n in range(6):
        sqs.send_message(QueueUrl=url, MessageBody=f"now {n}")
    for n in range(3):
        sqs.send_message(QueueUrl=url, MessageBody=f"later {n}", DelaySeconds=60)
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)["Messages"]
    assert len(received) == 2

    ours = _ours(q)
    assert ours == _moto_own(q)
    assert _visible_in_flight_delayed(ours) == (4, 2, 3)
    assert sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]["ApproximateNumberOfMessages"] == "4"

    # Two minutes on: the delayed ones are due and the received ones visible again.
    clock = models.unix_time_millis
    monkeypatch.setattr(models, "unix_time_millis", lambda dt=None: clock(dt) + 120_000)
    later = _ours(q)
    assert later == _moto_own(q)
    assert _visible_in_flight_delayed(later) == (9, 0, 0)


def test_a_send_reads_the_clock_as_often_whatever_the_queue_holds(queue: tuple[Any, str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    sqs, url, _ = queue
    reads = [0]
    clock = models.unix_time_millis

    def counted(dt: Any = None) -> float:
        reads[0] += 1
        return float(clock(dt))

    monkeypatch.setattr(models, "unix_time_millis", counted)

    def reads_for_one_send() -> int:
        reads[0] = 0
        sqs.send_message(QueueUrl=url, MessageBody="one more")
        return reads[0]

    first = reads_for_one_send()
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x"} for n in range(10)])
    for _ in range(9):
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": "x"} for n in range(10)])
    assert reads_for_one_send() == first  # 101 messages held now, 0 before: moto's own read it ~400 times more
