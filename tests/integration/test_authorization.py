"""Every route, two members: one never reads or changes the other's things, and never learns they exist."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from tests.helpers import DEFAULT_NOW, call, member, pact

ANN, BOB, CAROL = "ann@example.org", "bob@example.org", "carol@example.org"

# Every pact-scoped route, with a body that would be valid for a party.
PACT_ROUTES = [
    ("GET", "/pacts/{id}", None),
    ("PATCH", "/pacts/{id}", {"grace_days": 5}),
    ("DELETE", "/pacts/{id}", None),
    ("POST", "/pacts/{id}/accept", None),
    ("POST", "/pacts/{id}/decline", None),
    ("POST", "/pacts/{id}/resend-invitation", None),
    ("POST", "/pacts/{id}/pause", {"until": "2027-01-04"}),
    ("POST", "/pacts/{id}/resume", None),
    ("POST", "/pacts/{id}/check-ins", {"note": "carol was here"}),
    ("GET", "/pacts/{id}/check-ins", None),
]
# Routes about the caller themself: they can only ever reach their own data.
SELF_ROUTES = [
    ("GET", "/members/me", None),
    ("PUT", "/members/me", {"display_name": "Carol"}),
    ("GET", "/members/me/export", None),
    ("PUT", "/members/me/away", {"until": "2026-12-24"}),
    ("DELETE", "/members/me/away", None),
    ("DELETE", "/members/me", None),
    ("GET", "/pacts", None),
    ("POST", "/pacts", {"colleague": {"name": "Dee", "phone": "+353851111111"}}),
    ("GET", "/check-ins", None),
    ("GET", "/members/me/nudges", None),
]


def test_the_matrix_covers_every_route_in_the_api(aws) -> None:
    spec = call("GET", "/openapi.json", email=None).json()
    documented = {(method.upper(), path.replace("{pact_id}", "{id}")) for path, ops in spec["paths"].items() for method in ops}
    covered = {(m, p) for m, p, _ in PACT_ROUTES + SELF_ROUTES}
    assert documented == covered


@pytest.fixture
def ann_and_bob_pact(aws) -> str:
    member(ANN)
    member(BOB)
    member(CAROL)
    created = pact(ANN, BOB)
    call("POST", f"/pacts/{created['id']}/check-ins", body={"note": "Ann's private note"})
    return str(created["id"])


@pytest.mark.parametrize(("method", "path", "body"), PACT_ROUTES, ids=[f"{m} {p}" for m, p, _ in PACT_ROUTES])
def test_an_outsider_gets_404_and_changes_nothing(ann_and_bob_pact: str, method: str, path: str, body: object) -> None:
    before = (call("GET", f"/pacts/{ann_and_bob_pact}").body, call("GET", f"/pacts/{ann_and_bob_pact}/check-ins").body)
    reply = call(method, path.format(id=ann_and_bob_pact), email=CAROL, body=body)
    assert reply.status == 404, reply.body
    problem = reply.json()
    assert problem["status"] == 404
    for secret in ("Ann", "Bob", ANN, BOB):
        assert secret not in problem["detail"]
    after = (call("GET", f"/pacts/{ann_and_bob_pact}").body, call("GET", f"/pacts/{ann_and_bob_pact}/check-ins").body)
    assert after == before


@pytest.mark.parametrize(("method", "path", "body"), PACT_ROUTES, ids=[f"{m} {p}" for m, p, _ in PACT_ROUTES])
def test_an_unknown_pact_looks_exactly_like_someone_elses(ann_and_bob_pact: str, method: str, path: str, body: object) -> None:
    theirs = call(method, path.format(id=ann_and_bob_pact), email=CAROL, body=body)
    unknown = call(method, path.format(id="p_doesnotexist00000"), email=CAROL, body=body)
    assert (theirs.status, theirs.json()["title"]) == (unknown.status, unknown.json()["title"])


def test_a_party_never_sees_the_other_partys_note(ann_and_bob_pact: str) -> None:
    for path in (f"/pacts/{ann_and_bob_pact}/check-ins", "/check-ins", "/members/me/export"):
        assert "Ann's private note" not in call("GET", path, email=BOB).body.decode()
    assert "Ann's private note" in call("GET", "/check-ins").body.decode()


@pytest.mark.parametrize(("method", "path", "body"), SELF_ROUTES, ids=[f"{m} {p}" for m, p, _ in SELF_ROUTES])
def test_self_routes_only_ever_touch_the_callers_own_data(ann_and_bob_pact: str, method: str, path: str, body: object) -> None:
    ann_before = [call("GET", p).body for p in ("/members/me", "/pacts", "/check-ins")]
    reply = call(method, path, email=CAROL, body=body)
    assert reply.status < 500
    for secret in ("Ann's private note", ANN, ann_and_bob_pact):
        assert secret not in reply.body.decode()
    assert [call("GET", p).body for p in ("/members/me", "/pacts", "/check-ins")] == ann_before


BUDGET_EXCEPTIONS = {"DELETE /members/me", "GET /members/me/export", "DELETE /pacts/{id}"}


@pytest.mark.parametrize(("method", "path", "body"), PACT_ROUTES + SELF_ROUTES, ids=[f"{m} {p}" for m, p, _ in PACT_ROUTES + SELF_ROUTES])
def test_each_request_costs_at_most_three_dynamodb_calls_and_no_scan(
    ann_and_bob_pact: str, aws_calls: Counter[str], method: str, path: str, body: object
) -> None:
    aws_calls.clear()
    who = BOB if path.endswith(("/accept", "/decline")) else ANN
    if path.endswith(("/accept", "/decline", "/resend-invitation")):
        # a fresh invitation for Bob to answer, or for Ann to send again
        path = path.replace("{id}", pact(ANN, BOB, accept=False)["id"])
        aws_calls.clear()
    reply = call(method, path.format(id=ann_and_bob_pact), email=who, body=body, now=DEFAULT_NOW + timedelta(minutes=5))
    assert reply.status < 400, reply.body
    dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
    assert "dynamodb.Scan" not in dynamodb
    if f"{method} {path}" not in BUDGET_EXCEPTIONS and f"{method} {path.replace(ann_and_bob_pact, '{id}')}" not in BUDGET_EXCEPTIONS:
        assert sum(dynamodb.values()) <= 3, dynamodb
