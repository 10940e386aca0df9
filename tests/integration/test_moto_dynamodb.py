"""The local stack's and the tests' moto, as infra/local/moto_dynamodb.py changes it.

A cancelled transaction is rolled back from an undo log: what must hold is what moto's own
whole-table copy gave: after a cancelled TransactWriteItems the table holds exactly the items it
held before, attribute for attribute, and its stream exactly the records it had; a transaction that
goes through is applied whole, stream records and all. A query and an answer give what moto's own
give. A ClientRequestToken does what DynamoDB documents: an identical retry within ten minutes
answers success and is not applied again, the same token with other items is refused.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from infra.local import moto_dynamodb

TABLE = os.environ["TABLE_NAME"]


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _everything(ddb: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=TABLE, ConsistentRead=True):
        items.extend(page["Items"])
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def _stream_records(ddb: Any) -> list[tuple[str, str]]:
    from botocore.config import Config

    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=1000)["Records"]
    return [(r["eventName"], r["dynamodb"]["SequenceNumber"]) for r in records]


@pytest.fixture
def seeded(aws: dict[str, Any]) -> Any:
    ddb = aws["dynamodb"]
    for pk, sk, value in [("A", "1", "one"), ("A", "2", "two"), ("B", "1", "bee"), ("C", "1", "sea")]:
        ddb.put_item(TableName=TABLE, Item={**_key(pk, sk), "value": {"S": value}, "tags": {"L": [{"S": "x"}]}, "n": {"N": "1"}})
    return ddb


def _changes(ddb: Any) -> list[dict[str, Any]]:
    """An update of an item in place, a put over another, a delete, a new item under a known key and under a new one."""
    return [
        {"Delete": {"TableName": TABLE, "Key": _key("B", "1")}},
        {"Put": {"TableName": TABLE, "Item": {**_key("A", "2"), "value": {"S": "replaced"}}}},
        {"Put": {"TableName": TABLE, "Item": {**_key("A", "3"), "value": {"S": "new under A"}}}},
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key("A", "1"),
                "UpdateExpression": "SET #v = :v, #n = #n + :one, #t = list_append(#t, :more) REMOVE #gone",
                "ExpressionAttributeNames": {"#v": "value", "#n": "n", "#t": "tags", "#gone": "missing"},
                "ExpressionAttributeValues": {":v": {"S": "changed"}, ":one": {"N": "1"}, ":more": {"L": [{"S": "y"}]}},
            }
        },
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key("D", "1"),
                "UpdateExpression": "SET #v = :v",
                "ExpressionAttributeNames": {"#v": "value"},
                "ExpressionAttributeValues": {":v": {"S": "brand new"}},
            }
        },
    ]


def test_the_undo_log_is_what_moto_runs() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    moto_dynamodb.install()  # a second call changes nothing
    assert DynamoDBBackend.transact_write_items.__qualname__.startswith("install.")


def test_a_cancelled_transaction_leaves_every_item_and_the_stream_as_they_were(seeded: Any) -> None:
    before, stream_before = _everything(seeded), _stream_records(seeded)
    refused = {
        "ConditionCheck": {
            "TableName": TABLE,
            "Key": _key("C", "1"),
            "ConditionExpression": "#v = :other",
            "ExpressionAttributeNames": {"#v": "value"},
            "ExpressionAttributeValues": {":other": {"S": "not sea"}},
        }
    }
    with pytest.raises(ClientError) as caught:
        seeded.transact_write_items(TransactItems=[*_changes(seeded), refused])
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = [r["Code"] for r in caught.value.response["CancellationReasons"]]
    assert reasons == ["None"] * 5 + ["ConditionalCheckFailed"]
    assert _everything(seeded) == before
    assert _stream_records(seeded) == stream_before
    # The items are whole again, not only equal on the surface: a later change applies to them as to any.
    seeded.update_item(
        TableName=TABLE,
        Key=_key("A", "1"),
        UpdateExpression="SET #n = #n + :one",
        ExpressionAttributeNames={"#n": "n"},
        ExpressionAttributeValues={":one": {"N": "1"}},
    )
    assert seeded.get_item(TableName=TABLE, Key=_key("A", "1"))["Item"]["n"] == {"N": "2"}
    assert seeded.query(TableName=TABLE, KeyConditionExpression="pk = :d", ExpressionAttributeValues={":d": {"S": "D"}})["Items"] == []


def test_a_transaction_moto_refuses_midway_leaves_nothing_behind(seeded: Any) -> None:
    before, stream_before = _everything(seeded), _stream_records(seeded)
    twice = {"Delete": {"TableName": TABLE, "Key": _key("A", "1")}}  # the same item twice: ValidationException after 5 applied
    with pytest.raises(ClientError) as caught:
        seeded.transact_write_items(TransactItems=[*_changes(seeded)[:3], _changes(seeded)[4], twice, twice])
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    assert _everything(seeded) == before
    assert _stream_records(seeded) == stream_before


def test_a_transaction_that_goes_through_is_applied_whole(seeded: Any) -> None:
    stream_before = _stream_records(seeded)
    seeded.transact_write_items(TransactItems=_changes(seeded))
    after = {(i["pk"]["S"], i["sk"]["S"]): i for i in _everything(seeded)}
    assert sorted(after) == [("A", "1"), ("A", "2"), ("A", "3"), ("C", "1"), ("D", "1")]
    assert after[("A", "1")]["value"] == {"S": "changed"}
    assert after[("A", "1")]["n"] == {"N": "2"}
    assert after[("A", "1")]["tags"] == {"L": [{"S": "x"}, {"S": "y"}]}
    assert after[("A", "2")] == {**_key("A", "2"), "value": {"S": "replaced"}}
    assert after[("D", "1")]["value"] == {"S": "brand new"}
    added = _stream_records(seeded)[len(stream_before) :]
    # moto records an update that creates an item twice (its put, then the update); the rest one each.
    assert sorted(name for name, _ in added) == ["INSERT", "INSERT", "INSERT", "MODIFY", "MODIFY", "REMOVE"]


# ------------------------------------------------------------------ queries read only what they can find


@pytest.fixture
def indexed(aws: dict[str, Any]) -> Any:
    """Three partitions of six items; every other item also in gsi1, under one of two index partitions."""
    ddb = aws["dynamodb"]
    for pk in ("P1", "P2", "P3"):
        for n in range(6):
            item = {**_key(f"PACT#{pk}", f"CHECKIN#{n:02d}"), "n": {"N": str(n)}}
            if n % 2 == 0:
                item |= {"gsi1pk": {"S": f"MEMBER#{n % 4}"}, "gsi1sk": {"S": f"{pk}#{5 - n}"}}
            ddb.put_item(TableName=TABLE, Item=item)
    return ddb


QUERIES: list[dict[str, Any]] = [
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "PACT#P2"}}},
    {"KeyConditionExpression": "pk = :p", "ExpressionAttributeValues": {":p": {"S": "PACT#nobody"}}},
    {
        "KeyConditionExpression": "pk = :p AND begins_with(sk, :c)",
        "ExpressionAttributeValues": {":p": {"S": "PACT#P3"}, ":c": {"S": "CHECKIN#0"}},
        "ScanIndexForward": False,
        "Limit": 4,
    },
    {
        "KeyConditionExpression": "pk = :p AND sk BETWEEN :a AND :b",
        "FilterExpression": "n > :two",
        "ExpressionAttributeValues": {":p": {"S": "PACT#P1"}, ":a": {"S": "CHECKIN#01"}, ":b": {"S": "CHECKIN#05"}, ":two": {"N": "2"}},
        "Limit": 2,
    },
    {"IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :m", "ExpressionAttributeValues": {":m": {"S": "MEMBER#0"}}},
    {
        "IndexName": "gsi1",
        "KeyConditionExpression": "gsi1pk = :m AND begins_with(gsi1sk, :p)",
        "ExpressionAttributeValues": {":m": {"S": "MEMBER#2"}, ":p": {"S": "P"}},
        "ScanIndexForward": False,
        "Limit": 1,
    },
    {"IndexName": "gsi1", "KeyConditionExpression": "gsi1pk = :m", "ExpressionAttributeValues": {":m": {"S": "MEMBER#9"}}},
]


def _pages(ddb: Any, query: dict[str, Any]) -> list[tuple[list[dict[str, Any]], Any]]:
    """Every page of a query: its items, in order, and the key it says to go on from."""
    pages, start = [], None
    while True:
        page = ddb.query(TableName=TABLE, **query, **({"ExclusiveStartKey": start} if start else {}))
        start = page.get("LastEvaluatedKey")
        pages.append((page["Items"], start))
        if start is None or len(pages) > 20:
            return pages


def test_a_query_answers_what_motos_own_query_answers(indexed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    ours = [_pages(indexed, query) for query in QUERIES]
    monkeypatch.setattr(Table, "query", moto_dynamodb.moto_originals["Table.query"])
    motos = [_pages(indexed, query) for query in QUERIES]
    assert ours == motos
    assert [sum(len(items) for items, _ in pages) for pages in ours] == [6, 0, 6, 3, 6, 3, 0]
    assert [len(pages) for pages in ours] == [1, 1, 2, 3, 1, 3, 1]  # the pages too, where a Limit cuts them


def test_a_query_does_not_read_the_whole_table(indexed: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.dynamodb.models.table import Table

    def whole_table(self: Any) -> Any:
        raise AssertionError("a query sorted the whole table")

    monkeypatch.setattr(Table, "all_items", whole_table)
    assert [sum(len(items) for items, _ in _pages(indexed, query)) for query in QUERIES] == [6, 0, 6, 3, 6, 3, 0]


# ------------------------------------------------------------------ answers: attribute values as they are


EVERY_TYPE: dict[str, Any] = {
    "text": {"S": 'Ann\'s "notes" – ünïcode'},
    "empty": {"S": ""},
    "count": {"N": "-12.50"},
    "yes": {"BOOL": True},
    "no": {"BOOL": False},
    "nothing": {"NULL": True},
    "tags": {"SS": ["a", "b"]},
    "scores": {"NS": ["1", "2.5"]},
    "nested": {"M": {"inner": {"L": [{"S": "x"}, {"N": "1"}, {"M": {}}, {"L": []}]}, "flag": {"BOOL": False}}},
}


def _bodies(ddb: Any) -> list[bytes]:
    """The raw answers (as botocore receives them) to every kind of read, of items of every attribute type."""
    from botocore.config import Config

    streams = boto3.client("dynamodbstreams", config=Config(account_id_endpoint_mode="disabled"))
    bodies: list[bytes] = []

    def keep(response_dict: dict[str, Any], **_: Any) -> None:
        bodies.append(response_dict["body"])

    for client in (ddb, streams):
        client.meta.events.register("before-parse", keep)
    try:
        ddb.get_item(TableName=TABLE, Key=_key("T", "plain"))
        ddb.get_item(TableName=TABLE, Key=_key("T", "binary"))
        ddb.query(TableName=TABLE, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "T"}})
        ddb.query(TableName=TABLE, IndexName="gsi1", KeyConditionExpression="gsi1pk = :p", ExpressionAttributeValues={":p": {"S": "G"}})
        ddb.batch_get_item(RequestItems={TABLE: {"Keys": [_key("T", "plain"), _key("T", "binary")]}})
        ddb.scan(TableName=TABLE)
        arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        streams.get_records(ShardIterator=iterator)
    finally:
        for client in (ddb, streams):
            client.meta.events.unregister("before-parse", keep)
    # The answers with items (not the stream's description); a new shard iterator is random each time.
    return [re.sub(rb'"NextShardIterator": "[^"]*"', b"", body) for body in bodies if b'"Item' in body or b'"Records"' in body]


def test_answers_are_byte_for_byte_what_motos_serializer_writes(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from moto.core.serialize import BaseJSONSerializer, ResponseSerializer

    ddb = aws["dynamodb"]
    gsi = {"gsi1pk": {"S": "G"}, "gsi1sk": {"S": "1"}}
    ddb.put_item(TableName=TABLE, Item={**_key("T", "plain"), **gsi, **EVERY_TYPE})
    binary = {"blob": {"B": b"\x00\xffbytes"}, "blobs": {"BS": [b"a", b"b"]}, "mixed": {"M": {"b": {"B": b"x"}, "s": {"S": "y"}}}}
    ddb.put_item(TableName=TABLE, Item={**_key("T", "binary"), **gsi, **EVERY_TYPE, **binary})
    looked_up: list[str] = []  # attribute value members moto's serializer looked up, one by one
    get_value = ResponseSerializer.get_value

    def counting(self: Any, value: Any, key: str, shape: Any) -> Any:
        if getattr(getattr(shape, "parent", None), "name", None) == "AttributeValue":
            looked_up.append(key)
        return get_value(self, value, key, shape)

    monkeypatch.setattr(ResponseSerializer, "get_value", counting)
    ddb.get_item(TableName=TABLE, Key=_key("T", "plain"))
    assert looked_up == []  # written out as it is
    ours = _bodies(ddb)
    assert len(ours) == 7
    monkeypatch.setattr(
        BaseJSONSerializer, "_serialize_type_structure", moto_dynamodb.moto_originals["BaseJSONSerializer._serialize_type_structure"]
    )
    ddb.get_item(TableName=TABLE, Key=_key("T", "plain"))
    assert looked_up  # moto's own: member by member
    assert _bodies(ddb) == ours


# ------------------------------------------------------------------ ClientRequestToken


def _add(ddb: Any, token: str, *, once: str | None = None, by: str = "1", client_token: bool = True) -> Any:
    """A transaction: add `by` to a counter and, with `once`, put an item that must not exist yet."""
    items: list[dict[str, Any]] = [
        {
            "Update": {
                "TableName": TABLE,
                "Key": _key("COUNTER", "1"),
                "UpdateExpression": "ADD #n :by",
                "ExpressionAttributeNames": {"#n": "n"},
                "ExpressionAttributeValues": {":by": {"N": by}},
            }
        }
    ]
    if once is not None:
        items.append({"Put": {"TableName": TABLE, "Item": _key("ONCE", once), "ConditionExpression": "attribute_not_exists(pk)"}})
    return ddb.transact_write_items(TransactItems=items, **({"ClientRequestToken": token} if client_token else {}))


def _counter(ddb: Any) -> int:
    item = ddb.get_item(TableName=TABLE, Key=_key("COUNTER", "1"), ConsistentRead=True).get("Item")
    return int(item["n"]["N"]) if item else 0


def test_an_identical_transaction_with_the_same_token_answers_success_and_applies_once(aws: dict[str, Any]) -> None:
    ddb = aws["dynamodb"]
    first = _add(ddb, "token-1", once="a")
    stream_after_first = _stream_records(ddb)
    again = _add(ddb, "token-1", once="a")  # its condition would fail now: not checked, not applied
    assert first["ResponseMetadata"]["HTTPStatusCode"] == again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert _counter(ddb) == 1
    assert _stream_records(ddb) == stream_after_first
    # Another token is another transaction, and without one moto applies each call as before.
    with pytest.raises(ClientError) as caught:
        _add(ddb, "token-2", once="a")
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    _add(ddb, "", client_token=False)
    assert _counter(ddb) == 2


def test_a_transaction_answered_too_late_is_retried_by_botocore_and_applied_once(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The local stack's case: moto applied it, the answer came after the read timeout, botocore sent it again."""
    from botocore.config import Config
    from botocore.exceptions import ReadTimeoutError
    from botocore.retries.standard import ExponentialBackoff
    from moto.core.botocore_stubber import BotocoreStubber

    served = BotocoreStubber.__call__
    attempts: list[str] = []

    def late_once(self: Any, event_name: str, request: Any, **kwargs: Any) -> Any:
        answer = served(self, event_name, request, **kwargs)  # moto serves it: the transaction is applied
        if event_name.endswith(".TransactWriteItems"):
            attempts.append(json.loads(request.body)["ClientRequestToken"])
            if len(attempts) == 1:
                raise ReadTimeoutError(endpoint_url=request.url)  # but its answer never reaches the client
        return answer

    monkeypatch.setattr(BotocoreStubber, "__call__", late_once)
    monkeypatch.setattr(ExponentialBackoff, "delay_amount", lambda self, context: 0)
    ddb = boto3.client("dynamodb", config=Config(retries={"mode": "standard", "max_attempts": 4}))
    _add(ddb, "", once="late", client_token=False)  # botocore fills the token in, and sends the same one again
    assert len(attempts) == 2
    assert attempts[0] == attempts[1]
    assert _counter(ddb) == 1


