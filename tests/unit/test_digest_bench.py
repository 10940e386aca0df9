"""`make bench`'s digest rows: items read per digest due against the sweeps' goal, the sender, the support routes."""

from __future__ import annotations

from infra import bench


def test_the_digest_sweep_rows_and_the_goal() -> None:
    stage = {"stage": "digest_sweep", "members": 20_000, "due": 200, "items_read": 200, "sweep_dynamodb_calls": 8, "sweep_seconds": 0.5}
    rows = {row.name: row for row in bench.digest_rows(stage)}
    assert rows["digest sweep: items read per digest due"].value == "1.00"
    assert rows["digest sweep: items read per digest due"].misses == ""
    assert "a full Scan would read 100" in rows["digest sweep: items read per digest due"].note
    rows = {row.name: row for row in bench.digest_rows({**stage, "items_read": 300})}
    assert rows["digest sweep: items read per digest due"].misses == f"≤{bench.SWEEP_GOAL} items read per digest"


def test_the_sender_and_support_rows() -> None:
    sender = list(bench.digest_rows({"stage": "digest_sender", "sender_digests": 20, "sender_dynamodb_calls": 160, "emails": 20}))
    assert [row.value for row in sender] == ["8.00", "1000"]
    assert sender[0].misses == "≤3 DynamoDB calls"
    calls = list(bench.digest_rows({"stage": "support_calls", "route": "GET /members/me/support", "calls": 4}))
    assert calls[0].misses == f"≤{bench.CALLS_GOAL} DynamoDB calls"
