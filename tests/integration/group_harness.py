"""Groups through the API as API Gateway would call it: a group with members, and its meetings."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from infra.local.auth import member_sub
from tests.helpers import Reply, call, member

MONTHLY = {"rrule": "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;BYMINUTE=0", "time_zone": "Europe/Dublin", "starts_on": "2026-12-01"}
ROTATION = {
    "kind": "rotation",
    "stops": [{"venue": "Ann's rooms, Cork"}, {"venue": "Parnell Sq. centre"}, {"venue": "Online", "host": None}],
}


def group_body(**overrides: Any) -> dict[str, Any]:
    return {
        "name": "Cork peer supervision",
        "purpose": "Case consultation among peers",
        "objectives": "Bring a case each; leave with one idea to try",
        "rhythm": MONTHLY,
        "duration_minutes": 120,
        "where": {"kind": "place", "venue": "Ann's rooms, Cork"},
        "format": {"preset": "case_slots", "case_slots": 3},
        **overrides,
    }


def create_group(convener: str, now: datetime, **overrides: Any) -> dict[str, Any]:
    reply = call("POST", "/groups", email=convener, body=group_body(**overrides), now=now)
    assert reply.status == 201, reply.body
    return dict(reply.json())


def join(group_id: str, convener: str, email: str, now: datetime) -> Reply:
    """Invite `email` (a member already) and accept as them."""
    invited = call("POST", f"/groups/{group_id}/invitations", email=convener, body={"email": email}, now=now)
    assert invited.status == 200, invited.body
    return call("POST", f"/groups/{group_id}/accept", email=email, now=now)


def group_of(convener: str, others: list[str], now: datetime, **overrides: Any) -> str:
    """A group whose members all have profiles and have accepted."""
    for email in [convener, *others]:
        member(email)
    group_id = str(create_group(convener, now, **overrides)["id"])
    for email in others:
        accepted = join(group_id, convener, email, now)
        assert accepted.status == 200, accepted.body
    return group_id


def sub(email: str) -> str:
    return member_sub(email)
