"""Durable domain events: the outbox item commits with the change, and the relay gets it to the bus at least once.

moto runs the table, its stream and the bus; the stream is polled as Lambda's event source would
(infra/local/streams.py) and handed to EventRelayFunction. What moto cannot do, EventBridge failing
or refusing entries and a relay dying mid-batch, is injected at the one place every botocore call
passes (as infra/callcount.py counts them).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import boto3
from botocore.client import BaseClient

from infra.lambdas import invoke
from infra.local.streams import StreamPoller
from tests.helpers import call, member, pact

ANN, BOB = "ann@example.org", "bob@example.org"

PutEvents = Callable[[dict[str, Any]], dict[str, Any]]


class Killed(BaseException):
    """The relay's container dies (a timeout, an out-of-memory kill): nothing in the handler catches it."""


@contextmanager
def put_events_faults(fault: Callable[[int, dict[str, Any], PutEvents], dict[str, Any]]) -> Iterator[None]:
    """Every events.PutEvents call goes through `fault(call number, params, the real call)`."""
    original = BaseClient._make_api_call
    calls = 0

    def patched(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        nonlocal calls
        if self.meta.service_model.service_name == "events" and operation == "PutEvents":
            calls += 1
            return fault(calls, params, lambda p: original(self, operation, p))
        return original(self, operation, params)

    BaseClient._make_api_call = patched  # type: ignore[method-assign]
    try:
        yield
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]


def refusing(refuse: Callable[[int, int, dict[str, Any]], bool]) -> Callable[[int, dict[str, Any], PutEvents], dict[str, Any]]:
    """EventBridge refusing some entries (FailedEntryCount): the others are really put, the refused ones are not."""

    def fault(number: int, params: dict[str, Any], put: PutEvents) -> dict[str, Any]:
        entries = params["Entries"]
        refused = [refuse(number, i, e) for i, e in enumerate(entries)]
        kept = [e for e, r in zip(entries, refused, strict=True) if not r]
        results = iter(put({**params, "Entries": kept})["Entries"] if kept else [])
        out = [{"ErrorCode": "InternalFailure", "ErrorMessage": "injected"} if r else next(results) for r in refused]
        return {"FailedEntryCount": sum(refused), "Entries": out}

    return fault


def outbox() -> list[dict[str, Any]]:
    """The outbox items in the table (a test may scan; the product never does)."""
    items = boto3.client("dynamodb").scan(TableName=os.environ["TABLE_NAME"])["Items"]
    return [i for i in items if i["pk"]["S"].startswith("EVENT#")]


def written_ids() -> list[str]:
    return [json.loads(i["detail"]["S"])["event_id"] for i in outbox()]


def recording(results: list[Any]) -> Callable[[str, dict[str, Any]], Any]:
    def run(function: str, event: dict[str, Any]) -> Any:
        result = invoke(function, event)
        results.append(result)
        return result

    return run


def some_events(pacts: int) -> list[str]:
    """Ann's profile and `pacts` pacts with outside colleagues: one event each, committed with each change."""
    member(ANN, "Ann")
    for n in range(pacts):
        pact(ANN, {"name": f"Colleague {n}", "phone": f"+35385123{n:04d}"})
    ids = written_ids()
    assert len(ids) == pacts + 1
    return ids


# ------------------------------------------------------------------ (a) atomic


def test_a_change_whose_write_fails_leaves_no_outbox_item_and_no_event(aws: Any, bus_events: Any) -> None:
    member(ANN, "Ann")
    before = written_ids()
    # Another sign-in with Ann's address: the profile's transaction is cancelled on the email claim.
    refused = call("PUT", "/members/me", email=ANN, sub="someone-else", body={"display_name": "Imposter", "time_zone": "UTC"})
    assert refused.status == 409, refused.body
    assert written_ids() == before  # nothing of the refused change, its event included
    on_bus = bus_events()
    print(f"\nwritten {len(before)} events; the refused change wrote none; on the bus: {len(on_bus)}")
    assert "someone-else" not in json.dumps(on_bus)
    assert {e["detail"]["event_id"] for e in on_bus} == set(before)


