"""The token columns of the authorization matrix, over real HTTP: every authenticated route in /openapi.json,
called with no token, an expired one, one signed with another key, and one minted for another app client.

Each answers 401 with what the document says API Gateway's JWT authorizer answers (`GatewayMessage`,
application/json), shows none of the data behind the route, and changes nothing: the table and the
outbox are the same after the whole matrix as before it (the clock is pinned, so no schedule runs meanwhile).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from infra.local.stack import STACK_NAME
from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

ANN, BOB = "columns-ann@example.org", "columns-bob@example.org"


def _table_items(stack: Stack) -> list[dict[str, Any]]:
    """Every item of the local table (a Scan is fine in a test: it is what must not change)."""
    moto = stack.request("GET", "/_local/health").json()["moto"]
    kwargs = {"region_name": "eu-west-1", "endpoint_url": moto, "aws_access_key_id": "x", "aws_secret_access_key": "x"}
    items: list[dict[str, Any]] = []
    for page in boto3.client("dynamodb", **kwargs).get_paginator("scan").paginate(TableName=f"{STACK_NAME}-table"):
        items.extend(page["Items"])
    return sorted(items, key=repr)


def _settled(stack: Stack) -> tuple[list[dict[str, Any]], Any]:
    """The table and outbox once the domain events of the setup have been delivered (they arrive asynchronously)."""
    state = (_table_items(stack), stack.request("GET", "/_local/outbox").json())
    for _ in range(30):
        time.sleep(0.5)
        again = (_table_items(stack), stack.request("GET", "/_local/outbox").json())
        if again == state:
            return state
        state = again
    raise AssertionError("the local stack kept changing without requests")


@pytest.fixture
def pinned_clock(stack: Stack) -> Iterator[None]:
    before = stack.request("GET", "/_local/clock").json()
    stack.request("PUT", "/_local/clock", body={"now": before["now"]})
    yield
    if before["fixed"]:
        stack.request("PUT", "/_local/clock", body={"now": before["now"]})
    else:
        stack.request("DELETE", "/_local/clock")


def _real_ids(stack: Stack) -> dict[str, str]:
    """Ann's real things, so a leak would be visible: her pact with Bob, her group and its next meeting, Bob's id."""
    ann, bob = stack.token(ANN), stack.token(BOB)
    for token, name in ((ann, "Ann Columns"), (bob, "Bob Columns")):
        assert stack.request("PUT", "/members/me", token=token, body={"display_name": name, "time_zone": "Europe/Dublin"}).status == 200
    pact = stack.request(
        "POST", "/pacts", token=ann, body={"colleague": {"email": BOB}, "rhythm": {"weekday": "tuesday", "time": "08:30"}, "mode": "phone"}
    ).json()
    group = stack.request(
        "POST",
        "/groups",
        token=ann,
        body={
            "name": "Columns group",
            "rhythm": {"rrule": "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;BYMINUTE=0", "time_zone": "Europe/Dublin"},
            "duration_minutes": 90,
            "where": {"kind": "place", "venue": "Ann's rooms"},
        },
    ).json()
    meetings = stack.request("GET", f"/groups/{group['id']}/meetings?limit=1", token=ann).json()["items"]
    bob_id = stack.request("GET", "/members/me", token=bob).json()["id"]
    return {
        "pact_id": pact["id"],
        "group_id": group["id"],
        "meeting_id": meetings[0]["id"],
        "member_id": bob_id,
    }


def test_every_authenticated_route_refuses_a_missing_expired_forged_or_foreign_token(
    stack: Stack, pinned_clock: None, tmp_path_factory: pytest.TempPathFactory
) -> None:
    doc = stack.request("GET", "/openapi.json").json()
    gateway_401 = doc["components"]["schemas"]["GatewayMessage"]
    assert gateway_401["required"] == ["message"]
    ids = _real_ids(stack)
    columns: dict[str, str | None] = {
        "no token": None,
        "expired": stack.token(ANN, ttl_seconds=-60),
        "signed with another key": Stack(stack.url, tmp_path_factory.mktemp("another-key")).token(ANN),
        "another app client": stack.token(ANN, client_id="another-app-client"),
    }
    routes = [
        (method.upper(), path, operation)
        for path, operations in doc["paths"].items()
        for method, operation in operations.items()
        if operation.get("security") != []  # the public pages: the link or address is the key
    ]
    assert len(routes) >= 40
    secrets = [*ids.values(), "Ann Columns", "Bob Columns", "Columns group", BOB]
    before = _settled(stack)
    cells = 0
    wrong: list[str] = []
    for method, path, operation in routes:
        assert "application/json" in operation["responses"]["401"]["content"], (method, path)
        url = re.sub(r"\{(\w+)\}", lambda m: ids.get(m.group(1), "x"), path)
        body = {"display_name": "Mallory", "note": "n"} if "requestBody" in operation else None
        for column, token in columns.items():
            reply = stack.request(method, url, body=body, token=token, headers={"Idempotency-Key": f"columns-{cells}"})
            cells += 1
            text = reply.body.decode("utf-8", "replace")
            problems = []
            if reply.status != 401:
                problems.append(f"status {reply.status}")
            if not reply.headers.get("content-type", "").startswith("application/json") or reply.json() != {"message": "Unauthorized"}:
                problems.append(f"body {text[:80]!r}")
            if any(secret in text for secret in secrets):
                problems.append("shows data")
            if problems:
                wrong.append(f"{method} {path} [{column}]: {', '.join(problems)}")
    after = _settled(stack)
    print(f"\ntoken columns: {len(routes)} routes x {len(columns)} tokens = {cells} cells checked, {len(wrong)} wrong")
    assert not wrong, "\n".join(wrong)
    assert after == before, "a refused request changed the table or sent something"
    # The same routes do answer a good token (the cells above were refused for the token, not for the path).
    assert stack.request("GET", f"/pacts/{ids['pact_id']}", token=stack.token(ANN)).status == 200
