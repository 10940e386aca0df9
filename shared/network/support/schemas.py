"""The support capability's response bodies (the CSV log has none: it is text/csv)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.adapters.schema_types import Schema
from shared.pacts.schemas import EstablishmentOut


class PactSupportOut(Schema):
    id: str
    colleague: str
    status: Literal["on_track", "due", "lapsed", "paused"]
    mutual: bool
    last_check_in_at: datetime | None
    next_due_at: datetime
    lapsed_since: datetime | None = Field(
        description="When contact lapsed (next due plus the grace days), while it is lapsed; never for an invitation not answered."
    )
    invitation: Literal["pending", "expired"] | None = Field(
        default=None,
        description="An invitation your colleague has not answered, on a pact with no call recorded: nobody has talked yet, "
        "so its contact has not lapsed. Null once they said yes or a call was recorded.",
    )
    establishment: EstablishmentOut = Field(description="How established the habit of regular contact is, as on the pact itself.")


class GroupSupportOut(Schema):
    id: str
    name: str
    attended: int = Field(description="Meetings you attended since joining.")
    held: int = Field(description="Meetings held since you joined (attendance recorded).")


class SupportOut(Schema):
    as_of: datetime
    pacts: list[PactSupportOut] = Field(description="Your active pacts and where each stands.")
    check_ins_30_days: int
    check_ins_90_days: int
    colleagues_30_days: int = Field(description="Different colleagues you checked in with in the last 30 days.")
    meetings_attended_30_days: int
    meetings_attended_90_days: int
    groups: list[GroupSupportOut]
    last_contact_at: datetime | None = Field(description="Your last check-in or group meeting attended.")
    days_since_last_contact: int | None
    summary: str = Field(description="The same, in a sentence or two.")
