"""`make bench`'s load test, small: a real local stack, three seeded members, locust for 2 s each way.

Checks what the run reports (requests served, every request answered without an error), never how fast.
"""

from __future__ import annotations

import pytest

from infra import bench, bench_load
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

API_ROUTES = {"GET /members/me", "GET /pacts", "GET /groups/{id}/meetings", "POST /pacts/{id}/check-ins"}


def test_a_short_load_run_serves_both_targets_without_a_failure() -> None:
    baseline, api = bench_load.run(users=2, seconds=2, members=3)
    assert (baseline["target"], api["target"]) == ("baseline", "api")
    for record in (baseline, api):
        assert record["requests"] > 0, record
        assert (record["failures"], record["exceptions"], record["errors"]) == (0, 0, []), record
        assert sum(route["requests"] for route in record["routes"]) == record["requests"]
    assert {route["name"] for route in baseline["routes"]} == {"GET /_bench/baseline"}
    assert {route["name"] for route in api["routes"]} <= API_ROUTES
    rows = list(bench.load_rows(baseline)) + list(bench.load_rows(api, baseline))
    assert not [row for row in rows if row.misses]
    assert rows[-1].name == "load overhead: API mix / baseline, p50"


def test_the_baseline_route_is_only_in_the_bench_stack(stack: Stack) -> None:
    token = stack.token("ann@example.org")
    assert stack.request("GET", "/_bench/baseline", token=token).status == 404  # `make run`: the API's own 404
    assert "/_bench" not in stack.request("GET", "/openapi.json").body.decode()
    pending = stack.request("GET", "/_local/pending").json()["pending"]  # what the bench waits on before its runs
    assert isinstance(pending, int)
    assert pending >= 0
