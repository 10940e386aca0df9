"""Group meeting reminders at scale, on moto, in one run (a row group of `make bench`, beside the nudge sweep).

10,000 groups of five members, every member's next reminder planned in the sparse `remind_due`
index; 100 of the groups meet tomorrow evening, so their 500 members' reminders are due now. Prints
a `BENCH {json}` line per stage: the reminder sweep (items read and DynamoDB calls per reminder due,
its wall time), then the sender on a sample of groups made by the real scheduler (DynamoDB calls per
reminder, SES calls per 1,000 reminders).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.benchenv import use_bench_env

use_bench_env()

GROUPS = int(os.environ.get("BENCH_GROUPS", "10000"))
GROUPS_DUE = int(os.environ.get("BENCH_GROUPS_DUE", "100"))
MEMBERS = 5  # per group
# The sender's calls per reminder do not depend on the table: it runs on a table of its own few groups
SENDER_GROUPS = int(os.environ.get("BENCH_REMINDER_SENDER_GROUPS", "20"))
NOW = datetime(2030, 1, 14, 9, tzinfo=UTC)  # Monday 09:00 in Dublin: reminders of Tuesday evening's meetings
MEETING = datetime(2030, 1, 15, 19, tzinfo=UTC)
RRULE = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=19;BYMINUTE=0"
STAMP = "2029-12-01T00:00:00.000000+0000"


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
        from shared.adapters.models import iso_z
        from shared.adapters.queue import sqs_enqueue
        from shared.groups.reminders import send_reminder, sweep_reminders

        enqueue = sqs_enqueue(client("sqs"), queue_url)
        queueing = [0.0]

        def timed_enqueue(messages: list[dict[str, Any]]) -> None:
            started = time.perf_counter()
            enqueue(messages)
            queueing[0] += time.perf_counter() - started

        calls.clear()
        started = time.perf_counter()
        result = sweep_reminders(NOW, 8, timed_enqueue)
        sweep_seconds = time.perf_counter() - started
        sweep_ddb = sum(n for op, n in calls.items() if op.startswith("dynamodb."))
        sqs_calls = calls["sqs.SendMessageBatch"]
        started = time.perf_counter()  # the same queries, page by page, with the plain client
        plain = 0
        for shard in range(8):
            for page in ddb.get_paginator("query").paginate(
                TableName=os.environ["TABLE_NAME"],
                IndexName="remind_due",
                KeyConditionExpression="remind_shard = :s AND remind_due <= :now",
                ExpressionAttributeValues={":s": {"S": f"DUE#{shard}"}, ":now": {"S": iso_z(NOW)}},
            ):
                plain += len(page["Items"])
        plain_seconds = time.perf_counter() - started
        _report(
            {
                "stage": "reminder_sweep",
                "groups": GROUPS,
                "memberships": GROUPS * MEMBERS,
                "due": result.reminders,
                "items_read": result.items_read,
                "sweep_dynamodb_calls": sweep_ddb,
                "seed_seconds": seed_seconds,
                "sweep_seconds": sweep_seconds,
                "queue_seconds": queueing[0],
                "messages": result.reminders,
                "sqs_calls": sqs_calls,
                "plain_items": plain,
                "plain_seconds": plain_seconds,
            }
        )

    # The sender reads by key and one group's partition: its cost does not depend on the table's size.
    with mock_aws(), counting_calls() as calls:
        ddb, queue_url = _fresh_account()
        _groups_for_the_sender()
        sweep_reminders(NOW, 8, sqs_enqueue(client("sqs"), queue_url))
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
                outcome = send_reminder(json.loads(message["Body"]), NOW, deps)
                outcomes[outcome] = outcomes.get(outcome, 0) + 1
                sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
        ddb_calls = sum(n for op, n in calls.items() if op.startswith("dynamodb."))
        _report(
            {
                "stage": "reminder_sender",
                "sender_reminders": sum(outcomes.values()),
                "sent": outcomes.get("sent", 0),
                "sender_dynamodb_calls": ddb_calls,
                "emails": calls["sesv2.SendEmail"],
            }
        )


def _report(stage: dict[str, Any]) -> None:
    print("BENCH " + json.dumps(stage), flush=True)


def _fresh_account() -> tuple[Any, str]:
    """A moto account with the template's table, the bus, the sender identity and a reminder queue."""
    import boto3

    from infra import cfn

    ddb = boto3.client("dynamodb")
    cfn.create_table(ddb, os.environ["TABLE_NAME"])
    boto3.client("events").create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
    boto3.client("ses").verify_email_identity(EmailAddress=os.environ["SENDER_EMAIL"])
    return ddb, boto3.client("sqs").create_queue(QueueName="bench-group-reminders")["QueueUrl"]


