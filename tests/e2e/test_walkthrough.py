"""The README walkthrough, step by step, over real HTTP against the local stack."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_two_members_a_weekly_pact_a_check_in_and_a_lapse(stack: Stack) -> None:
    ann, bob = stack.token("ann.walk@example.org"), stack.token("bob.walk@example.org")
    stack.request("PUT", "/_local/clock", body={"now": "2026-12-01T09:00:00Z"})
    try:
        # Two members
        assert stack.request("PUT", "/members/me", token=ann, body={"display_name": "Ann", "time_zone": "Europe/Dublin"}).status == 200
        assert stack.request("PUT", "/members/me", token=bob, body={"display_name": "Bob", "time_zone": "Europe/Dublin"}).status == 200
        # A weekly pact: Tuesdays 08:30, phone, 30 minutes
        created = stack.request(
            "POST",
            "/pacts",
            token=ann,
            body={
                "colleague": {"email": "bob.walk@example.org"},
                "rhythm": {"weekday": "tuesday", "time": "08:30"},
                "time_limit_minutes": 30,
            },
        )
        assert created.status == 201
        pact_id = created.json()["id"]
        # Bob accepts
        accepted = stack.request("POST", f"/pacts/{pact_id}/accept", token=bob)
        assert accepted.json()["mutual"] is True
        # They talk on Tuesday 8 December at 08:30
        stack.request("PUT", "/_local/clock", body={"now": "2026-12-08T09:05:00Z"})
        recorded = stack.request(
            "POST", f"/pacts/{pact_id}/check-ins", token=ann, body={"occurred_at": "2026-12-08T08:30:00Z", "note": "mine"}
        )
        assert recorded.status == 201
        view = stack.request("GET", f"/pacts/{pact_id}", token=bob).json()
        assert view["status"] == "on_track"
        assert view["next_due_at"] == "2026-12-15T08:30:00Z"
        # Past the next due time plus the two days' grace: lapsed
        stack.request("PUT", "/_local/clock", body={"now": "2026-12-17T09:00:00Z"})
        assert stack.request("GET", f"/pacts/{pact_id}", token=ann).json()["status"] == "lapsed"
        assert stack.request("GET", "/pacts", token=bob).json()["items"][0]["status"] == "lapsed"
        # Bob's history has the check-in but not Ann's note
        history = stack.request("GET", "/check-ins", token=bob).json()["items"]
        assert [(c["occurred_at"], c["note"]) for c in history] == [("2026-12-08T08:30:00Z", None)]
    finally:
        stack.request("DELETE", "/_local/clock")


def test_away_mode_tells_the_colleague_by_email(stack: Stack) -> None:
    ann, bob = stack.token("ann.away@example.org"), stack.token("bob.away@example.org")
    stack.request("PUT", "/members/me", token=ann, body={"display_name": "Ann", "time_zone": "Europe/Dublin"})
    stack.request("PUT", "/members/me", token=bob, body={"display_name": "Bob", "time_zone": "America/New_York"})
    pact_id = stack.request("POST", "/pacts", token=ann, body={"colleague": {"email": "bob.away@example.org"}}).json()["id"]
    assert stack.request("POST", f"/pacts/{pact_id}/accept", token=bob).status == 200
    today = datetime.now(UTC).date()
    too_far, back = today + timedelta(days=400), today + timedelta(days=30)
    assert stack.request("PUT", "/members/me/away", token=ann, body={"until": too_far.isoformat()}).status == 422
    assert stack.request("PUT", "/members/me/away", token=ann, body={"until": back.isoformat()}).status == 200
    for _ in range(50):
        outbox = stack.request("GET", "/_local/outbox").json()["messages"]
        notices = [m for m in outbox if m["to"] == ["bob.away@example.org"] and "is away" in m["subject"]]
        if notices:
            break
        time.sleep(0.1)
    assert len(notices) == 1
    assert notices[0]["subject"] == f"Ann is away until {back.strftime('%A')} {back.day} {back.strftime('%B %Y')}"
    assert "nothing you need to do" in notices[0]["text"]


def test_curl_without_a_content_type_gets_a_clear_415(stack: Stack) -> None:
    reply = stack.request(
        "PUT",
        "/members/me",
        token=stack.token("x@example.org"),
        body=b'{"display_name": "X"}',
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert reply.status == 415
    assert "application/json" in reply.json()["detail"]
