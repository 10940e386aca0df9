"""GET /members/me/support and GET /members/me/log.csv on a known history, through the deployed handler on moto."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from shared.adapters.models import GroupMember, PactView
from tests.helpers import call, member, pact
from tests.integration.group_harness import group_of, sub

ANN, BOB, EVE = "ann@example.org", "bob@example.org", "eve@example.org"
START = datetime(2026, 9, 1, 9, tzinfo=UTC)  # a Tuesday
NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)
MARKER = "NOTE-MARKER-7f3a9c"


def check_in(pact_id: str, at: datetime, email: str = ANN, **extra: object) -> None:
    reply = call(
        "POST", f"/pacts/{pact_id}/check-ins", email=email, body={"occurred_at": at.isoformat(), **extra}, now=at + timedelta(minutes=5)
    )
    assert reply.status in (200, 201), reply.body


def history() -> dict[str, str]:
    """Ann: a weekly pact with Bob (on track), a weekly pact with Evelyn (lapsed since November), one group.

    Check-ins with Bob: 2026-11-24 and 2026-11-17 (in the last 30 days), 2026-10-20 (in 90 days, not 30).
    Check-ins with Evelyn: 2026-10-27 (in 90 days), 2026-08-... none earlier (the pact starts in September).
    """
    member(ANN, "Ann")
    member(BOB, "Bob")
    member(EVE, "Evelyn")
    weekly = {"rhythm": {"weekday": "tuesday", "time": "08:30"}, "mode": "phone", "time_limit_minutes": 30}
    bob = pact(ANN, BOB, now=START, **weekly)["id"]
    eve = pact(ANN, EVE, now=START, **{**weekly, "mode": "video"})["id"]
    for day in (
        datetime(2026, 10, 20, 7, 30, tzinfo=UTC),
        datetime(2026, 11, 17, 8, 30, tzinfo=UTC),
        datetime(2026, 11, 24, 8, 30, tzinfo=UTC),
    ):
        check_in(bob, day, note=f"{MARKER} about a client")
    check_in(eve, datetime(2026, 10, 27, 8, 30, tzinfo=UTC), duration_minutes=45)
    return {"bob": bob, "eve": eve}


def test_support_numbers_on_a_known_history(aws) -> None:
    pacts = history()
    reply = call("GET", "/members/me/support", email=ANN, now=NOW)
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["check_ins_30_days"] == 2
    assert body["check_ins_90_days"] == 4
    assert body["colleagues_30_days"] == 1
    assert body["meetings_attended_30_days"] == 0
    assert body["last_contact_at"] == "2026-11-24T08:30:00Z"
    assert body["days_since_last_contact"] == 7
    status = {p["colleague"]: p["status"] for p in body["pacts"]}
    assert status == {"Bob": "due", "Evelyn": "lapsed"}
    evelyn = next(p for p in body["pacts"] if p["colleague"] == "Evelyn")
    assert evelyn["id"] == pacts["eve"]
    # Evelyn's next slot after 27 October was Tuesday 3 November 08:30 UTC; plus two days' grace.
    assert evelyn["lapsed_since"] == "2026-11-05T08:30:00Z"
    # Establishment as the pacts themselves say it: Evelyn's lapsed (none kept in a row), Bob's two Tuesdays in a row
    assert evelyn["establishment"] == {"state": "establishing", "kept": 0, "of": 6}
    with_bob = next(p for p in body["pacts"] if p["colleague"] == "Bob")
    assert with_bob["establishment"] == {"state": "establishing", "kept": 2, "of": 6}
    for item in body["pacts"]:
        assert item["establishment"] == call("GET", f"/pacts/{item['id']}", email=ANN, now=NOW).json()["establishment"]
    assert body["summary"] == "You've talked with 1 colleague this month; contact with Evelyn lapsed 3 weeks ago."
    assert MARKER not in reply.body.decode()


def test_groups_attended_of_held_since_joining(aws) -> None:
    group_id = group_of(ANN, [BOB], START)
    meetings = call("GET", f"/groups/{group_id}/meetings?limit=3", email=ANN, now=START).json()["items"]
    first, second = meetings[0], meetings[1]
    after_first = datetime.fromisoformat(first["ends_at"].replace("Z", "+00:00")) + timedelta(hours=1)
    after_second = datetime.fromisoformat(second["ends_at"].replace("Z", "+00:00")) + timedelta(hours=1)
    both = {"attended": [sub(ANN), sub(BOB)], "presented": []}
    assert call("POST", f"/groups/{group_id}/meetings/{first['id']}/attendance", email=ANN, body=both, now=after_first).status == 200
    only_ann = {"attended": [sub(ANN)], "presented": []}
    assert call("POST", f"/groups/{group_id}/meetings/{second['id']}/attendance", email=ANN, body=only_ann, now=after_second).status == 200
    # Recording the same meeting again does not count it held twice.
    assert call("POST", f"/groups/{group_id}/meetings/{second['id']}/attendance", email=ANN, body=only_ann, now=after_second).status == 200
    now = after_second + timedelta(days=2)
    bob = call("GET", "/members/me/support", email=BOB, now=now).json()
    assert bob["groups"] == [{"id": group_id, "name": "Cork peer supervision", "attended": 1, "held": 2}]
    assert bob["meetings_attended_90_days"] == 1
    ann = call("GET", "/members/me/support", email=ANN, now=now).json()
    assert ann["groups"][0]["attended"] == 2
    assert ann["groups"][0]["held"] == 2
    assert ann["meetings_attended_30_days"] == 1
    assert ann["summary"] == "You've been to 1 group meeting this month."
    assert ann["last_contact_at"] == second["starts_at"]


def test_nothing_recorded_yet(aws) -> None:
    member(ANN, "Ann")
    body = call("GET", "/members/me/support", email=ANN, now=NOW).json()
    assert body["pacts"] == []
    assert body["groups"] == []
    assert body["days_since_last_contact"] is None
    assert body["summary"] == "No contact with a colleague is recorded yet."


def test_an_invitation_not_answered_is_not_contact_that_lapsed(aws) -> None:
    # Nobody has talked on it, so nothing lapsed: the page says the invitation is waiting, then that it expired.
    member(ANN, "Ann")
    body = {"colleague": {"email": "sile@example.org", "name": "Sile"}, "rhythm": {"weekday": "tuesday", "time": "08:30"}}
    pact_id = call("POST", "/pacts", email=ANN, body=body, now=START).json()["id"]  # open until 1 October
    waiting = call("GET", "/members/me/support", email=ANN, now=START + timedelta(days=20)).json()
    assert [(p["id"], p["invitation"], p["lapsed_since"]) for p in waiting["pacts"]] == [(pact_id, "pending", None)]
    assert waiting["summary"] == "No contact with a colleague is recorded yet; Sile has not answered your invitation yet."
    expired = call("GET", "/members/me/support", email=ANN, now=NOW).json()
    assert expired["pacts"][0]["invitation"] == "expired"
    assert expired["summary"] == "No contact with a colleague is recorded yet; your invitation to Sile expired unanswered."
    # A call recorded all the same: an ordinary pact from then on, whose contact can lapse
    check_in(pact_id, datetime(2026, 10, 6, 8, 30, tzinfo=UTC))
    talked = call("GET", "/members/me/support", email=ANN, now=NOW).json()
    assert talked["pacts"][0]["invitation"] is None
    assert talked["pacts"][0]["lapsed_since"] is not None
    assert "contact with Sile lapsed" in talked["summary"]


# ------------------------------------------------------------------ the CSV log


def rows_of(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # the UTF-8 BOM: spreadsheets open it as UTF-8
    text = body.decode("utf-8-sig")
    assert "\r\n" in text
    assert "\n" not in text.replace("\r\n", "")
    return list(csv.reader(io.StringIO(text, newline="")))


def test_the_log_as_csv(aws) -> None:
    history()
    reply = call("GET", "/members/me/log.csv?from=2026-10-01&to=2026-11-30", email=ANN, now=NOW)
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "text/csv; charset=utf-8"
    assert reply.headers["content-disposition"] == 'attachment; filename="peer-support-log-2026-10-01-to-2026-11-30.csv"'
    rows = rows_of(reply.body)
    assert rows[0] == ["Date", "Time", "Kind", "With", "Mode", "Minutes"]
    # Times in Ann's zone (Dublin: summer time until 25 October).
    assert rows[1:5] == [
        ["2026-10-20", "08:30", "Check-in", "Bob", "Phone", "30"],
        ["2026-10-27", "08:30", "Check-in", "Evelyn", "Video", "45"],
        ["2026-11-17", "08:30", "Check-in", "Bob", "Phone", "30"],
        ["2026-11-24", "08:30", "Check-in", "Bob", "Phone", "30"],
    ]
    assert rows[5] == []
    assert rows[6:] == [
        ["Month", "Check-ins", "Group meetings", "Minutes"],
        ["2026-10", "2", "0", "75"],
        ["2026-11", "2", "0", "60"],
        ["Total", "4", "0", "135"],
    ]
    assert MARKER.encode() not in reply.body
    narrower = rows_of(call("GET", "/members/me/log.csv?from=2026-11-20&to=2026-11-30", email=ANN, now=NOW).body)
    assert [r[0] for r in narrower[1:2]] == ["2026-11-24"]


def test_a_name_shaped_like_a_formula_is_neutralised(aws) -> None:
    member(ANN, "Ann")
    evil = "=cmd|' /C calc'!A0"
    created = pact(ANN, {"name": evil, "phone": "+353851111111"}, now=START)
    check_in(created["id"], datetime(2026, 11, 10, 9, tzinfo=UTC))
    rows = rows_of(call("GET", "/members/me/log.csv?from=2026-11-01&to=2026-11-30", email=ANN, now=NOW).body)
    assert rows[1][3] == "'" + evil
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_group_meetings_in_the_log(aws) -> None:
    group_id = group_of(ANN, [BOB], START)
    first = call("GET", f"/groups/{group_id}/meetings?limit=1", email=ANN, now=START).json()["items"][0]
    after = datetime.fromisoformat(first["ends_at"].replace("Z", "+00:00")) + timedelta(hours=1)
    body = {"attended": [sub(ANN), sub(BOB)], "presented": [sub(BOB)]}
    assert call("POST", f"/groups/{group_id}/meetings/{first['id']}/attendance", email=ANN, body=body, now=after).status == 200
    rows = rows_of(call("GET", "/members/me/log.csv?from=2026-12-01&to=2026-12-31", email=BOB, now=after + timedelta(days=1)).body)
    assert rows[1][0] == first["starts_at"][:10]
    assert rows[1][2:] == ["Group meeting", "Cork peer supervision", "In person", "120"]
    assert rows[-1] == ["Total", "0", "1", "120"]


def test_bad_ranges_are_422_problems(aws) -> None:
    member(ANN, "Ann")
    for query in ("from=2026-11-30&to=2026-11-01", "from=2020-01-01&to=2026-11-01", "from=2026-13-01", "to=yesterday", "from=2026-1-1"):
        reply = call("GET", f"/members/me/log.csv?{query}", email=ANN, now=NOW)
        assert reply.status == 422, (query, reply.body)
        assert reply.headers["content-type"] == "application/problem+json"
        assert reply.json()["errors"][0]["field"] in ("from", "to")


def test_the_openapi_document_says_text_csv(aws) -> None:
    spec = call("GET", "/openapi.json", email=None).json()
    ok = spec["paths"]["/members/me/log.csv"]["get"]["responses"]["200"]
    assert list(ok["content"]) == ["text/csv"]
    assert "/members/me/support" in spec["paths"]


def test_views_and_memberships_exist_as_the_models_say(aws) -> None:
    """The support read relies on these: a pact view and a membership on gsi1 under MEMBER#<sub>."""
    group_id = group_of(ANN, [BOB], START)
    history_pacts = pact(ANN, {"name": "Dee", "phone": "+353851111111"}, now=START)
    assert PactView.get(*PactView.key(history_pacts["id"], sub(ANN))).gsi1pk == f"MEMBER#{sub(ANN)}"
    assert GroupMember.get(*GroupMember.key(group_id, sub(BOB))).meetings_held == 0


