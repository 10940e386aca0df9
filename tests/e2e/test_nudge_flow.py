"""The nudge as a member meets it, over HTTP against the local stack: the sweep, the email, the link."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e


def test_sweep_email_link_check_in(stack: Stack) -> None:
    ann = stack.token("ann.nudge@example.org")
    stack.request("PUT", "/_local/clock", body={"now": "2026-12-01T09:00:00Z"})
    try:
        stack.request("PUT", "/members/me", token=ann, body={"display_name": "Ann", "time_zone": "Europe/Dublin"})
        pact_id = stack.request(
            "POST",
            "/pacts",
            token=ann,
            body={"colleague": {"name": "Jennifer", "phone": "+353851234567"}, "rhythm": {"weekday": "tuesday", "time": "08:30"}},
        ).json()["id"]
        # Two days after Tuesday 8 December's slot, at Ann's nudge hour
        stack.request("PUT", "/_local/clock", body={"now": "2026-12-10T09:05:00Z"})
        swept = stack.request("POST", "/_local/invoke/NudgeSweep", body={})
        assert swept.status == 200
        mail = stack.wait_for_message("ann.nudge@example.org", "Time to catch up with")  # her digest is due too
        assert mail["subject"] == "Time to catch up with Jennifer?"
        check_in = re.search(r"(http://\S+/c/[\w-]+)", mail["text"]).group(1)  # type: ignore[union-attr]
        assert urlsplit(check_in).netloc == urlsplit(stack.url).netloc  # the links point at the local stack
        link = urlsplit(check_in).path
        page = stack.request("GET", link)
        assert page.status == 200
        assert page.headers["referrer-policy"] == "no-referrer"
        assert "default-src 'none'" in page.headers["content-security-policy"]
        nonce = re.search(rb'name="nonce" value="(\w+)"', page.body).group(1).decode()  # type: ignore[union-attr]
        form = {"content-type": "application/x-www-form-urlencoded"}
        done = stack.request("POST", link, body=f"nonce={nonce}&choice=yes".encode(), headers=form)
        assert done.status == 200
        assert stack.request("GET", f"/pacts/{pact_id}", token=ann).json()["status"] == "on_track"
        again = stack.request("POST", link, body=f"nonce={nonce}&choice=yes".encode(), headers=form)
        assert again.status == 410
        assert b"Already done" in again.body
        nudges = stack.request("GET", "/members/me/nudges", token=ann).json()["items"]
        assert [n["pact_ids"] for n in nudges] == [[pact_id]]
    finally:
        stack.request("DELETE", "/_local/clock")
