"""A Lambda handler that does nothing: `make bench`'s load baseline (infra/bench_load.py), local only.

`python -m infra.local --bench-baseline` serves it at GET /_bench/baseline through the very path the
API's requests take (HTTP server, JWT check, API Gateway event, one warm container per function), so
the load test's ratio is what our handlers add. It is in neither template.yaml nor the OpenAPI document.
"""

from __future__ import annotations

from typing import Any


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "headers": {"content-type": "application/json"}, "body": "{}"}
