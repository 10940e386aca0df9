"""Joining and leaving over HTTP against the local stack: a colleague who is not a member yet is invited,
signs up, accepts; later they leave, and the one who stays is told once and never nudged about it again."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

ANN, DEE = "ann.join@example.org", "dee.join@example.org"


def test_a_non_member_is_invited_signs_up_accepts_and_later_leaves(stack: Stack) -> None:
    ann = stack.token(ANN)
    stack.request("PUT", "/_local/clock", body={"now": "2026-12-01T09:00:00Z"})
    try:
        # GIVEN Ann, a member, and Dee, who has no account
        stack.request("PUT", "/members/me", token=ann, body={"display_name": "Ann", "time_zone": "Europe/Dublin"})
        # WHEN Ann proposes a weekly pact to Dee's address
        created = stack.request(
            "POST",
            "/pacts",
            token=ann,
            body={"colleague": {"email": DEE}, "rhythm": {"weekday": "tuesday", "time": "08:30"}, "mode": "video"},
        )
        assert created.status == 201, created.body
        pact_id = created.json()["id"]
        assert created.json()["invitation"]["state"] == "pending"

        # THEN Dee gets one kind invitation email, whose link opens the invitation page
        mail = stack.wait_for_message(DEE, "would like to keep in regular touch")
        assert mail["subject"] == "Ann would like to keep in regular touch with you"
        assert "Tuesdays 08:30 (Dublin time, Europe/Dublin)" in mail["text"]
        assert "List-Unsubscribe" in mail["headers"]
        page_link = urlsplit(re.search(r"(http://\S+/i/[\w-]+)", mail["text"]).group(1)).path  # type: ignore[union-attr]
        page = stack.request("GET", page_link)
        assert page.status == 200
        assert b"Ann invites you to regular check-ins" in page.body

        # WHEN Dee signs up with that address, the invitation is waiting in her pacts
        dee = stack.token(DEE)
        assert stack.request("PUT", "/members/me", token=dee, body={"display_name": "Dee", "time_zone": "Europe/London"}).status == 200
        mine = stack.request("GET", "/pacts", token=dee).json()["items"]
        assert [(p["id"], p["state"], p["colleague"]["name"]) for p in mine] == [(pact_id, "invited", "Ann")]
        assert stack.request("POST", f"/pacts/{pact_id}/accept", token=dee).status == 200
        ann_view = stack.request("GET", f"/pacts/{pact_id}", token=ann).json()
        assert (ann_view["mutual"], ann_view["colleague"]["name"], ann_view["invitation"]) == (True, "Dee", None)
        # The invitation page now says it is no longer open
        assert stack.request("GET", page_link).status == 410

        # WHEN Dee leaves the pact (what Ann was sent before, e.g. a digest naming the lapsed pact, stays as it was)
        def to_ann() -> list[dict[str, Any]]:
            return [m for m in stack.request("GET", "/_local/outbox").json()["messages"] if m["to"] == [ANN]]

        before_leaving = len(to_ann())
        assert stack.request("DELETE", f"/pacts/{pact_id}", token=dee).status == 204
        ann_view = stack.request("GET", f"/pacts/{pact_id}", token=ann).json()
        assert (ann_view["state"], ann_view["status"], ann_view["ended_reason"]) == ("ended", "ended", "colleague_left")

        # THEN at Ann's next nudge hour she gets one short notice, and no nudge about Dee ever after
        stack.request("PUT", "/_local/clock", body={"now": "2026-12-02T09:05:00Z"})
        assert stack.request("POST", "/_local/invoke/NudgeSweep", body={}).status == 200
        notice = stack.wait_for_message(ANN, "have ended")
        assert notice["subject"] == "Your regular check-ins with Dee have ended"
        for day in ("2026-12-10T09:05:00Z", "2026-12-17T09:05:00Z", "2026-12-31T09:05:00Z"):
            stack.request("PUT", "/_local/clock", body={"now": day})
            assert stack.request("POST", "/_local/invoke/NudgeSweep", body={}).status == 200  # (other tests' pacts share the stack)
        since = to_ann()[before_leaving:]
        # (Her weekly digest may come too, as the stack's schedules run at the clock: it must not name Dee.)
        about_dee = [m["subject"] for m in since if re.search(r"\bDee\b", m["subject"] + " " + m.get("text", ""))]
        assert about_dee == ["Your regular check-ins with Dee have ended"], [m.get("text") for m in since]
        assert [m["subject"] for m in since if m["subject"].startswith("Time to catch up")] == []
    finally:
        stack.request("DELETE", "/_local/clock")
