"""Peer supervision groups through the HTTP API: creating one, who sees and changes what, and inviting colleagues."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import call, member
from tests.integration.group_harness import group_body, group_of, join, sub
from tests.integration.group_steps import (
    ANN,
    BOB,
    CAROL,
    DEE,
    EVE,
    MEETINGS,
    NOW,
    RHYTHM,
    assert_problem,
    group,
    ids,
    mid,
    ok,
)
from tests.integration.invite_harness import invite as invite_to_pact
from tests.integration.invite_harness import signup

# The shortest and longest a case slot of each preset may be (the preset's own description says so).
CASE_MINUTES = {"sgsm": (60, 90), "borders": (45, 90), "balint": (45, 90), "case_slots": (15, 45)}


def create(email: str, now: datetime = NOW, **overrides: Any) -> Any:
    return call("POST", "/groups", email=email, body=group_body(**{"rhythm": RHYTHM, **overrides}), now=now)


def invite(group_id: str, convener: str, email: str, now: datetime = NOW) -> Any:
    return call("POST", f"/groups/{group_id}/invitations", email=convener, body={"email": email}, now=now)


def people(group_id: str, email: str, now: datetime = NOW) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in group(group_id, email, now)["members"]}


# ------------------------------------------------------------------ creating a group


@pytest.mark.parametrize("minutes", [90, 120, 180])
@pytest.mark.parametrize("preset", sorted(CASE_MINUTES))
def test_a_preset_is_fitted_to_the_time_boundary(aws, preset: str, minutes: int) -> None:
    member(ANN)
    created = ok(create(ANN, duration_minutes=minutes, format={"preset": preset}), 201)
    fmt = created["format"]
    assert fmt["preset"] == preset
    assert fmt["total_minutes"] == sum(s["minutes"] * s["repeat"] for s in fmt["segments"])
    [case] = [s for s in fmt["segments"] if s["kind"] == "case"]
    shortest, longest = CASE_MINUTES[preset]
    assert shortest <= case["minutes"] <= longest
    assert fmt["case_slots"] == case["repeat"] >= 1
    if case["steps"]:
        assert sum(step["minutes"] for step in case["steps"]) == case["minutes"]
    # It fills the boundary, unless the cases are as long as the preset allows (then the meeting ends early).
    assert fmt["total_minutes"] == minutes or (fmt["total_minutes"] < minutes and case["minutes"] == longest)
    assert fmt["segments"][0]["kind"] == fmt["segments"][-1]["kind"] == "plain"  # arrival first, close last
    # The first meeting's agenda fits inside the meeting.
    first = call("GET", f"/groups/{created['id']}/meetings?limit=1", email=ANN, now=NOW).json()["items"][0]
    assert first["agenda"][0]["starts_at"] == first["starts_at"]
    assert first["agenda"][-1]["ends_at"] <= first["ends_at"]
    assert len([item for item in first["agenda"] if item["kind"] == "case"]) == fmt["case_slots"]


def test_a_preset_that_cannot_fit_names_the_minutes_it_needs(aws) -> None:
    member(ANN)
    problem = assert_problem(create(ANN, duration_minutes=120, format={"preset": "sgsm", "case_slots": 2}), 422)
    assert problem["field"] == "format"
    assert "at least 130 minutes" in problem["detail"]
    assert "120" in problem["detail"]


def test_a_custom_format_over_the_time_boundary_names_the_minutes_over(aws) -> None:
    member(ANN)
    segments = [
        {"title": "Arrival", "minutes": 10},
        {"title": "Case", "minutes": 40, "kind": "case", "repeat": 2},
        {"title": "Close", "minutes": 15},
    ]  # 105 minutes
    problem = assert_problem(create(ANN, duration_minutes=100, format={"segments": segments, "roles": ["moderator"]}), 422)
    assert problem["field"] == "format"
    assert "5 more than" in problem["detail"]
    # Exactly at the boundary it is the group's format.
    fitted = ok(create(ANN, duration_minutes=105, format={"segments": segments, "roles": ["moderator"]}), 201)
    assert (fitted["format"]["preset"], fitted["format"]["total_minutes"], fitted["format"]["case_slots"]) == (None, 105, 2)
    assert ok(call("GET", "/groups", email=ANN, now=NOW))["items"][0]["id"] == fitted["id"]


@pytest.mark.parametrize(
    ("rrule", "says"),
    [
        ("FREQ=HOURLY;BYHOUR=19", "more often than once a day"),
        ("FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;COUNT=5", "COUNT"),
        ("FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;UNTIL=20271231T000000Z", "UNTIL"),
        ("FREQ=MONTHLY;BYDAY=2TU;BYMINUTE=0", "BYHOUR"),
        ("FREQ=WEEKLY;BYDAY=TU;BYHOUR=9,17", "one time"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30;BYHOUR=19", "never meets"),
        ("FREQ=WEEKLY;BYDAY=XX;BYHOUR=19", "cannot be read"),
        ("BYDAY=TU;BYHOUR=19;BYMINUTE=0", "FREQ"),
    ],
)
def test_a_rhythm_that_cannot_be_a_series_is_refused_naming_the_rule(aws, rrule: str, says: str) -> None:
    member(ANN)
    problem = assert_problem(create(ANN, rhythm={**RHYTHM, "rrule": rrule}), 422)
    assert problem["field"] == "rhythm.rrule"
    assert problem["detail"].startswith("rhythm.rrule: ")
    assert says in problem["detail"]
    assert ok(call("GET", "/groups", email=ANN, now=NOW))["items"] == []


@pytest.mark.parametrize("size_limit", [0, 1, 17, 100])
def test_a_size_limit_outside_2_to_16_is_refused(aws, size_limit: int) -> None:
    member(ANN)
    problem = assert_problem(create(ANN, size_limit=size_limit), 422)
    assert [e["field"] for e in problem["errors"]] == ["size_limit"]


@pytest.mark.parametrize("size_limit", [2, 16])
def test_a_size_limit_of_2_or_16_is_fine(aws, size_limit: int) -> None:
    member(ANN)
    assert ok(create(ANN, size_limit=size_limit), 201)["size_limit"] == size_limit


def test_inviting_beyond_the_size_limit_is_refused_with_a_clear_detail(aws) -> None:
    member(ANN)
    member(BOB)
    group_id = ok(create(ANN, size_limit=3), 201)["id"]
    ok(invite(group_id, ANN, BOB))
    ok(invite(group_id, ANN, "someone@example.org"))  # an open invitation takes a place too
    problem = assert_problem(invite(group_id, ANN, CAROL), 422)
    assert problem["field"] == "email"
    assert "the group is full: 3 members and open invitations" in problem["detail"]
    assert len(group(group_id, ANN)["members"]) == 3
    # Accepting does not make room; raising the limit does.
    ok(call("POST", f"/groups/{group_id}/accept", email=BOB, now=NOW))
    assert_problem(invite(group_id, ANN, CAROL), 422)
    ok(call("PATCH", f"/groups/{group_id}", email=ANN, body={"size_limit": 4}, now=NOW))
    ok(invite(group_id, ANN, CAROL))


def test_a_size_limit_below_the_people_already_in_the_group_is_refused(aws) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    problem = assert_problem(call("PATCH", f"/groups/{group_id}", email=ANN, body={"size_limit": 2}, now=NOW), 422)
    assert problem["field"] == "size_limit"
    assert group(group_id, ANN)["size_limit"] == 12


def test_starting_a_group_needs_a_profile(aws) -> None:
    problem = assert_problem(create(ANN), 409)
    assert "PUT /members/me" in problem["detail"]
    member(ANN)
    assert ok(call("GET", "/groups", email=ANN, now=NOW))["items"] == []


def test_the_creator_is_the_convener_and_sees_the_agreement(aws) -> None:
    member(ANN, "Ann")
    created = create(ANN)
    body = ok(created, 201)
    assert created.headers["location"] == f"/groups/{body['id']}"
    assert (body["my_role"], body["my_state"]) == ("convener", "active")
    assert [(m["name"], m["role"], m["state"]) for m in body["members"]] == [("Ann", "convener", "active")]
    assert body["rhythm"] == "second Tuesday of the month at 19:00 (Europe/Dublin)"
    assert body["starts_at"] == "2026-09-08T18:00:00Z"
    assert body["next_meeting"] == "2026-09-08T18:00:00Z"
    assert body["agreement"]["version"] == 1
    assert group(body["id"], ANN) == body


# ------------------------------------------------------------------ who sees a group


@pytest.mark.parametrize("route", ["", "/meetings", "/meetings?when=past", f"/meetings/{mid(MEETINGS[0])}"])
def test_a_stranger_gets_the_same_404_as_for_a_group_that_does_not_exist(aws, route: str) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    member(CAROL)
    missing = "g_doesnotexist0000"
    theirs = call("GET", f"/groups/{group_id}{route}", email=CAROL, now=NOW)
    unknown = call("GET", f"/groups/{missing}{route}", email=CAROL, now=NOW)
    assert_problem(theirs, 404)
    assert_problem(unknown, 404)
    assert theirs.body.replace(group_id.encode(), b"<id>") == unknown.body.replace(missing.encode(), b"<id>")
    for secret in (b"Cork", b"Ann", b"Bob"):
        assert secret not in theirs.body
    assert ok(call("GET", "/groups", email=CAROL, now=NOW))["items"] == []


def test_an_invited_colleague_sees_the_invitation_and_the_conveners_and_nothing_more(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    member(DEE)
    ok(invite(group_id, ANN, DEE))
    [listed] = ok(call("GET", "/groups", email=DEE, now=NOW))["items"]
    assert (listed["id"], listed["my_state"], listed["my_role"]) == (group_id, "invited", "member")
    assert all(m["role"] == "convener" for m in listed["members"])
    seen = group(group_id, DEE)
    assert seen["my_state"] == "invited"
    assert [(m["name"], m["role"]) for m in seen["members"]] == [("Ann", "convener")]  # not Bob, not the invitation
    assert seen["next_meeting"] is None
    assert "Bob" not in str(seen)
    meeting_path = f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}"
    for method, path, body in [
        ("GET", f"/groups/{group_id}/meetings", None),
        ("GET", meeting_path, None),
        ("POST", f"{meeting_path}/rsvp", {"answer": "yes"}),
        ("POST", f"{meeting_path}/slot-requests", None),
        ("POST", f"{meeting_path}/give-back", None),
        ("POST", f"{meeting_path}/cancel", None),
        ("PATCH", f"/groups/{group_id}", {"name": "Dee's group"}),
        ("POST", f"/groups/{group_id}/invitations", {"email": EVE}),
        ("DELETE", f"/groups/{group_id}/members/{sub(BOB)}", None),
        ("PUT", f"/groups/{group_id}/members/{sub(BOB)}/role", {"role": "convener"}),
        ("POST", f"/groups/{group_id}/members/{sub(BOB)}/hand-over", None),
        ("DELETE", f"/groups/{group_id}/members/me", None),  # an invitation is declined, not left
    ]:
        assert_problem(call(method, path, email=DEE, body=body, now=NOW), 404)
    assert group(group_id, ANN)["name"] == "Cork peer supervision"
    assert len(group(group_id, ANN)["members"]) == 3


MEMBER_FORBIDDEN = [
    ("PATCH", "/groups/{g}", {"name": "Bob's group"}),
    ("POST", "/groups/{g}/invitations", {"email": EVE}),
    ("POST", "/groups/{g}/meetings/{m}/cancel", {"reason": "Bob is busy"}),
    ("POST", "/groups/{g}/meetings/{m}/reschedule", {"venue": "Bob's kitchen"}),
    ("PUT", "/groups/{g}/members/{carol}/role", {"role": "convener"}),
    ("PUT", "/groups/{g}/members/{bob}/role", {"role": "convener"}),
    ("POST", "/groups/{g}/members/{carol}/hand-over", None),
    ("DELETE", "/groups/{g}/members/{carol}", None),
    ("DELETE", "/groups/{g}/members/{ann}", None),
]


@pytest.mark.parametrize(("method", "path", "body"), MEMBER_FORBIDDEN, ids=[f"{m} {p}" for m, p, _ in MEMBER_FORBIDDEN])
def test_a_plain_member_is_forbidden_what_conveners_do_and_a_convener_may(aws, method: str, path: str, body: Any) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    url = path.format(g=group_id, m=mid(MEETINGS[1]), ann=sub(ANN), bob=sub(BOB), carol=sub(CAROL))
    before = (group(group_id, ANN), call("GET", f"/groups/{group_id}/meetings", email=ANN, now=NOW).json())
    problem = assert_problem(call(method, url, email=BOB, body=body, now=NOW), 403)
    assert "convener" in problem["detail"]
    assert (group(group_id, ANN), call("GET", f"/groups/{group_id}/meetings", email=ANN, now=NOW).json()) == before
    if "{ann}" in path or "{bob}" in path:
        return  # the convener's own counterparts are the hand-over and stepping back, below
    done = call(method, url, email=ANN, body=body, now=NOW)
    assert done.status in (200, 204), done.body


def test_a_plain_member_may_not_record_attendance(aws) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    after = MEETINGS[0] + timedelta(hours=3)
    body = {"attended": [sub(ANN), sub(BOB)], "presented": [sub(BOB)]}
    path = f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/attendance"
    assert_problem(call("POST", path, email=BOB, body=body, now=after), 403)
    held = ok(call("POST", path, email=ANN, body=body, now=after))
    assert held["status"] == "held"


def test_a_convener_hands_the_role_over_in_one_step(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    handed = ok(call("POST", f"/groups/{group_id}/members/{sub(BOB)}/hand-over", email=ANN, now=NOW))
    assert handed["my_role"] == "member"
    assert {m["name"]: m["role"] for m in handed["members"]} == {"Ann": "member", "Bob": "convener"}
    assert group(group_id, BOB)["my_role"] == "convener"
    assert_problem(call("PATCH", f"/groups/{group_id}", email=ANN, body={"name": "Ann's"}, now=NOW), 403)
    assert ok(call("PATCH", f"/groups/{group_id}", email=BOB, body={"name": "Bob's"}, now=NOW))["name"] == "Bob's"
    # To yourself, or to someone not in the group, there is nobody to hand over to.
    assert_problem(call("POST", f"/groups/{group_id}/members/{sub(BOB)}/hand-over", email=BOB, now=NOW), 404)
    assert_problem(call("POST", f"/groups/{group_id}/members/{sub(CAROL)}/hand-over", email=BOB, now=NOW), 404)


def test_a_group_always_keeps_a_convener(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    problem = assert_problem(call("PUT", f"/groups/{group_id}/members/{sub(ANN)}/role", email=ANN, body={"role": "member"}, now=NOW), 409)
    assert "convener" in problem["detail"]
    assert group(group_id, ANN)["my_role"] == "convener"
    # With a second convener, stepping back is fine; then the last one cannot.
    made = ok(call("PUT", f"/groups/{group_id}/members/{sub(BOB)}/role", email=ANN, body={"role": "convener"}, now=NOW))
    assert {m["name"]: m["role"] for m in made["members"]} == {"Ann": "convener", "Bob": "convener"}
    stepped = ok(call("PUT", f"/groups/{group_id}/members/{sub(ANN)}/role", email=ANN, body={"role": "member"}, now=NOW))
    assert stepped["my_role"] == "member"
    assert_problem(call("PUT", f"/groups/{group_id}/members/{sub(BOB)}/role", email=BOB, body={"role": "member"}, now=NOW), 409)


def test_when_the_last_convener_leaves_the_longest_standing_member_takes_over(aws) -> None:
    # The later joiner's id sorts first, so only the joining order can pick the earlier one.
    early, late = sorted([BOB, CAROL], key=sub, reverse=True)
    for email in (ANN, early, late):
        member(email)
    group_id = ok(create(ANN), 201)["id"]
    ok(join(group_id, ANN, early, NOW))
    ok(join(group_id, ANN, late, NOW + timedelta(hours=1)))
    later = NOW + timedelta(hours=2)
    left = call("DELETE", f"/groups/{group_id}/members/me", email=ANN, now=later)
    assert left.status == 204, left.body
    roles = {m["member_id"]: m["role"] for m in group(group_id, late, later)["members"]}
    assert roles == {sub(early): "convener", sub(late): "member"}
    assert_problem(call("GET", f"/groups/{group_id}", email=ANN, now=later), 404)
    assert ok(call("GET", "/groups", email=ANN, now=later))["items"] == []


def test_when_the_last_member_leaves_the_group_is_gone(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    ok(invite(group_id, ANN, "outside@example.org"))  # an open invitation does not keep a group alive
    ok(call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/rsvp", email=BOB, body={"answer": "yes"}, now=NOW))
    assert call("DELETE", f"/groups/{group_id}/members/{sub(BOB)}", email=ANN, now=NOW).status == 204
    assert call("DELETE", f"/groups/{group_id}/members/me", email=ANN, now=NOW).status == 204
    for email in (ANN, BOB):
        assert_problem(call("GET", f"/groups/{group_id}", email=email, now=NOW), 404)
        assert ok(call("GET", "/groups", email=email, now=NOW))["items"] == []
    assert_problem(call("GET", f"/groups/{group_id}/meetings", email=ANN, now=NOW), 404)
    # The address that was invited finds nothing when it signs up.
    signup("outside@example.org", "Olive", NOW + timedelta(days=1))
    assert ok(call("GET", "/groups", email="outside@example.org", now=NOW + timedelta(days=1)))["items"] == []


def test_a_convener_removes_a_member_who_then_sees_nothing(aws) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    assert call("DELETE", f"/groups/{group_id}/members/{sub(CAROL)}", email=ANN, now=NOW).status == 204
    assert sorted(people(group_id, ANN)) == ["Ann", "Bob"]
    assert_problem(call("GET", f"/groups/{group_id}", email=CAROL, now=NOW), 404)
    assert_problem(call("GET", f"/groups/{group_id}/meetings", email=CAROL, now=NOW), 404)
    assert ok(call("GET", "/groups", email=CAROL, now=NOW))["items"] == []


# ------------------------------------------------------------------ inviting colleagues who are not members


def test_a_colleague_without_an_account_is_invited_signs_up_and_joins(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    invited = ok(invite(group_id, ANN, "Dee.Doyle@Example.org"))
    [entry] = [m for m in invited["members"] if m["state"] == "invited"]
    assert re.fullmatch(r"@[\w-]+", entry["member_id"]), entry
    assert entry["name"] == "dee.doyle"
    assert entry["role"] == "member"
    assert entry["invitation_expires_at"] > "2026-09-01T09:00:00Z"
    assert "Dee.Doyle@Example.org".lower() not in str(invited).lower()
    assert [m for m in group(group_id, ANN)["members"] if m["state"] == "invited"] == [entry]
    # Bob, a plain member, sees the invitation too (the group's members are no secret to each other).
    assert ids([m for m in group(group_id, BOB)["members"] if m["state"] == "invited"]) == [entry["member_id"]]
    # She signs up a week later with that address, finds the invitation and accepts.
    later = NOW + timedelta(days=7)
    signup("dee.doyle@example.org", "Dee", later)
    [waiting] = ok(call("GET", "/groups", email="dee.doyle@example.org", now=later))["items"]
    assert (waiting["id"], waiting["my_state"], waiting["name"]) == (group_id, "invited", "Cork peer supervision")
    joined = ok(call("POST", f"/groups/{group_id}/accept", email="dee.doyle@example.org", now=later))
    assert joined["my_state"] == "active"
    everyone = {m["name"]: (m["state"], m["member_id"]) for m in group(group_id, ANN, later)["members"]}
    assert everyone == {
        "Ann": ("active", sub(ANN)),
        "Bob": ("active", sub(BOB)),
        "Dee": ("active", sub("dee.doyle@example.org")),
    }
    assert sub("dee.doyle@example.org") in ids(upcoming_presenters(group_id, ANN, later))
    # Accepting twice is a conflict, not a second membership.
    assert_problem(call("POST", f"/groups/{group_id}/accept", email="dee.doyle@example.org", now=later), 409)


def upcoming_presenters(group_id: str, email: str, now: datetime) -> list[dict[str, Any]]:
    items = ok(call("GET", f"/groups/{group_id}/meetings?limit=3", email=email, now=now))["items"]
    return [p for item in items for p in item["presenters"]]


def test_declining_an_invitation_removes_it(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    ok(invite(group_id, ANN, EVE))
    later = NOW + timedelta(days=2)
    signup(EVE, "Eve", later)
    declined = call("POST", f"/groups/{group_id}/decline", email=EVE, now=later)
    assert declined.status == 204, declined.body
    assert [m["state"] for m in group(group_id, ANN, later)["members"]] == ["active", "active"]
    assert ok(call("GET", "/groups", email=EVE, now=later))["items"] == []
    assert_problem(call("GET", f"/groups/{group_id}", email=EVE, now=later), 404)
    assert_problem(call("POST", f"/groups/{group_id}/accept", email=EVE, now=later), 404)
    # The convener may invite her again.
    ok(invite(group_id, ANN, EVE, later))


def test_a_member_declines_and_a_convener_withdraws_an_invitation(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    member(CAROL)
    ok(invite(group_id, ANN, CAROL))
    assert call("POST", f"/groups/{group_id}/decline", email=CAROL, now=NOW).status == 204
    assert ok(call("GET", "/groups", email=CAROL, now=NOW))["items"] == []
    entry = next(m for m in ok(invite(group_id, ANN, DEE))["members"] if m["state"] == "invited")
    assert call("DELETE", f"/groups/{group_id}/members/{entry['member_id']}", email=ANN, now=NOW).status == 204
    assert [m["state"] for m in group(group_id, ANN)["members"]] == ["active", "active"]
    assert_problem(call("POST", f"/groups/{group_id}/decline", email=BOB, now=NOW), 409)  # nothing to decline: Bob is in


def _normalised(body: dict[str, Any], group_id: str, invited: dict[str, Any]) -> str:
    text = str(body).replace(group_id, "<group>").replace(invited["member_id"], "<invited>")
    return text.replace(repr(invited["name"]), "'<name>'")


def test_inviting_a_member_and_a_non_member_look_the_same_to_the_convener(aws) -> None:
    member(ANN, "Ann")
    member(BOB, "Bob")
    first = ok(create(ANN), 201)["id"]
    second = ok(create(ANN), 201)["id"]
    to_member = invite(first, ANN, BOB)
    to_stranger = invite(second, ANN, "zed@example.org")
    assert to_member.status == to_stranger.status == 200
    assert to_member.headers["content-type"] == to_stranger.headers["content-type"]
    [as_member] = [m for m in to_member.json()["members"] if m["state"] == "invited"]
    [as_stranger] = [m for m in to_stranger.json()["members"] if m["state"] == "invited"]
    assert as_member["member_id"].startswith("@")
    assert as_member["member_id"] != sub(BOB)
    assert _normalised(to_member.json(), first, as_member) == _normalised(to_stranger.json(), second, as_stranger)
    assert _normalised(group(first, ANN), first, as_member) == _normalised(group(second, ANN), second, as_stranger)
    # Inviting the same address again is the same conflict either way.
    again = [invite(first, ANN, BOB), invite(second, ANN, "zed@example.org")]
    assert [(r.status, r.json()["detail"]) for r in again] == [(409, again[1].json()["detail"])] * 2


def test_the_daily_invitation_limit_is_shared_with_pacts(aws) -> None:
    member(ANN)
    group_id = ok(create(ANN, size_limit=16), 201)["id"]
    for n in range(18):
        assert invite_to_pact(ANN, f"pact{n}@example.org", NOW).status == 201
    ok(invite(group_id, ANN, "g1@example.org"))
    ok(invite(group_id, ANN, "g2@example.org"))  # the 20th today
    limited = invite(group_id, ANN, "g3@example.org")
    problem = assert_problem(limited, 429)
    until_midnight = int((datetime(2026, 9, 2, tzinfo=UTC) - NOW).total_seconds())
    assert limited.headers["retry-after"] == str(until_midnight)
    assert problem["retry_after"] == until_midnight
    assert "20" in problem["detail"]
    assert len(group(group_id, ANN)["members"]) == 3  # nothing was written
    assert_problem(invite_to_pact(ANN, "pact99@example.org", NOW + timedelta(hours=1)), 429)
    # A new UTC day, a new allowance.
    ok(invite(group_id, ANN, "g3@example.org", datetime(2026, 9, 2, 0, 0, 1, tzinfo=UTC)))


def test_an_invitation_expires_after_thirty_days(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    member(DEE)
    ok(invite(group_id, ANN, DEE))
    expired = assert_problem(call("POST", f"/groups/{group_id}/accept", email=DEE, now=NOW + timedelta(days=30)), 410)
    assert "invite you again" in expired["detail"]
    assert [m["state"] for m in group(group_id, ANN, NOW + timedelta(days=30))["members"]] == ["active", "active", "invited"]
    ok(call("POST", f"/groups/{group_id}/accept", email=DEE, now=NOW + timedelta(days=29, hours=23)))


def test_my_groups_are_paged(aws) -> None:
    member(ANN)
    created = [ok(create(ANN, NOW + timedelta(minutes=n), name=f"Group {n}"), 201)["id"] for n in range(3)]
    first = ok(call("GET", "/groups?limit=2", email=ANN, now=NOW))
    assert len(first["items"]) == 2
    assert first["next"]
    rest = ok(call("GET", f"/groups?limit=2&next={first['next']}", email=ANN, now=NOW))
    assert sorted(g["id"] for g in first["items"] + rest["items"]) == sorted(created)
    assert rest["next"] is None or ok(call("GET", f"/groups?limit=2&next={rest['next']}", email=ANN, now=NOW))["items"] == []
    # Each is shown as a summary: the caller, not the others.
    assert {tuple(ids(g["members"])) for g in first["items"]} == {(sub(ANN),)}


def test_erasing_your_account_leaves_your_groups_to_the_others(aws) -> None:
    for email in (ANN, BOB, CAROL):
        member(email)
    group_id = ok(create(ANN), 201)["id"]
    ok(join(group_id, ANN, BOB, NOW))
    ok(join(group_id, ANN, CAROL, NOW + timedelta(hours=1)))  # Bob has been in the group longer
    solo = ok(create(ANN), 201)["id"]
    ok(invite(group_id, ANN, DEE))
    after = MEETINGS[0] + timedelta(hours=2)
    everyone = [sub(ANN), sub(BOB), sub(CAROL)]
    ok(call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/attendance", email=ANN, body={"attended": everyone}, now=after))
    assert call("DELETE", "/members/me", email=ANN, now=after).status == 204
    seen = group(group_id, BOB, after)
    assert {m["name"]: m["role"] for m in seen["members"] if m["state"] == "active"} == {"Bob": "convener", "Carol": "member"}
    assert sub(ANN) not in str(seen)
    [held] = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=1", email=BOB, now=after))["items"]
    assert held["former_members_attended"] == 1
    assert sorted(ids(held["attended"])) == sorted([sub(BOB), sub(CAROL)])
    member(ANN)  # a new account under the same address finds neither group
    assert ok(call("GET", "/groups", email=ANN, now=after))["items"] == []
    assert_problem(call("GET", f"/groups/{solo}", email=BOB, now=after), 404)
