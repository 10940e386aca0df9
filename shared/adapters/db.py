"""Small helpers over PynamoDB: one connection for transactions, cursors, and transaction outcomes."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.pagination import ResultIterator

from shared.adapters.models import Item
from shared.domain.errors import InvalidField

MAX_TRANSACTION_ATTEMPTS = 3


@cache
def connection() -> Connection:
    """The models' own connection (one botocore client per process), for TransactWrite."""
    return Item._get_connection().connection  # noqa: SLF001 - PynamoDB's documented way to share it


def encode_cursor(last_evaluated_key: dict[str, Any] | None) -> str | None:
    if not last_evaluated_key:
        return None
    raw = json.dumps(last_evaluated_key, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(token: str | None, expected: dict[str, str], *, partition: tuple[str, str]) -> dict[str, Any] | None:
    """The ExclusiveStartKey a cursor stands for.

    It must name exactly the expected key attributes, each a string with the expected
    prefix, and belong to the partition being read: a cursor from another list, or one
    made up, is a 422, never another member's page or a 500.
    """
    if not token:
        return None
    try:
        if len(token) > 2000:
            raise ValueError
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if not isinstance(data, dict) or set(data) != set(expected):
            raise ValueError
        for name, prefix in expected.items():
            value = data[name]
            if not isinstance(value, dict) or set(value) != {"S"} or not isinstance(value["S"], str) or not value["S"].startswith(prefix):
                raise ValueError
        if data[partition[0]]["S"] != partition[1]:
            raise ValueError
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise InvalidField("next", "this cursor is not one this list gave out") from None
    return data


def newest_first(
    query: Callable[..., ResultIterator[Any]],
    hash_key: str,
    range_condition: Condition,
    *,
    limit: int,
    cursor: str | None,
    cursor_keys: dict[str, str],
    partition_attribute: str = "pk",
) -> tuple[list[Any], str | None]:
    """One page of a partition, newest first, and the cursor to the next page (None on the last)."""
    start = decode_cursor(cursor, cursor_keys, partition=(partition_attribute, hash_key))
    results = query(hash_key, range_condition, scan_index_forward=False, limit=limit, page_size=limit, last_evaluated_key=start)
    items = list(results)
    return items, encode_cursor(results.last_evaluated_key)


def cancellation_codes(error: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in error.cancellation_reasons]


def refused(error: TransactWriteError) -> bool:
    """Cancelled by our own conditions (or another transaction on the same item), not by a fault worth retrying."""
    return any(code in ("ConditionalCheckFailed", "TransactionConflict") for code in cancellation_codes(error))


def cancelled_item(error: TransactWriteError, index: int) -> dict[str, Any] | None:
    reasons = error.cancellation_reasons
    if index < len(reasons) and reasons[index] is not None and reasons[index].code == "ConditionalCheckFailed":  # type: ignore[union-attr]
        return reasons[index].raw_item  # type: ignore[union-attr]
    return None


# Imported by every function that talks to AWS, so its SnapStart hooks are registered during init (a no-op off Lambda).
from shared.adapters import snapstart  # noqa: E402 - after `connection`, which the hooks use

snapstart.register()
