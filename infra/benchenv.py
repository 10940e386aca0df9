"""The environment a bench child process runs in: moto credentials, the test table's names, quiet logs,
and the moto the local stack and the tests run on (infra/local/moto_dynamodb.py, moto_sqs.py).

Imported before anything from `shared`, whose settings are read once per process.
"""

from __future__ import annotations

import os

BENCH_ENV = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "TABLE_NAME": "bench-table",
    "EVENT_BUS_NAME": "bench-bus",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
    "PUBLIC_BASE_URL": "https://peer.bench",
    "SENDER_EMAIL": "nudges@example.org",
    "DUE_SHARDS": "8",
}


def use_bench_env() -> None:
    from infra.local import moto_dynamodb, moto_sqs

    os.environ.update(BENCH_ENV)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    moto_dynamodb.install()
    moto_sqs.install()
