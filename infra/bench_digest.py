"""The weekly digest at scale, on moto, in one run (a row group of `make bench`, beside the other sweeps).

20,000 members, each with a weekly digest planned in the sparse `digest_due` index over the coming week;
200 of them are due now. Prints a `BENCH {json}` line per stage: the digest sweep (items read and DynamoDB
calls per digest due, its wall time), the sender on a sample of members (DynamoDB calls per digest, SES
calls per 1,000 digests), and the DynamoDB calls of GET /members/me/support and GET /members/me/log.csv.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.benchenv import use_bench_env

use_bench_env()

MEMBERS = int(os.environ.get("BENCH_DIGEST_MEMBERS", "20000"))
DUE = int(os.environ.get("BENCH_DIGEST_DUE", "200"))
SENDER_MEMBERS = int(os.environ.get("BENCH_DIGEST_SENDER_MEMBERS", "20"))
NOW = datetime(2030, 1, 14, 9, tzinfo=UTC)  # a Monday, 09:00 in Dublin
STAMP = "2029-11-01T00:00:00.000000+0000"  # joined long ago: the sender's sample gets the isolation line


def main() -> None:
    from moto import mock_aws

    from infra.callcount import counting_calls

    with mock_aws(), counting_calls() as calls:
        ddb, queue_url = _fresh_account()
        started = time.perf_counter()
        _seed(ddb, MEMBERS, DUE)
        seed_seconds = time.perf_counter() - started

        from shared.adapters.aws import client
        from shared.adapters.queue import sqs_enqueue
        from shared.digest.sweep import sweep_digests

        calls.clear()
        started = time.perf_counter()
        result = sweep_digests(NOW, 8, sqs_enqueue(client("sqs"), queue_url))
        sweep_seconds = time.perf_counter() - started
        _report(
            {
                "stage": "digest_sweep",
                "members": MEMBERS,
                "due": result.digests,
                "items_read": result.items_read,
                "sweep_dynamodb_calls": sum(n for op, n in calls.items() if op.startswith("dynamodb.")),
                "seed_seconds": seed_seconds,
                "sweep_seconds": sweep_seconds,
            }
        )

    # The sender reads by key, the member's partition and gsi1: its cost does not depend on the table's size.
    with mock_aws(), counting_calls() as calls:
        import boto3

        from shared.digest.send import send_weekly

        ddb, queue_url = _fresh_account()
        _seed(ddb, SENDER_MEMBERS, SENDER_MEMBERS)
        sweep_digests(NOW, 8, sqs_enqueue(client("sqs"), queue_url))
        calls.clear()
        from shared.nudges.sending import deployed_deps

        deps = deployed_deps()
        sqs = boto3.client("sqs")
        outcomes: dict[str, int] = {}
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                outcome = send_weekly(json.loads(message["Body"]), NOW, deps)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        _report(
            {
                "stage": "digest_sender",
                "sender_digests": sum(outcomes.values()),
                "sent": outcomes.get("sent", 0),
                "sender_dynamodb_calls": sum(n for op, n in calls.items() if op.startswith("dynamodb.")),
                "emails": calls["sesv2.SendEmail"],
            }
        )

    with mock_aws(), counting_calls() as calls:
        _fresh_account()
        for route, count in _support_calls(calls):
            _report({"stage": "support_calls", "route": route, "calls": count})


def _support_calls(calls: Any) -> list[tuple[str, int]]:
    from tests.helpers import DEFAULT_NOW, call, member, pact
    from tests.integration.group_harness import group_of

    ann, bob = "ann@example.org", "bob@example.org"
    group_of(ann, [bob], DEFAULT_NOW)
    shared = pact(ann, bob)["id"]
    for day in range(5):
        call("POST", f"/pacts/{shared}/check-ins", body={}, now=DEFAULT_NOW + timedelta(days=day))
    member("cara@example.org")
    out = []
    for path in ("/members/me/support", "/members/me/log.csv"):
        calls.clear()
        reply = call("GET", path, email=ann, now=DEFAULT_NOW + timedelta(days=6))
        assert reply.status == 200, reply.body
        out.append((f"GET {path}", sum(n for op, n in calls.items() if op.startswith("dynamodb."))))
    return out


def _report(stage: dict[str, Any]) -> None:
    print("BENCH " + json.dumps(stage), flush=True)


def _fresh_account() -> tuple[Any, str]:
    """A moto account with the template's table, the bus, the sender identity and a digest queue."""
    import boto3

    from infra import cfn

    ddb = boto3.client("dynamodb")
    cfn.create_table(ddb, os.environ["TABLE_NAME"])
    boto3.client("events").create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
    boto3.client("ses").verify_email_identity(EmailAddress=os.environ["SENDER_EMAIL"])
    return ddb, boto3.client("sqs").create_queue(QueueName="bench-digests")["QueueUrl"]


def _seed(ddb: Any, members: int, due: int) -> None:
    """Profiles straight into the table: every one with a digest planned, the first `due` of them due now."""
    from shared.domain.nudges import shard

    table = os.environ["TABLE_NAME"]
    requests: list[dict[str, Any]] = []

    def flush() -> None:
        if requests:
            ddb.batch_write_item(RequestItems={table: list(requests)})
            requests.clear()

    def s(value: str) -> dict[str, str]:
        return {"S": value}

    for number in range(members):
        who = f"m{number:06d}"
        # The due ones now; the others later in the week (their digests wait in the index).
        when = NOW if number < due else NOW + timedelta(hours=1 + number % 160)
        item = {
            "pk": s(f"MEMBER#{who}"),
            "sk": s("PROFILE"),
            "kind": s("member"),
            "display_name": s(f"Member {number}"),
            "email": s(f"{who}@example.org"),
            "time_zone": s("Europe/Dublin"),
            "nudge_hour": {"N": "9"},
            "weekly_digest": {"BOOL": True},
            "nudges_unsubscribed": {"BOOL": False},
            "digest_shard": s(shard(f"DIGEST#MEMBER#{who}", 8)),
            "digest_due": s(when.strftime("%Y-%m-%dT%H:%M:%SZ")),
            "created_at": s(STAMP),
            "updated_at": s(STAMP),
            "version": {"N": "1"},
        }
        requests.append({"PutRequest": {"Item": item}})
        if len(requests) == 25:
            flush()
    flush()


if __name__ == "__main__":
    main()
