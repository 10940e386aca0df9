"""Test settings for the whole suite. The environment is set before any `shared` module is imported."""

from __future__ import annotations

import os
from typing import Any

# Fake credentials and a fixed region: nothing in the suite can reach real AWS.
for _key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
    os.environ.pop(_key, None)
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_REGION": "eu-west-1",
        "TABLE_NAME": "peer-support-test",
        "EVENT_BUS_NAME": "peer-support-test-bus",
        "STAGE": "test",
        "PUBLIC_BASE_URL": "https://peer.test",
        "NUDGE_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/peer-support-test-nudges",
        "GROUP_REMINDER_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/123456789012/peer-support-test-group-reminders",
        "SES_CONFIGURATION_SET": "peer-support-test-nudges",
        "SENDER_EMAIL": "nudges@example.org",
        "DUE_SHARDS": "4",
        "POWERTOOLS_SERVICE_NAME": "peer-support",
        "POWERTOOLS_METRICS_NAMESPACE": "PeerSupportTest",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
    }
)

import pytest  # noqa: E402

from infra.local import moto_dynamodb, moto_sqs  # noqa: E402

# moto rolls a cancelled transaction back from a copy of the items it names, not of the whole table;
# its SQS counts a queue's messages with one clock reading, not one per message.
moto_dynamodb.install()
moto_sqs.install()


def _one_rsa_key_for_symmetric_kms_keys() -> None:
    """moto makes a fresh 2048-bit RSA key pair for every KMS key, symmetric ones too, which never use it:
    ~70 ms for the table's SSE key in every test's fresh account. Symmetric keys share one; keys that
    sign or verify (RSA_*, ECC_*) still get their own."""
    from moto.kms import models

    made = models.generate_private_key
    shared: list[Any] = []

    def generate_private_key(key_spec: str) -> Any:
        if key_spec != "SYMMETRIC_DEFAULT":
            return made(key_spec)
        if not shared:
            shared.append(made(key_spec))
        return shared[0]

    models.generate_private_key = generate_private_key


_one_rsa_key_for_symmetric_kms_keys()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    # A run that collected nothing must never pass (pytest says 5; keep it non-zero whatever plugins do).
    if session.testscollected == 0:
        session.exitstatus = pytest.ExitCode.NO_TESTS_COLLECTED
