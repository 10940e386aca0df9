"""The introductions' request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt

from shared.adapters.schema_types import Instant, Mode, Schema, Strict, text_with_line_breaks
from shared.pacts.schemas import RhythmIn

MemberId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_-]+$")]
Message = Annotated[str, Field(min_length=1, max_length=500), AfterValidator(text_with_line_breaks)]


class IntroductionIn(Strict):
    to: MemberId = Field(description="The id of a member who is in the colleague directory.")
    message: Message = Field(description="A few words: who you are and why you would like to be introduced.")


class IntroductionPactIn(Strict):
    """The usual pact terms; the colleague is the other party of the introduction."""

    rhythm: RhythmIn = Field(default_factory=lambda: RhythmIn(every_days=7), description="Default: at least once a week.")
    mode: Mode = "phone"
    time_limit_minutes: StrictInt = Field(default=30, ge=5, le=240)
    grace_days: StrictInt = Field(default=2, ge=0, le=14)
    starts_at: Instant | None = Field(default=None, description="When the pact begins (default now); with a zone.")


class PartyOut(Schema):
    member_id: str
    name: str
    specialties: list[str] | None = Field(default=None, description="From their profile: in GET /introductions/{id}; null in lists.")
    region: str | None = Field(default=None, description="From their profile: in GET /introductions/{id}; null in lists.")


class ContactOut(Schema):
    email: str
    phone: str | None


class IntroductionOut(Schema):
    id: str
    role: Literal["requester", "recipient"] = Field(description="requester: you asked; recipient: you were asked.")
    state: Literal["pending", "accepted", "declined", "expired", "closed"] = Field(
        description=(
            "The recipient sees pending, accepted, declined or expired (unanswered for 14 days). The requester sees "
            "pending until it is accepted or its 14 days are over, then accepted or closed: a decline is never shown."
        )
    )
    other: PartyOut = Field(description="The other party.")
    contact: ContactOut | None = Field(
        description="The other party's email (and phone, if set): once accepted, and only in GET /introductions/{id} and the answers "
        "to accept; null before that, and in lists."
    )
    message: str
    created_at: datetime
    valid_until: datetime = Field(description="Unanswered by then, the request closes.")
    pact_id: str | None = Field(description="The pact made from this introduction, if any.")
