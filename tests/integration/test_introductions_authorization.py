"""Every introductions route, every caller: no token (401), a third member (404, nothing changed, nothing learnt),
the right party (2xx), and each request at most three DynamoDB calls, no Scan.

Ann has asked to be introduced to Bob (in the directory); Carol is a third member, also in the directory.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local.auth import member_sub
from tests.helpers import call
from tests.integration.invite_harness import signup

ANN, BOB, CAROL = "ann@example.org", "bob@example.org", "carol@example.org"
START = datetime(2027, 1, 5, 9, tzinfo=UTC)
AT = START + timedelta(hours=1)

# (method, path as in /openapi.json, body, who is the right caller, what they get, the introduction's state first)
ROUTES: list[tuple[str, str, Any, str, int, str]] = [
    ("POST", "/introductions", "new", ANN, 201, "none"),
    ("GET", "/introductions", None, ANN, 200, "pending"),
    ("GET", "/introductions/{intro_id}", None, BOB, 200, "pending"),
    ("POST", "/introductions/{intro_id}/accept", None, BOB, 200, "pending"),
    ("POST", "/introductions/{intro_id}/decline", None, BOB, 204, "pending"),
    ("POST", "/introductions/{intro_id}/pact", {"rhythm": {"every_days": 14}}, ANN, 201, "accepted"),
]
IDS = [f"{m} {p}" for m, p, *_ in ROUTES]


def _table(aws: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item that is not a counter, a claim or a link (what a request could change about Ann and Bob)."""
    items = aws["dynamodb"].scan(TableName=os.environ["TABLE_NAME"], ConsistentRead=True)["Items"]
    return sorted((i for i in items if i["kind"]["S"] not in ("daily_count",)), key=lambda i: (i["pk"]["S"], i["sk"]["S"]))


def _world(aws: dict[str, Any], state: str) -> str | None:
    for email, name in ((ANN, "Ann"), (BOB, "Bob"), (CAROL, "Carol")):
        signup(email, name, START, in_directory=email != ANN, phone="+353851234568" if email == BOB else None)
    if state == "none":
        return None
    made = call("POST", "/introductions", email=ANN, body={"to": member_sub(BOB), "message": "Hello Bob"}, now=START)
    assert made.status == 201, made.body
    intro_id = str(made.json()["id"])
    if state == "accepted":
        assert call("POST", f"/introductions/{intro_id}/accept", email=BOB, now=START).status == 200
    return intro_id


def _body(body: Any) -> Any:
    return {"to": member_sub(CAROL), "message": "Hello Carol"} if body == "new" else body


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_every_route_answers_no_token_a_third_member_and_the_right_party(aws: dict[str, Any], route: tuple[Any, ...]) -> None:
    method, template, body, right, status, state = route
    intro_id = _world(aws, state)
    path = template.format(intro_id=intro_id)
    # No token: 401, and nothing changed
    before = _table(aws)
    anonymous = call(method, path, email=None, body=_body(body), now=AT)
    assert anonymous.status == 401, anonymous.body
    assert _table(aws) == before
    # A third member: a 404 on the introduction's routes that changes nothing and names nobody
    if "{intro_id}" in template:
        third = call(method, path, email=CAROL, body=_body(body), now=AT)
        assert third.status == 404, third.body
        assert third.headers["content-type"].startswith("application/problem+json")
        assert _table(aws) == before
        for secret in ("Ann", "Bob", ANN, BOB, member_sub(ANN), member_sub(BOB), "Hello Bob"):
            assert secret not in third.body.decode()
        # exactly as an introduction that does not exist
        missing = "in_doesnotexist0000"
        unknown = call(method, template.format(intro_id=missing), email=CAROL, body=_body(body), now=AT)
        assert third.body.replace(str(intro_id).encode(), b"<id>") == unknown.body.replace(missing.encode(), b"<id>")
        # and the requester cannot answer on the recipient's behalf
        if template.endswith(("/accept", "/decline")):
            assert call(method, path, email=ANN, now=AT).status == 409
            assert _table(aws) == before
    else:
        # The list and the request are about the caller: Carol's list holds nothing of Ann's and Bob's
        listed = call("GET", "/introductions", email=CAROL, now=AT)
        assert listed.status == 200
        assert listed.json()["items"] == []
    # The right party
    reply = call(method, path, email=right, body=_body(body), now=AT)
    assert reply.status == status, reply.body


@pytest.mark.parametrize("route", ROUTES, ids=IDS)
def test_each_request_costs_at_most_three_dynamodb_calls_and_no_scan(
    aws: dict[str, Any], aws_calls: Counter[str], route: tuple[Any, ...]
) -> None:
    method, template, body, right, status, state = route
    intro_id = _world(aws, state)
    if (method, template) == ("GET", "/introductions"):
        # the list at its widest: something received and something sent
        call("POST", "/introductions", email=CAROL, body={"to": member_sub(BOB), "message": "Hi"}, now=START)
        call("POST", "/introductions", email=BOB, body={"to": member_sub(CAROL), "message": "Hi"}, now=START)
        right = BOB
    aws_calls.clear()
    reply = call(method, template.format(intro_id=intro_id), email=right, body=_body(body), now=AT)
    assert reply.status == status, reply.body
    dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
    assert "dynamodb.Scan" not in dynamodb
    assert sum(dynamodb.values()) <= 3, dynamodb


def test_a_repeat_after_the_block_reads_the_previous_introduction_within_three_calls(aws: dict[str, Any], aws_calls: Counter[str]) -> None:
    intro_id = _world(aws, "pending")
    assert intro_id
    later = START + timedelta(days=91)
    aws_calls.clear()
    reply = call("POST", "/introductions", email=ANN, body={"to": member_sub(BOB), "message": "Hello again"}, now=later)
    assert reply.status == 201, reply.body
    dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
    assert sum(dynamodb.values()) <= 3, dynamodb
