"""Every route, two members: one never reads or changes the other's things, and never learns they exist."""

from __future__ import annotations

import importlib
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.helpers import DEFAULT_NOW, call, member, pact
from tests.integration.conftest import built_once
from tests.integration.group_harness import group_body, group_of
from tests.integration.group_harness import sub as group_sub

ANN, BOB, CAROL, DAN = "ann@example.org", "bob@example.org", "carol@example.org", "dan@example.org"

# Every pact-scoped route, with a body that would be valid for a party.
PACT_ROUTES = [
    ("GET", "/pacts/{id}", None),
    ("PATCH", "/pacts/{id}", {"grace_days": 5}),
    ("DELETE", "/pacts/{id}", None),
    ("POST", "/pacts/{id}/accept", None),
    ("POST", "/pacts/{id}/decline", None),
    ("POST", "/pacts/{id}/resend-invitation", None),
    ("POST", "/pacts/{id}/end", None),
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
    ("POST", "/members/me/calendar-secret", None),
]


def test_the_matrix_covers_every_route_in_the_api(aws) -> None:
    spec = call("GET", "/openapi.json", email=None).json()
    documented = {
        (method.upper(), path.replace("{pact_id}", "{id}"))
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if op.get("security") != []  # the public link pages and calendar feed: the link or address is the key
    }
    covered = {(m, p) for m, p, _ in PACT_ROUTES + SELF_ROUTES} | {(m, p) for m, p, _, _ in GROUP_ROUTES} | capability_rows()
    assert documented == covered


def capability_rows() -> set[tuple[str, str]]:
    """Capabilities keep their matrix beside their tests: each `test_<capability>_authorization.py` lists its ROUTES."""
    rows: set[tuple[str, str]] = set()
    for path in sorted(Path(__file__).parent.glob("test_*_authorization.py")):
        rows |= {(method, route) for method, route, *_ in importlib.import_module(f"tests.integration.{path.stem}").ROUTES}
    return rows


def _ann_and_bob_pact() -> str:
    member(ANN)
    member(BOB)
    member(CAROL)
    created = pact(ANN, BOB)
    call("POST", f"/pacts/{created['id']}/check-ins", body={"note": "Ann's private note"})
    return str(created["id"])


@pytest.fixture
def ann_and_bob_pact(aws) -> str:
    return built_once(_ann_and_bob_pact)


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


# That the other party never sees a private note, nor anyone else anywhere: test_privacy_and_edges.py,
# test_a_private_note_reaches_no_output_but_its_authors.


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
    who = DAN if path.endswith(("/accept", "/decline")) else ANN
    if path.endswith(("/accept", "/decline", "/resend-invitation")):
        # a fresh invitation for Dan to answer, or for Ann to send again (one open pact a colleague: not Bob)
        member(DAN)
        path = path.replace("{id}", pact(ANN, DAN, accept=False)["id"])
        aws_calls.clear()
    reply = call(method, path.format(id=ann_and_bob_pact), email=who, body=body, now=DEFAULT_NOW + timedelta(minutes=5))
    assert reply.status < 400, reply.body
    dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
    assert "dynamodb.Scan" not in dynamodb
    if f"{method} {path}" not in BUDGET_EXCEPTIONS and f"{method} {path.replace(ann_and_bob_pact, '{id}')}" not in BUDGET_EXCEPTIONS:
        assert sum(dynamodb.values()) <= 3, dynamodb


# ------------------------------------------------------------------ groups: every route, five callers

