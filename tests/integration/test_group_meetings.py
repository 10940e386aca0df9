"""A group's meetings through the HTTP API: the series and its exceptions, and what members decide about one meeting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.helpers import call
from tests.integration.group_harness import group_of, sub
from tests.integration.group_steps import (
    ANN,
    BOB,
    CAROL,
    MEETINGS,
    NOW,
    RHYTHM,
    assert_problem,
    group,
    ids,
    meeting,
    mid,
    ok,
    upcoming,
)


def decide(group_id: str, start: datetime, action: str, email: str, body: Any = None, now: datetime = NOW) -> dict[str, Any]:
    found: dict[str, Any] = ok(call("POST", f"/groups/{group_id}/meetings/{mid(start)}/{action}", email=email, body=body, now=now))
    return found


def past(group_id: str, email: str, now: datetime, limit: int, cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    query = f"when=past&limit={limit}" + (f"&next={cursor}" if cursor else "")
    page = ok(call("GET", f"/groups/{group_id}/meetings?{query}", email=email, now=now))
    return page["items"], page["next"]


def test_the_next_three_meetings_keep_19_00_in_dublin_across_the_autumn_clock_change(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    items = upcoming(group_id, BOB, limit=3)
    assert [m["id"] for m in items] == [mid(s) for s in MEETINGS[:3]]
    assert [m["starts_at"] for m in items] == ["2026-09-08T18:00:00Z", "2026-10-13T18:00:00Z", "2026-11-10T19:00:00Z"]
    assert [m["local_start"] for m in items] == [
        "2026-09-08T19:00:00+01:00",
        "2026-10-13T19:00:00+01:00",
        "2026-11-10T19:00:00+00:00",  # after the clocks went back on 25 October: still 19:00, an hour later in UTC
    ]
    assert {m["agenda"][0]["local_time"] for m in items} == {"19:00"}
    assert [m["ends_at"] for m in items] == ["2026-09-08T20:00:00Z", "2026-10-13T20:00:00Z", "2026-11-10T21:00:00Z"]
    assert {(m["status"], m["time_zone"], m["original_start"] == m["starts_at"]) for m in items} == {("planned", "Europe/Dublin", True)}
    # The page goes on from there.
    page = ok(call("GET", f"/groups/{group_id}/meetings?limit=3", email=BOB, now=NOW))
    more = ok(call("GET", f"/groups/{group_id}/meetings?limit=3&next={page['next']}", email=BOB, now=NOW))["items"]
    assert [m["id"] for m in more] == [mid(s) for s in MEETINGS[3:6]]


def test_cancelling_one_meeting_leaves_the_others_as_they_were(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    before = upcoming(group_id, BOB)
    cancelled = decide(group_id, MEETINGS[1], "cancel", ANN, {"reason": "Half-term"})
    assert (cancelled["id"], cancelled["status"], cancelled["cancel_reason"]) == (mid(MEETINGS[1]), "cancelled", "Half-term")
    assert (cancelled["presenters"], cancelled["agenda"]) == ([], [])
    after = upcoming(group_id, BOB)
    assert [m["id"] for m in after] == [m["id"] for m in before]
    assert after[1]["status"] == "cancelled"
    assert [after[0], after[2]] == [before[0], before[2]]
    # The group's next meeting is still the first; a second cancel is a conflict.
    assert group(group_id, BOB)["next_meeting"] == "2026-09-08T18:00:00Z"
    assert_problem(call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[1])}/cancel", email=ANN, now=NOW), 409)


def test_the_next_meeting_skips_a_cancelled_one(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    decide(group_id, MEETINGS[0], "cancel", ANN)
    assert group(group_id, BOB)["next_meeting"] == "2026-10-13T18:00:00Z"


def test_a_rescheduled_meeting_moves_and_keeps_its_id(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    before = upcoming(group_id, BOB)
    moved = decide(group_id, MEETINGS[1], "reschedule", ANN, {"starts_at": "2026-10-15T17:30:00Z"})
    assert (moved["id"], moved["original_start"]) == (mid(MEETINGS[1]), "2026-10-13T18:00:00Z")
    assert (moved["starts_at"], moved["ends_at"], moved["local_start"]) == (
        "2026-10-15T17:30:00Z",
        "2026-10-15T19:30:00Z",
        "2026-10-15T18:30:00+01:00",
    )
    assert moved["agenda"][0]["local_time"] == "18:30"
    assert meeting(group_id, MEETINGS[1], ANN) == moved
    after = upcoming(group_id, BOB)
    assert [m["id"] for m in after] == [m["id"] for m in before]
    assert after[1]["starts_at"] == "2026-10-15T17:30:00Z"
    assert [after[0], after[2]] == [before[0], before[2]]


def test_a_meeting_cannot_move_into_the_past_or_far_from_its_date(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    path = f"/groups/{group_id}/meetings/{mid(MEETINGS[1])}/reschedule"
    assert assert_problem(call("POST", path, email=ANN, body={"starts_at": "2026-08-31T18:00:00Z"}, now=NOW), 422)["field"] == "starts_at"
    assert assert_problem(call("POST", path, email=ANN, body={"starts_at": "2027-01-05T18:00:00Z"}, now=NOW), 422)["field"] == "starts_at"
    assert_problem(call("POST", path, email=ANN, body={}, now=NOW), 422)
    assert upcoming(group_id, ANN)[1]["starts_at"] == "2026-10-13T18:00:00Z"


def test_a_one_off_venue_changes_one_meeting_only(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    changed = decide(group_id, MEETINGS[2], "reschedule", ANN, {"venue": "Room 4, Parnell Sq."})
    assert (changed["venue"], changed["starts_at"], changed["id"]) == ("Room 4, Parnell Sq.", "2026-11-10T19:00:00Z", mid(MEETINGS[2]))
    assert [m["venue"] for m in upcoming(group_id, BOB, limit=4)] == [
        "Ann's rooms, Cork",
        "Ann's rooms, Cork",
        "Room 4, Parnell Sq.",
        "Ann's rooms, Cork",
    ]
    assert group(group_id, BOB)["where"]["venue"] == "Ann's rooms, Cork"
    online = decide(group_id, MEETINGS[3], "reschedule", ANN, {"url": "https://meet.example.org/cork"})
    assert (online["url"], online["venue"]) == ("https://meet.example.org/cork", "Ann's rooms, Cork")


def test_a_meeting_that_is_not_in_the_series_is_404(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    for meeting_id in ("20260909T180000Z", "not-a-meeting", mid(MEETINGS[0] - timedelta(days=28))):
        assert_problem(call("GET", f"/groups/{group_id}/meetings/{meeting_id}", email=BOB, now=NOW), 404)
        assert_problem(call("POST", f"/groups/{group_id}/meetings/{meeting_id}/rsvp", email=BOB, body={"answer": "yes"}, now=NOW), 404)


def test_the_past_is_paged_newest_first(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    decide(group_id, MEETINGS[1], "reschedule", ANN, {"starts_at": "2026-10-15T17:30:00Z"})
    decide(group_id, MEETINGS[3], "cancel", ANN)
    later = datetime(2027, 3, 1, 9, tzinfo=UTC)  # six meetings have been, 8 Sep 2026 to 9 Feb 2027
    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        items, cursor = past(group_id, BOB, later, 2, cursor)
        seen.extend(items)
        pages += 1
        assert len(items) <= 2
        if cursor is None:
            break
        assert pages < 10
    assert [m["id"] for m in seen] == [mid(s) for s in reversed(MEETINGS)]
    assert [m["status"] for m in seen] == ["planned", "planned", "cancelled", "planned", "planned", "planned"]
    assert seen[4]["starts_at"] == "2026-10-15T17:30:00Z"
    assert {m["local_start"][11:16] for i, m in enumerate(seen) if i != 4} == {"19:00"}
    # A meeting under way is not past yet; once it is over it is.
    during = MEETINGS[0] + timedelta(hours=1)
    assert past(group_id, BOB, during, 5) == ([], None)
    assert [m["id"] for m in past(group_id, BOB, MEETINGS[0] + timedelta(hours=2), 5)[0]] == [mid(MEETINGS[0])]
    assert [m["id"] for m in upcoming(group_id, BOB, during, 1)] == [mid(MEETINGS[0])]


def test_a_cursor_from_elsewhere_is_refused(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    page = ok(call("GET", f"/groups/{group_id}/meetings?limit=1", email=BOB, now=NOW))
    assert_problem(call("GET", f"/groups/{group_id}/meetings?when=past&next={page['next']}", email=BOB, now=NOW), 422)
    assert_problem(call("GET", f"/groups/{group_id}/meetings?next=bm9wZQ", email=BOB, now=NOW), 422)


def test_my_meetings_lists_the_meetings_i_attended(aws) -> None:
    group_id = group_of(ANN, [BOB, CAROL], NOW, rhythm=RHYTHM)
    first_after = MEETINGS[0] + timedelta(hours=2)
    # Recorded that Carol came and Bob presented; then corrected: Carol was not there after all.
    decide(group_id, MEETINGS[0], "attendance", ANN, {"attended": [sub(ANN), sub(CAROL)], "presented": [sub(BOB)]}, first_after)
    assert [m["meeting_id"] for m in ok(call("GET", "/members/me/meetings", email=CAROL, now=first_after))["items"]] == [mid(MEETINGS[0])]
    held = decide(group_id, MEETINGS[0], "attendance", ANN, {"attended": [sub(ANN)], "presented": [sub(BOB)]}, first_after)
    assert held["status"] == "held"
    assert sorted(ids(held["attended"])) == sorted([sub(ANN), sub(BOB)])  # a presenter came, too
    assert ok(call("GET", "/members/me/meetings", email=CAROL, now=first_after))["items"] == []
    second_after = MEETINGS[1] + timedelta(hours=2)
    decide(group_id, MEETINGS[1], "attendance", ANN, {"attended": [sub(ANN), sub(BOB)], "presented": [sub(ANN)]}, second_after)
    later = MEETINGS[1] + timedelta(days=1)
    mine = ok(call("GET", "/members/me/meetings", email=BOB, now=later))
    assert [(m["group_id"], m["group_name"], m["meeting_id"], m["presented"]) for m in mine["items"]] == [
        (group_id, "Cork peer supervision", mid(MEETINGS[1]), False),
        (group_id, "Cork peer supervision", mid(MEETINGS[0]), True),
    ]
    assert mine["items"][0]["starts_at"] == "2026-10-13T18:00:00Z"
    assert ok(call("GET", "/members/me/meetings", email=CAROL, now=later))["items"] == []
    first = ok(call("GET", "/members/me/meetings?limit=1", email=ANN, now=later))
    assert [(m["meeting_id"], m["presented"]) for m in first["items"]] == [(mid(MEETINGS[1]), True)]
    rest = ok(call("GET", f"/members/me/meetings?limit=1&next={first['next']}", email=ANN, now=later))
    assert [(m["meeting_id"], m["presented"]) for m in rest["items"]] == [(mid(MEETINGS[0]), False)]
    # Past meetings show who came, newest first.
    shown = past(group_id, BOB, later, 2)[0]
    assert [sorted(ids(m["attended"])) for m in shown] == [sorted([sub(ANN), sub(BOB)])] * 2
    assert [ids(m["presenters"]) for m in shown] == [[sub(ANN)], [sub(BOB)]]
    # Long after, a meeting's record is closed to corrections.
    closed = call("POST", f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/attendance", email=ANN, body={"attended": []}, now=later)
    assert_problem(closed, 404)


def test_a_new_rhythm_is_a_new_series_and_the_old_exceptions_go(aws) -> None:
    group_id = group_of(ANN, [BOB], NOW, rhythm=RHYTHM)
    decide(group_id, MEETINGS[1], "cancel", ANN)
    decide(group_id, MEETINGS[2], "rsvp", BOB, {"answer": "no"})
    thursdays = {"rrule": "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=8;BYMINUTE=0", "time_zone": "Europe/Dublin", "starts_on": "2026-09-01"}
    changed = ok(call("PATCH", f"/groups/{group_id}", email=ANN, body={"rhythm": thursdays}, now=NOW))
    assert changed["rhythm"] == "every other Thursday at 08:00 (Europe/Dublin)"
    assert changed["agreement"]["version"] == 2
    items = upcoming(group_id, BOB, limit=3)
    assert [m["local_start"] for m in items] == ["2026-09-03T08:00:00+01:00", "2026-09-17T08:00:00+01:00", "2026-10-01T08:00:00+01:00"]
    assert {(m["status"], m["my_rsvp"]) for m in items} == {("planned", None)}
    assert_problem(call("GET", f"/groups/{group_id}/meetings/{mid(MEETINGS[1])}", email=BOB, now=NOW), 404)
