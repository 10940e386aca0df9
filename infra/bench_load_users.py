"""The load bench's simulated members, for locust (run by infra/bench_load.py; not a module to import).

Each simulated member signs in as one of the seeded members (`BENCH_LOAD_SEED`: the JSON file
infra/bench_load.py writes) and, with no think time, reads their profile, lists their pacts, lists
their group's meetings and records a check-in, reads weighted over writes as the app uses them.
`BENCH_LOAD_TARGET=baseline` instead calls the local stack's do-nothing route, through the same path.
"""

from __future__ import annotations

import json
import os
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from locust import FastHttpUser, constant, task

SEED: list[dict[str, Any]] = json.loads(open(os.environ["BENCH_LOAD_SEED"], encoding="utf-8").read())  # noqa: SIM115
TARGET = os.environ.get("BENCH_LOAD_TARGET", "api")
# How far back a recorded check-in may lie: every seeded pact began a year ago, so most land on a new minute.
CHECK_IN_SPAN_MINUTES = 360 * 24 * 60


class SeededMember(FastHttpUser):
    """One of the seeded members, chosen at random per simulated client."""

    wait_time = constant(0)
    abstract = True

    def on_start(self) -> None:
        self.member = random.choice(SEED)
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
        occurred = datetime.now(UTC) - timedelta(minutes=random.randrange(1, CHECK_IN_SPAN_MINUTES))
        body = {"occurred_at": occurred.isoformat(timespec="seconds")}
        pact = random.choice(self.member["pacts"])
        self.client.post(f"/pacts/{pact}/check-ins", json=body, headers=self.auth, name="/pacts/{id}/check-ins")


class Baseline(SeededMember):
    abstract = TARGET != "baseline"

    @task
    def nothing(self) -> None:
        self.client.get("/_bench/baseline", headers=self.auth)