# Ann convenes; Bob and Eve are plain members; Dee is invited and has not answered; Carol is in no group.
# Each group route with a body valid for the right caller, and what each caller gets. A caller's status:
# "stranger" (another member), "member" (Bob, no convener role), "invited" (Dee), and "right": who the
# route is for and their status. Anyone without a token gets 401. Meeting routes are about the second
# meeting (upcoming), attendance about the first (it was held: Ann and Bob came).
STRANGER, PLAIN, INVITED = CAROL, BOB, "dee@example.org"
OTHER = "eve@example.org"
CONVENER_ONLY = {"stranger": 404, "member": 403, "invited": 404}
MEMBERS_ONLY = {"stranger": 404, "member": 200, "invited": 404}
ANYONE = {"stranger": 200, "member": 200, "invited": 200}
GROUP_ROUTES: list[tuple[str, str, object, dict[str, object]]] = [
    ("GET", "/groups", None, {**ANYONE, "right": (ANN, 200)}),
    ("POST", "/groups", "new-group", {"stranger": 201, "member": 201, "invited": 201, "right": (ANN, 201)}),
    ("GET", "/groups/{group_id}", None, {"stranger": 404, "member": 200, "invited": 200, "right": (ANN, 200)}),
    ("PATCH", "/groups/{group_id}", {"name": "Renamed"}, {**CONVENER_ONLY, "right": (ANN, 200)}),
    ("POST", "/groups/{group_id}/invitations", {"email": "fran@example.org"}, {**CONVENER_ONLY, "right": (ANN, 200)}),
    ("POST", "/groups/{group_id}/accept", None, {"stranger": 404, "member": 409, "invited": 200, "right": (INVITED, 200)}),
    ("POST", "/groups/{group_id}/decline", None, {"stranger": 404, "member": 409, "invited": 204, "right": (INVITED, 204)}),
    ("DELETE", "/groups/{group_id}/members/{member_id}", None, {**CONVENER_ONLY, "right": (ANN, 204)}),
    ("PUT", "/groups/{group_id}/members/{member_id}/role", {"role": "convener"}, {**CONVENER_ONLY, "right": (ANN, 200)}),
    ("POST", "/groups/{group_id}/members/{member_id}/hand-over", None, {**CONVENER_ONLY, "right": (ANN, 200)}),
    ("GET", "/groups/{group_id}/meetings", None, {**MEMBERS_ONLY, "right": (ANN, 200)}),
    ("GET", "/groups/{group_id}/meetings/{meeting_id}", None, {**MEMBERS_ONLY, "right": (ANN, 200)}),
    ("POST", "/groups/{group_id}/meetings/{meeting_id}/rsvp", {"answer": "yes"}, {**MEMBERS_ONLY, "right": (ANN, 200)}),
    ("POST", "/groups/{group_id}/meetings/{meeting_id}/slot-requests", None, {**MEMBERS_ONLY, "right": (ANN, 200)}),
    ("POST", "/groups/{group_id}/meetings/{meeting_id}/give-back", None, {**MEMBERS_ONLY, "right": (ANN, 200)}),
    ("POST", "/groups/{group_id}/meetings/{meeting_id}/cancel", {"reason": "Snow"}, {**CONVENER_ONLY, "right": (ANN, 200)}),
    ("POST", "/groups/{group_id}/meetings/{meeting_id}/reschedule", {"venue": "Room 4"}, {**CONVENER_ONLY, "right": (ANN, 200)}),
    (
        "POST",
        "/groups/{group_id}/meetings/{meeting_id}/attendance",
        "attendance",
        {**CONVENER_ONLY, "right": (ANN, 200)},
    ),
    ("GET", "/members/me/meetings", None, {**ANYONE, "right": (ANN, 200)}),
]
GROUP_CALLERS = {"no token": None, "another member": STRANGER, "plain member": PLAIN, "invited": INVITED, "right member": "right"}
FIRST, SECOND = datetime(2026, 12, 8, 19, tzinfo=UTC), datetime(2027, 1, 12, 19, tzinfo=UTC)  # 19:00 in Dublin
AT = FIRST + timedelta(hours=3)  # after the first meeting


