"""The groups capability's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AnyHttpUrl, Field, StrictInt, field_validator, model_validator

from shared.adapters.schema_types import Day, Email, Instant, Name, Note, Schema, Strict, TimeZone

MemberRef = Name  # a member id as the API shows it
Text = Note  # free text up to 2000 characters, line breaks allowed


class RhythmIn(Strict):
    rrule: str = Field(
        min_length=8,
        max_length=200,
        description="An RFC 5545 RRULE in the group's zone, with the time: FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;BYMINUTE=0 "
        "(the second Tuesday of the month at 19:00), FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=8;BYMINUTE=0 (every other Thursday 08:00).",
    )
    time_zone: TimeZone = Field(description="IANA zone the meetings are agreed in, e.g. Europe/Dublin.")
    starts_on: Day | None = Field(
        default=None, description="The series begins with the first meeting on or after this day (default today)."
    )

    @field_validator("rrule")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.strip().removeprefix("RRULE:").upper()


class StopIn(Strict):
    venue: Name | None = Field(default=None, description="Where: an address, a room, a practice.")
    host: MemberRef | None = Field(default=None, description="The member id of a group member who hosts this turn.")

    @model_validator(mode="after")
    def _something(self) -> StopIn:
        if self.venue is None and self.host is None:
            raise ValueError("a rotation stop needs a venue, a host or both")
        return self


class WhereIn(Strict):
    """One fixed place, online with a link, or a rotation of venues and/or hosts in a given order."""

    kind: Literal["place", "online", "rotation"]
    venue: Name | None = None
    url: AnyHttpUrl | None = Field(default=None, description="The online meeting's link (https).")
    stops: list[StopIn] | None = Field(default=None, min_length=2, max_length=16)

    @model_validator(mode="after")
    def _complete(self) -> WhereIn:
        if self.kind == "place" and not self.venue:
            raise ValueError("a fixed place needs its venue")
        if self.kind == "online" and self.url is None:
            raise ValueError("an online group needs its link (url)")
        if self.kind == "online" and self.url is not None and self.url.scheme != "https":
            raise ValueError("the online link must be https")
        if self.kind == "rotation" and not self.stops:
            raise ValueError("a rotation needs its stops, in order (at least two)")
        return self


class StepIn(Strict):
    title: Name
    minutes: StrictInt = Field(ge=1, le=480)


class SegmentIn(Strict):
    title: Name
    minutes: StrictInt = Field(ge=1, le=480, description="Minutes for one repetition (one case slot).")
    kind: Literal["plain", "case"] = Field(default="plain", description="case: a presentation slot with one presenter.")
    repeat: StrictInt = Field(default=1, ge=1, le=16, description="Case slots: presenters per meeting.")
    steps: list[StepIn] = Field(default_factory=list, max_length=12)
    roles: list[Name] = Field(default_factory=list, max_length=8, description="Perspectives the peers take on each case.")


class FormatIn(Strict):
    """A preset fitted to the time boundary (optionally with a number of case slots), or your own segments."""

    preset: Literal["sgsm", "borders", "balint", "case_slots"] | None = None
    case_slots: StrictInt | None = Field(default=None, ge=1, le=8)
    segments: list[SegmentIn] | None = Field(default=None, min_length=1, max_length=20)
    roles: list[Name] | None = Field(default=None, max_length=6, description="Meeting-wide roles (moderator, timekeeper).")

    @model_validator(mode="after")
    def _one(self) -> FormatIn:
        if (self.preset is None) == (self.segments is None):
            raise ValueError("give a preset or your own segments")
        if self.case_slots is not None and self.preset is None:
            raise ValueError("case_slots goes with a preset")
        return self


class GroupIn(Strict):
    name: Name
    purpose: Text | None = None
    objectives: Text | None = None
    rhythm: RhythmIn
    duration_minutes: StrictInt = Field(ge=30, le=480, description="The time boundary: how long each meeting lasts.")
    where: WhereIn
    format: FormatIn = Field(default_factory=lambda: FormatIn(preset="case_slots"))
    size_limit: StrictInt = Field(default=12, ge=2, le=16, description="Members and open invitations together.")
    reminder_days: StrictInt = Field(default=1, ge=0, le=7, description="Reminders go this many days before, at each member's nudge hour.")
    review_months: StrictInt = Field(default=6, ge=1, le=24, description="Conveners are prompted to review the agreement this often.")


class GroupPatch(Strict):
    name: Name | None = None
    purpose: Text | None = None
    objectives: Text | None = None
    rhythm: RhythmIn | None = None
    duration_minutes: StrictInt | None = Field(default=None, ge=30, le=480)
    where: WhereIn | None = None
    format: FormatIn | None = None
    size_limit: StrictInt | None = Field(default=None, ge=2, le=16)
    reminder_days: StrictInt | None = Field(default=None, ge=0, le=7)
    review_months: StrictInt | None = Field(default=None, ge=1, le=24)

    @model_validator(mode="after")
    def _no_nulls(self) -> GroupPatch:
        """Leave a field out to keep it; only purpose and objectives can be cleared with null."""
        nulls = sorted(n for n in self.model_fields_set if getattr(self, n) is None and n not in ("purpose", "objectives"))
        if nulls:
            raise ValueError(f"{', '.join(nulls)}: leave it out to keep it; it cannot be null")
        return self


class InviteIn(Strict):
    email: Email = Field(description="A member is found by their email; anyone else gets an invitation to join.")


class RoleIn(Strict):
    role: Literal["convener", "member"]


class RsvpIn(Strict):
    answer: Literal["yes", "no", "maybe"]


class CancelIn(Strict):
    reason: Name | None = None


class RescheduleIn(Strict):
    """Move this one meeting, and/or change where it happens this once."""

    starts_at: Instant | None = None
    venue: Name | None = None
    url: AnyHttpUrl | None = None

    @model_validator(mode="after")
    def _something(self) -> RescheduleIn:
        if self.starts_at is None and self.venue is None and self.url is None:
            raise ValueError("give a new starts_at, a venue or a url for this meeting")
        return self


class AttendanceIn(Strict):
    attended: list[MemberRef] = Field(max_length=16, description="Member ids of everyone who came.")
    presented: list[MemberRef] = Field(default_factory=list, max_length=16, description="Who presented a case (they came, too).")


# ------------------------------------------------------------------ answers


class PersonOut(Schema):
    member_id: str
    name: str


class GroupMemberOut(Schema):
    member_id: str
    name: str
    role: str
    state: Literal["active", "invited"]
    invitation_expires_at: datetime | None = None
    attended: int | None = Field(default=None, description="Conveners see attendance per member.")
    missed_in_a_row: int | None = None
    presented: int | None = None


class StopOut(Schema):
    venue: str | None
    host: PersonOut | None


class WhereOut(Schema):
    kind: str
    venue: str | None = None
    url: str | None = None
    stops: list[StopOut] | None = None


class StepOut(Schema):
    title: str
    minutes: int


class SegmentOut(Schema):
    title: str
    minutes: int
    kind: str
    repeat: int
    steps: list[StepOut]
    roles: list[str]


class FormatOut(Schema):
    preset: str | None
    total_minutes: int
    case_slots: int
    roles: list[str]
    segments: list[SegmentOut]


class AgreementOut(Schema):
    version: int
    changed_at: datetime
    review_due_at: datetime | None


class GroupOut(Schema):
    id: str
    name: str
    purpose: str | None
    objectives: str | None
    my_role: str
    my_state: Literal["active", "invited"]
    rhythm: str
    rrule: str
    time_zone: str
    starts_at: datetime
    duration_minutes: int
    where: WhereOut
    format: FormatOut
    size_limit: int
    reminder_days: int
    review_months: int
    agreement: AgreementOut
    members: list[GroupMemberOut] = Field(description="Only members see the others; an invited person sees the conveners.")
    next_meeting: datetime | None


class AgendaItemOut(Schema):
    starts_at: datetime
    ends_at: datetime
    local_time: str = Field(description="HH:MM in the group's zone.")
    title: str
    kind: str
    presenter: PersonOut | None = None
    mine: bool = Field(default=False, description="Your own slot.")
    roles: dict[str, PersonOut] = Field(default_factory=dict)
    steps: list[StepOut] = Field(default_factory=list)


class MeetingOut(Schema):
    id: str = Field(description="The occurrence's original start (UTC, compact): stays the same when it moves.")
    status: Literal["planned", "scheduled", "cancelled", "held"]
    starts_at: datetime
    ends_at: datetime
    original_start: datetime
    time_zone: str
    local_start: str = Field(description="The start in the group's zone, ISO 8601 with offset.")
    venue: str | None
    url: str | None
    host: PersonOut | None
    presenters: list[PersonOut]
    roles: dict[str, PersonOut]
    agenda: list[AgendaItemOut]
    my_rsvp: str | None
    rsvps: dict[str, int] = Field(description="Counts of yes/no/maybe.")
    slot_requested: bool
    attended: list[PersonOut] | None = None
    former_members_attended: int = 0
    cancel_reason: str | None = None


class AttendedOut(Schema):
    group_id: str
    group_name: str
    meeting_id: str
    starts_at: datetime
    presented: bool


class CalendarOut(Schema):
    url: str = Field(description="Your private calendar feed. Anyone with it sees your meetings; rotate it to revoke.")
    created_at: datetime
