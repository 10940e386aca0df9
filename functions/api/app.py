"""The HTTP API function: parse, call a use-case in shared/, shape the response. No business rules here.

Each capability's routes are in a module of their own (api_*.py), imported the first time a
request under its paths comes in (the docs import them all): a cold start imports the
capability it serves, not every capability's use-cases, schemas and domain (see `make bench`).
"""

from __future__ import annotations

from typing import Any

from api_common import app
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.adapters.observability import logger

# In the order the OpenAPI document lists them; each with the path prefixes of its routes.
app.route_modules(
    (("/members/me",), "api_members"),
    (("/members/me/calendar-secret",), "api_calendar"),
    (("/pacts", "/check-ins"), "api_pacts"),
    (("/groups", "/members/me/meetings"), "api_groups"),
    (("/directory", "/suggestions"), "api_directory"),
    (("/introductions",), "api_introductions"),
    (("/asks",), "api_asks"),
    (("/members/me/support", "/members/me/log.csv"), "api_support"),
)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    response = app.resolve(event, context)
    # One line per request, under API Gateway's request id: the method, the route's template and the
    # status only (never the path's values, the query or the body).
    method = event.get("requestContext", {}).get("http", {}).get("method")
    logger.info("request", extra={"method": method, "route": event.get("routeKey"), "status": response.get("statusCode")})
    return response
