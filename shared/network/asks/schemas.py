"""The asks' request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from shared.adapters.schema_types import Schema, Strict, text_with_line_breaks

MAX_ASK_CHARS = 2000
MAX_REPLY_CHARS = 2000
_TEXT = "Plain text (never read as HTML), line breaks allowed; nothing that could identify a client (refused with a 422 naming it)."


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value


AskText = Annotated[
    str,
    Field(min_length=1, max_length=MAX_ASK_CHARS, description=_TEXT),
    AfterValidator(text_with_line_breaks),
    AfterValidator(_not_blank),
]
ReplyText = Annotated[
    str,
    Field(min_length=1, max_length=MAX_REPLY_CHARS, description=_TEXT),
    AfterValidator(text_with_line_breaks),
    AfterValidator(_not_blank),
]


class ToPacts(Strict):
    kind: Literal["pacts"] = Field(description="The other members of your active mutual pacts.")


class ToGroup(Strict):
    kind: Literal["group"] = Field(description="The other active members of one of your groups.")
    group_id: str = Field(min_length=1, max_length=40)


class ToSpecialty(Strict):
    kind: Literal["specialty"] = Field(description="Members listed in the directory under a specialty (at most 50 per ask).")
    specialty: str = Field(min_length=1, max_length=60, description="A specialty as in profiles, e.g. 'trauma' or 'Grief & Loss'.")


class AskIn(Strict):
    text: AskText
    to: Annotated[ToPacts | ToGroup | ToSpecialty, Field(discriminator="kind")]


class ReplyIn(Strict):
    text: ReplyText


class AudienceOut(Schema):
    kind: Literal["pacts", "group", "specialty"]
    label: str | None = Field(
        description="Who was asked, as the asker chose: 'pact colleagues', the group's name, 'specialty: Grief & Loss' (their words)."
    )
    group_id: str | None = None
    specialty: str | None = Field(default=None, description="The specialty's normalised tag, e.g. 'grief-and-loss'.")


class ReplyOut(Schema):
    id: str
    author_name: str = Field(description="The replier's name ('a former member' once they erased their account).")
    mine: bool
    text: str
    created_at: datetime


class AskOut(Schema):
    id: str
    mine: bool = Field(description="You asked it (you see every reply); otherwise you were asked (you see your own replies).")
    author_name: str
    text: str
    audience: AudienceOut
    state: Literal["open", "closed"]
    created_at: datetime
    closed_at: datetime | None = None
    recipients: int | None = Field(default=None, description="How many colleagues were asked (the asker only).")
    capped: bool | None = Field(default=None, description="POST only: more were listed than an ask reaches (`recipients` were asked).")
    note: str | None = Field(default=None, description="Anything to know about who was asked (the cap).")
    reply_count: int | None = Field(default=None, description="Replies so far (the asker only).")
    replies: list[ReplyOut] | None = Field(default=None, description="GET /asks/{id}: every reply for the asker, your own for a replier.")
