"""Every asks route, every caller: no token 401, a member who was not asked 404 (and nothing changes), the right member 2xx.

ROUTES is read by the coverage check in test_authorization.py: every route in /openapi.json has a row somewhere.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from shared.adapters.models import DirectoryEntry, member_pk
from tests.helpers import DEFAULT_NOW, call, member, pact
from tests.integration.group_harness import group_of, sub

ANN, BOB, EVE, DAN = "ann@example.org", "bob@example.org", "eve@example.org", "dan@example.org"
AT = DEFAULT_NOW + timedelta(hours=2)
QUESTION = "Looking for someone who specialises in perinatal anxiety near Cork; any names?"

# (method, path exactly as in /openapi.json, body, {caller: status}, the right member and their status).
# Ann asked her group (Bob and Eve); Bob is a recipient; Dan is a member with no tie to any of them.
ROUTES: list[tuple[str, str, object, dict[str, int], tuple[str, int]]] = [
    ("POST", "/asks", "to-the-group", {"stranger": 404, "recipient": 201}, (ANN, 201)),
    ("GET", "/asks", None, {"stranger": 200, "author": 200}, (BOB, 200)),  # Bob's inbox: the query and one batch get
    ("GET", "/asks/{ask_id}", None, {"stranger": 404, "recipient": 200}, (ANN, 200)),
    ("POST", "/asks/{ask_id}/replies", {"text": "Try the perinatal service in CUMH."}, {"stranger": 404, "author": 403}, (BOB, 201)),
    ("POST", "/asks/{ask_id}/close", None, {"stranger": 404, "recipient": 403}, (ANN, 200)),
]
WHO = {"stranger": DAN, "recipient": BOB, "author": ANN}


@dataclass
class AskWorld:
    group_id: str
    ask_id: str

    def body(self, body: object) -> object:
        if body == "to-the-group":
            return {"text": QUESTION, "to": {"kind": "group", "group_id": self.group_id}}
        return body

    def path(self, template: str, ask_id: str | None = None) -> str:
        return template.format(ask_id=ask_id or self.ask_id)

    def snapshot(self) -> list[bytes]:
        """What Ann (the asker) and Bob (asked) can see of asks."""
        return [
            call("GET", f"/asks/{self.ask_id}", email=ANN, now=AT).body,
            call("GET", "/asks?box=mine", email=ANN, now=AT).body,
            call("GET", "/asks?box=received", email=BOB, now=AT).body,
            call("GET", "/asks?box=mine", email=BOB, now=AT).body,
        ]


@pytest.fixture
def ask_world(aws: Any) -> AskWorld:
    group_id = group_of(ANN, [BOB, EVE], DEFAULT_NOW)
    member(DAN)
    pact(ANN, BOB)
    created = call("POST", "/asks", email=ANN, body={"text": QUESTION, "to": {"kind": "group", "group_id": group_id}}, now=AT)
    assert created.status == 201, created.body
    return AskWorld(group_id, created.json()["id"])


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_every_asks_route_answers_each_caller_as_their_place_allows(ask_world: AskWorld, route: tuple[Any, ...]) -> None:
    method, template, body, expected, (right, right_status) = route
    callers: list[tuple[str, str | None, int]] = [("no token", None, 401)]
    callers += [(name, WHO[name], status) for name, status in expected.items()]
    callers.append(("right member", right, right_status))
    for name, email, status in callers:
        before = ask_world.snapshot()
        reply = call(method, ask_world.path(template), email=email, body=ask_world.body(body), now=AT)
        assert reply.status == status, (name, reply.body)
        if status >= 400:
            assert ask_world.snapshot() == before, f"refused for {name}, but something changed"
            if email is not None:
                assert reply.headers["content-type"].startswith("application/problem+json"), name
        if email in (None, DAN):
            text = reply.body.decode()
            for secret in (QUESTION, "Cork peer supervision", sub(ANN), sub(BOB), "Ann"):
                assert secret not in text, name
    if "{ask_id}" in template:
        missing = "a_doesnotexist0000"
        theirs = call(method, ask_world.path(template), email=DAN, body=ask_world.body(body), now=AT)
        unknown = call(method, ask_world.path(template, missing), email=DAN, body=ask_world.body(body), now=AT)
        assert theirs.status == unknown.status == 404
        assert theirs.body.replace(ask_world.ask_id.encode(), b"<id>") == unknown.body.replace(missing.encode(), b"<id>")


def test_a_stranger_asking_to_their_pacts_reaches_nobody_of_anyone_elses(ask_world: AskWorld) -> None:
    before = ask_world.snapshot()
    reply = call("POST", "/asks", email=DAN, body={"text": QUESTION, "to": {"kind": "pacts"}}, now=AT)
    assert reply.status == 422
    assert ask_world.snapshot() == before


# ------------------------------------------------------------------ the budget: DynamoDB calls per request

BUDGET = 3
SPECIALTY_BUDGET = 4  # the directory listing is read from a random point: a second query when it wraps around


def dynamodb_calls(calls: Counter[str]) -> dict[str, int]:
    return {op: n for op, n in calls.items() if op.startswith("dynamodb.")}


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r[0]} {r[1]}" for r in ROUTES])
def test_each_asks_request_costs_at_most_three_dynamodb_calls_and_no_scan(
    ask_world: AskWorld, aws_calls: Counter[str], route: tuple[Any, ...]
) -> None:
    method, template, body, _, (right, right_status) = route
    path = ask_world.path(template) + ("?box=received" if template == "/asks" and method == "GET" else "")
    aws_calls.clear()
    reply = call(method, path, email=right, body=ask_world.body(body), now=AT)
    assert reply.status == right_status, reply.body
    used = dynamodb_calls(aws_calls)
    print(f"{method} {template}: {sum(used.values())} DynamoDB calls {used}")
    assert "dynamodb.Scan" not in used
    assert sum(used.values()) <= BUDGET, used


@pytest.mark.parametrize("to", ["pacts", "group", "specialty"])
def test_asking_costs_three_calls_for_pacts_and_groups_and_at_most_four_for_a_specialty(
    ask_world: AskWorld, aws_calls: Counter[str], to: str
) -> None:
    with DirectoryEntry.batch_write() as batch:
        for n in range(80):
            other = f"00000000-0000-4000-8000-{n:012d}"
            term = "DIR#s:perinatal"
            batch.save(DirectoryEntry(member_pk(other), term, gsi2pk=term, gsi2sk=other, member_sub=other, display_name="X"))
    audience = {"pacts": {"kind": "pacts"}, "group": {"kind": "group", "group_id": ask_world.group_id}}.get(
        to, {"kind": "specialty", "specialty": "Perinatal"}
    )
    for attempt in range(6):  # the listing's random starting point: wrapping around or not
        aws_calls.clear()
        reply = call("POST", "/asks", email=ANN, body={"text": QUESTION, "to": audience}, now=AT + timedelta(seconds=attempt))
        assert reply.status == 201, reply.body
        used = dynamodb_calls(aws_calls)
        print(f"POST /asks to {to}: {sum(used.values())} DynamoDB calls {used}")
        assert "dynamodb.Scan" not in used
        assert sum(used.values()) <= (SPECIALTY_BUDGET if to == "specialty" else BUDGET), used


def test_an_identifier_is_refused_before_any_dynamodb_call(ask_world: AskWorld, aws_calls: Counter[str]) -> None:
    aws_calls.clear()
    text = "Client DOB 12/03/1987, anyone?"
    reply = call("POST", "/asks", email=ANN, body={"text": text, "to": {"kind": "pacts"}}, now=AT)
    assert reply.status == 422
    assert dynamodb_calls(aws_calls) == {}
    reply = call("POST", f"/asks/{ask_world.ask_id}/replies", email=BOB, body={"text": text}, now=AT)
    assert reply.status == 422
    assert dynamodb_calls(aws_calls) == {}
