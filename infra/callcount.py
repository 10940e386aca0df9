"""Count every AWS API call a block of code makes, by service and operation (tests and `make bench`)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.client import BaseClient


@contextmanager
def counting_calls() -> Iterator[Counter[str]]:
    """Counter of "service.Operation" for calls made inside the block (all botocore clients, PynamoDB's too)."""
    calls: Counter[str] = Counter()
    original = BaseClient._make_api_call  # noqa: SLF001 - the one place every client call passes

    def counting(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        calls[f"{self.meta.service_model.service_name}.{operation}"] += 1
        return original(self, operation, params)

    BaseClient._make_api_call = counting  # type: ignore[method-assign]  # noqa: SLF001
    try:
        yield calls
    finally:
        BaseClient._make_api_call = original  # type: ignore[method-assign]  # noqa: SLF001