def test_each_event_carries_its_id_and_only_ids(aws: Any, bus_events: Any) -> None:
    ids = some_events(2)
    on_bus = bus_events()
    assert sorted(e["detail"]["event_id"] for e in on_bus) == sorted(ids)
    created = next(e for e in on_bus if e["detail-type"] == "PactCreated")
    assert set(created["detail"]) == {"event_id", "occurred_at", "pact_id", "owner_id", "colleague_id", "rrule"}
    assert "Colleague" not in json.dumps(on_bus)  # the colleague's name stays in the table
    assert created["time"].startswith(created["detail"]["occurred_at"][:19])  # the bus's time is the change's


# ------------------------------------------------------------------ (b) the relay killed mid-way


def test_the_relay_killed_after_putting_part_of_a_batch_loses_nothing(aws: Any, relay: StreamPoller, bus_events: Any) -> None:
    ids = some_events(24)  # 25 events: three PutEvents calls of 10, 10 and 5

    def die_after_second_put(number: int, params: dict[str, Any], put: PutEvents) -> dict[str, Any]:
        result = put(params)
        if number == 2:
            raise Killed  # the second ten are on the bus; the relay never reports back
        return result

    real = relay.invoke

    def container(function: str, event: dict[str, Any]) -> Any:
        try:
            return real(function, event)
        except Killed as exc:  # what Lambda sees of a dead container: the invocation failed
            raise RuntimeError("the relay died mid-batch") from exc

    relay.invoke = container
    with put_events_faults(die_after_second_put):
        stats = relay.drain()
    seen = Counter(e["detail"]["event_id"] for e in bus_events())
    print(
        f"\nwritten {len(ids)} events; injected: the relay killed after its 2nd PutEvents (20 put); "
        f"invocations {stats.invocations} ({stats.failed_invocations} failed, then the batch again in halves); "
        f"delivered {len(seen)} distinct, {sum(seen.values())} in all ({sum(seen.values()) - len(seen)} repeats); "
        f"lost {len(set(ids) - set(seen))}"
    )
    assert set(seen) == set(ids)  # none lost
    assert stats.failed_invocations == 1
    assert sum(seen.values()) > len(ids)  # at least once: what went before the kill comes again (consumers dedupe by event_id)


def test_putevents_failing_outright_is_retried(aws: Any, relay: StreamPoller, bus_events: Any) -> None:
    ids = some_events(14)

    def fail_first_call(number: int, params: dict[str, Any], put: PutEvents) -> dict[str, Any]:
        if number == 1:
            raise ConnectionError("the bus did not answer")
        return put(params)

    results: list[Any] = []
    relay.invoke = recording(results)
    with put_events_faults(fail_first_call):
        stats = relay.drain()
    seen = Counter(e["detail"]["event_id"] for e in bus_events())
    reported = len(results[0]["batchItemFailures"])
    print(f"\nwritten {len(ids)}; injected: the first PutEvents fails; reported {reported}; delivered {len(seen)}")
    assert len(results[0]["batchItemFailures"]) == 10  # the first ten; the other five went in the same invocation
    assert set(seen) == set(ids)
    assert stats.failed_invocations == 1


# ------------------------------------------------------------------ (c) EventBridge refusing some entries


def test_entries_the_bus_refuses_are_reported_and_retried(aws: Any, relay: StreamPoller, bus_events: Any) -> None:
    ids = some_events(11)  # 12 events: calls of 10 and 2
    results: list[Any] = []
    relay.invoke = recording(results)
    with put_events_faults(refusing(lambda number, index, _: number == 1 and index in (3, 7))):
        stats = relay.drain()
    first = results[0]["batchItemFailures"]
    sequence = [r["dynamodb"]["SequenceNumber"] for r in _records_of(results, relay)]
    seen = Counter(e["detail"]["event_id"] for e in bus_events())
    print(
        f"\nwritten {len(ids)}; injected: entries 4 and 8 of the first PutEvents refused (FailedEntryCount 2); "
        f"reported {len(first)}; invocations {stats.invocations}; delivered {len(seen)} distinct, {sum(seen.values())} in all"
    )
    assert [f["itemIdentifier"] for f in first] == [sequence[3], sequence[7]]
    assert set(seen) == set(ids)
    assert stats.invocations == 2
    assert stats.failed_invocations == 1


