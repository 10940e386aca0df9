"""Who may read the support numbers and the peer-support log: only ever the caller, about themselves."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from tests.helpers import call, member, pact
from tests.integration.group_harness import group_of, sub

ROUTES = [
    ("GET", "/members/me/support"),
    ("GET", "/members/me/log.csv"),
]

ANN, BOB, CAROL = "ann@example.org", "bob@example.org", "carol@example.org"
START = datetime(2026, 11, 1, 9, tzinfo=UTC)
NOW = datetime(2026, 12, 20, 12, tzinfo=UTC)
SECRET_NOTE = "Ann's private note 0b1e"


@pytest.fixture
def ann_world(aws) -> dict[str, str]:
    """Ann: a pact with Bob (a check-in with a note), a group with Bob (a meeting held); Carol: a member with nothing."""
    member(CAROL, "Carol")
    group_id = group_of(ANN, [BOB], START)
    created = pact(ANN, BOB, now=START)
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    body = {"occurred_at": at.isoformat(), "note": SECRET_NOTE}
    assert call("POST", f"/pacts/{created['id']}/check-ins", email=ANN, body=body, now=at).status in (200, 201)
    first = call("GET", f"/groups/{group_id}/meetings?limit=1", email=ANN, now=START).json()["items"][0]
    after = datetime.fromisoformat(first["ends_at"].replace("Z", "+00:00")) + timedelta(hours=1)
    attendance = {"attended": [sub(ANN), sub(BOB)], "presented": []}
    assert call("POST", f"/groups/{group_id}/meetings/{first['id']}/attendance", email=ANN, body=attendance, now=after).status == 200
    return {"pact": created["id"], "group": group_id}


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_no_token_is_401(aws, method: str, path: str) -> None:
    # Behind API Gateway the JWT authorizer answers first; the handler refuses a claim-less event too.
    reply = call(method, path, email=None, now=NOW)
    assert reply.status == 401
    assert reply.json()["title"] == "Unauthorized"


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_ever_the_callers_own_data(ann_world: dict[str, str], method: str, path: str) -> None:
    carol = call(method, path, email=CAROL, now=NOW)
    assert carol.status == 200
    text = carol.body.decode("utf-8-sig")
    for secret in (SECRET_NOTE, "Bob", "Ann", "Cork peer supervision", ann_world["pact"], ann_world["group"]):
        assert secret not in text
    # Bob sees his side, never Ann's note.
    bob = call(method, path, email=BOB, now=NOW).body.decode("utf-8-sig")
    assert "Ann" in bob
    assert SECRET_NOTE not in bob
    # Not even Ann's own log carries her note.
    assert SECRET_NOTE not in call(method, path, email=ANN, now=NOW).body.decode("utf-8-sig")


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_each_route_costs_at_most_three_dynamodb_calls_and_no_scan(
    ann_world: dict[str, str], aws_calls: Counter[str], method: str, path: str
) -> None:
    for who in (ANN, BOB, CAROL):
        aws_calls.clear()
        reply = call(method, path, email=who, now=NOW)
        assert reply.status == 200, reply.body
        dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
        assert "dynamodb.Scan" not in dynamodb
        assert sum(dynamodb.values()) <= 3, (who, dynamodb)
