"""moto's DynamoDB, changed in place where it is too slow for the load bench or is not DynamoDB.

TransactWriteItems is rolled back from an undo log instead of a copy of the whole table.
moto deep-copies every table a transaction names before applying it, so that it can put the copy
back if the transaction is cancelled. With every change now one transaction (the outbox), that copy
was the price of every write, growing with the table: a table of a few thousand items (the load
bench's 200 members) took a second or more per check-in, and the tests' tables a few per cent of
every test. A transaction touches at most 100 known items, so this keeps a copy of just those (and
the stream's length) and, when moto raises, puts them back: the same items, the same stream, as
after moto's own rollback. Nothing else changes: moto still checks, applies and cancels as it did.

More for the same reason (the load bench seeds thousands of items, then reads them):

- A query reads only what it can find. moto sorts every item of the table on every query (`all_items`)
  before keeping the partition asked for, and then sorts what it kept again: a table query now looks
  at its one partition, an index query at the items whose index key (a string) is the one asked for,
  unsorted (moto's own sort of the results decides the order, on the whole primary key). Same items,
  same order, same pages.
- An answer's attribute values are written out as they are. moto's serializer walks every attribute
  value member by member against the API model, looking each up under several aliases: nearly half
  of the load bench's API run went there. An attribute value is already its own JSON (binary ones,
  which it base64-encodes, still go through it). The same answer, byte for byte.

And one where moto is not DynamoDB: TransactWriteItems honours its ClientRequestToken. An identical
request with a token whose transaction went through less than ten minutes ago answers success again
without being applied again; the same token with other parameters is refused
(IdempotentParameterMismatchException). botocore fills a token in on every TransactWriteItems and
sends the same one again when it retries, so a transaction that was applied but answered after the
client's read timeout (the local stack serves moto one call at a time) is not applied twice, where
the second attempt's own conditions would have failed against the first's writes. Only a transaction
that went through is remembered (what the documentation speaks of): a cancelled one, sent again, is
checked again.

`install()` is called by the local stack (when it starts its moto server) and by tests/conftest.py;
tests/integration/test_moto_dynamodb.py checks the first three against moto's own
behaviour, the last against DynamoDB's documented one.
"""

from __future__ import annotations

import copy
import inspect
import json
import threading
import time
import types
from collections import OrderedDict
from typing import Any

# DynamoDB keeps a client request token for 10 minutes after the request that used it completed.
TOKEN_SECONDS = 600.0
MISMATCH = "IdempotentParameterMismatchException"

_installed = False
# moto's own methods this module stands in for (by "Class.method"), kept to compare against.
moto_originals: dict[str, Any] = {}
_clock = time.monotonic  # a test may turn it forward


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    original = DynamoDBBackend.transact_write_items

    def deepcopy_but_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
        # moto's transaction backup copies tables through this module's `copy`; the undo log below
        # stands in for it. Items (update_item's "before" image) are still copied for real.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        undo = _UndoLog(self, transact_items)
        try:
            original(self, transact_items)
        except BaseException:
            undo.restore()
            raise

    # Only moto.dynamodb.models' own name `copy` is replaced: its two deepcopies are the table
    # backup above and update_item's copy of the item it changes.
    models.copy = types.SimpleNamespace(deepcopy=deepcopy_but_tables)  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _install_query()
    _install_attribute_values()
    _install_client_tokens()
    _installed = True


# ------------------------------------------------------------------ queries


def _install_query() -> None:
    from moto.dynamodb.models.table import Table

    original = moto_originals["Table.query"] = Table.query
    signature = inspect.signature(original)

    def query(self: Any, *args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(self, *args, **kwargs)
        if bound.arguments.get("index_name"):
            conditions = bound.arguments.get("hash_key_conditions") or []
            return original(_Candidates(self, _index_candidates(self, conditions)), *args, **kwargs)
        hash_key = bound.arguments.get("hash_key")
        if hash_key is None:
            return original(self, *args, **kwargs)
        return original(_Candidates(self, _partition(self, hash_key)), *args, **kwargs)

    Table.query = query  # type: ignore[method-assign]


class _Candidates:
    """A table as moto's `Table.query` reads it, with `all_items()` only the items the query can match.

    Everything else is the table's own (attributes and methods, bound to the table): query only reads.
    """

    def __init__(self, table: Any, items: list[Any]):
        self._table = table
        self._items = items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._table, name)

    def all_items(self) -> list[Any]:
        return self._items


def _partition(table: Any, hash_key: Any) -> list[Any]:
    """The items under one partition key: where moto's get_item and put_item look it up (by DynamoType)."""
    bucket = table.items.get(hash_key)
    if bucket is None:
        return []
    return list(bucket.values()) if table.range_key_attr else [bucket]


def _index_candidates(table: Any, conditions: list[tuple[str, Any]]) -> list[Any]:
    """Every item whose string index keys are those asked for; moto checks every condition itself after."""
    wanted = [(name, value.value) for name, value in conditions if value.type == "S"]
    items: list[Any] = []
    for bucket in table.items.values():
        for item in bucket.values() if table.range_key_attr else [bucket]:
            attrs = item.attrs
            if all((attr := attrs.get(name)) is not None and attr.type == "S" and attr.value == value for name, value in wanted):
                items.append(item)
    return items


# ------------------------------------------------------------------ answers


