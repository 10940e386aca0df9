"""`make bench`'s load rows: failures against the goal of none, the overhead ratios, a run that measured nothing."""

from __future__ import annotations

from typing import Any

from infra import bench


def record(target: str, **overrides: Any) -> dict[str, Any]:
    figures = {"requests": 600, "failures": 0, "exceptions": 0, "p50_ms": 10, "p99_ms": 40, "rps": 20.0, "errors": [], "routes": []}
    return {"stage": "load", "target": target, "users": 20, "seconds": 30, "members": 200, **figures, **overrides}


def test_the_baseline_rows_carry_the_setup_and_its_legend() -> None:
    rows = list(bench.load_rows(record("baseline", seed_seconds=181.4)))
    assert rows[0].value == "20 / 30 / 200"
    assert "serialises every call to moto" in rows[0].note
    assert rows[0].note.endswith("seeding them through the API took 181 s")
    assert "seeding" not in next(bench.load_rows(record("baseline"))).note  # a record from before it was measured
    assert [row.value for row in rows[1:]] == ["600 / 0", "10 / 40 ms"]
    assert not any(row.misses for row in rows)


def test_the_api_rows_give_each_route_and_the_overhead_as_ratios() -> None:
    route = {"name": "GET /pacts", "requests": 200, "failures": 0, "p50_ms": 30, "p99_ms": 120, "rps": 5.0}
    api = record("api", p50_ms=25, p99_ms=160, rps=5.0, routes=[route])
    rows = {row.name: row for row in bench.load_rows(api, record("baseline"))}
    assert rows["load API GET /pacts: p50 / p99"].value == "30 / 120 ms"
    overhead = rows["load overhead: API mix / baseline, p50"]
    assert overhead.value == "2.5x"
    assert overhead.note.startswith("p99 4.0x; requests/s 0.25x")
    assert not any(row.misses for row in rows.values())


def test_a_failed_request_or_a_crashed_client_misses_the_goal_and_says_what_failed() -> None:
    failing = record("api", failures=2, exceptions=1, errors=["POST /pacts/{id}/check-ins: HTTPError('409') x2"])
    served = next(row for row in bench.load_rows(failing, record("baseline")) if row.name.endswith("requests served / failed"))
    assert served.value == "600 / 3"
    assert served.misses == "0 failed"
    assert "HTTPError('409') x2" in served.note


def test_a_run_that_served_nothing_says_so_instead_of_dividing_by_zero() -> None:
    empty = record("api", requests=0, p50_ms=None, p99_ms=None, rps=0.0)
    rows = {row.name: row for row in bench.load_rows(empty, record("baseline"))}
    assert rows["load API mix: requests served / failed"].misses == "measured nothing"
    assert rows["load API mix: p50 / p99"].value == "- / - ms"
    assert rows["load overhead: API mix / baseline"].misses == "measured nothing"
