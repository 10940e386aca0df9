"""moto's TransactWriteItems, rolled back from an undo log instead of a copy of the whole table.

moto deep-copies every table a transaction names before applying it, so that it can put the copy
back if the transaction is cancelled. With every change now one transaction (the outbox), that copy
was the price of every write, growing with the table: a table of a few thousand items (the load
bench's 200 members) took a second or more per check-in, and the tests' tables a few per cent of
every test. A transaction touches at most 100 known items, so this keeps a copy of just those (and
the stream's length) and, when moto raises, puts them back: the same items, the same stream, as
after moto's own rollback. Nothing else changes: moto still checks, applies and cancels as it did.

`install()` is called once by the local stack and by the tests (through infra.local.streams, which
both import); tests/integration/test_moto_dynamodb.py checks the rollback item by item.
"""

from __future__ import annotations

import copy
import types
from typing import Any

_installed = False


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
    _installed = True


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
