"""The load bench's simulated members, for locust (run by infra/bench_load.py; not a module to import).

Each simulated member signs in as one of the seeded members (`BENCH_LOAD_SEED`: the JSON file
infra/bench_load.py writes) and, with no think time, reads their profile, lists their pacts, lists
their group's meetings and records a check-in, reads weighted over writes as the app uses them.
`BENCH_LOAD_TARGET=baseline` instead calls the local stack's do-nothing route, through the same path.
When locust quits, the run's final figures go to `BENCH_LOAD_REPORT` as JSON (its CSV files are written
every few seconds, so a short run's could miss its last seconds).
"""

from __future__ import annotations

import json
import os
import random  # which member, pact and minute: load, not secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gevent
from locust import FastHttpUser, constant, events, task
from locust.env import Environment
from locust.stats import StatsEntry

SEED: list[dict[str, Any]] = json.loads(Path(os.environ["BENCH_LOAD_SEED"]).read_text(encoding="utf-8"))
TARGET = os.environ.get("BENCH_LOAD_TARGET", "api")
SECONDS = float(os.environ["BENCH_LOAD_SECONDS"])
# How far back a recorded check-in lies: every seeded pact began a year ago, so most land on a minute of their
# own; at least an hour, since the stack's clock is held still during the run (not in its future).
CHECK_IN_MINUTES = (60, 360 * 24 * 60)


class SeededMember(FastHttpUser):
    """One of the seeded members, chosen at random per simulated client."""

    wait_time = constant(0)
    abstract = True

    def on_start(self) -> None:
        self.member = random.choice(SEED)  # noqa: S311
        self.auth = {"authorization": f"Bearer {self.member['token']}"}


class Member(SeededMember):
    abstract = TARGET != "api"

    @task(4)
    def profile(self) -> None:
        self.client.get("/members/me", headers=self.auth)

    @task(3)
    def pacts(self) -> None:
        self.client.get("/pacts", headers=self.auth)

    @task(2)
    def meetings(self) -> None:
        self.client.get(f"/groups/{self.member['group']}/meetings", headers=self.auth, name="/groups/{id}/meetings")

    @task(1)
    def check_in(self) -> None:
        occurred = datetime.now(UTC) - timedelta(minutes=random.randrange(*CHECK_IN_MINUTES))  # noqa: S311
        body = {"occurred_at": occurred.isoformat(timespec="seconds")}
        pact = random.choice(self.member["pacts"])  # noqa: S311
        self.client.post(f"/pacts/{pact}/check-ins", json=body, headers=self.auth, name="/pacts/{id}/check-ins")


class Baseline(SeededMember):
    abstract = TARGET != "baseline"

    @task
    def nothing(self) -> None:
        self.client.get("/_bench/baseline", headers=self.auth)


def _figures(entry: StatsEntry) -> dict[str, Any]:
    measured = bool(entry.num_requests)
    return {
        "name": f"{entry.method or ''} {entry.name}".strip(),
        "requests": entry.num_requests,
        "failures": entry.num_failures,
        "p50_ms": entry.get_response_time_percentile(0.5) if measured else None,
        "p99_ms": entry.get_response_time_percentile(0.99) if measured else None,
        "rps": entry.total_rps,
    }


@events.test_start.add_listener
def _stop_later(environment: Environment, **_: Any) -> None:
    """End the run SECONDS after it starts: locust's own `--run-time` is armed on the event loop's clock as the
    loop last saw it, before the seconds spent loading the locustfile, and a busy machine ate most of a short run."""
    gevent.get_hub().loop.update_now()
    runner = environment.runner
    if runner is not None:
        gevent.spawn_later(SECONDS, runner.quit)


@events.quitting.add_listener
def _report(environment: Environment, **_: Any) -> None:
    stats, runner = environment.stats, environment.runner
    report = {
        **_figures(stats.total),
        "routes": [_figures(entry) for entry in sorted(stats.entries.values(), key=lambda e: e.name)],
        "errors": [f"{e.method} {e.name}: {e.error} x{e.occurrences}" for e in stats.errors.values()],
        "exceptions": sum(e["count"] for e in runner.exceptions.values()) if runner else 0,
    }
    Path(os.environ["BENCH_LOAD_REPORT"]).write_text(json.dumps(report), encoding="utf-8")
