"""The private calendar feed, GET /calendar/<secret>.ics: no sign-in, the address is the key. Read-only.

API Gateway has already routed the request (one route in template.yaml, the secret a path
parameter), so this handler reads the event's data class rather than loading an HTTP resolver.
Any secret that opens nothing (malformed, unknown, rotated away, its member erased) gets the
same 404. A calendar app polls: `If-None-Match` with the current ETag gets a 304 and no body.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.observability import logger
from shared.calendar.feed import Feed, feed_for

PROBLEM_BASE = "https://peer-support.dev/problems/"  # as shared.adapters.http (not imported: it loads the resolver)
HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "X-Content-Type-Options": "nosniff",
}
CACHE = "private, max-age=300"


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    body = {"type": PROBLEM_BASE + title.lower().replace(" ", "-"), "title": title, "status": status, "detail": detail}
    headers = {**HEADERS, "Content-Type": "application/problem+json", "Cache-Control": "no-store"}
    return {"statusCode": status, "headers": headers, "body": json.dumps(body), "isBase64Encoded": False}


NOT_FOUND = _problem(404, "Not found", "There is no calendar at this address. Its owner may have replaced it with a new one.")
FAILED = _problem(500, "Internal error", "Something went wrong on our side. It has been logged; please try again.")


def matches(if_none_match: str | None, etag: str) -> bool:
    """Whether an If-None-Match header names this ETag (weak comparison, as RFC 9110 asks for it), or is `*`."""
    if not if_none_match:
        return False
    tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in tags or etag in tags


def answer(feed: Feed, if_none_match: str | None) -> dict[str, Any]:
    headers = {**HEADERS, "ETag": feed.etag, "Last-Modified": format_datetime(feed.last_modified.astimezone(UTC), usegmt=True)}
    headers["Cache-Control"] = CACHE
    if matches(if_none_match, feed.etag):
        return {"statusCode": 304, "headers": headers, "body": "", "isBase64Encoded": False}
    headers["Content-Type"] = "text/calendar; charset=utf-8"
    headers["Content-Disposition"] = 'inline; filename="peer-support.ics"'
    return {"statusCode": 200, "headers": headers, "body": feed.body.decode("utf-8"), "isBase64Encoded": False}


def respond(event: APIGatewayProxyEventV2) -> dict[str, Any]:
    secret = (event.path_parameters or {}).get("secret", "")
    now = datetime.fromtimestamp(event.request_context.time_epoch / 1000, tz=UTC)
    feed = feed_for(secret, now)
    if feed is None:
        logger.info("calendar feed", extra={"status": 404})
        return NOT_FOUND
    response = answer(feed, event.headers.get("if-none-match"))
    logger.info("calendar feed", extra={"status": response["statusCode"], "bytes": len(feed.body)})
    return response


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@event_source(data_class=APIGatewayProxyEventV2)
def handler(event: APIGatewayProxyEventV2, context: LambdaContext) -> dict[str, Any]:
    try:
        return respond(event)
    except Exception as exc:
        logger.error("calendar feed failed", extra={"error_type": type(exc).__name__})
        return FAILED
