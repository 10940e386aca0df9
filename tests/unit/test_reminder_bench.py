"""`make bench`'s reminder rows: the items read per reminder, beside the nudge sweep's figure, against the same goal."""

from __future__ import annotations

from infra import bench


def _sweep(items_read: int) -> dict[str, object]:
    return {
        "stage": "reminder_sweep",
        "groups": 10_000,
        "memberships": 50_000,
        "due": 500,
        "items_read": items_read,
        "sweep_dynamodb_calls": 8,
        "sweep_seconds": 1.0,
    }


def test_reading_more_than_1_1_items_per_reminder_misses_the_goal_and_the_nudge_figure_is_beside_it() -> None:
    rows = {row.name: row for row in bench.reminder_rows(_sweep(600), 1.0)}
    read = rows["reminder sweep: items read per reminder due"]
    assert read.value == "1.20"
    assert read.misses == "≤1.1 items read per reminder"
    assert "the nudge sweep reads 1.00 per nudge" in read.note
    rows = {row.name: row for row in bench.reminder_rows(_sweep(500))}
    assert rows["reminder sweep: items read per reminder due"].misses == ""
    assert "nudge" not in rows["reminder sweep: items read per reminder due"].note


def test_the_senders_rows() -> None:
    sender = list(bench.reminder_rows({"stage": "reminder_sender", "sender_reminders": 100, "sender_dynamodb_calls": 600, "emails": 100}))
    assert [row.value for row in sender] == ["6.00", "1000"]
    assert sender[0].misses == "≤3 DynamoDB calls"
