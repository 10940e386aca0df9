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


def test_the_reminder_sweep_beside_a_plain_query_loop_and_what_queueing_takes() -> None:
    stage = {**_sweep(500), "sweep_seconds": 2.0, "queue_seconds": 0.9, "messages": 500, "sqs_calls": 50, "plain_seconds": 1.0}
    rows = {row.name: row for row in bench.reminder_rows(stage)}
    ratio = rows["reminder sweep: plain query loop over the same items (moto)"]
    assert ("sweep / plain = 2.00x" in ratio.note, ratio.misses) == (True, "≤1.3× plain")
    assert rows["reminder sweep: of which queueing (moto)"].value == "900 ms"
    assert "500 messages in 50 SendMessageBatch calls" in rows["reminder sweep: of which queueing (moto)"].note
    assert rows["reminder sweep: finding the due items alone / plain loop"].value == "1.10x"
    rows = {row.name: row for row in bench.reminder_rows({**stage, "sweep_seconds": 1.3})}
    assert rows["reminder sweep: plain query loop over the same items (moto)"].misses == ""
