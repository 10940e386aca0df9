"""/introductions: asking to be introduced to a colleague, and a pact made from an introduction."""

from __future__ import annotations

from api_common import app, created, ctx
from aws_lambda_powertools.event_handler import Response

from shared.adapters.schema_types import Page
from shared.network.introductions import use_cases as introductions
from shared.network.introductions.schemas import IntroductionIn, IntroductionOut, IntroductionPactIn
from shared.pacts.schemas import PactOut


@app.post(
    "/introductions",
    summary="Ask to be introduced to a colleague in the directory (5 a day; not the same colleague again for 90 days)",
    tags=["introductions"],
    status_code=201,
)
def request_introduction(body: IntroductionIn) -> Response[IntroductionOut]:
    intro = introductions.request(ctx(), body)
    return created(intro, f"/introductions/{intro.id}")


@app.get("/introductions", summary="Introductions you asked for and were asked for, newest first", tags=["introductions"])
def list_introductions() -> Page[IntroductionOut]:
    return introductions.list_mine(ctx())


@app.get("/introductions/<intro_id>", summary="One introduction; once accepted, the other's contact details", tags=["introductions"])
def get_introduction(intro_id: str) -> IntroductionOut:
    return introductions.get(ctx(), intro_id)


@app.post("/introductions/<intro_id>/accept", summary="Accept: you both see each other's contact details", tags=["introductions"])
def accept_introduction(intro_id: str) -> IntroductionOut:
    return introductions.accept(ctx(), intro_id)


@app.post(
    "/introductions/<intro_id>/decline",
    summary="Decline, silently (the requester is never told)",
    tags=["introductions"],
    status_code=204,
)
def decline_introduction(intro_id: str) -> Response[str]:
    introductions.decline(ctx(), intro_id)
    return Response(status_code=204, body="")


@app.post(
    "/introductions/<intro_id>/pact",
    summary="Make a mutual pact with the colleague you were introduced to, in one step",
    tags=["introductions"],
    status_code=201,
)
def pact_from_introduction(intro_id: str, body: IntroductionPactIn | None = None) -> Response[PactOut]:
    made = introductions.make_pact(ctx(), intro_id, body or IntroductionPactIn())
    return created(made, f"/pacts/{made.id}")