def _seed(ddb: Any) -> None:
    """The groups and their members straight into the table: every member with a reminder planned, a few due now."""
    from shared.domain.nudges import shard

    table = os.environ["TABLE_NAME"]
    requests: list[dict[str, Any]] = []

    def put(item: dict[str, Any]) -> None:
        requests.append({"PutRequest": {"Item": item}})
        if len(requests) == 25:
            flush()

    def flush() -> None:
        if requests:
            ddb.batch_write_item(RequestItems={table: list(requests)})
            requests.clear()

    def s(value: str) -> dict[str, str]:
        return {"S": value}

    for number in range(GROUPS):
        group = f"g_bench{number:06d}"
        # The due groups meet tomorrow; the others on some day of the coming weeks (their reminders wait).
        meeting = MEETING if number < GROUPS_DUE else MEETING + timedelta(days=1 + number % 27)
        due = meeting - timedelta(hours=34)  # Monday 09:00 for tomorrow's meetings
        put(
            {
                "pk": s(f"GROUP#{group}"),
                "sk": s("META"),
                "kind": s("group"),
                "group_id": s(group),
                "name": s(f"Group {number}"),
                "rrule": s(RRULE),
                "time_zone": s("Europe/Dublin"),
                "starts_at": s(STAMP),
                "duration_minutes": {"N": "120"},
                "venue_kind": s("place"),
                "venue": s("Rooms"),
                "format": s("{}"),
                "agreement_changed_at": s(STAMP),
                "created_at": s(STAMP),
                "updated_at": s(STAMP),
                "version": {"N": "1"},
            }
        )
        for seat in range(MEMBERS):
            who = f"m{number:06d}{seat}"
            put(
                {
                    "pk": s(f"GROUP#{group}"),
                    "sk": s(f"MEMBER#{who}"),
                    "kind": s("group_member"),
                    "gsi1pk": s(f"MEMBER#{who}"),
                    "gsi1sk": s(f"GROUP#{STAMP}#{group}"),
                    "group_id": s(group),
                    "member_sub": s(who),
                    "role": s("convener" if seat == 0 else "member"),
                    "state": s("active"),
                    "display_name": s(f"Member {who}"),
                    "joined_at": s(STAMP),
                    "presented": {"N": "0"},
                    "attended": {"N": "0"},
                    "missed_in_a_row": {"N": "0"},
                    "party_time_zone": s("Europe/Dublin"),
                    "party_nudge_hour": {"N": "9"},
                    "party_wants_email": {"BOOL": True},
                    "remind_for": s(meeting.strftime("%Y%m%dT%H%M%SZ")),
                    "remind_shard": s(shard(f"{group}#{who}", 8)),
                    "remind_due": s(due.strftime("%Y-%m-%dT%H:%M:%SZ")),
                    "created_at": s(STAMP),
                    "updated_at": s(STAMP),
                    "version": {"N": "1"},
                }
            )
    flush()


def _groups_for_the_sender() -> None:
    """A few real groups (profiles, members), their next meeting fixed by the real scheduler a week ahead."""
    from shared.adapters.models import Group, GroupMember, Member
    from shared.domain import groups as domain
    from shared.groups.scheduling import sweep_groups
    from shared.groups.writes import plan_schedule

    created = MEETING - timedelta(days=30)
    fmt = json.dumps(domain.format_to_dict(domain.preset("case_slots", 120, 3)))
    for number in range(SENDER_GROUPS):
        group_id = f"g_bench{number:06d}"
        group = Group(
            *Group.key(group_id),
            group_id=group_id,
            name=f"Group {number}",
            rrule=RRULE,
            time_zone="Europe/Dublin",
            starts_at=MEETING,
            duration_minutes=120,
            venue_kind="place",
            venue="Rooms",
            format=fmt,
            review_due_at=MEETING + timedelta(days=180),
            agreement_changed_at=created,
            created_at=created,
            updated_at=created,
        )
        plan_schedule(group, 8)
        group.save()
        for seat in range(MEMBERS):
            who = f"m{number:06d}{seat}"
            email = f"{who}@example.org"
            Member(*Member.key(who), display_name=f"Member {seat}", email=email, created_at=created, updated_at=created).save()
            GroupMember(
                *GroupMember.key(group_id, who),
                group_id=group_id,
                member_sub=who,
                role="convener" if seat == 0 else "member",
                state="active",
                display_name=f"Member {seat}",
                joined_at=created,
                party_time_zone="Europe/Dublin",
                party_nudge_hour=9,
                party_wants_email=True,
                created_at=created,
                updated_at=created,
            ).save()
    # Weekly meetings are fixed halfway to their neighbour (3.5 days ahead), so the scheduler runs just before the reminders.
    sweep_groups(NOW - timedelta(hours=1), 8)


if __name__ == "__main__":
    main()
