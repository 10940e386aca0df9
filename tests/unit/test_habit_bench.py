"""`make bench`'s habit rows: items read per reminder due against the sweeps' goal, the nudge figure beside it."""

from __future__ import annotations

from infra import bench


def _sweep(items_read: int) -> dict[str, object]:
    return {
        "stage": "habit_sweep",
        "views": 20_000,
        "due": 200,
        "reminders": 200,
        "items_read": items_read,
        "sweep_dynamodb_calls": 1208,
        "queries": 8,
        "emails": 200,
        "sweep_seconds": 1.0,
    }


def test_reading_more_than_1_1_items_per_reminder_misses_the_goal() -> None:
    rows = {row.name: row for row in bench.habit_rows(_sweep(240), 1.0)}
    read = rows["habit sweep: items read per reminder due"]
    assert read.value == "1.20"
    assert read.misses == "≤1.1 items read per reminder"
    assert "the nudge sweep reads 1.00 per nudge" in read.note
    rows = {row.name: row for row in bench.habit_rows(_sweep(200))}
    assert rows["habit sweep: items read per reminder due"].misses == ""
    assert rows["habit sweep: index queries per reminder"].value == "0.040"
    sending = rows["habit sweep: DynamoDB calls per reminder sent"]
    assert (sending.value, sending.misses) == ("6.00", "≤3 DynamoDB calls")  # 1208 calls, 8 of them the index queries
    rows = {row.name: row for row in bench.habit_rows({**_sweep(200), "sweep_dynamodb_calls": 608})}
    assert rows["habit sweep: DynamoDB calls per reminder sent"].misses == ""
    assert rows["habit sweep: SES calls per 1,000 reminders"].value == "1000"
