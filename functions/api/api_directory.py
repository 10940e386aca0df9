"""/directory and /suggestions: finding colleagues."""

from __future__ import annotations

from typing import Annotated

from api_common import Cursor, Limit, app, ctx
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.adapters.schema_types import Page
from shared.network.directory import use_cases as directory
from shared.network.directory.schemas import DirectoryCardOut, SuggestionsOut

SearchText = Annotated[str | None, Query(max_length=80, description="Matched forgivingly: case, accents and synonyms (PTSD finds trauma).")]


@app.get("/directory", summary="Find colleagues by specialty, modality or region: closest to you first", tags=["network"])
def search_directory(
    specialty: SearchText = None,
    modality: SearchText = None,
    region: SearchText = None,
    q: SearchText = None,
    limit: Limit = 20,
    next: Cursor = None,  # noqa: A002
) -> Page[DirectoryCardOut]:
    return directory.search(ctx(), specialty=specialty, modality=modality, region=region, q=q, limit=limit, cursor=next)


SuggestionLimit = Annotated[int, Query(ge=1, le=50, description="At most this many suggestions.")]


@app.get("/suggestions", summary="Colleagues you might agree a pact with, each with the reason", tags=["network"])
def get_suggestions(limit: SuggestionLimit = 10) -> SuggestionsOut:
    return directory.suggestions(ctx(), limit)


@app.post("/suggestions/<member_id>/dismiss", summary="Never suggest this colleague again (idempotent)", tags=["network"], status_code=204)
def dismiss_suggestion(member_id: str) -> Response[str]:
    directory.dismiss(ctx(), member_id)
    return Response(status_code=204, body="")