@dataclass
class GroupWorld:
    group_id: str
    sub: dict[str, str]

    def path(self, template: str, group_id: str | None = None) -> str:
        meeting = FIRST if template.endswith("/attendance") else SECOND
        return template.format(group_id=group_id or self.group_id, member_id=self.sub[OTHER], meeting_id=meeting.strftime("%Y%m%dT%H%M%SZ"))

    def body(self, body: object) -> object:
        if body == "new-group":
            return group_body(name="A group of one's own", where={"kind": "online", "url": "https://meet.example.org/own"})
        if body == "attendance":
            return {"attended": [self.sub[ANN], self.sub[BOB]], "presented": [self.sub[BOB]]}
        return body

    def snapshot(self) -> list[bytes]:
        """Everything Ann, the convener, can see about the group."""
        paths = [f"/groups/{self.group_id}", f"/groups/{self.group_id}/meetings?limit=3", f"/groups/{self.group_id}/meetings?when=past"]
        return [call("GET", p, email=ANN, now=AT).body for p in paths]


@pytest.fixture
def group_world(aws) -> GroupWorld:
    return built_once(_group_world)


def _group_world() -> GroupWorld:
    group_id = group_of(ANN, [BOB, OTHER], DEFAULT_NOW)
    for email in (CAROL, INVITED):
        member(email)
    invited = call("POST", f"/groups/{group_id}/invitations", email=ANN, body={"email": INVITED}, now=DEFAULT_NOW)
    assert invited.status == 200, invited.body
    held = call(
        "POST",
        f"/groups/{group_id}/meetings/{FIRST.strftime('%Y%m%dT%H%M%SZ')}/attendance",
        email=ANN,
        body={"attended": [group_sub(ANN), group_sub(BOB)]},
        now=FIRST + timedelta(hours=2),
    )
    assert held.status == 200, held.body
    return GroupWorld(group_id, {e: group_sub(e) for e in (ANN, BOB, CAROL, INVITED, OTHER)})


@pytest.mark.parametrize("route", GROUP_ROUTES, ids=[f"{r[0]} {r[1]}" for r in GROUP_ROUTES])
def test_every_group_route_answers_each_caller_as_their_place_in_the_group_allows(
    group_world: GroupWorld, route: tuple[str, str, object, dict[str, object]]
) -> None:
    """Each caller in turn on one world (the refused first, the right member last): each answer, and nothing changed by a refusal."""
    method, template, body, expected = route
    for caller, who in GROUP_CALLERS.items():
        if who is None:
            email, status = None, 401
        elif who == "right":
            email, status = expected["right"]  # type: ignore[misc]
            if email == INVITED:
                continue  # the invited caller was the right one, and has just been answered as such
        else:
            email, status = who, expected[{STRANGER: "stranger", PLAIN: "member", INVITED: "invited"}[who]]
        before = group_world.snapshot()
        reply = call(method, group_world.path(template), email=email, body=group_world.body(body), now=AT)
        assert reply.status == status, (caller, reply.body)
        if status >= 400:
            assert reply.headers["content-type"].startswith("application/problem+json"), caller
            assert reply.json()["status"] == status, caller
            assert group_world.snapshot() == before, f"refused for {caller}, but something changed"
        if email in (STRANGER, None) or (email == INVITED and status == 404):
            text = reply.body.decode()
            for secret in ("Cork peer supervision", "Ann's rooms", group_world.sub[ANN], group_world.sub[BOB], group_world.sub[OTHER]):
                assert secret not in text, caller
            if status < 400 and template.startswith("/groups/{group_id}"):
                raise AssertionError(f"{caller} reached {method} {template}")
    if template.startswith("/groups/{group_id}"):
        # Someone else's group looks exactly like one that does not exist.
        missing = "g_doesnotexist0000"
        theirs = call(method, group_world.path(template), email=STRANGER, body=group_world.body(body), now=AT)
        unknown = call(method, group_world.path(template, missing), email=STRANGER, body=group_world.body(body), now=AT)
        assert theirs.status == unknown.status == 404
        assert theirs.body.replace(group_world.group_id.encode(), b"<id>") == unknown.body.replace(missing.encode(), b"<id>")
