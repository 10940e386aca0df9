"""Pacts and check-ins through the deployed handler on moto: the heart of the product."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from infra.local.auth import member_sub
from tests.helpers import DEFAULT_NOW, call, member, pact

ANN, BOB = "ann@example.org", "bob@example.org"


@pytest.fixture
def two_members(aws) -> None:
    member(ANN)
    member(BOB, time_zone="America/New_York")


def test_weekly_pact_with_a_member_invite_accept_check_in_lapse(two_members, bus_events) -> None:
    # GIVEN Ann proposes "Tuesdays 08:30, phone, 30 minutes" to Bob (a member)
    created = call("POST", "/pacts", body={"colleague": {"email": BOB}, "rhythm": {"weekday": "tuesday", "time": "08:30"}})
    assert created.status == 201
    assert created.headers["location"] == f"/pacts/{created.json()['id']}"
    pact_id = created.json()["id"]
    assert created.json()["next_due_at"] == "2026-12-08T08:30:00Z"  # Dublin is UTC+0 in December
    invited = call("GET", "/pacts", email=BOB).json()["items"]
    assert [(p["id"], p["state"], p["role"]) for p in invited] == [(pact_id, "invited", "colleague")]
    # An invited colleague cannot record yet
    assert call("POST", f"/pacts/{pact_id}/check-ins", email=BOB, body={}).status == 409
    # WHEN Bob accepts, the pact is mutual for both
    accepted = call("POST", f"/pacts/{pact_id}/accept", email=BOB)
    assert accepted.json()["state"] == "active"
    assert accepted.json()["mutual"] is True
    assert call("GET", f"/pacts/{pact_id}").json()["mutual"] is True
    assert call("POST", f"/pacts/{pact_id}/accept", email=BOB).status == 409
    # AND they talk on Tuesday 8 December
    tuesday = datetime(2026, 12, 8, 8, 45, tzinfo=UTC)
    recorded = call("POST", f"/pacts/{pact_id}/check-ins", email=BOB, body={"duration_minutes": 25}, now=tuesday)
    assert recorded.status == 201
    # THEN both see it on track, next due the following Tuesday
    for who in (ANN, BOB):
        view = call("GET", f"/pacts/{pact_id}", email=who, now=tuesday).json()
        assert view["status"] == "on_track"
        assert view["next_due_at"] == "2026-12-15T08:30:00Z"
        assert view["last_check_in_at"] == "2026-12-08T08:45:00Z"
    # AND past due + grace (2 days) it has lapsed
    assert call("GET", f"/pacts/{pact_id}", now=datetime(2026, 12, 16, 9, tzinfo=UTC)).json()["status"] == "due"
    assert call("GET", f"/pacts/{pact_id}", now=datetime(2026, 12, 17, 8, 30, tzinfo=UTC)).json()["status"] == "lapsed"
    types = [e["detail-type"] for e in bus_events()]
    # (the two sign-ups' events too: the relay reads every committed change, whenever the tap was set up)
    expected = ["MemberProfileUpdated", "MemberProfileUpdated", "PactCreated", "InvitationSent", "PactAccepted", "InvitationAccepted"]
    assert sorted(types) == sorted([*expected, "CheckInRecorded"])


def test_domain_events_carry_ids_not_personal_data(two_members, bus_events) -> None:
    created = pact(ANN, BOB)
    call("POST", f"/pacts/{created['id']}/check-ins", body={"note": "very private"})
    events = bus_events()
    text = str(events)
    for personal in ("ann@example.org", "bob@example.org", "very private", "Ann", "Bob"):
        assert personal not in text
    recorded = next(e for e in events if e["detail-type"] == "CheckInRecorded")
    assert recorded["source"] == "peer-support"
    assert recorded["detail"]["pact_id"] == created["id"]
    assert set(recorded["detail"]["member_ids"]) == {member_sub(ANN), member_sub(BOB)}


def test_pact_with_an_outside_colleague_works_one_sided(aws) -> None:
    member(ANN)
    created = call("POST", "/pacts", body={"colleague": {"name": "Jennifer", "phone": "+353 85 765 4321"}, "mode": "in_person"})
    assert created.status == 201
    body = created.json()
    assert body["colleague"] == {"member_id": None, "name": "Jennifer", "email": None, "phone": "+353857654321"}
    assert body["rhythm"]["description"] == "every 7 days"
    assert body["state"] == "active"
    assert call("POST", f"/pacts/{body['id']}/check-ins", body={}).status == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"colleague": {}}, "colleague"),
        ({"colleague": {"email": "not-an-email"}}, "colleague.email"),
        ({"colleague": {"email": "x@example.org"}, "rhythm": {"weekday": "tuesday"}}, "rhythm"),
        ({"colleague": {"email": "x@example.org"}, "rhythm": {"every_days": 0}}, "rhythm.every_days"),
        ({"colleague": {"email": "x@example.org"}, "mode": "carrier-pigeon"}, "mode"),
        ({"colleague": {"email": "x@example.org"}, "time_limit_minutes": 1}, "time_limit_minutes"),
        ({"colleague": {"email": "x@example.org", "name": "X"}, "starts_at": "2030-01-01T00:00:00Z"}, "starts_at"),
        ({"colleague": {"email": ANN}}, "colleague.email"),
    ],
)
def test_bad_pact_is_422_naming_the_field_and_writes_nothing(aws, body: dict, field: str) -> None:
    member(ANN)
    reply = call("POST", "/pacts", body=body)
    assert reply.status == 422, reply.body
    assert any(e["field"].startswith(field) for e in reply.json()["errors"]), reply.json()
    assert call("GET", "/pacts").json()["items"] == []


def test_pact_needs_a_profile_first(aws) -> None:
    reply = call("POST", "/pacts", body={"colleague": {"email": BOB}})
    assert reply.status == 409
    assert "PUT /members/me" in reply.json()["detail"]


def test_dst_slot_stays_at_local_time_in_march_and_october(aws) -> None:
    member(ANN, time_zone="Europe/Dublin")
    dublin = ZoneInfo("Europe/Dublin")
    starts = datetime(2027, 3, 20, 12, tzinfo=UTC)
    created = pact(ANN, {"name": "Jen", "phone": "+353851111111"}, rhythm={"weekday": "tuesday", "time": "08:30"}, now=starts)
    before = datetime.fromisoformat(created["next_due_at"])
    assert before == datetime(2027, 3, 23, 8, 30, tzinfo=UTC)  # GMT
    call("POST", f"/pacts/{created['id']}/check-ins", body={}, now=before + timedelta(minutes=40))
    after = datetime.fromisoformat(call("GET", f"/pacts/{created['id']}", now=before + timedelta(hours=1)).json()["next_due_at"])
    assert after == datetime(2027, 3, 30, 7, 30, tzinfo=UTC)  # IST, UTC+1
    assert (after.astimezone(dublin).hour, after.astimezone(dublin).minute) == (8, 30)
    autumn = pact(
        ANN,
        {"name": "Eve", "phone": "+353852222222"},
        rhythm={"weekday": "tuesday", "time": "08:30"},
        now=datetime(2026, 10, 21, tzinfo=UTC),
    )
    first = datetime.fromisoformat(autumn["next_due_at"])
    assert first == datetime(2026, 10, 27, 8, 30, tzinfo=UTC)  # after 25 October: back to GMT
    assert first.astimezone(dublin).hour == 8


def test_patch_pause_resume_and_leave(two_members) -> None:
    created = pact(ANN, BOB)
    patched = call("PATCH", f"/pacts/{created['id']}", email=BOB, body={"rhythm": {"every_days": 14}, "grace_days": 3})
    assert patched.status == 200
    assert patched.json()["rhythm"]["description"] == "every 14 days"
    assert call("GET", f"/pacts/{created['id']}").json()["grace_days"] == 3  # both views changed
    assert call("PATCH", f"/pacts/{created['id']}", body={"grace_days": 99}).status == 422
    paused = call("POST", f"/pacts/{created['id']}/pause", body={"until": "2027-01-04"})
    assert paused.json()["status"] == "paused"
    assert call("GET", f"/pacts/{created['id']}", email=BOB).json()["status"] == "paused"
    assert call("POST", f"/pacts/{created['id']}/pause", body={"until": "2020-01-01"}).status == 422
    resumed = call("POST", f"/pacts/{created['id']}/resume", email=BOB)
    assert resumed.json()["status"] == "on_track"
    # Ann leaves: Bob keeps the pact, one-sided, with its history
    call("POST", f"/pacts/{created['id']}/check-ins", body={})
    assert call("DELETE", f"/pacts/{created['id']}").status == 204
    assert call("GET", f"/pacts/{created['id']}").status == 404
    assert call("GET", "/check-ins").json()["items"] == []
    bob = call("GET", f"/pacts/{created['id']}", email=BOB).json()
    assert bob["colleague"]["member_id"] is None
    assert bob["mutual"] is False
    assert len(call("GET", f"/pacts/{created['id']}/check-ins", email=BOB).json()["items"]) == 1
    # When the last party leaves, the pact and its check-ins are gone
    assert call("DELETE", f"/pacts/{created['id']}", email=BOB).status == 204
    assert call("GET", f"/pacts/{created['id']}", email=BOB).status == 404


def test_check_in_rules_future_before_start_and_note_length(aws) -> None:
    member(ANN)
    created = pact(ANN, {"name": "Jen", "phone": "+353851111111"})
    url = f"/pacts/{created['id']}/check-ins"
    future = call("POST", url, body={"occurred_at": (DEFAULT_NOW + timedelta(hours=1)).isoformat()})
    assert future.status == 422
    assert future.json()["field"] == "occurred_at"
    before = call("POST", url, body={"occurred_at": (DEFAULT_NOW - timedelta(days=1)).isoformat()})
    assert before.status == 422
    assert "before the pact began" in before.json()["detail"]
    assert call("POST", url, body={"note": "x" * 2001}).status == 422
    assert call("POST", url, body={"occurred_at": "2026-12-01T09:00:00"}).status == 422  # no zone
    assert call("GET", url).json()["items"] == []
    assert call("POST", url, body={"note": "x" * 2000}).status == 201


def test_same_pact_same_minute_is_one_check_in(two_members) -> None:
    created = pact(ANN, BOB)
    url = f"/pacts/{created['id']}/check-ins"
    at = DEFAULT_NOW + timedelta(days=6, hours=1, seconds=12)
    first = call("POST", url, body={"note": "mine"}, now=at)
    # Bob records the same call in the same minute, with his own (different) details
    second = call("POST", url, email=BOB, body={"duration_minutes": 50}, now=at + timedelta(seconds=30))
    assert first.status == second.status == 201
    assert second.headers.get("idempotent-replayed") == "true"
    assert second.json()["id"] == first.json()["id"]
    assert second.json()["note"] is None  # Ann's note stays Ann's
    assert second.json()["recorded_by_me"] is False
    assert len(call("GET", url).json()["items"]) == 1
    assert len(call("GET", "/check-ins", email=BOB).json()["items"]) == 1


def test_idempotency_key_replays_the_same_response_once(two_members, bus_events, aws_calls: Counter[str]) -> None:
    created = pact(ANN, BOB)
    url = f"/pacts/{created['id']}/check-ins"
    bus_events()
    headers = {"Idempotency-Key": "call-2026-12-07"}
    first = call("POST", url, body={"note": "n"}, headers=headers, now=DEFAULT_NOW + timedelta(days=6))
    again = call("POST", url, body={"note": "n"}, headers=headers, now=DEFAULT_NOW + timedelta(days=6, minutes=3))
    assert first.status == again.status == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert len(call("GET", url).json()["items"]) == 1
    assert [e["detail-type"] for e in bus_events()] == ["CheckInRecorded"]
    reused = call("POST", url, body={"note": "something else"}, headers=headers)
    assert reused.status == 422
    assert reused.json()["field"] == "Idempotency-Key"


def test_concurrent_recording_loses_no_update(two_members, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ann and Bob record different calls at the same moment: both land, the pact ends consistent."""
    import shared.pacts.planning as planning

    created = pact(ANN, BOB)
    url = f"/pacts/{created['id']}/check-ins"
    real_views = planning.views_of
    raced = {"done": False}

    def views_then_race(pact_id: str):  # type: ignore[no-untyped-def]
        stale = real_views(pact_id)
        if not raced["done"]:
            raced["done"] = True
            # Bob's request commits between Ann's read and Ann's write.
            assert (
                call(
                    "POST", url, email=BOB, body={"occurred_at": "2026-12-07T10:00:00Z"}, now=DEFAULT_NOW + timedelta(days=6, hours=2)
                ).status
                == 201
            )
        return stale

    monkeypatch.setattr(planning, "views_of", views_then_race)
    ann = call("POST", url, body={"occurred_at": "2026-12-07T09:00:00Z"}, now=DEFAULT_NOW + timedelta(days=6, hours=2))
    assert ann.status == 201
    assert len(call("GET", url).json()["items"]) == 2
    for who in (ANN, BOB):
        view = call("GET", f"/pacts/{created['id']}", email=who).json()
        assert view["last_check_in_at"] == "2026-12-07T10:00:00Z"  # the later call wins, whoever wrote last


