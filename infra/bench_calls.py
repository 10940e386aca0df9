"""DynamoDB calls per API request, measured on moto in one run (a row group of `make bench`).

Runs in its own process: the environment must be set before `shared` is imported.
Prints one line per route as it is measured: `BENCH {"route": ..., "calls": ..., "scans": ...}`.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from infra.benchenv import use_bench_env

use_bench_env()


def main() -> None:
    import boto3
    from moto import mock_aws

    from infra import cfn
    from infra.callcount import counting_calls
    from tests.helpers import DEFAULT_NOW, call, member, pact
    from tests.integration.group_harness import group_body, group_of

    ann, bob, finn = "ann@example.org", "bob@example.org", "finn@example.org"
    with mock_aws(), counting_calls() as calls:
        cfn.create_table(boto3.client("dynamodb"), os.environ["TABLE_NAME"])
        boto3.client("events").create_event_bus(Name=os.environ["EVENT_BUS_NAME"])
        member(ann)
        member(bob)
        shared = pact(ann, bob)["id"]
        # one open pact a colleague: each of these is with someone else
        for colleague in ("gus@example.org", "hal@example.org", "ida@example.org"):
            member(colleague)
        invite = pact(ann, "gus@example.org", accept=False)["id"]
        declined = pact(ann, "hal@example.org", accept=False)["id"]
        resent = pact(ann, {"email": "dee@example.org"}, accept=False)["id"]
        ended = pact(ann, "ida@example.org")["id"]
        for number in range(3):  # three open invitations wait for Cara's address
            member(f"inviter{number}@example.org")
            pact(f"inviter{number}@example.org", "cara@example.org", accept=False)
        for day in range(5):
            call("POST", f"/pacts/{shared}/check-ins", body={}, now=DEFAULT_NOW + timedelta(days=day))
        group = group_of(ann, [bob, "erin@example.org", finn], DEFAULT_NOW)
        meeting = call("GET", f"/groups/{group}/meetings?limit=1", email=bob).json()["items"][0]["id"]
        feed = call("POST", "/members/me/calendar-secret", email=bob).json()["url"].rsplit("/", 1)[1]  # Bob: 1 group, his pacts with Ann
        later = DEFAULT_NOW + timedelta(days=6)
        plan: list[tuple[str, str, str, Any]] = [
            ("GET", "/members/me", ann, None),
            ("PUT", "/members/me", ann, {"display_name": "Ann", "time_zone": "Europe/Dublin"}),
            ("GET", "/pacts", ann, None),
            ("POST", "/pacts", ann, {"colleague": {"email": "jo@example.org"}}),
            ("GET", f"/pacts/{shared}", ann, None),
            ("PATCH", f"/pacts/{shared}", ann, {"grace_days": 3}),
            ("POST", f"/pacts/{invite}/accept", "gus@example.org", None),
            ("POST", f"/pacts/{declined}/decline", "hal@example.org", None),
            ("POST", f"/pacts/{resent}/resend-invitation", ann, None),
            ("PUT", "/members/me", "cara@example.org", {"display_name": "Cara"}),  # a first profile taking over 3 invitations
            ("POST", f"/pacts/{shared}/pause", ann, {"until": "2027-01-04"}),
            ("POST", f"/pacts/{shared}/resume", ann, None),
            ("POST", f"/pacts/{shared}/check-ins", ann, {}),
            ("GET", f"/pacts/{shared}/check-ins", ann, None),
            ("GET", "/check-ins", bob, None),
            ("GET", "/members/me/nudges", ann, None),
            ("PUT", "/members/me/away", ann, {"until": "2026-12-24"}),
            ("DELETE", "/members/me/away", ann, None),
            ("POST", "/groups", ann, group_body()),
            ("GET", "/groups", bob, None),
            ("GET", f"/groups/{group}", bob, None),
            ("GET", f"/groups/{group}/meetings?limit=3", bob, None),
            ("GET", f"/groups/{group}/meetings?when=past&limit=10", bob, None),
            ("PATCH", f"/groups/{group}", ann, {"objectives": "One case each"}),
            ("POST", f"/groups/{group}/invitations", ann, {"email": "gail@example.org"}),
            ("POST", f"/groups/{group}/meetings/{meeting}/rsvp", bob, {"answer": "no"}),
            ("POST", f"/groups/{group}/meetings/{meeting}/slot-requests", finn, None),
            ("GET", "/members/me/meetings", bob, None),
            ("POST", "/members/me/calendar-secret", ann, None),
            ("GET", f"/calendar/{feed}", bob, None),  # public: the secret is the key (2 calls + 1 per group)
            ("GET", "/members/me/export", ann, None),
            ("POST", f"/pacts/{ended}/end", ann, None),
            ("DELETE", f"/pacts/{shared}", bob, None),
            ("DELETE", "/members/me", ann, None),
        ]
        for method, path, who, body in plan:
            calls.clear()
            reply = call(method, path, email=who, body=body, now=later)
            assert reply.status < 400, (method, path, reply.body)
            ddb = {k: v for k, v in calls.items() if k.startswith("dynamodb.")}
            route = f"{method} {path}"
            for pact_id in (shared, invite, declined, resent, ended, group):
                route = route.replace(pact_id, "{id}")
            route = route.replace(meeting, "{mid}").replace(feed, "{secret}.ics (1 group)")
            if who == "cara@example.org":
                route += " (first profile, 3 open invitations)"
            row = {"route": route, "calls": sum(ddb.values()), "scans": ddb.get("dynamodb.Scan", 0)}
            print("BENCH " + json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