def test_the_same_token_with_other_items_is_refused_and_applies_nothing(aws: dict[str, Any]) -> None:
    ddb = aws["dynamodb"]
    _add(ddb, "token-1", once="a")
    with pytest.raises(ClientError) as caught:
        _add(ddb, "token-1", once="a", by="5")
    assert caught.value.response["Error"]["Code"] == "IdempotentParameterMismatchException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert _counter(ddb) == 1


def test_a_cancelled_transaction_is_not_remembered_as_a_success(aws: dict[str, Any]) -> None:
    ddb = aws["dynamodb"]
    _add(ddb, "token-1", once="a")
    for _ in range(2):  # the same refused request twice: refused twice, by its condition
        with pytest.raises(ClientError) as caught:
            _add(ddb, "token-2", once="a")
        assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _counter(ddb) == 1


def test_a_token_is_forgotten_ten_minutes_after_its_transaction(aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    ddb = aws["dynamodb"]
    now = [1000.0]
    monkeypatch.setattr(moto_dynamodb, "_clock", lambda: now[0])
    _add(ddb, "token-1")
    now[0] += moto_dynamodb.TOKEN_SECONDS - 1
    _add(ddb, "token-1")
    assert _counter(ddb) == 1
    now[0] += 1  # ten minutes after the first completed: a new request
    _add(ddb, "token-1")
    assert _counter(ddb) == 2
    with pytest.raises(ClientError):  # remembered anew: a change is refused again
        _add(ddb, "token-1", by="5")
