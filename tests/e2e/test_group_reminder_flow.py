"""A group meeting reminder as a member meets it, over HTTP against the local stack (`make run`).

Nothing in infra/local knows about groups: the schedule, the reminder queue and its sender come
from template.yaml, as the nudges' do.
"""

from __future__ import annotations

import email
import email.policy
import re
import urllib.request
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.e2e

ANN, BOB = "ann.reminder@example.org", "bob.reminder@example.org"
RHYTHM = {"rrule": "FREQ=MONTHLY;BYDAY=-1TU;BYHOUR=19;BYMINUTE=0", "time_zone": "Europe/Dublin", "starts_on": "2030-09-02"}


def test_the_group_sweep_queues_the_reminder_and_the_sender_emails_it_with_the_meeting(stack: Stack) -> None:
    ann, bob = stack.token(ANN), stack.token(BOB)
    stack.request("PUT", "/_local/clock", body={"now": "2030-09-02T09:00:00Z"})
    try:
        stack.request("PUT", "/members/me", token=ann, body={"display_name": "Ann", "time_zone": "Europe/Dublin"})
        stack.request("PUT", "/members/me", token=bob, body={"display_name": "Bob", "time_zone": "America/New_York"})
        body = {
            "name": "Reminder e2e group",
            "rhythm": RHYTHM,
            "duration_minutes": 120,
            "where": {"kind": "place", "venue": "Ann's rooms"},
            "format": {"preset": "case_slots", "case_slots": 2},
        }
        created = stack.request("POST", "/groups", token=ann, body=body)
        assert created.status == 201, created.body
        group_id = created.json()["id"]
        assert stack.request("POST", f"/groups/{group_id}/invitations", token=ann, body={"email": BOB}).status == 200
        assert stack.request("POST", f"/groups/{group_id}/accept", token=bob).status == 200

        # A week before the last Tuesday of October the sweep fixes the meeting; the day before, Bob hears at 09:00 his time
        for instant in ("2030-10-22T19:00:00Z", "2030-10-28T13:00:00Z"):
            stack.request("PUT", "/_local/clock", body={"now": instant})
            assert stack.request("POST", "/_local/invoke/GroupSweep", body={}).status == 200
        mail = stack.wait_for_message(BOB, "Reminder:")
        assert mail["subject"] == "Reminder: Reminder e2e group, Tuesday 29 October at 15:00"
        assert "15:00–17:00, America/New_York time (EDT)" in mail["text"]
        with urllib.request.urlopen(mail["eml_url"], timeout=10) as resp:  # the whole message, as a mail client gets it
            message = email.message_from_bytes(resp.read(), policy=email.policy.default)
        [calendar] = list(message.iter_attachments())
        assert calendar.get_content_type() == "text/calendar"
        assert b"DTSTART;TZID=Europe/Dublin:20301029T190000" in calendar.get_payload(decode=True)

        link = re.search(r"(http://\S+/c/[\w-]+)", mail["text"]).group(1)  # type: ignore[union-attr]
        page = stack.request("GET", urlsplit(link).path)
        assert page.status == 200
        assert b"Can&#x27;t make it to Reminder e2e group?" in page.body
    finally:
        stack.request("DELETE", "/_local/clock")
