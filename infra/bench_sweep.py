"""The nudge sweep at scale, on moto, in one run (a row group of `make bench`).

100,000 active pacts, each planned in the sparse `nudge_due` index; 1,000 of them due now,
spread over 800 members (some members have two lapsed pacts: one digest each). Prints a
`BENCH {json}` line per stage as soon as it is measured: the sweep (items read and DynamoDB
calls per nudge, its wall time next to one plain query loop over the same items), then the
sender (DynamoDB calls per nudge, SES calls per 1,000 nudges).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.benchenv import use_bench_env

use_bench_env()

PACTS = int(os.environ.get("BENCH_PACTS", "100000"))
DUE = int(os.environ.get("BENCH_DUE", "1000"))
# The sender's calls per nudge do not depend on how many are due: it runs on a sample, seeded on its own
SENDER_SAMPLE = int(os.environ.get("BENCH_SENDER_SAMPLE", "250"))
NOW = datetime(2026, 12, 10, 9, tzinfo=UTC)


def main() -> None:
    import boto3
    from moto import mock_aws

    from infra.callcount import counting_calls

    with mock_aws(), counting_calls() as calls:
        ddb, queue_url = _fresh_account()
        started = time.perf_counter()
        _seed(ddb)
        seed_seconds = time.perf_counter() - started

        from shared.adapters.aws import client
        from shared.adapters.mail import Mailer
        from shared.adapters.queue import sqs_enqueue
        from shared.nudges.sending import SenderDeps, send_digest, sweep

        enqueue = sqs_enqueue(client("sqs"), queue_url)
        queueing = [0.0]

        def timed_enqueue(messages: list[dict[str, Any]]) -> None:
            started = time.perf_counter()
            enqueue(messages)
            queueing[0] += time.perf_counter() - started

        calls.clear()
        started = time.perf_counter()
        result = sweep(NOW, 8, timed_enqueue)
        sweep_seconds = time.perf_counter() - started
        sweep_ddb = sum(n for op, n in calls.items() if op.startswith("dynamodb."))
        sqs_calls = calls["sqs.SendMessageBatch"]

        started = time.perf_counter()
        plain = 0
        for shard in range(8):
            paginator = ddb.get_paginator("query")
            for page in paginator.paginate(
                TableName=os.environ["TABLE_NAME"],
                IndexName="nudge_due",
                KeyConditionExpression="nudge_shard = :s AND nudge_due <= :now",
                ExpressionAttributeValues={":s": {"S": f"DUE#{shard}"}, ":now": {"S": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}},
            ):
                plain += len(page["Items"])
        plain_seconds = time.perf_counter() - started
        _report(
            {
                "stage": "sweep",
                "pacts": PACTS,
                "due": result.nudges,
                "plain_items": plain,
                "items_read": result.items_read,
                "sweep_dynamodb_calls": sweep_ddb,
                "seed_seconds": seed_seconds,
                "sweep_seconds": sweep_seconds,
                "queue_seconds": queueing[0],
                "messages": result.members,
                "sqs_calls": sqs_calls,
                "plain_seconds": plain_seconds,
            }
        )

    # The sender reads by key: its cost does not depend on the table's size. So it runs on a table
    # holding just a sample of the due pacts (quicker to seed).
    with mock_aws(), counting_calls() as calls:
        ddb, queue_url = _fresh_account()
        _seed(ddb, only_due=True, due=SENDER_SAMPLE)
        sweep(NOW, 8, sqs_enqueue(client("sqs"), queue_url))
        calls.clear()
        deps = SenderDeps(
            mailer=Mailer(lambda: client("sesv2"), os.environ["SENDER_EMAIL"]),
            base_url=os.environ["PUBLIC_BASE_URL"],
            shards=8,
            clock=lambda: datetime.now(UTC),
        )
        sqs = boto3.client("sqs")
        while True:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
            if not messages:
                break
            for message in messages:
                send_digest(json.loads(message["Body"]), NOW, deps)
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        sender_ddb = sum(n for op, n in calls.items() if op.startswith("dynamodb."))
        _report(
            {"stage": "sender", "sender_dynamodb_calls": sender_ddb, "emails": calls["sesv2.SendEmail"], "sender_nudges": SENDER_SAMPLE}
        )


def _report(stage: dict[str, Any]) -> None:
    print("BENCH " + json.dumps(stage), flush=True)


def _fresh_account() -> tuple[Any, str]:
    """A moto account with the template's table, the bus, the sender identity and a nudge queue."""
    import boto3

    from infra import cfn

    ddb = boto3.client("dynamodb")
    cfn.create_table(ddb, os.environ["TABLE_NAME"])
    boto3.client("events").create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
    boto3.client("ses").verify_email_identity(EmailAddress=os.environ["SENDER_EMAIL"])
    return ddb, boto3.client("sqs").create_queue(QueueName="bench-nudges")["QueueUrl"]


