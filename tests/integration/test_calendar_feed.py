"""Each member's private calendar feed: its address (POST /members/me/calendar-secret) and GET /calendar/<secret>.ics.

The feed is read with two independent parsers (icalendar, vobject); the series is expanded with
vobject's own recurrence engine, so what a calendar app would show is checked, not our strings.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import boto3
import icalendar
import pytest
import vobject

from shared.groups.scheduling import sweep_groups
from shared.links.tokens import new_link
from tests.helpers import DEFAULT_NOW, Reply, call, member, pact
from tests.integration.group_harness import create_group, group_of, join, sub

NOW = DEFAULT_NOW  # Tuesday 1 December 2026, 09:00 UTC
DUBLIN = ZoneInfo("Europe/Dublin")
ANN, BOB, CARA, DEE, EVE = (f"{n}@example.org" for n in ("ann", "bob", "cara", "dee", "eve"))
SLOT = {"weekday": "tuesday", "time": "08:30"}
MARKER = "zq-private-note-7f3c"


def mid(start: datetime) -> str:
    return start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def feed_path(email: str, now: datetime = NOW) -> str:
    reply = call("POST", "/members/me/calendar-secret", email=email, now=now)
    assert reply.status == 200, reply.body
    body = reply.json()
    assert body["url"].startswith("https://peer.test/calendar/"), body
    assert body["url"].endswith(".ics"), body
    assert datetime.fromisoformat(body["created_at"]) == now
    return urlsplit(body["url"]).path


def fetch(path: str, now: datetime = NOW, headers: dict[str, str] | None = None) -> Reply:
    return call("GET", path, email=None, now=now, headers=headers)


def calendar_of(reply: Reply) -> icalendar.Calendar:
    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "text/calendar; charset=utf-8"
    vobject.readOne(reply.body.decode("utf-8"))  # the independent parser reads it too
    return icalendar.Calendar.from_ical(reply.body)


def events(cal: icalendar.Calendar, uid: str) -> list[icalendar.Event]:
    return [e for e in cal.walk("VEVENT") if str(e["UID"]) == uid]


def series_of(cal: icalendar.Calendar, uid: str) -> icalendar.Event:
    (master,) = [e for e in events(cal, uid) if "RECURRENCE-ID" not in e]
    return master


def override(cal: icalendar.Calendar, uid: str, original: datetime) -> icalendar.Event:
    found = [e for e in events(cal, uid) if "RECURRENCE-ID" in e and e.decoded("RECURRENCE-ID") == original]
    assert len(found) == 1, [e.to_ical() for e in events(cal, uid)]
    return found[0]


def vobject_series(reply: Reply, uid: str) -> Any:
    parsed = vobject.readOne(reply.body.decode("utf-8"))
    (master,) = [e for e in parsed.vevent_list if e.uid.value == uid and not hasattr(e, "recurrence_id")]
    return master


def sweep(at: datetime) -> None:
    sweep_groups(at, int(os.environ["DUE_SHARDS"]))


@pytest.fixture
def world(aws: dict[str, Any]) -> dict[str, str]:
    """Ann: a group with Bob and Cara (she convenes), a group of her own, a weekly pact with Bob (a private note on it),
    an every-7-days pact with Cara, an ended pact with Eve, an invitation to Dee's pact and to Dee's group."""
    group_id = group_of(ANN, [BOB, CARA], NOW)
    member(DEE)
    member(EVE)
    solo = str(create_group(ANN, NOW, name="Ann alone", where={"kind": "online", "url": "https://meet.example/ann"})["id"])
    weekly = pact(ANN, BOB, rhythm=SLOT, mode="video", time_limit_minutes=45)["id"]
    for minute, who in enumerate((ANN, BOB)):
        note = {"note": f"{MARKER} from {who}", "occurred_at": f"2026-12-01T09:0{minute}:00Z"}
        recorded = call("POST", f"/pacts/{weekly}/check-ins", email=who, body=note, now=NOW + timedelta(minutes=5))
        assert recorded.status == 201, recorded.body
    every_week = pact(ANN, CARA)["id"]
    ended = pact(ANN, EVE, rhythm={"weekday": "friday", "time": "12:00"})["id"]
    assert call("DELETE", f"/pacts/{ended}", email=EVE, now=NOW).status == 204
    invited_pact = pact(DEE, ANN, accept=False, rhythm=SLOT)["id"]
    dee_group = str(create_group(DEE, NOW, name="Dee's group")["id"])
    invited = call("POST", f"/groups/{dee_group}/invitations", email=DEE, body={"email": ANN}, now=NOW)
    assert invited.status == 200, invited.body
    return {
        "group": group_id,
        "solo": solo,
        "weekly": weekly,
        "every_week": every_week,
        "ended": ended,
        "invited_pact": invited_pact,
        "dee_group": dee_group,
    }


def uid(item_id: str) -> str:
    return f"{item_id}@peer-support"


# ------------------------------------------------------------------ the calendar as calendar apps read it


def test_the_feed_is_a_valid_calendar_with_a_time_zone_for_every_tzid_and_alarms(world: dict[str, str]) -> None:
    reply = fetch(feed_path(ANN))
    cal = calendar_of(reply)
    assert str(cal["VERSION"]) == "2.0"
    assert "Peer support" in str(cal["PRODID"])
    assert str(cal["X-WR-CALNAME"]) == "Peer support"
    assert reply.headers["cache-control"] == "private, max-age=300"
    assert reply.headers["etag"] == '"' + hashlib.sha256(reply.body).hexdigest()[:32] + '"'
    assert reply.headers["last-modified"].endswith(" GMT")
    used = {
        str(prop.params["TZID"])
        for component in cal.walk("VEVENT")
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE")
        for prop in (component.get(name) if isinstance(component.get(name), list) else [component.get(name)])
        if prop is not None and "TZID" in prop.params
    }
    assert used == {"Europe/Dublin"}
    assert {str(tz["TZID"]) for tz in cal.walk("VTIMEZONE")} == used
    assert cal.get_missing_tzids() == set()
    for event in cal.walk("VEVENT"):
        assert event.get("STATUS") == "CANCELLED" or event.walk("VALARM"), event.to_ical()
        for alarm in event.walk("VALARM"):
            assert str(alarm["ACTION"]) == "DISPLAY"
            assert alarm.decoded("TRIGGER") < timedelta(0)
        assert "DTSTAMP" in event
        assert "SEQUENCE" in event


def test_groups_and_slot_pacts_are_in_it_invitations_ended_and_unslotted_pacts_are_not(world: dict[str, str]) -> None:
    cal = calendar_of(fetch(feed_path(ANN)))
    uids = {str(e["UID"]) for e in cal.walk("VEVENT")}
    assert uids == {uid(world["group"]), uid(world["solo"]), uid(world["weekly"])}
    group = series_of(cal, uid(world["group"]))
    assert str(group["SUMMARY"]) == "Cork peer supervision"
    assert str(group["LOCATION"]) == "Ann's rooms, Cork"
    assert "Case consultation among peers" in str(group["DESCRIPTION"])
    assert group.decoded("DTSTART") == datetime(2026, 12, 8, 19, tzinfo=DUBLIN)
    assert group.decoded("DTEND") - group.decoded("DTSTART") == timedelta(minutes=120)
    assert group["RRULE"].to_ical() == b"FREQ=MONTHLY;BYMINUTE=0;BYHOUR=19;BYDAY=2TU"
    online = series_of(cal, uid(world["solo"]))
    assert str(online["URL"]) == "https://meet.example/ann"
    weekly = series_of(cal, uid(world["weekly"]))
    assert str(weekly["SUMMARY"]) == "Check-in with Bob"
    assert weekly.decoded("DTSTART") == datetime(2026, 12, 8, 8, 30, tzinfo=DUBLIN)  # the first Tuesday 08:30 from the start
    assert weekly.decoded("DTEND") - weekly.decoded("DTSTART") == timedelta(minutes=45)
    assert "by video" in str(weekly["DESCRIPTION"])


def test_the_series_stays_at_19_00_local_across_the_october_change(world: dict[str, str]) -> None:
    reply = fetch(feed_path(ANN))
    rules = vobject_series(reply, uid(world["group"])).getrruleset()
    autumn = list(rules.between(datetime(2027, 9, 1, tzinfo=UTC), datetime(2027, 12, 1, tzinfo=UTC)))
    assert [o.astimezone(DUBLIN).strftime("%a %d %b %H:%M") for o in autumn] == ["Tue 14 Sep 19:00", "Tue 12 Oct 19:00", "Tue 09 Nov 19:00"]
    assert [o.astimezone(UTC).hour for o in autumn] == [18, 18, 19]  # Irish summer time ends on 31 October 2027
    # The same meetings the API lists.
    listed = call("GET", f"/groups/{world['group']}/meetings?limit=12", email=ANN, now=NOW).json()["items"]
    assert [o.astimezone(UTC) for o in list(rules)[:12]] == [datetime.fromisoformat(m["starts_at"]) for m in listed]


def test_a_slot_pact_repeats_weekly_at_its_local_time(world: dict[str, str]) -> None:
    rules = vobject_series(fetch(feed_path(ANN)), uid(world["weekly"])).getrruleset()
    spring = rules.between(datetime(2027, 3, 20, tzinfo=UTC), datetime(2027, 4, 7, tzinfo=UTC))
    assert [o.astimezone(DUBLIN).strftime("%d %b %H:%M") for o in spring] == ["23 Mar 08:30", "30 Mar 08:30", "06 Apr 08:30"]
    assert [o.astimezone(UTC).hour for o in spring] == [8, 7, 7]


def test_a_paused_pact_skips_its_slots_until_it_resumes(world: dict[str, str]) -> None:
    paused = call("POST", f"/pacts/{world['weekly']}/pause", email=ANN, body={"until": "2026-12-20"}, now=NOW)
    assert paused.status == 200, paused.body
    reply = fetch(feed_path(ANN))
    rules = vobject_series(reply, uid(world["weekly"])).getrruleset()
    december = rules.between(datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert [o.astimezone(DUBLIN).day for o in december] == [22, 29]


# ------------------------------------------------------------------ exceptions to the series


def test_a_cancelled_meeting_is_an_override_with_status_cancelled_and_a_newer_sequence(world: dict[str, str]) -> None:
    path = feed_path(ANN)
    before = calendar_of(fetch(path))
    series_sequence = int(series_of(before, uid(world["group"]))["SEQUENCE"])
    january = datetime(2027, 1, 12, 19, tzinfo=DUBLIN)
    cancelled = call("POST", f"/groups/{world['group']}/meetings/{mid(january)}/cancel", email=ANN, body={"reason": "holidays"}, now=NOW)
    assert cancelled.status == 200, cancelled.body
    cal = calendar_of(fetch(path))
    found = override(cal, uid(world["group"]), january)
    assert str(found["STATUS"]) == "CANCELLED"
    assert found["RECURRENCE-ID"].params["TZID"] == "Europe/Dublin"
    assert int(found["SEQUENCE"]) > series_sequence
    assert "holidays" in str(found["DESCRIPTION"])
    parsed = vobject.readOne(fetch(path).body.decode())
    assert any(getattr(e, "status", None) and e.status.value == "CANCELLED" for e in parsed.vevent_list)


def test_a_moved_meeting_has_its_new_start_under_its_original_recurrence_id(world: dict[str, str]) -> None:
    path = feed_path(ANN)
    february = datetime(2027, 2, 9, 19, tzinfo=DUBLIN)
    body = {"starts_at": "2027-02-10T19:00:00Z", "venue": "Parnell Sq. centre"}
    moved = call("POST", f"/groups/{world['group']}/meetings/{mid(february)}/reschedule", email=ANN, body=body, now=NOW)
    assert moved.status == 200, moved.body
    first = override(calendar_of(fetch(path)), uid(world["group"]), february)
    assert first.decoded("DTSTART") == datetime(2027, 2, 10, 19, tzinfo=DUBLIN)
    assert first.decoded("DTEND") == datetime(2027, 2, 10, 21, tzinfo=DUBLIN)
    assert str(first["LOCATION"]) == "Parnell Sq. centre"
    moved_again = call(
        "POST",
        f"/groups/{world['group']}/meetings/{mid(february)}/reschedule",
        email=ANN,
        body={"starts_at": "2027-02-11T18:30:00Z"},
        now=NOW,
    )
    assert moved_again.status == 200, moved_again.body
    second = override(calendar_of(fetch(path)), uid(world["group"]), february)
    assert second.decoded("DTSTART") == datetime(2027, 2, 11, 18, 30, tzinfo=DUBLIN)
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"])


def test_the_series_sequence_grows_when_the_agreement_changes(world: dict[str, str]) -> None:
    path = feed_path(ANN)
    before = series_of(calendar_of(fetch(path)), uid(world["group"]))
    changed = call("PATCH", f"/groups/{world['group']}", email=ANN, body={"duration_minutes": 150}, now=NOW)
    assert changed.status == 200, changed.body
    after = series_of(calendar_of(fetch(path)), uid(world["group"]))
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("DTEND") - after.decoded("DTSTART") == timedelta(minutes=150)


def test_a_scheduled_meeting_carries_its_agenda_with_the_presenters_named(world: dict[str, str]) -> None:
    december = datetime(2026, 12, 8, 19, tzinfo=DUBLIN)
    sweep(NOW + timedelta(days=2))  # a week before: presenters and roles are fixed
    meeting = call("GET", f"/groups/{world['group']}/meetings/{mid(december)}", email=BOB, now=NOW).json()
    assert meeting["status"] == "scheduled", meeting
    assert meeting["presenters"], meeting
    found = override(calendar_of(fetch(feed_path(BOB))), uid(world["group"]), december)
    description = str(found["DESCRIPTION"])
    assert str(found["STATUS"]) == "CONFIRMED"
    assert "Agenda:" in description
    for presenter in meeting["presenters"]:
        expected = "you present" if presenter["member_id"] == sub(BOB) else f"{presenter['name']} presents"
        assert expected in description, description
    assert found.decoded("DTSTART") == december


# ------------------------------------------------------------------ the address: rotation, privacy, caching


def test_rotating_stops_the_old_address_at_once_and_every_404_looks_the_same(world: dict[str, str]) -> None:
    old = feed_path(ANN)
    assert fetch(old).status == 200
    new = feed_path(ANN, NOW + timedelta(minutes=1))
    assert new != old
    assert fetch(new).status == 200
    assert fetch(new.removesuffix(".ics")).status == 200  # the suffix is for calendar apps; the secret is the key
    answers = [fetch(p) for p in (old, "/calendar/not-a-secret.ics", "/calendar/" + "A" * 22 + ".ics", "/calendar/x")]
    for reply in answers:
        assert reply.status == 404
        assert reply.headers["content-type"] == "application/problem+json"
        assert (reply.body, reply.headers) == (answers[0].body, answers[0].headers)


def test_another_members_secret_shows_their_feed_only_and_nobodys_private_data(world: dict[str, str]) -> None:
    ann = fetch(feed_path(ANN)).body.decode()
    bob_reply = fetch(feed_path(BOB))
    bob = calendar_of(bob_reply)
    assert {str(e["UID"]) for e in bob.walk("VEVENT")} == {uid(world["group"]), uid(world["weekly"])}
    assert str(series_of(bob, uid(world["weekly"]))["SUMMARY"]) == "Check-in with Ann"
    for text in (ann, bob_reply.body.decode()):
        assert MARKER not in text  # check-in notes never
        assert "example.org" not in text  # nobody's address
        assert "Dee" not in text


def test_creating_the_address_needs_a_profile(aws: dict[str, Any]) -> None:
    reply = call("POST", "/members/me/calendar-secret", email="nobody@example.org", now=NOW)
    assert reply.status == 409, reply.body


def test_erasure_deletes_the_secret(world: dict[str, str]) -> None:
    path = feed_path(BOB)
    secret = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert call("DELETE", "/members/me", email=BOB, now=NOW).status == 204
    assert fetch(path).status == 404
    table = boto3.resource("dynamodb").Table(os.environ["TABLE_NAME"])
    assert "Item" not in table.get_item(Key={"pk": "CAL#" + hashlib.sha256(secret.encode()).hexdigest(), "sk": "CAL"})


def test_if_none_match_with_the_current_etag_gets_304_without_a_body(world: dict[str, str]) -> None:
    path = feed_path(ANN)
    first = fetch(path)
    etag = first.headers["etag"]
    assert fetch(path).headers["etag"] == etag  # nothing changed: the same body
    for header in (etag, f"W/{etag}", f'"other", {etag}'):
        again = fetch(path, headers={"If-None-Match": header})
        assert again.status == 304
        assert again.body == b""
        assert again.headers["etag"] == etag
        assert again.headers["cache-control"] == "private, max-age=300"
    assert fetch(path, headers={"If-None-Match": '"stale"'}).status == 200
    january = datetime(2027, 1, 12, 19, tzinfo=DUBLIN)
    assert call("POST", f"/groups/{world['group']}/meetings/{mid(january)}/cancel", email=ANN, now=NOW).status == 200
    changed = fetch(path, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["etag"] != etag


def test_dynamodb_calls_per_feed_are_two_plus_one_per_group(world: dict[str, str], aws_calls: Any) -> None:
    path = feed_path(ANN)
    join(world["solo"], ANN, DEE, NOW)  # Dee accepts nothing else: Ann's feed still has two groups
    new_link(sub(ANN), "unsubscribe", NOW)[1].save()  # a one-tap link sorts between GROUP# and PACT# in the index
    aws_calls.clear()
    assert fetch(path).status == 200
    ddb = {k: v for k, v in aws_calls.items() if k.startswith("dynamodb.")}
    assert sum(ddb.values()) == 2 + 2, ddb
    assert ddb.get("dynamodb.Scan", 0) == 0
    aws_calls.clear()
    assert fetch("/calendar/" + "B" * 22 + ".ics").status == 404
    assert sum(v for k, v in aws_calls.items() if k.startswith("dynamodb.")) == 1
    aws_calls.clear()
    assert fetch("/calendar/nope").status == 404
    assert not any(k.startswith("dynamodb.") for k in aws_calls)


# ------------------------------------------------------------------ the handler's edges


def test_the_404_is_the_apis_problem_and_a_failure_is_a_plain_500(world: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from shared.adapters.http import problem_type

    path = feed_path(ANN)
    missing = fetch("/calendar/nope").json()
    assert (missing["type"], missing["title"]) == problem_type(HTTPStatus.NOT_FOUND)
    module = sys.modules["lambda_CalendarFeedFunction"]

    def broken(secret: str, now: datetime) -> None:
        raise RuntimeError(f"boom {secret}")

    monkeypatch.setattr(module, "feed_for", broken)
    failed = fetch(path)
    assert failed.status == 500
    assert failed.json()["type"] == problem_type(HTTPStatus.INTERNAL_SERVER_ERROR)[0]
    assert path.rsplit("/", 1)[1] not in failed.body.decode()


def test_without_a_configured_base_the_address_is_on_the_requests_domain() -> None:
    from types import SimpleNamespace

    from shared.adapters.http import public_base_url

    app: Any = SimpleNamespace(current_event=SimpleNamespace(request_context=SimpleNamespace(domain_name="abc.execute-api.example")))
    assert public_base_url(app, "") == "https://abc.execute-api.example"
    assert public_base_url(app, "https://peer.example") == "https://peer.example"
