"""`make bench`'s table: rows printed as they come, goals marked, the package measured as uploaded."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra import bench
from infra.bench import Row


def test_a_cold_start_over_1_3x_the_floor_misses_its_goal() -> None:
    assert bench.format_row(bench.cold_row("ApiFunction", 140, 100)).endswith("MISSES GOAL (≤1.3× floor)")
    assert "MISSES" not in bench.format_row(bench.cold_row("ApiFunction", 130, 100))


def test_more_than_three_dynamodb_calls_or_any_scan_misses_its_goal() -> None:
    assert "MISSES" not in bench.format_row(bench.calls_row("GET /members/me", 3, 0))
    assert bench.calls_row("GET /members/me", 4, 0).misses == "≤3 DynamoDB calls"
    assert bench.calls_row("GET /pacts", 4, 1).misses == "≤3 DynamoDB calls, 0 Scans"
    # Erasure may grow with the member's own data; a Scan is still a miss.
    assert bench.calls_row("DELETE /members/me", 18, 0).misses == ""
    assert bench.calls_row("DELETE /members/me", 18, 1).misses == "0 Scans"


def _sweep(items_read: int) -> dict[str, object]:
    return {
        "stage": "sweep",
        "pacts": 100_000,
        "due": 1000,
        "items_read": items_read,
        "sweep_dynamodb_calls": 8,
        "sweep_seconds": 1.0,
        "plain_seconds": 0.8,
    }


def test_a_sweep_reading_more_than_1_1_items_per_nudge_misses_its_goal() -> None:
    rows = {row.name: row for row in bench.sweep_rows(_sweep(1200))}
    assert rows["sweep: items read per nudge due"].misses == "≤1.1 items read per nudge"
    rows = {row.name: row for row in bench.sweep_rows(_sweep(1000))}
    assert rows["sweep: items read per nudge due"].misses == ""
    sender = list(bench.sweep_rows({"stage": "sender", "sender_nudges": 250, "sender_dynamodb_calls": 1000, "emails": 200}))
    assert [row.value for row in sender] == ["4.00", "800"]


def test_a_sender_over_3_calls_per_message_or_a_sweep_over_1_3x_a_plain_loop_misses_its_goal() -> None:
    sender = {"stage": "sender", "sender_nudges": 250, "sender_dynamodb_calls": 750, "emails": 200}
    assert [row.misses for row in bench.sweep_rows(sender)] == ["", ""]
    calls = next(bench.sweep_rows({**sender, "sender_dynamodb_calls": 751}))
    assert (calls.value, calls.misses) == ("3.00", "≤3 DynamoDB calls")  # 3.004: rounded for show, missed all the same
    assert "goal <= 3" in calls.note
    plain = {row.name: row for row in bench.sweep_rows({**_sweep(1000), "sweep_seconds": 1.3, "plain_seconds": 1.0})}
    ratio = plain["plain query loop over the same items (moto)"]
    assert ("sweep / plain = 1.30x" in ratio.note, ratio.misses) == (True, "")
    plain = {row.name: row for row in bench.sweep_rows({**_sweep(1000), "sweep_seconds": 1.4, "plain_seconds": 1.0})}
    assert plain["plain query loop over the same items (moto)"].misses == "≤1.3× plain"


def test_only_runs_the_stages_named_in_make_bench_order() -> None:
    assert bench.chosen_stages(["bench"]) == list(bench.STAGES)
    assert bench.chosen_stages(["bench", "--only", "habit,nudges"]) == ["nudges", "habit"]
    assert bench.chosen_stages(["bench", "--sizes"]) == ["sizes"]
    for argv in (["bench", "--only"], ["bench", "--only", "nudges,sweeps"]):
        with pytest.raises(SystemExit, match="--only takes some of cold,sizes"):
            bench.chosen_stages(argv)


def test_each_row_is_printed_as_soon_as_it_is_measured() -> None:
    out = io.StringIO()

    def rows() -> Iterator[Row]:
        yield Row("first", "1 ms", "measured")
        assert "first" in out.getvalue(), "the first row waits for the second"
        yield Row("second", "2 ms", "measured", misses="≤1.3× floor")

    assert bench.emit(rows(), out) == 1
    lines = out.getvalue().splitlines()
    assert lines[-3].startswith("first")
    assert lines[-2].endswith("MISSES GOAL (≤1.3× floor)")
    assert lines[-1] == "1 row(s) miss their goal"


def test_the_size_measured_is_the_zip_uploaded_bytecode_included(tmp_path: Path) -> None:
    (tmp_path / "shared" / "__pycache__").mkdir(parents=True)
    (tmp_path / "shared" / "models.py").write_text("x = 1\n")
    pyc = os.urandom(64 * 1024)  # incompressible: it shows in the size or it does not
    (tmp_path / "shared" / "__pycache__" / "models.cpython-312.pyc").write_bytes(pyc)
    assert bench.zipped_size(tmp_path) > len(pyc)


def test_package_sizes_name_each_built_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench, "BUILD_DIR", tmp_path / "missing")
    assert "make package" in next(bench.package_sizes()).note
    (tmp_path / "SharedLayer" / "python" / "__pycache__").mkdir(parents=True)
    (tmp_path / "SharedLayer" / "python" / "__pycache__" / "m.cpython-312.pyc").write_bytes(b"\0" * 10)
    monkeypatch.setattr(bench, "BUILD_DIR", tmp_path)
    (row,) = bench.package_sizes()
    assert row.name == "zipped size SharedLayer"
    assert row.note == "layer, 1 .pyc files"