def _install_attribute_values() -> None:
    from moto.core.serialize import BaseJSONSerializer

    name = "_serialize_type_structure"  # moto's serializer has no public hook: its own method for a structure
    original = moto_originals[f"BaseJSONSerializer.{name}"] = getattr(BaseJSONSerializer, name)

    def serialize_type_structure(self: Any, serialized: Any, value: Any, shape: Any, key: str) -> None:
        if key and shape.name == "AttributeValue" and _plain(value):
            self._default_serialize(serialized, value, shape, key)  # it is its own JSON already
            return
        original(self, serialized, value, shape, key)

    setattr(BaseJSONSerializer, name, serialize_type_structure)


def _plain(value: Any) -> bool:
    """An attribute value (DynamoDB's JSON: {"S": "..."}, {"M": {...}}, ...) that moto's serializer would write out unchanged.

    Binary values (B, BS), which it base64-encodes, and anything unexpected are left to it.
    """
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((kind, inner),) = value.items()
    if kind in ("S", "N"):
        return isinstance(inner, str)
    if kind in ("BOOL", "NULL"):
        return isinstance(inner, bool)
    if kind in ("SS", "NS"):
        return isinstance(inner, list) and all(isinstance(v, str) for v in inner)
    if kind == "M":
        return isinstance(inner, dict) and all(isinstance(k, str) and _plain(v) for k, v in inner.items())
    if kind == "L":
        return isinstance(inner, list) and all(_plain(v) for v in inner)
    return False


# ------------------------------------------------------------------ client request tokens


def _install_client_tokens() -> None:
    from moto.dynamodb.exceptions import ERROR_TYPE_PREFIX, DynamodbException
    from moto.dynamodb.responses import DynamoHandler

    class IdempotentParameterMismatch(DynamodbException):  # type: ignore[misc]
        def __init__(self) -> None:
            message = "The request uses the same client token as a previous, but non-identical, request"
            super().__init__(ERROR_TYPE_PREFIX + MISMATCH, message=message)

    original = moto_originals["DynamoHandler.transact_write_items"] = DynamoHandler.transact_write_items
    lock = threading.Lock()  # a token's check, its transaction and its record, as one step

    def transact_write_items(self: Any) -> Any:
        token = self.body.get("ClientRequestToken")
        if token is None:
            return original(self)
        request = json.dumps({k: v for k, v in self.body.items() if k != "ClientRequestToken"}, sort_keys=True)
        with lock:
            tokens = _tokens(self.dynamodb_backend)
            now = _clock()
            while tokens and now - next(iter(tokens.values()))[0] >= TOKEN_SECONDS:
                tokens.popitem(last=False)  # the oldest first: they were recorded in the order they completed
            if token in tokens:
                _, seen_request, result = tokens[token]
                if seen_request != request:
                    raise IdempotentParameterMismatch()
                return result  # applied once already: the same success, nothing applied again
            result = original(self)  # a refusal raises: only a transaction that went through is remembered
            tokens[token] = (_clock(), request, result)
            return result

    DynamoHandler.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _tokens(backend: Any) -> OrderedDict[str, tuple[float, str, Any]]:
    """The tokens of transactions that went through, per backend (moto's reset starts a new one, and so a new record)."""
    tokens: OrderedDict[str, tuple[float, str, Any]] | None = getattr(backend, "_client_request_tokens", None)
    if tokens is None:
        tokens = OrderedDict()
        backend._client_request_tokens = tokens  # noqa: SLF001 - ours, kept on moto's backend object
    return tokens


class _UndoLog:
    """The items a transaction names, as they were before it, and each table's stream length."""

    def __init__(self, backend: Any, transact_items: list[dict[str, Any]]):
        from moto.dynamodb.models.dynamo_type import DynamoType

        self.items: list[tuple[Any, Any, Any, bool, Any]] = []  # table, hash, range, hash existed, item copy or None
        self.streams: dict[int, tuple[Any, int]] = {}
        seen: set[tuple[int, Any, Any]] = set()
        for entry in transact_items:
            for op_type, op in entry.items():
                table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
                if table is None:
                    continue
                key = op.get("Item") if op_type == "Put" else op.get("Key")
                if not isinstance(key, dict) or table.hash_key_attr not in key:
                    continue  # moto refuses it before touching anything of it
                try:
                    hash_value = DynamoType(key[table.hash_key_attr])
                    range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
                except (KeyError, TypeError, AttributeError, ValueError):
                    continue
                if (id(table), hash_value, range_value) in seen:
                    continue
                seen.add((id(table), hash_value, range_value))
                existed = hash_value in table.items
                current = table.items[hash_value].get(range_value) if existed and range_value is not None else None
                if range_value is None and existed:
                    current = table.items[hash_value]
                self.items.append((table, hash_value, range_value, existed, copy.deepcopy(current)))
                if table.stream_shard is not None and id(table) not in self.streams:
                    self.streams[id(table)] = (table.stream_shard, len(table.stream_shard.items))

    def restore(self) -> None:
        for table, hash_value, range_value, existed, item in reversed(self.items):
            if range_value is None:
                if item is None:
                    table.items.pop(hash_value, None)
                else:
                    table.items[hash_value] = item
                continue
            if item is None:
                table.items.get(hash_value, {}).pop(range_value, None)
                if not existed and not table.items.get(hash_value, True):
                    table.items.pop(hash_value, None)
            else:
                table.items[hash_value][range_value] = item
        for shard, length in self.streams.values():
            del shard.items[length:]
