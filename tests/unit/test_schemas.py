"""Request bodies (shared/members/schemas.py, shared/pacts/schemas.py): what the API accepts and how it names what it rejects."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from shared.members.schemas import Notifications, ProfileIn, QuietHours
from shared.pacts.schemas import CheckInIn, ColleagueIn, PactIn, RhythmIn


def rejected(model: type[BaseModel], **fields: Any) -> list[dict[str, Any]]:
    with pytest.raises(ValidationError) as caught:
        model(**fields)
    return caught.value.errors()  # type: ignore[return-value]


def first_loc(model: type[BaseModel], **fields: Any) -> tuple[int | str, ...]:
    return tuple(rejected(model, **fields)[0]["loc"])


# ------------------------------------------------------------------ profile: phone


@pytest.mark.parametrize("phone", ["12345", "085 123 4567", "+1 555 0100", "not a phone", "+", "+353 85 123 4567 999 999"])
def test_profile_rejects_a_bad_phone(phone: str) -> None:
    errors = rejected(ProfileIn, display_name="Ann", phone=phone)
    assert [e["loc"] for e in errors] == [("phone",)]


@pytest.mark.parametrize(
    ("phone", "stored"),
    [
        ("+353 85 123 4567", "+353851234567"),
        ("+353851234567", "+353851234567"),
        ("+1 (212) 555-0123", "+12125550123"),
        ("+61 412 345 678", "+61412345678"),
        ("  +353 85 123 4567 ", "+353851234567"),
    ],
)
def test_profile_stores_the_phone_in_e164(phone: str, stored: str) -> None:
    assert ProfileIn(display_name="Ann", phone=phone).phone == stored


def test_profile_phone_is_optional() -> None:
    assert ProfileIn(display_name="Ann").phone is None


# ------------------------------------------------------------------ profile: time zone


@pytest.mark.parametrize(
    "zone",
    ["Mars/Olympus", "/etc/passwd", "", "../etc/passwd", "Europe/../../etc/passwd", "Europe", "Dublin", "zone.tab"],
)
def test_profile_rejects_an_unknown_time_zone(zone: str) -> None:
    errors = rejected(ProfileIn, display_name="Ann", time_zone=zone)
    assert [e["loc"] for e in errors] == [("time_zone",)]
    assert "IANA" in errors[0]["msg"]


@pytest.mark.parametrize("zone", ["Australia/Sydney", "Europe/Dublin", "America/New_York", "UTC"])
def test_profile_accepts_an_iana_time_zone(zone: str) -> None:
    assert ProfileIn(display_name="Ann", time_zone=zone).time_zone == zone


def test_profile_time_zone_defaults_to_utc() -> None:
    assert ProfileIn(display_name="Ann").time_zone == "UTC"


# ------------------------------------------------------------------ profile: the rest


def test_sms_needs_a_phone() -> None:
    errors = rejected(ProfileIn, display_name="Ann", notifications={"channels": ["email", "sms"]})
    assert errors[0]["loc"] == ("notifications",)  # named, not the whole body (found trying it)
    assert "SMS needs a mobile phone number" in errors[0]["msg"]


def test_sms_with_a_phone_is_accepted_and_channels_are_deduplicated() -> None:
    profile = ProfileIn(display_name="Ann", phone="+353 85 123 4567", notifications={"channels": ["sms", "email", "sms"]})
    assert profile.notifications.channels == ["sms", "email"]


def test_profile_tags_are_one_per_normalised_tag_as_first_typed() -> None:
    profile = ProfileIn(display_name="Ann", specialties=["Grief & Loss ", "grief and loss", "!!!"], modalities=["Émigré", "emigre"])
    assert profile.specialties == ["Grief & Loss"]
    assert profile.modalities == ["Émigré"]


def test_a_profile_tag_is_at_most_60_characters() -> None:
    assert first_loc(ProfileIn, display_name="Ann", specialties=["x" * 61]) == ("specialties", 0)


@pytest.mark.parametrize("name", ["", "   ", "x" * 81])
def test_display_name_length(name: str) -> None:
    assert first_loc(ProfileIn, display_name=name) == ("display_name",)


def test_defaults_are_private_and_email_only() -> None:
    profile = ProfileIn(display_name="Ann")
    assert profile.in_directory is False
    assert profile.notifications == Notifications(channels=["email"], nudge_hour=9, quiet_days=[], quiet_hours=[])


@pytest.mark.parametrize(
    ("model", "fields", "loc"),
    [
        (ProfileIn, {"display_name": "Ann", "is_admin": True}, ("is_admin",)),
        (ProfileIn, {"display_name": "Ann", "notifications": {"channels": ["email"], "pager": True}}, ("notifications", "pager")),
        (QuietHours, {"weekday": "monday", "start": "09:00", "end": "10:00", "all_day": True}, ("all_day",)),
        (RhythmIn, {"every_days": 7, "cron": "0 9 * * *"}, ("cron",)),
        (ColleagueIn, {"email": "bo@example.com", "member_id": "m-1"}, ("member_id",)),
        (CheckInIn, {"occurred_at": "2026-12-08T08:30:00Z", "recorded_by": "someone"}, ("recorded_by",)),
        (PactIn, {"colleague": {"email": "bo@example.com"}, "status": "on_track"}, ("status",)),
    ],
)
def test_unknown_fields_are_rejected(model: type[BaseModel], fields: dict[str, Any], loc: tuple[str, ...]) -> None:
    errors = rejected(model, **fields)
    assert [(e["loc"], e["type"]) for e in errors] == [(loc, "extra_forbidden")]


# ------------------------------------------------------------------ quiet hours


@pytest.mark.parametrize(("start", "end"), [("09:00", "09:00"), ("17:00", "09:00"), ("09:01", "09:00")])
def test_quiet_hours_end_must_be_after_start(start: str, end: str) -> None:
    errors = rejected(QuietHours, weekday="monday", start=start, end=end)
    assert errors[0]["loc"] == ()
    assert "end must be after start" in errors[0]["msg"]


def test_quiet_hours_error_inside_a_profile_names_the_entry() -> None:
    quiet = [{"weekday": "monday", "start": "09:00", "end": "17:00"}, {"weekday": "tuesday", "start": "17:00", "end": "09:00"}]
    assert first_loc(ProfileIn, display_name="Ann", notifications={"quiet_hours": quiet}) == ("notifications", "quiet_hours", 1)


@pytest.mark.parametrize(("start", "end"), [("09:00", "09:01"), ("00:00", "23:59"), ("08:30", "17:45")])
def test_quiet_hours_accepted(start: str, end: str) -> None:
    quiet = QuietHours(weekday="friday", start=start, end=end)
    assert (quiet.start, quiet.end) == (start, end)


@pytest.mark.parametrize("bad", ["8:30", "0830", "24:00", "23:60", "08:30:00", "08-30", "", "ab:cd", "08:3"])
@pytest.mark.parametrize("field", ["start", "end"])
def test_quiet_hours_need_hh_mm(field: str, bad: str) -> None:
    fields = {"weekday": "monday", "start": "00:00", "end": "23:59", field: bad}
    errors = rejected(QuietHours, **fields)
    assert errors[0]["loc"] == (field,)
    assert "HH:MM" in errors[0]["msg"]


def test_rhythm_time_needs_hh_mm() -> None:
    assert first_loc(RhythmIn, weekday="tuesday", time="8:30") == ("time",)


# ------------------------------------------------------------------ rhythm


@pytest.mark.parametrize(
    "fields",
    [
        {"every_days": 7},
        {"every_days": 1},
        {"every_days": 90},
        {"weekday": "tuesday", "time": "08:30"},
        {"weekday": "sunday", "time": "00:00", "every_weeks": 2},
    ],
)
def test_rhythm_of_one_kind_is_accepted(fields: dict[str, Any]) -> None:
    rhythm = RhythmIn(**fields)
    assert (rhythm.every_days is None) == (rhythm.weekday is not None)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "give every_days, or weekday and time"),
        ({"every_days": 7, "weekday": "tuesday", "time": "08:30"}, "not both"),
        ({"every_days": 7, "weekday": "tuesday"}, "not both"),
        ({"weekday": "tuesday"}, "needs both weekday and time"),
        ({"time": "08:30"}, "needs both weekday and time"),
    ],
)
def test_rhythm_needs_exactly_one_kind(fields: dict[str, Any], message: str) -> None:
    errors = rejected(RhythmIn, **fields)
    assert errors[0]["loc"] == ()
    assert message in errors[0]["msg"]


@pytest.mark.parametrize(
    ("fields", "loc"),
    [
        ({"every_days": 0}, ("every_days",)),
        ({"every_days": 91}, ("every_days",)),
        ({"weekday": "Tuesday", "time": "08:30"}, ("weekday",)),
        ({"weekday": "tue", "time": "08:30"}, ("weekday",)),
        ({"weekday": "tuesday", "time": "08:30", "every_weeks": 0}, ("every_weeks",)),
        ({"weekday": "tuesday", "time": "08:30", "every_weeks": 9}, ("every_weeks",)),
    ],
)
def test_rhythm_field_ranges(fields: dict[str, Any], loc: tuple[str, ...]) -> None:
    assert first_loc(RhythmIn, **fields) == loc


def test_pact_rhythm_defaults_to_weekly_contact() -> None:
    pact = PactIn(colleague={"email": "bo@example.com"})  # type: ignore[arg-type]
    assert pact.rhythm == RhythmIn(every_days=7)


# ------------------------------------------------------------------ colleague


@pytest.mark.parametrize("fields", [{}, {"name": "Bo"}, {"name": "Bo", "email": None, "phone": None}])
def test_colleague_needs_an_email_or_a_phone(fields: dict[str, Any]) -> None:
    errors = rejected(ColleagueIn, **fields)
    assert errors[0]["loc"] == ()
    assert "email" in errors[0]["msg"]


def test_colleague_by_email_is_normalised() -> None:
    colleague = ColleagueIn(email="  Bo@Example.COM ")
    assert colleague.email == "bo@example.com"
    assert colleague.phone is None


def test_colleague_by_name_and_phone() -> None:
    colleague = ColleagueIn(name="Bo", phone="+353 85 123 4567")
    assert (colleague.name, colleague.phone, colleague.email) == ("Bo", "+353851234567", None)


@pytest.mark.parametrize(("fields", "loc"), [({"email": "not-an-email"}, ("email",)), ({"phone": "12345"}, ("phone",))])
def test_colleague_contact_details_are_validated(fields: dict[str, Any], loc: tuple[str, ...]) -> None:
    assert first_loc(ColleagueIn, **fields) == loc


# ------------------------------------------------------------------ check-in


@pytest.mark.parametrize("occurred_at", ["2026-12-08T08:30:00", datetime(2026, 12, 8, 8, 30)])
def test_check_in_rejects_a_naive_time(occurred_at: str | datetime) -> None:
    errors = rejected(CheckInIn, occurred_at=occurred_at)
    assert errors[0]["loc"] == ("occurred_at",)
    assert "zone" in errors[0]["msg"]


@pytest.mark.parametrize("occurred_at", ["2026-12-08T08:30:00Z", "2026-12-08T09:30:00+01:00", datetime(2026, 12, 8, 8, 30, tzinfo=UTC)])
def test_check_in_accepts_a_time_with_a_zone(occurred_at: str | datetime) -> None:
    check_in = CheckInIn(occurred_at=occurred_at)
    assert check_in.occurred_at == datetime(2026, 12, 8, 8, 30, tzinfo=UTC)


def test_check_in_fields_are_optional() -> None:
    assert CheckInIn() == CheckInIn(occurred_at=None, mode=None, duration_minutes=None, note=None)


def test_check_in_note_of_2000_characters_is_accepted() -> None:
    assert CheckInIn(note="n" * 2000).note == "n" * 2000


def test_check_in_note_over_2000_characters_is_rejected() -> None:
    errors = rejected(CheckInIn, note="n" * 2001)
    assert [(e["loc"], e["type"]) for e in errors] == [(("note",), "string_too_long")]


@pytest.mark.parametrize(("fields", "loc"), [({"duration_minutes": 0}, ("duration_minutes",)), ({"mode": "carrier pigeon"}, ("mode",))])
def test_check_in_other_fields_are_validated(fields: dict[str, Any], loc: tuple[str, ...]) -> None:
    assert first_loc(CheckInIn, **fields) == loc


def test_sms_with_a_bad_phone_is_one_error_about_the_phone() -> None:
    errors = rejected(ProfileIn, display_name="Ann", phone="not a number", notifications={"channels": ["sms"]})
    assert [e["loc"] for e in errors] == [("phone",)]
