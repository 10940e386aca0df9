"""Away mode and groups: a member away on a meeting's date presents nothing and hosts nothing; the rotation comes back to them."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.helpers import call
from tests.integration.group_harness import group_of, sub

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ANN, BOB, CARA = "ann@example.org", "bob@example.org", "cara@example.org"


def test_a_host_away_on_a_meeting_date_is_skipped_and_hosts_the_next_one(aws) -> None:
    # GIVEN a monthly group rotating between the three members' rooms, in that order
    group = group_of(ANN, [BOB, CARA], NOW)
    stops = [{"venue": f"{n}'s rooms", "host": sub(e)} for n, e in (("Ann", ANN), ("Bob", BOB), ("Cara", CARA))]
    patched = call("PATCH", f"/groups/{group}", email=ANN, body={"where": {"kind": "rotation", "stops": stops}}, now=NOW)
    assert patched.status == 200, patched.body
    hosts = [m["host"]["name"] for m in call("GET", f"/groups/{group}/meetings?limit=4", email=CARA, now=NOW).json()["items"]]
    assert hosts == ["Ann", "Bob", "Cara", "Ann"]
    # WHEN Bob is away over the second meeting (12 January 2027)
    away = call("PUT", "/members/me/away", email=BOB, body={"until": "2027-01-20"}, now=NOW)
    assert away.status == 200, away.body
    # THEN Cara hosts it, Bob hosts the one after (his turn is kept), and the rotation goes on
    meetings = call("GET", f"/groups/{group}/meetings?limit=4", email=CARA, now=NOW).json()["items"]
    assert [m["host"]["name"] for m in meetings] == ["Ann", "Cara", "Bob", "Ann"]
    assert [m["venue"] for m in meetings] == ["Ann's rooms", "Cara's rooms", "Bob's rooms", "Ann's rooms"]
    # and he presents nothing and holds no role at the meeting he is away for
    second = meetings[1]
    assert sub(BOB) not in [p["member_id"] for p in second["presenters"]]
    assert sub(BOB) not in [r["member_id"] for r in second["roles"].values()]
    assert [i["presenter"]["name"] for i in second["agenda"] if i["kind"] == "case" and i["presenter"]]


def test_the_group_lists_cost_what_the_bench_says(aws, aws_calls) -> None:
    group = group_of(ANN, [BOB], NOW)
    for path, most in ((f"/groups/{group}", 2), (f"/groups/{group}/meetings?limit=3", 2), ("/groups", 2)):
        aws_calls.clear()
        assert call("GET", path, email=BOB, now=NOW).status == 200
        ddb = {k: v for k, v in aws_calls.items() if k.startswith("dynamodb.")}
        assert sum(ddb.values()) <= most, (path, ddb)
        assert "dynamodb.Scan" not in ddb


def test_two_missed_meetings_in_a_row_are_one_kind_line_in_the_next_digest(world) -> None:
    from datetime import timedelta

    from tests.helpers import pact

    # GIVEN Ann and Bob in a monthly group (8 December, 12 January) and a weekly pact
    group = group_of(ANN, [BOB], NOW)
    pact_id = pact(ANN, BOB, rhythm={"every_days": 7})["id"]
    meetings = [m["id"] for m in call("GET", f"/groups/{group}/meetings?limit=2", email=ANN, now=NOW).json()["items"]]
    # WHEN Bob misses both (Ann records attendance after each)
    for mid, after in zip(meetings, (datetime(2026, 12, 8, 22, tzinfo=UTC), datetime(2027, 1, 12, 22, tzinfo=UTC)), strict=True):
        recorded = call("POST", f"/groups/{group}/meetings/{mid}/attendance", email=ANN, body={"attended": [sub(ANN)]}, now=after)
        assert recorded.status == 200, recorded.body
    members = call("GET", f"/groups/{group}", email=ANN, now=datetime(2027, 1, 13, tzinfo=UTC)).json()["members"]
    assert {m["name"]: m["missed_in_a_row"] for m in members} == {"Ann": 0, "Bob": 2}
    # and the pact lapses afterwards (last talked on the 12th)
    call(
        "POST",
        f"/pacts/{pact_id}/check-ins",
        email=ANN,
        body={"occurred_at": "2027-01-12T08:00:00Z"},
        now=datetime(2027, 1, 13, tzinfo=UTC),
    )
    start = datetime(2027, 1, 13, 9, tzinfo=UTC)
    sent = [m for at in (start + timedelta(days=d) for d in range(0, 20)) for m in world.tick(at)[0] if m.to == BOB]
    # THEN Bob's first digest says it once, kindly; his second (the reminder) does not repeat it; Ann's never has it
    assert len(sent) == 2
    assert "missed the last two meetings of Cork peer supervision" in sent[0].text
    assert "missed the last two" not in sent[1].text
    assert all("missed the last two" not in m.text for m in world.mails(ANN))