def test_pagination_newest_first_without_gaps_or_repeats(aws, aws_calls: Counter[str]) -> None:
    member(ANN)
    created = pact(ANN, {"name": "Jen", "phone": "+353851111111"})
    url = f"/pacts/{created['id']}/check-ins"
    for day in range(7):
        assert call("POST", url, body={}, now=DEFAULT_NOW + timedelta(days=day)).status == 201
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        aws_calls.clear()
        page = call("GET", url + "?limit=3" + (f"&next={cursor}" if cursor else "")).json()
        assert aws_calls["dynamodb.Query"] + aws_calls["dynamodb.GetItem"] <= 3
        assert len(page["items"]) <= 3
        seen += [c["occurred_at"] for c in page["items"]]
        cursor = page["next"]
        if not cursor:
            break
    assert seen == sorted(seen, reverse=True)
    assert len(seen) == len(set(seen)) == 7
    mine = call("GET", "/check-ins?limit=5").json()
    assert len(mine["items"]) == 5
    assert mine["next"]
    assert call("GET", "/check-ins?limit=0").status == 422
    assert call("GET", "/check-ins?limit=101").status == 422
    bad = call("GET", "/check-ins?next=bm9wZQ")
    assert bad.status == 422
    assert bad.json()["field"] == "next"
    # A cursor from another list (another partition) is refused, not followed
    assert call("GET", f"{url}?next={mine['next']}").status == 422