def test_the_log_ends_today_in_my_own_zone_and_its_edges_are_4xx(aws) -> None:
    # GIVEN two colleagues in Auckland who talked at 07:30 on 2 December, their time (18:30 UTC on the 1st)
    member(ANN, "Ann", time_zone="Pacific/Auckland")
    member(BOB, "Bob", time_zone="Pacific/Auckland")
    created = pact(ANN, BOB, now=NOW - timedelta(days=30), rhythm={"every_days": 7})
    talked, now = datetime(2026, 12, 1, 18, 30, tzinfo=UTC), datetime(2026, 12, 1, 19, 0, tzinfo=UTC)
    assert call("POST", f"/pacts/{created['id']}/check-ins", email=ANN, body={"occurred_at": talked.isoformat()}, now=now).status == 201
    # WHEN Ann asks for her log without a range, THEN today's call is in it, dated in her zone
    log = call("GET", "/members/me/log.csv", email=ANN, now=now)
    assert log.status == 200
    assert "2026-12-02,07:30,Check-in,Bob" in log.body.decode("utf-8-sig")
    # AND dates at the edges of the calendar are a 422 naming the field, not an error of ours
    for query, field in (("from=0001-01-01&to=2026-01-05", "from"), ("from=2026-12-01&to=9999-12-31", "to"), ("to=0001-06-01", "to")):
        reply = call("GET", f"/members/me/log.csv?{query}", email=ANN, now=now)
        assert reply.status == 422, (query, reply.body)
        assert reply.json()["field"] == field


def test_two_colleagues_with_the_same_name_are_two_people(aws) -> None:
    # GIVEN Ann talked this month with two different colleagues who are both called Sarah
    member(ANN, "Ann")
    sarahs = ["sarah.one@example.org", "sarah.two@example.org"]
    for email in sarahs:
        member(email, "Sarah")
        made = pact(ANN, email, now=NOW - timedelta(days=20), rhythm={"every_days": 7})
        at = NOW - timedelta(days=2)
        assert call("POST", f"/pacts/{made['id']}/check-ins", email=ANN, body={"occurred_at": at.isoformat()}, now=NOW).status == 201
    # THEN her support counts two colleagues, in numbers and in words
    body = call("GET", "/members/me/support", email=ANN, now=NOW).json()
    assert body["colleagues_30_days"] == 2
    assert body["summary"].startswith("You've talked with 2 colleagues this month")
