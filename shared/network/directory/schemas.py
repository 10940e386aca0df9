"""The directory's and the suggestions' response bodies: cards without email addresses or phone numbers."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.adapters.schema_types import Schema

Closeness = Literal["colleague", "colleague_of_colleague", "region", "other"]


class DirectoryCardOut(Schema):
    member_id: str
    display_name: str
    region: str | None
    specialties: list[str]
    modalities: list[str]
    closeness: Closeness = Field(
        description="colleague: a pact or a group with you; colleague_of_colleague: one of theirs; region: in your region; other."
    )
    reason: str = Field(description="Why they are this close, in words: 'a colleague of Jennifer's', 'in your region'.")
    via: str | None = Field(description="The colleague through whom (second degree), named only when they are in the directory themself.")


class SuggestionOut(Schema):
    member_id: str
    display_name: str
    reason: str = Field(description="'you meet in Cork peer supervision', 'a colleague of Jennifer's; also works with trauma'.")
    via: str | None
    group: str | None = Field(description="The group you meet in, if that is the reason.")
    shared: list[str] = Field(description="The specialties you have in common (their words), or the region you share.")


class SuggestionsOut(Schema):
    items: list[SuggestionOut]
