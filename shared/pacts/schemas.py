"""The pacts and check-ins capability's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, StrictBool, StrictInt, model_validator

from shared.adapters.schema_types import HHMM, Day, Email, Instant, Mode, Name, Note, Phone, Schema, Strict, Weekday

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
    slot_reminders: StrictBool = Field(
        default=True, description="While the habit is establishing, a short reminder before each slot (slot pacts only)."
    )


class PactPatch(Strict):
    rhythm: RhythmIn | None = None
    mode: Mode | None = None
    time_limit_minutes: StrictInt | None = Field(default=None, ge=5, le=240)
    grace_days: StrictInt | None = Field(default=None, ge=0, le=14)
    colleague_name: Name | None = None
    slot_reminders: StrictBool | None = Field(default=None, description="Reminders before slots while establishing: on or off.")


class PauseIn(Strict):
    until: Day = Field(description="The date the pact resumes by itself (in your time zone).")


class ColleagueOut(Schema):
    member_id: str | None
    name: str
    email: str | None
    phone: str | None


class ResendIn(Strict):
    email: Email | None = Field(
        default=None,
        description="Send it to this address instead (a corrected one); needed once an invitation expired (its address is gone).",
    )


class InvitationOut(Schema):
    state: Literal["pending", "expired", "declined"] = Field(
        description="pending: waiting for an answer; expired: 30 days passed (the owner can re-send); declined: said no."
    )
    expires_at: datetime | None


class RhythmOut(Schema):
    rrule: str
    description: str
    time_zone: str


class EstablishmentOut(Schema):
    state: Literal["establishing", "established"] = Field(
        description="established after `of` consecutive slots (or intervals) kept; back to establishing after two lapses in 8 weeks."
    )
    kept: int = Field(description="Consecutive slots (or intervals) kept so far, up to `of`.")
    of: int


class PactOut(Schema):
    id: str
    role: Literal["owner", "colleague"]
    state: Literal["active", "invited", "ended"] = Field(
        description="active; invited (yours to accept or decline); ended (nobody on the other side any more)."
    )
    mutual: bool
    colleague: ColleagueOut
    invitation: InvitationOut | None = Field(description="The invitation by email, while one is involved.")
    ended_reason: Literal["you_ended", "colleague_left", "colleague_erased", "declined"] | None
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
    establishment: EstablishmentOut
    slot_reminders: bool = Field(description="Reminders before slots while establishing (slot pacts; off: false).")


# ------------------------------------------------------------------ check-ins


class CheckInIn(Strict):
    occurred_at: Instant | None = Field(default=None, description="When you talked (default now); with a zone.")
    mode: Mode | None = Field(default=None, description="Default: the pact's mode.")
    duration_minutes: StrictInt | None = Field(default=None, ge=1, le=600, description="Default: the pact's time limit.")
    note: Note | None = Field(default=None, description="Private: only you can ever read it.")


class CheckInOut(Schema):
    id: str
    pact_id: str
    occurred_at: datetime
    mode: Mode
    duration_minutes: int
    recorded_by_me: bool
    note: str | None = Field(description="Your private note; never shown to anyone else.")
    source: str
    recorded_at: datetime
