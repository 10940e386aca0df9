"""Integration tests: the handlers as deployed, against moto, with the table created from template.yaml."""

from __future__ import annotations

import copy
import os
from collections import Counter
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any, TypeVar

import boto3
import pytest
from moto import mock_aws

from infra import cfn
from infra.callcount import counting_calls
from infra.lambdas import invoke
from infra.local.streams import StreamPoller


@cache
def _warm_session() -> boto3.Session:
    """One boto3 session for the whole run: its service models load once, not once per test (~0.25 s each).

    moto intercepts the requests of every client whatever session made it (the functions' own cached
    clients already rely on that), and each test still gets a fresh account: the state lives in moto.
    """
    return boto3.Session()


@pytest.fixture
def aws() -> Iterator[dict[str, Any]]:
    """Fresh moto account: the template's table and the event bus."""
    with mock_aws():
        boto3.DEFAULT_SESSION = _warm_session()
        ddb = boto3.client("dynamodb")
        cfn.create_table(ddb, os.environ["TABLE_NAME"])
        boto3.client("events").create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
        yield {"dynamodb": ddb}


T = TypeVar("T")
_BUILT: dict[Callable[[], Any], tuple[Any, Any]] = {}


def built_once(build: Callable[[], T]) -> T:
    """In a test's fresh moto account (after the `aws` fixture): the table as `build()` leaves it, and its result.

    The first test in a worker runs `build()` through the API as usual; later ones get a copy of the items
    it left (moto's own objects, copied whole) and the same result: a world many tests only read, built
    once. Only the table is copied: not its stream, mail or queues, so it is for worlds whose tests look
    at the table and the API's answers alone.
    """
    from moto.dynamodb.models import dynamodb_backends

    table = dynamodb_backends["123456789012"][os.environ["AWS_REGION"]].tables[os.environ["TABLE_NAME"]]
    if build in _BUILT:
        result, items = _BUILT[build]
        table.items = copy.deepcopy(items)
        return copy.deepcopy(result)  # type: ignore[no-any-return]
    result = build()
    _BUILT[build] = (copy.deepcopy(result), copy.deepcopy(table.items))
    return result


@pytest.fixture
def aws_calls() -> Iterator[Counter[str]]:
    """Counts every AWS API call by 'service.Operation' (for 'at most 3 DynamoDB calls, no Scan')."""
    with counting_calls() as calls:
        yield calls


@pytest.fixture
def relay(aws: dict[str, Any]) -> Any:
    """The outbox relay as Lambda runs it: the table's stream, filtered, to EventRelayFunction (infra/local/streams.py)."""
    (source,) = cfn.stream_sources()
    return StreamPoller(source, os.environ["TABLE_NAME"], boto3.client, invoke)


@pytest.fixture
def bus_events(aws: dict[str, Any], relay: Any) -> Any:
    """Domain events on the bus, read back through a catch-all rule into an SQS queue.

    Reading first drains the outbox: what the changes so far committed goes through the relay to the bus.
    """
    import json

    sqs = boto3.client("sqs")
    queue_url = sqs.create_queue(QueueName="bus-tap")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = boto3.client("events")
    bus = os.environ["EVENT_BUS_NAME"]
    events.put_rule(Name="tap", EventBusName=bus, EventPattern=json.dumps({"source": ["peer-support"]}))
    events.put_targets(Rule="tap", EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])

    def read() -> list[dict[str, Any]]:
        relay.drain()
        out = []
        while True:
            msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not msgs:
                return out
            for m in msgs:
                out.append(json.loads(m["Body"]))
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"])

    return read


@pytest.fixture
def world(aws: dict[str, Any], bus_events: Any) -> Any:
    """Invitations and endings driven as AWS would (tests/integration/invite_harness.py)."""
    from tests.integration.invite_harness import World

    return World(bus_events)


@pytest.fixture(autouse=True)
def _fresh_vobject_time_zones() -> None:
    """vobject keeps every VTIMEZONE it parsed in a process-wide registry by TZID, and later parses reuse it:
    a reminder's .ics (its zone's rules for a year or so around one meeting) would then decide the offsets of
    a feed parsed after it in the same worker. Each test starts with an empty registry."""
    import sys

    module = sys.modules.get("vobject.icalendar")
    if module is not None:
        getattr(module, "__tzidMap").clear()
