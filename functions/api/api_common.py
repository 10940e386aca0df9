"""What the API's route modules share: the resolver, a request's context, how a created thing is answered."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from shared.adapters.http import caller, create_resolver, request_time
from shared.adapters.settings import get_settings

if TYPE_CHECKING:
    from shared.pacts.planning import Ctx

app = create_resolver(
    title="Peer support API",
    description=(
        "Regular check-ins between colleagues (pacts), the check-ins themselves, and the profile they hang on. "
        "Errors are RFC 9457 problem details. Every route needs a Cognito access token with the peer-support/api scope."
    ),
)

Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
Cursor = Annotated[str | None, Query(max_length=2000, description="The `next` value of the previous page.")]


def ctx() -> Ctx:
    from shared.pacts.planning import Ctx  # the pacts' planning and the domain: not needed to read a profile

    return Ctx(sub=caller(app).sub, now=request_time(app), due_shards=get_settings().due_shards)


def created(body: Any, location: str) -> Response[Any]:
    return Response(status_code=201, content_type="application/json", body=body, headers={"Location": location})
