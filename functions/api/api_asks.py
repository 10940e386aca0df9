"""/asks: questions to one's pact colleagues, a group or a specialty, and the replies."""

from __future__ import annotations

from typing import Annotated, Literal

from api_common import Cursor, Limit, app, created, ctx
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.adapters.schema_types import Page
from shared.network.asks import use_cases as asks
from shared.network.asks.schemas import AskIn, AskOut, ReplyIn, ReplyOut

Box = Annotated[Literal["received", "mine"], Query(description="The asks you were sent (received) or the asks you made (mine).")]


@app.post(
    "/asks",
    summary="Ask your pact colleagues, a group or a specialty a question (nothing that could identify a client)",
    tags=["asks"],
    status_code=201,
)
def create_ask(body: AskIn) -> Response[AskOut]:
    ask = asks.create_ask(ctx(), body)
    return created(ask, f"/asks/{ask.id}")


@app.get("/asks", summary="The asks you were sent, or the asks you made, newest first", tags=["asks"])
def list_asks(box: Box = "received", limit: Limit = 20, next: Cursor = None) -> Page[AskOut]:  # noqa: A002
    return asks.list_asks(ctx(), box, limit, next)


@app.get("/asks/<ask_id>", summary="One ask: every reply for the asker, your own replies for a colleague asked", tags=["asks"])
def get_ask(ask_id: str) -> AskOut:
    return asks.get_ask(ctx(), ask_id)


@app.post("/asks/<ask_id>/replies", summary="Answer an ask you were sent (only the asker sees your reply)", tags=["asks"], status_code=201)
def reply_to_ask(ask_id: str, body: ReplyIn) -> Response[ReplyOut]:
    answer = asks.reply(ctx(), ask_id, body)
    return created(answer, f"/asks/{ask_id}")


@app.post("/asks/<ask_id>/close", summary="Close your ask: it takes no more replies", tags=["asks"])
def close_ask(ask_id: str) -> AskOut:
    return asks.close(ctx(), ask_id)
