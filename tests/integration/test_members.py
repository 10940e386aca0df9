"""Profiles, away mode, export and erasure, through the deployed handler on moto."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from shared.adapters.models import Member
from tests.helpers import DEFAULT_NOW, call, member, pact, profile


def test_put_then_get_profile_with_normalised_fields(aws, aws_calls: Counter[str]) -> None:
    body = profile(
        "Ann Byrne",
        phone="+353 85 123 4567",
        time_zone="Europe/Dublin",
        specialties=["Grief & Loss", "grief and loss", "CBT"],
        modalities=["Video"],
        notifications={
            "channels": ["email", "sms"],
            "nudge_hour": 8,
            "quiet_days": ["saturday", "sunday"],
            "quiet_hours": [{"weekday": "monday", "start": "09:00", "end": "17:00"}],
        },
    )
    reply = call("PUT", "/members/me", body=body)
    assert reply.status == 200, reply.body
    assert aws_calls["dynamodb.GetItem"] + aws_calls["dynamodb.TransactWriteItems"] <= 3
    got = call("GET", "/members/me").json()
    assert got["phone"] == "+353851234567"
    assert got["email"] == "ann@example.org"
    assert got["specialties"] == ["CBT", "Grief & Loss"]  # as typed (the first of two spellings of one tag), in tag order
    assert got["modalities"] == ["Video"]
    assert got["in_directory"] is False
    assert got["notifications"] == {
        "channels": ["email", "sms"],
        "nudge_hour": 8,
        "quiet_days": ["saturday", "sunday"],
        "quiet_hours": [{"weekday": "monday", "start": "09:00", "end": "17:00"}],
    }


def test_specialties_and_modalities_are_shown_as_typed_and_stored_as_tags(aws) -> None:
    body = profile(specialties=["Grief & Loss", "grief and loss", "  Post-traumatic\tstress  "], modalities=["EMDR", "emdr"])
    put = call("PUT", "/members/me", body=body)
    assert put.status == 200, put.body
    for shown in (put.json(), call("GET", "/members/me").json(), call("GET", "/members/me/export").json()["profile"]):
        assert shown["specialties"] == ["Grief & Loss", "Post-traumatic stress"]
        assert shown["modalities"] == ["EMDR"]
    # What matching and the directory's keys read stays the normalised tag.
    saved = Member.get(*Member.key(put.json()["id"]))
    assert saved.specialties == {"grief-and-loss", "post-traumatic-stress"}
    assert saved.modalities == {"emdr"}
    # Saving again with another spelling shows the new one.
    call("PUT", "/members/me", body=profile(specialties=["GRIEF AND LOSS"]))
    assert call("GET", "/members/me").json()["specialties"] == ["GRIEF AND LOSS"]


def test_a_profile_saved_before_display_forms_were_kept_shows_its_tags_readably(aws) -> None:
    me = member("ann@example.org", specialties=["Grief & Loss"], modalities=["EMDR"])
    saved = Member.get(*Member.key(me["id"]))
    saved.specialty_labels = None
    saved.modality_labels = None
    saved.save()
    got = call("GET", "/members/me").json()
    assert got["specialties"] == ["grief and loss"]
    assert got["modalities"] == ["emdr"]


def test_a_specialty_longer_than_the_input_allows_is_refused(aws) -> None:
    reply = call("PUT", "/members/me", body=profile(specialties=["x" * 61]))
    assert reply.status == 422
    assert reply.json()["errors"][0]["field"].startswith("specialties")


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("phone", "12345", "phone"),
        ("time_zone", "Mars/Olympus", "time_zone"),
        ("display_name", "", "display_name"),
        ("notifications", {"nudge_hour": 25}, "notifications.nudge_hour"),
        ("notifications", {"quiet_days": ["funday"]}, "notifications.quiet_days"),
        ("surprise", 1, "surprise"),
    ],
)
def test_bad_profile_is_422_naming_the_field_and_writes_nothing(aws, field: str, value: object, named: str) -> None:
    reply = call("PUT", "/members/me", body={**profile(), field: value})
    assert reply.status == 422
    problem = reply.json()
    assert problem["status"] == 422
    assert any(e["field"].startswith(named) for e in problem["errors"]), problem
    assert call("GET", "/members/me").status == 404


def test_malformed_json_is_400_problem(aws) -> None:
    reply = call("PUT", "/members/me", body=b"{not json")
    assert reply.status == 400
    assert reply.json()["title"] == "Malformed JSON"
    assert reply.headers["content-type"] == "application/problem+json"
    assert call("GET", "/members/me").status == 404


def test_sms_without_a_phone_is_rejected(aws) -> None:
    reply = call("PUT", "/members/me", body=profile(notifications={"channels": ["sms"]}))
    assert reply.status == 422
    assert "SMS" in reply.json()["detail"]


def test_an_email_belongs_to_one_member(aws) -> None:
    member("ann@example.org")
    # Another account (another sub) whose sign-in carries the same email cannot take the address over.
    reply = call("PUT", "/members/me", email="ann@example.org", sub="another-account", body=profile("Imposter"))
    assert reply.status == 409
    assert call("GET", "/members/me", email="ann@example.org", sub="another-account").status == 404
    assert call("GET", "/members/me").json()["display_name"] == "Ann"


def test_changing_email_releases_the_old_one(aws) -> None:
    call("PUT", "/members/me", email="old@example.org", sub="s-1", body=profile("Ann"))
    assert call("PUT", "/members/me", email="new@example.org", sub="s-1", body=profile("Ann")).status == 200
    # The old address is free for someone else now; the new one is taken.
    assert call("PUT", "/members/me", email="old@example.org", sub="s-2", body=profile("Other")).status == 200
    assert call("PUT", "/members/me", email="new@example.org", sub="s-3", body=profile("Third")).status == 409


def test_away_mode_pauses_both_sides_and_resumes_by_itself(aws, bus_events) -> None:
    member("ann@example.org")
    member("bob@example.org")
    created = pact("ann@example.org", "bob@example.org")
    reply = call("PUT", "/members/me/away", body={"until": "2026-12-20"})
    assert reply.status == 200, reply.body
    assert reply.json()["away_until"] == "2026-12-20T00:00:00Z"  # midnight in Dublin (UTC+0 in December)
    for who in ("ann@example.org", "bob@example.org"):
        view = call("GET", f"/pacts/{created['id']}", email=who, now=DEFAULT_NOW + timedelta(days=10)).json()
        assert view["status"] == "paused"
    after = call("GET", f"/pacts/{created['id']}", email="bob@example.org", now=DEFAULT_NOW + timedelta(days=19, hours=1)).json()
    assert after["status"] == "lapsed"  # nothing happened since the 1st: the pause ended by itself
    types = [e["detail-type"] for e in bus_events()]
    assert "MemberWentAway" in types


def test_back_early_lifts_only_the_away_pause(aws) -> None:
    member("ann@example.org")
    member("bob@example.org")
    kept = pact("ann@example.org", "bob@example.org")
    lifted = pact("ann@example.org", {"name": "Jennifer", "phone": "+353851111111"})
    assert call("POST", f"/pacts/{kept['id']}/pause", body={"until": "2027-01-05"}).status == 200
    call("PUT", "/members/me/away", body={"until": "2026-12-20"})
    back = call("DELETE", "/members/me/away")
    assert back.json()["away_until"] is None
    assert call("GET", f"/pacts/{kept['id']}").json()["status"] == "paused"
    assert call("GET", f"/pacts/{lifted['id']}").json()["status"] == "on_track"


def test_away_date_must_be_in_the_future(aws) -> None:
    member("ann@example.org")
    reply = call("PUT", "/members/me/away", body={"until": "2026-11-01"})
    assert reply.status == 422
    assert reply.json()["field"] == "until"


def test_export_has_everything_i_own_and_no_one_elses_notes(aws) -> None:
    member("ann@example.org")
    member("bob@example.org")
    created = pact("ann@example.org", "bob@example.org")
    call("POST", f"/pacts/{created['id']}/check-ins", body={"note": "Ann's own words"})
    call(
        "POST",
        f"/pacts/{created['id']}/check-ins",
        email="bob@example.org",
        body={"note": "Bob's private note"},
        now=DEFAULT_NOW + timedelta(days=7),
    )
    mine = call("GET", "/members/me/export").json()
    assert mine["profile"]["email"] == "ann@example.org"
    assert [p["id"] for p in mine["pacts"]] == [created["id"]]
    notes = {c["note"] for c in mine["check_ins"]}
    assert "Ann's own words" in notes
    assert "Bob's private note" not in str(mine)
    bobs = call("GET", "/members/me/export", email="bob@example.org").json()
    assert "Ann's own words" not in str(bobs)
    assert len(bobs["check_ins"]) == 2


def test_erasure_removes_the_member_but_not_what_a_colleague_recorded(aws, bus_events) -> None:
    member("ann@example.org")
    member("bob@example.org")
    shared = pact("ann@example.org", "bob@example.org")
    solo = pact("ann@example.org", {"name": "Jennifer", "email": "jen@example.org"})
    call("POST", f"/pacts/{shared['id']}/check-ins", body={"note": "Ann's note"})
    call("POST", f"/pacts/{shared['id']}/check-ins", email="bob@example.org", now=DEFAULT_NOW + timedelta(days=7))
    call("POST", f"/pacts/{solo['id']}/check-ins")

    assert call("DELETE", "/members/me").status == 204

    assert call("GET", "/members/me").status == 404
    assert call("GET", "/pacts").json()["items"] == []
    assert call("GET", "/check-ins").json()["items"] == []
    bob_view = call("GET", f"/pacts/{shared['id']}", email="bob@example.org").json()
    assert bob_view["colleague"] == {"member_id": None, "name": "A former colleague", "email": None, "phone": None}
    history = call("GET", f"/pacts/{shared['id']}/check-ins", email="bob@example.org").json()["items"]
    assert len(history) == 2
    assert all(c["note"] is None for c in history)
    # Nothing with Ann's email, name or note is left anywhere in the table.
    dump = str(aws["dynamodb"].scan(TableName=__import__("os").environ["TABLE_NAME"])["Items"])
    assert "ann@example.org" not in dump
    assert "Ann's note" not in dump
    assert "jen@example.org" not in dump
    # The email can be used again by a new account.
    assert call("PUT", "/members/me", body=profile("Ann again")).status == 200
    assert "MemberErased" in [e["detail-type"] for e in bus_events()]
