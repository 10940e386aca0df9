"""The HTTP API function: parse, call a use-case in shared/, shape the response. No business rules here."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from shared.http import caller, create_resolver
from shared.members import MemberOut, get_profile
from shared.observability import logger

app = create_resolver(
    title="Peer support API",
    description="Check-in pacts between colleagues, check-ins, and kind nudges when contact lapses.",
)


@app.get("/members/me", summary="Your profile", tags=["members"])
def get_me() -> MemberOut:
    return get_profile(caller(app).sub)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
