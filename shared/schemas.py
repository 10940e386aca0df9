"""The API's request and response bodies (pydantic): validated on the way in, documented in /openapi.json."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Annotated, Generic, Literal, TypeVar
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt, field_validator, model_validator

from shared.domain.tags import normalise_tags

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAY_NAMES: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
Mode = Literal["phone", "video", "in_person"]
Channel = Literal["email", "sms"]
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_NUMBER = re.compile(r"^\s*[-+]?\d+(\.\d*)?\s*$")


def iso_text(value: object) -> object:
    """Dates and times come as ISO 8601 text: pydantic alone would read a number, or digits in a string, as Unix time."""
    if isinstance(value, int | float) or (isinstance(value, str) and _NUMBER.match(value)):
        raise ValueError("give an ISO 8601 date or time as text, e.g. 2026-12-08 or 2026-12-08T08:30:00Z")
    return value


def text_with_line_breaks(value: str) -> str:
    """Free text such as a note: line breaks and tabs are fine, other control codes (NUL, ESC) are not."""
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in value):
        raise ValueError("may not contain control characters other than line breaks and tabs")
    return value


Note = Annotated[str, Field(max_length=2000), AfterValidator(text_with_line_breaks)]


def e164(value: str) -> str:
    import phonenumbers  # ~40 ms of import, paid only by the requests that carry a phone number

    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError("give an international number starting with +, e.g. +353 85 123 4567") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("this is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def time_zone(value: str) -> str:
    try:
        if value.startswith(("/", ".")) or value != value.strip():
            raise ValueError
        ZoneInfo(value)
    except (ValueError, KeyError, OSError):
        raise ValueError("not an IANA time zone such as Europe/Dublin or America/New_York") from None
    return value


def hhmm(value: str) -> str:
    if not _HHMM.match(value):
        raise ValueError("use 24-hour HH:MM, e.g. 08:30")
    return value


def email(value: str) -> str:
    value = value.strip().lower()
    if len(value) > 254 or not value.isprintable() or not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


Phone = Annotated[str, AfterValidator(e164)]
TimeZone = Annotated[str, AfterValidator(time_zone)]
HHMM = Annotated[str, AfterValidator(hhmm)]
Email = Annotated[str, AfterValidator(email)]
Tags = Annotated[list[Annotated[str, Field(max_length=60)]], Field(max_length=20), AfterValidator(normalise_tags)]


def no_control_characters(value: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in value):
        raise ValueError("may not contain line breaks or control characters")
    return value


def instant(value: datetime) -> datetime:
    """An aware instant within this century (no year 1 or 9999: their UTC conversion overflows)."""
    if value.tzinfo is None:
        raise ValueError("give the time with a zone, e.g. 2026-12-08T08:30:00Z")
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value


def calendar_day(value: date) -> date:
    if not 2000 <= value.year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value


Name = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(no_control_characters)]
Instant = Annotated[datetime, BeforeValidator(iso_text), AfterValidator(instant)]
Day = Annotated[date, BeforeValidator(iso_text), AfterValidator(calendar_day)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


# ------------------------------------------------------------------ members


class QuietHours(Strict):
    weekday: Weekday
    start: HHMM
    end: HHMM

    @model_validator(mode="after")
    def _ordered(self) -> QuietHours:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        return self


def _email_only() -> list[Channel]:
    return ["email"]


class Notifications(Strict):
    channels: list[Channel] = Field(default_factory=_email_only, description="How nudges may reach you.")
    nudge_hour: StrictInt = Field(default=9, ge=0, le=23, description="Local hour at which nudges may arrive.")
    quiet_days: list[Weekday] = Field(default_factory=list, description="Days with no nudges at all, e.g. weekends.")
    quiet_hours: list[QuietHours] = Field(default_factory=list, max_length=21, description="Hours you see clients: no text then.")

    @field_validator("channels", "quiet_days")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(value))


class ProfileIn(Strict):
    display_name: Name
    phone: Phone | None = Field(default=None, description="Mobile number; stored in E.164.")
    time_zone: TimeZone = "UTC"
    specialties: Tags = Field(default_factory=list)
    modalities: Tags = Field(default_factory=list)
    region: Annotated[str, Field(max_length=80), AfterValidator(no_control_characters)] | None = None
    in_directory: StrictBool = Field(default=False, description="Appear in the colleague directory (off by default).")
    notifications: Notifications = Field(default_factory=Notifications)

    @model_validator(mode="after")
    def _sms_needs_a_phone(self) -> ProfileIn:
        if "sms" in self.notifications.channels and not self.phone:
            raise ValueError("notifications.channels: SMS needs a mobile phone number")
        return self


class MemberOut(BaseModel):
    id: str
    display_name: str
    email: str
    phone: str | None
    time_zone: str
    specialties: list[str]
    modalities: list[str]
    region: str | None
    in_directory: bool
    notifications: Notifications
    away_until: datetime | None
    email_status: str = Field(description="ok, unsubscribed, or why nudges cannot be emailed (bounce, complaint, rejected).")
    created_at: datetime
    updated_at: datetime


class AwayIn(Strict):
    until: Day = Field(description="The date you are back (in your time zone); everything resumes by itself then.")


# ------------------------------------------------------------------ pacts


class ColleagueIn(Strict):
    email: Email | None = Field(default=None, description="A member is found by their email; anyone else is an outside colleague.")
    name: Name | None = None
    phone: Phone | None = None

    @model_validator(mode="after")
    def _reachable(self) -> ColleagueIn:
        if not self.email and not self.phone:
            raise ValueError("give the colleague's email (a member or not) or a name and phone")
        return self


class RhythmIn(Strict):
    """Either `every_days`, or a regular slot: `weekday` + `time` (every `every_weeks` weeks)."""

    every_days: StrictInt | None = Field(default=None, ge=1, le=90)
    weekday: Weekday | None = None
    time: HHMM | None = None
    every_weeks: StrictInt = Field(default=1, ge=1, le=8)

    @model_validator(mode="after")
    def _one_kind(self) -> RhythmIn:
        slot = self.weekday is not None or self.time is not None
        if self.every_days is not None and slot:
            raise ValueError("give every_days, or weekday and time, not both")
        if slot and (self.weekday is None or self.time is None):
            raise ValueError("a regular slot needs both weekday and time")
        if not slot and self.every_days is None:
            raise ValueError("give every_days, or weekday and time")
        return self


class PactIn(Strict):
    colleague: ColleagueIn
    rhythm: RhythmIn = Field(default_factory=lambda: RhythmIn(every_days=7), description="Default: at least once a week.")
    mode: Mode = "phone"
    time_limit_minutes: StrictInt = Field(default=30, ge=5, le=240)
    grace_days: StrictInt = Field(default=2, ge=0, le=14)
    starts_at: Instant | None = Field(default=None, description="When the pact begins (default now); with a zone.")


class PactPatch(Strict):
    rhythm: RhythmIn | None = None
    mode: Mode | None = None
    time_limit_minutes: StrictInt | None = Field(default=None, ge=5, le=240)
    grace_days: StrictInt | None = Field(default=None, ge=0, le=14)
    colleague_name: Name | None = None


class PauseIn(Strict):
    until: Day = Field(description="The date the pact resumes by itself (in your time zone).")


class ColleagueOut(BaseModel):
    member_id: str | None
    name: str
    email: str | None
    phone: str | None


class ResendIn(Strict):
    email: Email | None = Field(
        default=None,
        description="Send it to this address instead (a corrected one); needed once an invitation expired (its address is gone).",
    )


class InvitationOut(BaseModel):
    state: Literal["pending", "expired", "declined"] = Field(
        description="pending: waiting for an answer; expired: 30 days passed (the owner can re-send); declined: said no."
    )
    expires_at: datetime | None


class RhythmOut(BaseModel):
    rrule: str
    description: str
    time_zone: str


class PactOut(BaseModel):
    id: str
    role: Literal["owner", "colleague"]
    state: Literal["active", "invited", "ended"] = Field(
        description="active; invited (yours to accept or decline); ended (nobody on the other side any more)."
    )
    mutual: bool
    colleague: ColleagueOut
    invitation: InvitationOut | None = Field(description="The invitation by email, while one is involved.")
    ended_reason: Literal["colleague_left", "colleague_erased", "declined"] | None
    ended_at: datetime | None
    rhythm: RhythmOut
    mode: Mode
    time_limit_minutes: int
    grace_days: int
    starts_at: datetime
    last_check_in_at: datetime | None
    next_due_at: datetime
    status: Literal["on_track", "due", "lapsed", "paused", "ended"]
    paused_until: datetime | None
    created_at: datetime
    updated_at: datetime


# ------------------------------------------------------------------ check-ins


class CheckInIn(Strict):
    occurred_at: Instant | None = Field(default=None, description="When you talked (default now); with a zone.")
    mode: Mode | None = Field(default=None, description="Default: the pact's mode.")
    duration_minutes: StrictInt | None = Field(default=None, ge=1, le=600, description="Default: the pact's time limit.")
    note: Note | None = Field(default=None, description="Private: only you can ever read it.")


class CheckInOut(BaseModel):
    id: str
    pact_id: str
    occurred_at: datetime
    mode: Mode
    duration_minutes: int
    recorded_by_me: bool
    note: str | None = Field(description="Your private note; never shown to anyone else.")
    source: str
    recorded_at: datetime


class NudgeOut(BaseModel):
    sent_at: datetime
    pact_ids: list[str]
    reminder: bool


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    next: str | None = Field(description="Pass as ?next= for the following page; null on the last one.")


class ExportOut(BaseModel):
    exported_at: datetime
    profile: MemberOut | None
    pacts: list[PactOut]
    check_ins: list[CheckInOut]


WEEKDAY_CODES = dict(zip(WEEKDAY_NAMES, ("MO", "TU", "WE", "TH", "FR", "SA", "SU"), strict=True))
