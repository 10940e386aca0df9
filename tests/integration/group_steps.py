"""Steps shared by the group test files: a Dublin monthly series, problems, meetings, and the group sweep at an instant."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from typing import Any

from shared.groups.scheduling import GroupSweepResult, sweep_groups
from tests.helpers import Reply, call

NOW = datetime(2026, 9, 1, 9, 0, tzinfo=UTC)  # a Tuesday; Irish summer time (UTC+1) until 25 October
# The second Tuesday of the month at 19:00 in Dublin: 8 Sep, 13 Oct (18:00 UTC), 10 Nov, 8 Dec (19:00 UTC), ...
RHYTHM = {"rrule": "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;BYMINUTE=0", "time_zone": "Europe/Dublin", "starts_on": "2026-09-01"}
MEETINGS = [
    datetime(2026, 9, 8, 18, tzinfo=UTC),
    datetime(2026, 10, 13, 18, tzinfo=UTC),
    datetime(2026, 11, 10, 19, tzinfo=UTC),
    datetime(2026, 12, 8, 19, tzinfo=UTC),
    datetime(2027, 1, 12, 19, tzinfo=UTC),
    datetime(2027, 2, 9, 19, tzinfo=UTC),
]
ANN, BOB, CAROL, DEE, EVE, FRAN = (f"{n}@example.org" for n in ("ann", "bob", "carol", "dee", "eve", "fran"))


def mid(start: datetime) -> str:
    """A meeting's id: its original start, UTC, compact."""
    return start.strftime("%Y%m%dT%H%M%SZ")


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body)
    assert reply.headers["content-type"].startswith("application/problem+json"), reply.headers
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    return body


def ok(reply: Reply, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body)
    return reply.json() if reply.body else None


def upcoming(group_id: str, email: str, now: datetime = NOW, limit: int = 3) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = ok(call("GET", f"/groups/{group_id}/meetings?limit={limit}", email=email, now=now))["items"]
    return items


def meeting(group_id: str, start: datetime, email: str, now: datetime = NOW) -> dict[str, Any]:
    found: dict[str, Any] = ok(call("GET", f"/groups/{group_id}/meetings/{mid(start)}", email=email, now=now))
    return found


def group(group_id: str, email: str, now: datetime = NOW) -> dict[str, Any]:
    found: dict[str, Any] = ok(call("GET", f"/groups/{group_id}", email=email, now=now))
    return found


def ids(people: list[dict[str, Any]]) -> list[str]:
    return [p["member_id"] for p in people]


def sweep(at: datetime) -> GroupSweepResult:
    """The group sweep as its schedule would run it at `at` (the function wrapper calls exactly this)."""
    return sweep_groups(at, int(os.environ["DUE_SHARDS"]))


def week_before(start: datetime) -> datetime:
    return start - timedelta(days=7)
