"""AWS clients, created lazily, once per process, and replaceable in tests.

botocore directly (not boto3): the functions need nothing boto3 adds. Every client comes
from the same botocore session as PynamoDB's own DynamoDB client, so the endpoint and
partition data are loaded once per cold start, not once per client (~60 ms saved where a
function needs a second client; see `make bench`). The standard `AWS_ENDPOINT_URL`
variable points every client at another endpoint (the local stack's moto server).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from botocore.config import Config

from shared.adapters.db import connection
from shared.adapters.settings import get_settings

_CONFIG = Config(retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=5)


@cache
def client(service: str) -> Any:
    return connection().session.create_client(service, region_name=get_settings().region, config=_CONFIG)
