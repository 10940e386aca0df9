"""The directory and suggestions: a token needed, only ever the caller's own view, and the DynamoDB budget per route."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.helpers import call, member, pact
from tests.integration.group_harness import sub
from tests.integration.test_directory import ANN, BOB, CARA, EVE, JEN, KIM, listed, network

__all__ = ["network"]

CAROL = "carol@example.org"  # in nobody's circle

# Every route this capability adds, as /openapi.json names it (test_authorization checks the coverage),
# with a request valid for any member and its DynamoDB budget.
ROUTES = [
    ("GET", "/directory", "/directory?specialty=ptsd", 5),
    ("GET", "/suggestions", "/suggestions", 3),
    ("POST", "/suggestions/{member_id}/dismiss", "/suggestions/{member_id}/dismiss", 3),
]
IDS = [f"{m} {p}" for m, p, _, _ in ROUTES]


def path_for(example: str) -> str:
    return example.format(member_id=sub(CARA))


@pytest.mark.parametrize(("method", "template", "example", "budget"), ROUTES, ids=IDS)
def test_no_token_is_401(network: dict[str, str], method: str, template: str, example: str, budget: int) -> None:
    reply = call(method, path_for(example), email=None)
    assert reply.status == 401, reply.body
    assert sub(ANN) not in reply.body.decode()


@pytest.mark.parametrize(("method", "template", "example", "budget"), ROUTES, ids=IDS)
def test_each_route_costs_at_most_its_budget_and_no_scan(
    network: dict[str, str], aws_calls: Counter[str], method: str, template: str, example: str, budget: int
) -> None:
    pact(ANN, EVE)  # a second pact colleague: more circles to read
    aws_calls.clear()
    reply = call(method, path_for(example), email=ANN)
    assert reply.status < 400, reply.body
    dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
    assert "dynamodb.Scan" not in dynamodb
    assert sum(dynamodb.values()) <= budget, dynamodb


def test_a_search_by_free_text_stays_within_five_calls(network: dict[str, str], aws_calls: Counter[str]) -> None:
    aws_calls.clear()
    assert call("GET", "/directory?q=somewhere-new", email=ANN).status == 200  # three kinds: s:, m:, r:
    assert sum(n for op, n in aws_calls.items() if op.startswith("dynamodb.")) <= 5


def test_a_stranger_sees_the_directory_from_where_they_stand(network: dict[str, str]) -> None:
    """Carol, in nobody's circle, finds the same people as Ann, with none of Ann's ties in the answer."""
    member(CAROL)
    listed(CAROL, "Carol", "Cork", ["Trauma"])
    items = call("GET", "/directory?specialty=trauma", email=CAROL).json()["items"]
    assert {i["closeness"] for i in items} <= {"region", "other"}
    assert {i["via"] for i in items} == {None}
    assert [i["display_name"] for i in items if i["closeness"] == "region"] == ["Ann", "Eve"]
    assert sub(CAROL) not in [i["member_id"] for i in items]
    text = call("GET", "/directory?specialty=trauma", email=CAROL).body.decode()
    for secret in ("pact", "group", "Jennifer's"):
        assert secret not in text


def test_suggestions_and_dismissals_are_each_members_own(network: dict[str, str]) -> None:
    before = call("GET", "/suggestions", email=ANN).body
    member(CAROL)
    assert call("GET", "/suggestions", email=CAROL).json() == {"items": []}  # nothing of Ann's circle
    for who in (sub(CARA), sub(KIM), sub(ANN)):
        assert call("POST", f"/suggestions/{who}/dismiss", email=CAROL).status == 204
    assert call("GET", "/suggestions", email=ANN).body == before
    assert call("POST", f"/suggestions/{sub(CARA)}/dismiss", email=JEN).status == 204  # Jennifer's pact colleague
    assert call("GET", "/suggestions", email=ANN).body == before
    assert call("GET", "/suggestions", email=BOB).status == 200
