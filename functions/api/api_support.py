"""/members/me/support and /members/me/log.csv: one's peer contact at a glance, and the CPD log."""

from __future__ import annotations

from typing import Annotated, Any

from api_common import app, ctx
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.network.support import log as support_log
from shared.network.support import use_cases as support
from shared.network.support.schemas import SupportOut

LogDay = Annotated[str | None, Query(max_length=10, description="The last date, YYYY-MM-DD, in your time zone (default today).")]
LogFrom = Annotated[
    str | None,
    Query(alias="from", max_length=10, description="The first date, YYYY-MM-DD, your zone (default: a year before `to`)."),
]
CSV_RESPONSE: dict[int, Any] = {
    200: {
        "description": "The log as RFC 4180 CSV (UTF-8 with a byte order mark, CRLF): a header row, one row per check-in "
        "and group meeting attended (Date, Time, Kind, With, Mode, Minutes; never notes), then the totals per month.",
        "content": {"text/csv": {"schema": {"type": "string"}}},
        "headers": {"Content-Disposition": {"description": "attachment; filename=...csv", "schema": {"type": "string"}}},
    }
}


@app.get("/members/me/support", summary="Your peer contact: pacts, check-ins, meetings, and how long since", tags=["support"])
def my_support() -> SupportOut:
    return support.support(ctx())


@app.get(
    "/members/me/log.csv",
    summary="Your peer-support log for accreditation or CPD, as CSV (at most three years; default the last year)",
    tags=["support"],
    responses=CSV_RESPONSE,
)
def my_log(from_: LogFrom = None, to: LogDay = None) -> Response[str]:
    log = support_log.peer_support_log(ctx(), from_, to)
    headers = {"Content-Disposition": f'attachment; filename="{log.filename}"', "Cache-Control": "private, no-store"}
    return Response(status_code=200, content_type="text/csv; charset=utf-8", body=log.body, headers=headers)
