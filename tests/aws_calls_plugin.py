"""A pytest plugin that records, per deployed function, the AWS calls its handler makes (for test_deploy's CODE_CALLS).

    .venv/bin/python -m pytest tests/integration -p tests.aws_calls_plugin --no-cov -n 2 --dist loadfile
    # then: /tmp/aws-calls-*.json, one per worker; merge them into CODE_CALLS

Every handler runs through infra.lambdas.load_handler (tests and the local stack alike), so each
botocore call made while a handler is on the stack is put down to that function: service.Operation,
@ the index it queries (or `phone` for a text, the sender and configuration set for an email), and
`:Put` etc. for each kind of item a transaction or batch carries (IAM authorises those item by item).
"""

from __future__ import annotations

import contextvars
import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from botocore.client import BaseClient

import infra.lambdas

_running: contextvars.ContextVar[str | None] = contextvars.ContextVar("running_function", default=None)
CALLS: dict[str, set[str]] = defaultdict(set)
_load_handler = infra.lambdas.load_handler
_make_api_call = BaseClient._make_api_call


def _recording_load_handler(logical_id: str, functions: Any = None) -> infra.lambdas.Handler:
    handler = _load_handler(logical_id, functions)

    def run(event: dict[str, Any], context: Any) -> Any:
        token = _running.set(logical_id)
        try:
            return handler(event, context)
        finally:
            _running.reset(token)

    return run


def _describe(service: str, operation: str, params: dict[str, Any]) -> set[str]:
    calls = set()
    for item in params.get("TransactItems") or []:
        calls |= {f"{service}.{operation}:{kind}" for kind in item}
    for requests in (params.get("RequestItems") or {}).values():
        if isinstance(requests, list):
            calls |= {f"{service}.{operation}:{kind}" for request in requests for kind in request}
    target = params.get("IndexName") or ""
    if service == "sns":
        target = "phone" if "PhoneNumber" in params else params.get("TopicArn", "")
    if service == "sesv2":
        target = f"{params.get('FromEmailAddress', '')}|{params.get('ConfigurationSetName') or ''}"
    calls.add(f"{service}.{operation}" + (f"@{target}" if target else ""))
    return calls


def _recording_call(self: BaseClient, operation: str, params: dict[str, Any]) -> Any:
    function = _running.get()
    if function:
        CALLS[function] |= _describe(self.meta.service_model.service_name, operation, params)
    return _make_api_call(self, operation, params)


infra.lambdas.load_handler = _recording_load_handler
BaseClient._make_api_call = _recording_call  # type: ignore[method-assign]


def pytest_runtest_logfinish(nodeid: str, location: Any) -> None:
    path = Path("/tmp") / f"aws-calls-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}.json"
    path.write_text(json.dumps({k: sorted(v) for k, v in sorted(CALLS.items())}, indent=1))
