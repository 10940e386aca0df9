"""What a review of the groups code found, each pinned by a test: visibility for the invited, patches, cursors, turns."""

from __future__ import annotations

from datetime import timedelta

from tests.helpers import call, member
from tests.integration.group_harness import group_of, sub
from tests.integration.group_steps import (
    ANN,
    BOB,
    CAROL,
    DEE,
    MEETINGS,
    NOW,
    RHYTHM,
    assert_problem,
    mid,
    ok,
    sweep,
    week_before,
)

ONLINE = {"kind": "online", "url": "https://meet.example.org/cork-peers"}


def test_an_invited_person_sees_how_the_group_meets_not_where_and_nothing_once_the_invitation_expired(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM, where=ONLINE, objectives="Our private objectives")
    member(CAROL)
    ok(call("POST", f"/groups/{group_id}/invitations", email=ANN, body={"email": CAROL}, now=NOW))
    seen = ok(call("GET", f"/groups/{group_id}", email=CAROL, now=NOW))
    assert seen["my_state"] == "invited"
    assert seen["where"] == {"kind": "online", "venue": None, "url": None, "stops": None}
    assert seen["objectives"] is None
    assert "meet.example.org" not in str(seen)
    # Bob (a plain member) sees the open invitation without its address's local part; Ann (who typed it) sees it.
    by_bob = [m["name"] for m in ok(call("GET", f"/groups/{group_id}", email=BOB, now=NOW))["members"] if m["state"] == "invited"]
    by_ann = [m["name"] for m in ok(call("GET", f"/groups/{group_id}", email=ANN, now=NOW))["members"] if m["state"] == "invited"]
    assert (by_bob, by_ann) == (["Invited colleague"], ["carol"])
    later = NOW + timedelta(days=31)
    assert_problem(call("GET", f"/groups/{group_id}", email=CAROL, now=later), 404)
    assert ok(call("GET", "/groups", email=CAROL, now=later))["items"] == []


def test_the_same_rhythm_sent_again_keeps_the_series_and_its_history(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    held_at = MEETINGS[0] + timedelta(hours=2)
    ok(call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/attendance", email=ANN, body={"attended": [sub(ANN)]}, now=held_at))
    later = MEETINGS[1] - timedelta(days=3)
    same = {k: v for k, v in RHYTHM.items() if k != "starts_on"}
    patched = ok(call("PATCH", f"/groups/{group_id}", email=ANN, body={"rhythm": same}, now=later))
    assert patched["starts_at"] == "2026-09-08T18:00:00Z"
    past = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=5", email=BOB, now=later))["items"]
    assert [(m["id"], m["status"]) for m in past] == [(mid(MEETINGS[0]), "held")]


def test_null_for_a_field_that_cannot_be_empty_is_a_422_naming_it(aws) -> None:
    group_id = group_of(ANN, [], NOW, rhythm=RHYTHM)
    for field in ("name", "size_limit", "review_months"):
        problem = assert_problem(call("PATCH", f"/groups/{group_id}", email=ANN, body={field: None}, now=NOW), 422)
        assert field in problem["detail"] or field in str(problem.get("errors"))
    cleared = ok(call("PATCH", f"/groups/{group_id}", email=ANN, body={"purpose": None}, now=NOW))
    assert cleared["purpose"] is None


def test_a_cursor_far_out_of_range_is_a_422_not_a_crash(aws) -> None:
    import base64

    group_id = group_of(ANN, [], NOW, rhythm=RHYTHM)
    for kind in ("upcoming", "past"):
        cursor = base64.urlsafe_b64encode(f"{kind}:0001-01-01T00:00:00Z".encode()).decode().rstrip("=")
        assert_problem(call("GET", f"/groups/{group_id}/meetings?when={kind}&next={cursor}", email=ANN, now=NOW), 422)


def test_who_joined_after_a_meeting_did_not_miss_it(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    joined = MEETINGS[0] + timedelta(days=2)
    member(DEE)
    ok(call("POST", f"/groups/{group_id}/invitations", email=ANN, body={"email": DEE}, now=joined))
    ok(call("POST", f"/groups/{group_id}/accept", email=DEE, now=joined))
    body = {"attended": [sub(ANN), sub(BOB)]}
    ok(call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/attendance", email=ANN, body=body, now=joined + timedelta(hours=1)))
    missed = {m["name"]: m["missed_in_a_row"] for m in ok(call("GET", f"/groups/{group_id}", email=ANN, now=joined))["members"]}
    assert missed == {"Ann": 0, "Bob": 0, "Dee": 0}


def test_a_role_holder_who_says_no_after_the_meeting_was_fixed_hands_the_role_on(aws) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    sweep(week_before(MEETINGS[0]))
    now = week_before(MEETINGS[0]) + timedelta(hours=1)
    fixed = ok(call("GET", f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}", email=ANN, now=now))
    assert fixed["status"] == "scheduled"
    [(role, holder)] = [(r, p["member_id"]) for r, p in fixed["roles"].items()]
    email = {sub(e): e for e in (ANN, BOB, CAROL)}[holder]
    said = ok(call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/rsvp", email=email, body={"answer": "no"}, now=now))
    assert role in said["roles"]
    assert said["roles"][role]["member_id"] != holder


def test_inviting_accepting_and_removing_cost_at_most_three_dynamodb_calls(aws, aws_calls) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    member(CAROL)
    steps = [
        ("POST", f"/groups/{group_id}/invitations", ANN, {"email": CAROL}),
        ("POST", f"/groups/{group_id}/accept", CAROL, None),
        ("DELETE", f"/groups/{group_id}/members/{sub(CAROL)}", ANN, None),
    ]
    for method, path, who, body in steps:
        aws_calls.clear()
        assert call(method, path, email=who, body=body, now=NOW).status < 300
        ddb = {k: v for k, v in aws_calls.items() if k.startswith("dynamodb.")}
        assert sum(ddb.values()) <= 3, (method, path, ddb)
