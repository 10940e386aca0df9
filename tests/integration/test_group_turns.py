"""Turns in a group: hosting in rotation, fair speaking time, attendance, the scheduler that fixes a meeting, and read costs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.helpers import call, member
from tests.integration.group_harness import group_of, sub
from tests.integration.group_steps import (
    ANN,
    BOB,
    CAROL,
    DEE,
    EVE,
    FRAN,
    MEETINGS,
    NOW,
    RHYTHM,
    assert_problem,
    group,
    ids,
    meeting,
    mid,
    ok,
    sweep,
    upcoming,
    week_before,
)
from tests.integration.invite_harness import of_kind

VENUES = ["Ann's rooms", "Bob's practice", "Carol's office"]
FIVE = [BOB, CAROL, DEE, EVE]  # with Ann, who convenes


def decide(group_id: str, start: datetime, action: str, email: str, body: Any = None, now: datetime = NOW) -> dict[str, Any]:
    found: dict[str, Any] = ok(call("POST", f"/groups/{group_id}/meetings/{mid(start)}/{action}", email=email, body=body, now=now))
    return found


def hosted_rotation() -> str:
    """Ann, Bob and Carol host in turn, each at their own place (the hosts are added once they have joined)."""
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM, where={"kind": "rotation", "stops": [{"venue": v} for v in VENUES]})
    stops = [{"venue": v, "host": sub(e)} for v, e in zip(VENUES, (ANN, BOB, CAROL), strict=True)]
    patched = ok(call("PATCH", f"/groups/{group_id}", email=ANN, body={"where": {"kind": "rotation", "stops": stops}}, now=NOW))
    assert [(s["venue"], s["host"]["name"]) for s in patched["where"]["stops"]] == list(zip(VENUES, ["Ann", "Bob", "Carol"], strict=True))
    return group_id


def hosts(items: list[dict[str, Any]]) -> list[str]:
    return [m["host"]["name"] if m["host"] else "-" for m in items]


def case_presenters(item: dict[str, Any]) -> list[str]:
    return [a["presenter"]["member_id"] for a in item["agenda"] if a["kind"] == "case" and a["presenter"]]


# ------------------------------------------------------------------ rotation


def test_a_host_must_have_joined_the_group(aws) -> None:
    for email in (ANN, BOB):
        member(email)
    stops = [{"venue": "Ann's rooms", "host": sub(ANN)}, {"venue": "Bob's practice", "host": sub(BOB)}]
    body = {
        "name": "Hosts",
        "rhythm": RHYTHM,
        "duration_minutes": 120,
        "where": {"kind": "rotation", "stops": stops},
    }
    problem = assert_problem(call("POST", "/groups", email=ANN, body=body, now=NOW), 422)
    assert problem["field"] == "where.stops[1].host"
    assert "member of the group" in problem["detail"]


def test_a_host_who_cannot_come_is_skipped_and_hosts_the_next_meeting_instead(aws) -> None:
    group_id = hosted_rotation()
    planned = upcoming(group_id, CAROL, limit=4)
    assert hosts(planned) == ["Ann", "Bob", "Carol", "Ann"]
    assert [m["venue"] for m in planned] == [*VENUES, VENUES[0]]
    said = decide(group_id, MEETINGS[1], "rsvp", BOB, {"answer": "no"})
    assert (said["my_rsvp"], said["rsvps"]["no"], said["host"]["name"]) == ("no", 1, "Carol")
    planned = upcoming(group_id, CAROL, limit=4)
    assert hosts(planned) == ["Ann", "Carol", "Bob", "Ann"]
    assert [m["venue"] for m in planned] == [VENUES[0], VENUES[2], VENUES[1], VENUES[0]]
    assert sub(BOB) not in ids(planned[1]["presenters"])


def test_the_rotation_stays_fair_once_the_scheduler_fixes_the_meetings(aws) -> None:
    group_id = hosted_rotation()
    decide(group_id, MEETINGS[1], "rsvp", BOB, {"answer": "no"})
    projected = hosts(upcoming(group_id, ANN, limit=6))
    fixed = []
    for start in MEETINGS:
        sweep(week_before(start))
        found = meeting(group_id, start, ANN, week_before(start))
        assert found["status"] == "scheduled"
        fixed.append(found)
    assert hosts(fixed) == projected == ["Ann", "Carol", "Bob", "Ann", "Bob", "Carol"]
    assert Counter(hosts(fixed)) == {"Ann": 2, "Bob": 2, "Carol": 2}
    assert [m["venue"] for m in fixed] == [VENUES[i] for i in (0, 2, 1, 0, 1, 2)]


def test_a_host_who_leaves_is_not_named_by_id_in_the_meetings_they_hosted(aws) -> None:
    group_id = hosted_rotation()
    for start in MEETINGS[:2]:
        sweep(week_before(start))
        decide(group_id, start, "attendance", ANN, {"attended": [sub(ANN), sub(BOB), sub(CAROL)]}, start + timedelta(hours=2))
    now = MEETINGS[1] + timedelta(days=1)
    assert call("DELETE", f"/groups/{group_id}/members/me", email=BOB, now=now).status == 204
    [hosted_by_bob] = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=1", email=ANN, now=now))["items"]
    assert (hosted_by_bob["id"], hosted_by_bob["venue"], hosted_by_bob["former_members_attended"]) == (mid(MEETINGS[1]), VENUES[1], 1)
    assert sub(BOB) not in str(hosted_by_bob)


def test_a_host_who_says_no_within_the_last_week_is_not_still_named_as_host(aws) -> None:
    group_id = hosted_rotation()
    sweep(week_before(MEETINGS[0]))
    sweep(week_before(MEETINGS[1]))  # fixed: Bob hosts
    now = week_before(MEETINGS[1]) + timedelta(hours=1)
    said = decide(group_id, MEETINGS[1], "rsvp", BOB, {"answer": "no"}, now)
    assert said["my_rsvp"] == "no"
    assert said["host"] is None or said["host"]["member_id"] != sub(BOB)


# ------------------------------------------------------------------ fair speaking time


def test_presenters_are_named_in_the_agenda_and_go_round(aws) -> None:
    group_id = group_of(ANN, FIVE, NOW, rhythm=RHYTHM, format={"preset": "case_slots", "case_slots": 2})
    planned = upcoming(group_id, BOB, limit=3)
    for item in planned:
        assert len(item["presenters"]) == 2
        assert case_presenters(item) == ids(item["presenters"])
        mine = [a for a in item["agenda"] if a["mine"]]
        assert all(a["presenter"]["member_id"] == sub(BOB) for a in mine)
        assert bool(mine) == (sub(BOB) in ids(item["presenters"]))
    everyone = Counter(p for item in planned for p in ids(item["presenters"]))
    assert set(everyone) == {sub(e) for e in [ANN, *FIVE]}  # six turns, five members: everyone at least once
    assert max(everyone.values()) == 2


def test_saying_no_requesting_and_giving_back_a_slot_move_the_presenters(aws) -> None:
    group_id = group_of(ANN, FIVE, NOW, rhythm=RHYTHM, format={"preset": "case_slots", "case_slots": 2})
    first = upcoming(group_id, ANN, limit=1)[0]
    away, other = first["presenters"][0]["member_id"], first["presenters"][1]["member_id"]
    email = {sub(e): e for e in [ANN, *FIVE]}
    # Whoever says no does not present at that meeting.
    said = decide(group_id, MEETINGS[0], "rsvp", email[away], {"answer": "no"})
    assert away not in ids(said["presenters"])
    assert len(said["presenters"]) == 2
    assert (said["my_rsvp"], said["rsvps"]) == ("no", {"yes": 0, "no": 1, "maybe": 0})
    # Someone not presenting asks for a slot and goes first.
    asker = next(s for s in email if s not in ids(said["presenters"]) and s != away)
    asked = decide(group_id, MEETINGS[0], "slot-requests", email[asker])
    assert ids(asked["presenters"])[0] == asker
    assert asked["slot_requested"] is True
    assert meeting(group_id, MEETINGS[0], email[other])["slot_requested"] is False
    # A presenter gives the slot back and is no longer presenting.
    giver = ids(asked["presenters"])[1]
    gave = decide(group_id, MEETINGS[0], "give-back", email[giver])
    assert giver not in ids(gave["presenters"])
    assert ids(gave["presenters"])[0] == asker
    assert away not in ids(gave["presenters"])
    assert case_presenters(gave) == ids(gave["presenters"])


def test_a_fixed_presenter_who_says_no_is_replaced_by_the_next_in_turn(aws) -> None:
    group_id = group_of(ANN, FIVE, NOW, rhythm=RHYTHM, format={"preset": "case_slots", "case_slots": 2})
    sweep(week_before(MEETINGS[0]))
    fixed = meeting(group_id, MEETINGS[0], ANN)
    assert fixed["status"] == "scheduled"
    email = {sub(e): e for e in [ANN, *FIVE]}
    away = fixed["presenters"][0]["member_id"]
    said = decide(group_id, MEETINGS[0], "rsvp", email[away], {"answer": "no"})
    assert away not in ids(said["presenters"])
    assert len(said["presenters"]) == 2
    tally = {m["member_id"]: m["presented"] for m in group(group_id, ANN)["members"]}
    assert tally[away] == 0
    assert sorted(s for s, n in tally.items() if n == 1) == sorted(ids(said["presenters"]))


def test_over_six_monthly_meetings_of_five_members_with_two_slots_everyone_presents_two_or_three_times(aws) -> None:
    group_id = group_of(ANN, FIVE, NOW, rhythm=RHYTHM, format={"preset": "case_slots", "case_slots": 2})
    everyone = [sub(e) for e in [ANN, *FIVE]]
    for start in MEETINGS:
        sweep(week_before(start))
        fixed = meeting(group_id, start, ANN, week_before(start))
        assert fixed["status"] == "scheduled"
        assert len(fixed["presenters"]) == 2
        held = decide(
            group_id, start, "attendance", ANN, {"attended": everyone, "presented": ids(fixed["presenters"])}, start + timedelta(hours=2)
        )
        assert held["status"] == "held"
    tally = {m["member_id"]: m["presented"] for m in group(group_id, ANN, MEETINGS[-1] + timedelta(days=1))["members"]}
    assert sorted(tally) == sorted(everyone)
    assert set(tally.values()) <= {2, 3}
    assert sum(tally.values()) == 12
    held_past = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=6", email=BOB, now=MEETINGS[-1] + timedelta(days=1)))["items"]
    assert [m["status"] for m in held_past] == ["held"] * 6
    assert Counter(p for m in held_past for p in ids(m["presenters"])) == tally


# ------------------------------------------------------------------ attendance


def test_the_meetings_host_may_record_attendance_and_other_members_may_not(aws) -> None:
    group_id = hosted_rotation()  # Ann hosts the first meeting, Bob the second
    for start in MEETINGS[:2]:
        sweep(week_before(start))
    after = MEETINGS[1] + timedelta(hours=2)
    body = {"attended": [sub(ANN), sub(BOB), sub(CAROL)], "presented": [sub(CAROL)]}
    assert_problem(call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[1])}/attendance", email=CAROL, body=body, now=after), 403)
    first_after = MEETINGS[0] + timedelta(hours=2)
    assert_problem(call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/attendance", email=BOB, body=body, now=first_after), 403)
    held = decide(group_id, MEETINGS[1], "attendance", BOB, body, after)
    assert (held["status"], held["host"]["name"]) == ("held", "Bob")
    assert sorted(ids(held["attended"])) == sorted([sub(ANN), sub(BOB), sub(CAROL)])
    first = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=2", email=ANN, now=after))["items"][1]
    assert (first["id"], first["status"]) == (mid(MEETINGS[0]), "scheduled")  # nobody recorded the first


def test_a_past_meeting_in_the_list_can_be_read_by_its_id(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    decide(group_id, MEETINGS[0], "attendance", ANN, {"attended": [sub(ANN), sub(BOB)]}, MEETINGS[0] + timedelta(hours=2))
    later = MEETINGS[2] + timedelta(days=1)
    listed = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=3", email=BOB, now=later))["items"]
    assert [m["id"] for m in listed] == [mid(s) for s in reversed(MEETINGS[:3])]
    assert meeting(group_id, MEETINGS[0], BOB, later) == listed[-1]


def test_attendance_waits_for_the_meeting_and_names_anyone_who_is_not_a_member(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    member(FRAN)
    path = f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/attendance"
    assert_problem(call("POST", path, email=ANN, body={"attended": [sub(ANN)]}, now=MEETINGS[0] - timedelta(minutes=1)), 409)
    after = MEETINGS[0] + timedelta(hours=2)
    unknown = assert_problem(call("POST", path, email=ANN, body={"attended": [sub(ANN), "nobody-at-all"]}, now=after), 422)
    assert unknown["field"] == "attended"
    assert "nobody-at-all" in unknown["detail"]
    outsider = assert_problem(call("POST", path, email=ANN, body={"attended": [sub(ANN)], "presented": [sub(FRAN)]}, now=after), 422)
    assert outsider["field"] == "presented"
    assert sub(FRAN) in outsider["detail"]
    assert meeting(group_id, MEETINGS[0], ANN, after)["status"] == "planned"
    assert ok(call("GET", "/members/me/meetings", email=ANN, now=after))["items"] == []
    decide(group_id, MEETINGS[1], "cancel", ANN)
    assert_problem(
        call(
            "POST",
            f"/groups/{group_id}/meetings/{mid(MEETINGS[1])}/attendance",
            email=ANN,
            body={"attended": []},
            now=MEETINGS[1] + timedelta(hours=2),
        ),
        409,
    )


def test_conveners_see_who_missed_meetings_in_a_row(aws) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    for start in MEETINGS[:2]:
        decide(group_id, start, "attendance", ANN, {"attended": [sub(ANN), sub(BOB)]}, start + timedelta(hours=2))
    later = MEETINGS[1] + timedelta(days=1)
    seen = {m["name"]: (m["attended"], m["missed_in_a_row"]) for m in group(group_id, ANN, later)["members"]}
    assert seen == {"Ann": (2, 0), "Bob": (2, 0), "Carol": (0, 2)}
    assert {(m["attended"], m["missed_in_a_row"]) for m in group(group_id, BOB, later)["members"]} == {(None, None)}
    decide(group_id, MEETINGS[2], "attendance", ANN, {"attended": [sub(CAROL)]}, MEETINGS[2] + timedelta(hours=2))
    seen = {m["name"]: m["missed_in_a_row"] for m in group(group_id, ANN, MEETINGS[2] + timedelta(days=1))["members"]}
    assert seen == {"Ann": 1, "Bob": 1, "Carol": 0}


def test_a_member_who_leaves_leaves_future_meetings_and_becomes_a_count_in_past_ones(aws) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)  # three case slots: everyone presents
    everyone = [sub(ANN), sub(BOB), sub(CAROL)]
    decide(group_id, MEETINGS[0], "attendance", ANN, {"attended": everyone, "presented": [sub(CAROL)]}, MEETINGS[0] + timedelta(hours=2))
    sweep(week_before(MEETINGS[1]))  # the next meeting is fixed, Carol presenting
    assert sub(CAROL) in ids(meeting(group_id, MEETINGS[1], ANN, week_before(MEETINGS[1]))["presenters"])
    left_at = week_before(MEETINGS[1]) + timedelta(hours=1)
    assert call("DELETE", f"/groups/{group_id}/members/me", email=CAROL, now=left_at).status == 204
    for item in upcoming(group_id, ANN, left_at, limit=3):
        assert sub(CAROL) not in ids(item["presenters"])
        assert sub(CAROL) not in case_presenters(item)
        assert "Carol" not in str(item)
    [held] = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=1", email=BOB, now=left_at))["items"]
    assert held["former_members_attended"] == 1
    assert sorted(ids(held["attended"])) == sorted([sub(ANN), sub(BOB)])
    assert held["presenters"] == []
    assert "Carol" not in str(held)
    assert sorted(m["name"] for m in group(group_id, ANN, left_at)["members"]) == ["Ann", "Bob"]
    # Her own record of what she attended is hers to keep.
    assert [m["meeting_id"] for m in ok(call("GET", "/members/me/meetings", email=CAROL, now=left_at))["items"]] == [mid(MEETINGS[0])]


def test_a_former_members_id_is_not_left_in_a_past_meetings_roles(aws) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    everyone = {sub(e): e for e in (ANN, BOB, CAROL)}
    sweep(week_before(MEETINGS[0]))
    fixed = meeting(group_id, MEETINGS[0], ANN, week_before(MEETINGS[0]))
    [keeper] = [r["member_id"] for r in fixed["roles"].values()]  # the timekeeper
    decide(group_id, MEETINGS[0], "attendance", ANN, {"attended": list(everyone)}, MEETINGS[0] + timedelta(hours=2))
    left_at = MEETINGS[0] + timedelta(days=1)
    assert call("DELETE", f"/groups/{group_id}/members/me", email=everyone[keeper], now=left_at).status == 204
    stays = next(e for s, e in everyone.items() if s != keeper)
    [held] = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=1", email=stays, now=left_at))["items"]
    assert held["former_members_attended"] == 1
    assert keeper not in str(held)


def test_a_host_who_leaves_does_not_change_where_other_meetings_were_or_will_be(aws) -> None:
    group_id = hosted_rotation()
    for start in MEETINGS[:3]:
        sweep(week_before(start))
    for start in MEETINGS[:2]:
        decide(group_id, start, "attendance", ANN, {"attended": [sub(ANN), sub(BOB), sub(CAROL)]}, start + timedelta(hours=2))
    now = week_before(MEETINGS[2]) + timedelta(hours=1)

    def seen() -> list[dict[str, Any]]:
        held = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=2", email=ANN, now=now))["items"]
        return [*reversed(held), *upcoming(group_id, ANN, now, limit=1)]

    assert [(m["venue"], m["host"]["name"]) for m in seen()] == list(zip(VENUES, ["Ann", "Bob", "Carol"], strict=True))
    assert call("DELETE", f"/groups/{group_id}/members/me", email=BOB, now=now).status == 204
    after = seen()
    assert [m["id"] for m in after] == [mid(s) for s in MEETINGS[:3]]
    assert [m["venue"] for m in after] == VENUES  # held at Ann's and Bob's; Carol's next
    assert after[2]["host"]["name"] == "Carol"


def test_a_shorter_rotation_after_a_meeting_was_fixed_is_still_readable(aws) -> None:
    group_id = hosted_rotation()
    for start in MEETINGS[:3]:
        sweep(week_before(start))  # the third meeting is fixed at the third stop (Carol's)
    now = week_before(MEETINGS[2]) + timedelta(hours=1)
    two = {"kind": "rotation", "stops": [{"venue": VENUES[0], "host": sub(ANN)}, {"venue": VENUES[1], "host": sub(BOB)}]}
    ok(call("PATCH", f"/groups/{group_id}", email=ANN, body={"where": two}, now=now))
    reply = call("GET", f"/groups/{group_id}/meetings?limit=2", email=ANN, now=now)
    assert reply.status == 200, reply.body
    assert reply.json()["items"][0]["id"] == mid(MEETINGS[2])


# ------------------------------------------------------------------ the scheduler


def test_the_scheduler_run_twice_at_one_instant_fixes_one_meeting_and_says_so_once(aws, bus_events) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    projected = upcoming(group_id, ANN, limit=1)[0]
    bus_events()  # what creating and joining published
    at = week_before(MEETINGS[0])
    first, second = sweep(at), sweep(at)
    assert (first.scheduled, second.scheduled) == (1, 0)
    meetings = of_kind(aws, "meeting")
    assert len(meetings) == 1
    assert meetings[0]["sk"]["S"].startswith("MEETING#2026-09-08T18:00")
    scheduled = [e for e in bus_events() if e["detail-type"] == "MeetingScheduled"]
    assert [(e["detail"]["group_id"], e["detail"]["meeting_id"]) for e in scheduled] == [(group_id, mid(MEETINGS[0]))]
    fixed = meeting(group_id, MEETINGS[0], ANN, at)
    assert fixed["status"] == "scheduled"
    assert (fixed["presenters"], fixed["roles"]) == (projected["presenters"], projected["roles"])
    # A day earlier nothing was due; the next meeting's turn comes a week before it.
    assert sweep(at + timedelta(days=1)).scheduled == 0
    assert sweep(week_before(MEETINGS[1])).scheduled == 1
    assert len(of_kind(aws, "meeting")) == 2


def test_the_scheduler_before_a_meeting_is_a_week_away_fixes_nothing(aws, bus_events) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    assert sweep(week_before(MEETINGS[0]) - timedelta(minutes=1)).scheduled == 0
    assert of_kind(aws, "meeting") == []
    assert upcoming(group_id, ANN, limit=1)[0]["status"] == "planned"


# ------------------------------------------------------------------ what reading costs


@pytest.mark.parametrize(
    "route",
    ["/groups", "/groups/{g}", "/groups/{g}/meetings?limit=3", "/groups/{g}/meetings?when=past&limit=3", "/groups/{g}/meetings/{m}"],
)
def test_reading_groups_and_meetings_costs_at_most_three_dynamodb_calls_and_no_scan(aws, aws_calls: Counter[str], route: str) -> None:
    group_id = group_of(ANN, [BOB, CAROL, DEE], NOW, rhythm=RHYTHM)
    group_of(ANN, [BOB], NOW, rhythm=RHYTHM)  # a second group in Ann's list
    for start in MEETINGS[:3]:
        sweep(week_before(start))
        decide(group_id, start, "attendance", ANN, {"attended": [sub(ANN), sub(BOB)]}, start + timedelta(hours=2))
    now = MEETINGS[2] + timedelta(days=1)
    decide(group_id, MEETINGS[3], "rsvp", BOB, {"answer": "no"}, now)
    decide(group_id, MEETINGS[4], "cancel", ANN, None, now)
    call("POST", f"/groups/{group_id}/invitations", email=ANN, body={"email": "zed@example.org"}, now=now)
    aws_calls.clear()
    reply = call("GET", route.format(g=group_id, m=mid(MEETINGS[3])), email=ANN, now=now)
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body.get("items", [body])  # it found something to show
    dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
    assert "dynamodb.Scan" not in dynamodb
    assert sum(dynamodb.values()) <= 3, dynamodb


def test_reading_a_long_past_costs_no_more(aws, aws_calls: Counter[str]) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    much_later = datetime(2031, 6, 1, tzinfo=UTC)
    aws_calls.clear()
    page = ok(call("GET", f"/groups/{group_id}/meetings?when=past&limit=5", email=ANN, now=much_later))
    assert [m["starts_at"][:7] for m in page["items"]] == ["2031-05", "2031-04", "2031-03", "2031-02", "2031-01"]
    dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
    assert sum(dynamodb.values()) <= 3, dynamodb
