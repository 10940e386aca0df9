"""The members capability's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, Field, StrictBool, StrictInt, ValidationInfo, field_validator, model_validator

from shared.adapters.schema_types import HHMM, Channel, Day, Name, Phone, Schema, Strict, Tags, TimeZone, Weekday, no_control_characters
from shared.network.asks.schemas import AskOut
from shared.pacts.schemas import CheckInOut, PactOut

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
    specialties: Tags = Field(
        default_factory=list,
        description="In your words, e.g. 'Grief & Loss' (shown as given); matched and searched case- and accent-insensitively.",
    )
    modalities: Tags = Field(default_factory=list, description="In your words, e.g. 'EMDR'; shown as given, matched like specialties.")
    region: Annotated[str, Field(max_length=80), AfterValidator(no_control_characters)] | None = None
    in_directory: StrictBool = Field(default=False, description="Appear in the colleague directory (off by default).")
    notifications: Notifications = Field(default_factory=Notifications)
    weekly_digest: StrictBool = Field(
        default=True, description="One email a week (at your nudge hour, on your first weekday that is not quiet), only when there is news."
    )

    @field_validator("notifications")
    @classmethod
    def _sms_needs_a_phone(cls, value: Notifications, info: ValidationInfo) -> Notifications:
        # On the field (phone is validated before it): the problem names `notifications`, not the whole body.
        # A phone that failed its own validation is not in `info.data`: that error is enough.
        if "sms" in value.channels and "phone" in info.data and not info.data["phone"]:
            raise ValueError("SMS needs a mobile phone number (give phone)")
        return value


class MemberOut(Schema):
    id: str
    display_name: str
    email: str
    phone: str | None
    time_zone: str
    specialties: list[str] = Field(description="As you gave them (two spellings of one specialty: the first).")
    modalities: list[str] = Field(description="As you gave them.")
    region: str | None
    in_directory: bool
    notifications: Notifications
    weekly_digest: bool = Field(default=True, description="The weekly digest email is on.")
    away_until: datetime | None
    email_status: str = Field(description="ok, unsubscribed, or why nudges cannot be emailed (bounce, complaint, rejected).")
    created_at: datetime
    updated_at: datetime


class AwayIn(Strict):
    until: Day = Field(description="The date you are back (in your time zone); everything resumes by itself then.")


class NudgeOut(Schema):
    sent_at: datetime
    pact_ids: list[str]
    reminder: bool


class ExportOut(Schema):
    exported_at: datetime
    profile: MemberOut | None
    pacts: list[PactOut]
    check_ins: list[CheckInOut]
    asks: list[AskOut] = Field(default_factory=list, description="Your asks with their replies; asks you were sent, with your replies.")