def _records_of(results: list[Any], relay: StreamPoller) -> list[dict[str, Any]]:
    """The outbox records in stream order (what the first invocation got)."""
    arn = boto3.client("dynamodb").describe_table(TableName=relay.table_name)["Table"]["LatestStreamArn"]
    from infra.local.streams import STREAMS_CONFIG, matches

    streams = boto3.client("dynamodbstreams", config=STREAMS_CONFIG)
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator)["Records"]
    return [r for r in records if any(matches(f, r) for f in relay.source.filters)]


# ------------------------------------------------------------------ (d) a poison record


def test_a_record_the_bus_always_refuses_ends_in_the_dead_letter_queue(aws: Any, relay: StreamPoller, bus_events: Any) -> None:
    member(ANN, "Ann")
    boto3.client("dynamodb").put_item(
        TableName=os.environ["TABLE_NAME"],
        Item={
            "pk": {"S": "EVENT#poison"},
            "sk": {"S": "EVENT"},
            "kind": {"S": "outbox_event"},
            "detail_type": {"S": "Poison"},
            "detail": {"S": "{not json"},
            "occurred_at": {"S": "2026-12-01T09:00:00.000000+0000"},
        },
    )
    member(BOB, "Bob")
    sqs = boto3.client("sqs")
    dlq = sqs.create_queue(QueueName="EventRelayDeadLetterQueue")["QueueUrl"]
    source = relay.source
    assert source.on_failure == {"Fn::GetAtt": ["EventRelayDeadLetterQueue", "Arn"]}  # as the template routes it
    relay.on_failure_url = dlq
    with put_events_faults(refusing(lambda _, __, entry: entry["DetailType"] == "Poison")):
        stats = relay.drain()
    (message,) = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    info = json.loads(message["Body"])
    on_bus = [e for e in bus_events() if e["detail-type"] != "Poison"]
    print(
        f"\nwritten 3 outbox items (one the bus always refuses); invocations {stats.invocations} "
        f"({stats.failed_invocations} failed: the first try and {source.max_retries} retries); in the DLQ: {info['DDBStreamBatchInfo']}; "
        f"the others on the bus: {len(on_bus)}"
    )
    assert info["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert stats.failed_invocations == source.max_retries + 1
    # Bob's event shared its PutEvents call with the poison on every try: on the bus (again each time), never lost.
    assert {e["detail-type"] for e in on_bus} == {"MemberProfileUpdated"}
    assert len({e["detail"]["event_id"] for e in on_bus}) == 2


# ------------------------------------------------------------------ (e) what the filters leave out


def test_records_the_filters_leave_out_are_passed_by_once_not_read_again(aws: Any, relay: StreamPoller, bus_events: Any) -> None:
    ids = some_events(3)
    boto3.client("dynamodb").put_item(  # the stream's last record is not an event: after the batch, nothing to hand over
        TableName=os.environ["TABLE_NAME"], Item={"pk": {"S": "MEMBER#not-an-event"}, "sk": {"S": "NOTE"}}
    )
    reads: Counter[str] = Counter()
    real = relay._read

    def counting() -> list[dict[str, Any]]:
        records = real()
        reads.update(r["dynamodb"]["SequenceNumber"] for r in records)
        return records

    relay._read = counting  # type: ignore[method-assign]
    stats = relay.drain()
    on_bus = bus_events()
    print(f"\n{len(reads)} records read, {stats.delivered} handed over; read more than once: {sum(n > 1 for n in reads.values())}")
    assert sorted(e["detail"]["event_id"] for e in on_bus) == sorted(ids)
    assert stats.delivered == len(ids)
    assert len(reads) > len(ids)
    assert set(reads.values()) == {1}
