"""The habit sweep at scale, on moto, in one run (a row group of `make bench`, beside the nudge sweep).

20,000 pact views still establishing, each with its next reminder before a slot planned in the sparse
`habit_due` index; 200 of them (slots tomorrow morning) are due now. Prints one `BENCH {json}` line:
items read from the index per reminder due (the sweep's index queries at that scale), then the sweep itself
(it is its own sender: reads each due view again with its member, claims, sends, moves the view on) on a
table of the due views alone: DynamoDB calls per reminder, SES calls, wall time.
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from infra.benchenv import use_bench_env

use_bench_env()

VIEWS = int(os.environ.get("BENCH_HABIT_VIEWS", "20000"))
DUE = int(os.environ.get("BENCH_HABIT_DUE", "200"))
NOW = datetime(2030, 1, 14, 9, tzinfo=UTC)  # Monday 09:00 in Dublin: reminders of Tuesday 08:30's slots
SLOT = datetime(2030, 1, 15, 8, 30, tzinfo=UTC)
RRULE = "FREQ=WEEKLY;BYDAY=TU;BYHOUR=8;BYMINUTE=30;BYSECOND=0"
STAMP = "2029-12-01T00:00:00.000000+0000"


def main() -> None:
    from moto import mock_aws

    from infra.callcount import counting_calls

    # The items read at scale: the sweep's own index queries over every establishing view.
    with mock_aws(), counting_calls() as calls:
        ddb = _fresh_account()
        started = time.perf_counter()
        _seed(ddb)
        seed_seconds = time.perf_counter() - started

        from shared.nudges.habit import due_views, habit_sweep

        calls.clear()
        items_read = sum(1 for _ in due_views(NOW, 8))
        queries = calls["dynamodb.Query"]

    # The sending: each reminder is read by key, claimed and closed in transactions, whose cost does not
    # depend on the table's size; so the sweep runs again on a table holding just the due views (quicker to seed).
    with mock_aws(), counting_calls() as calls:
        ddb = _fresh_account()
        _seed(ddb, only_due=True)
        calls.clear()
        started = time.perf_counter()
        result = habit_sweep(NOW, _deps())
        sweep_seconds = time.perf_counter() - started
        _report(
            {
                "stage": "habit_sweep",
                "views": VIEWS,
                "due": DUE,
                "reminders": result.reminders,
                "items_read": items_read,
                "sweep_items_read": result.items_read,
                "sweep_dynamodb_calls": sum(n for op, n in calls.items() if op.startswith("dynamodb.")),
                "queries": queries,
                "emails": calls["sesv2.SendEmail"],
                "seed_seconds": seed_seconds,
                "sweep_seconds": sweep_seconds,
            }
        )


def _report(stage: dict[str, Any]) -> None:
    print("BENCH " + json.dumps(stage), flush=True)


def _deps() -> Any:
    from shared.adapters.aws import client
    from shared.adapters.mail import Mailer
    from shared.nudges.habit import HabitDeps

    return HabitDeps(
        mailer=Mailer(lambda: client("sesv2"), os.environ["SENDER_EMAIL"]),
        sns=lambda: client("sns"),
        base_url=os.environ["PUBLIC_BASE_URL"],
        shards=8,
        clock=lambda: datetime.now(UTC),
    )


def _fresh_account() -> Any:
    import boto3

    from infra import cfn

    ddb = boto3.client("dynamodb")
    cfn.create_table(ddb, os.environ["TABLE_NAME"])
    boto3.client("events").create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
    boto3.client("ses").verify_email_identity(EmailAddress=os.environ["SENDER_EMAIL"])
    return ddb


def _seed(ddb: Any, only_due: bool = False) -> None:
    """Pact views straight into the table, each with its reminder planned; the first DUE of them due now."""
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

    def iso(value: datetime) -> str:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%f+0000")

    for number in range(DUE if only_due else VIEWS):
        pact, who = f"p_bench{number:07d}", f"m{number:07d}"
        # The due ones meet tomorrow morning; the others on some day of the coming weeks (their reminders wait).
        slot = SLOT if number < DUE else SLOT + timedelta(days=7 * (1 + number % 5))
        due = slot - timedelta(hours=23, minutes=30)
        if number < DUE:
            put(
                {
                    "pk": s(f"MEMBER#{who}"),
                    "sk": s("PROFILE"),
                    "kind": s("member"),
                    "display_name": s(f"Member {number}"),
                    "email": s(f"{who}@example.org"),
                    "time_zone": s("Europe/Dublin"),
                    "created_at": s(STAMP),
                    "updated_at": s(STAMP),
                    "version": {"N": "1"},
                }
            )
        put(
            {
                "pk": s(f"PACT#{pact}"),
                "sk": s(f"MEMBER#{who}"),
                "kind": s("pact_view"),
                "gsi1pk": s(f"MEMBER#{who}"),
                "gsi1sk": s(f"PACT#{STAMP}#{pact}"),
                "pact_id": s(pact),
                "member_sub": s(who),
                "role": s("owner"),
                "state": s("active"),
                "mutual": {"BOOL": False},
                "colleague_name": s("Jennifer"),
                "rrule": s(RRULE),
                "time_zone": s("Europe/Dublin"),
                "starts_at": s(STAMP),
                "mode": s("phone"),
                "time_limit_minutes": {"N": "30"},
                "grace_days": {"N": "2"},
                "next_due_at": s(iso(slot)),
                "created_at": s(STAMP),
                "updated_at": s(STAMP),
                "version": {"N": "1"},
                "party_time_zone": s("Europe/Dublin"),
                "party_nudge_hour": {"N": "9"},
                "party_wants_email": {"BOOL": True},
                "habit_kind": s("reminder"),
                "habit_for": s(iso(slot)),
                "habit_shard": s(shard(f"{pact}#{who}#habit", 8)),
                "habit_due": s(due.strftime("%Y-%m-%dT%H:%M:%SZ")),
            }
        )
    flush()


if __name__ == "__main__":
    main()