def _seed(ddb: Any, only_due: bool = False, due: int = DUE) -> None:
    """Write the pact views (and the due members' profiles) straight into the table."""
    from shared.domain.nudges import shard

    table = os.environ["TABLE_NAME"]
    requests: list[dict[str, Any]] = []

    def put(item: dict[str, Any]) -> None:
        requests.append({"PutRequest": {"Item": {k: v for k, v in item.items() if v is not None}}})
        if len(requests) == 25:
            flush()

    def flush() -> None:
        if requests:
            ddb.batch_write_item(RequestItems={table: list(requests)})
            requests.clear()

    def s(value: str) -> dict[str, str]:
        return {"S": value}

    lapse = NOW - timedelta(hours=2)
    members_due = int(due * 0.8)
    for number in range(due if only_due else PACTS):
        is_due = number < due
        member = f"m{number % members_due if is_due else number}"
        pact = f"p_bench{number:07d}"
        next_due = lapse - timedelta(days=2) if is_due else NOW + timedelta(days=1 + number % 7)
        nudge = lapse if is_due else next_due + timedelta(days=2, hours=1)
        put(
            {
                "pk": s(f"PACT#{pact}"),
                "sk": s(f"MEMBER#{member}"),
                "kind": s("pact_view"),
                "gsi1pk": s(f"MEMBER#{member}"),
                "gsi1sk": s(f"PACT#2026-11-01T00:00:00+00:00#{pact}"),
                "pact_id": s(pact),
                "member_sub": s(member),
                "role": s("owner"),
                "state": s("active"),
                "mutual": {"BOOL": False},
                "colleague_left": {"BOOL": False},
                "colleague_name": s(f"Colleague {number}"),
                "colleague_email": s(f"c{number}@example.org"),
                "rrule": s("FREQ=DAILY;INTERVAL=7"),
                "time_zone": s("Europe/Dublin"),
                "starts_at": s("2026-11-01T00:00:00.000000+0000"),
                "mode": s("phone"),
                "time_limit_minutes": {"N": "30"},
                "grace_days": {"N": "2"},
                "next_due_at": s(next_due.strftime("%Y-%m-%dT%H:%M:%S.000000+0000")),
                "created_at": s("2026-11-01T00:00:00.000000+0000"),
                "updated_at": s("2026-11-01T00:00:00.000000+0000"),
                "version": {"N": "1"},
                "party_time_zone": s("Europe/Dublin"),
                "party_nudge_hour": {"N": "9"},
                "party_wants_email": {"BOOL": True},
                "nudge_stage": {"N": "1"},
                "lapse_at": s((next_due + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000000+0000")),
                "nudge_shard": s(shard(f"{pact}#{member}", 8)),
                "nudge_due": s(nudge.strftime("%Y-%m-%dT%H:%M:%SZ")),
            }
        )
    for number in range(members_due):
        put(
            {
                "pk": s(f"MEMBER#m{number}"),
                "sk": s("PROFILE"),
                "kind": s("member"),
                "display_name": s(f"Member {number}"),
                "email": s(f"m{number}@example.org"),
                "time_zone": s("Europe/Dublin"),
                "in_directory": {"BOOL": False},
                "nudge_hour": {"N": "9"},
                "nudges_unsubscribed": {"BOOL": False},
                "created_at": s("2026-11-01T00:00:00.000000+0000"),
                "updated_at": s("2026-11-01T00:00:00.000000+0000"),
                "version": {"N": "1"},
            }
        )
    flush()


if __name__ == "__main__":
    main()
