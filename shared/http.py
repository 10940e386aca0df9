"""What every HTTP function shares: the resolver, problem details (RFC 9457), the caller, the request time.

Bad input gets a 4xx problem-details body naming what was wrong; a known path with
the wrong method gets 405 with an `Allow` header; nothing answers with a stack trace.
"""

from __future__ import annotations

import json
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError, ResponseValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from shared.domain.errors import Conflict, DomainError, Gone, InvalidField, NotFound
from shared.observability import logger

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://peer-support.dev/problems/"

_STATUS: dict[type[DomainError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    Conflict: HTTPStatus.CONFLICT,
    InvalidField: HTTPStatus.UNPROCESSABLE_ENTITY,
    Gone: HTTPStatus.GONE,
}


class Unauthorized(DomainError):
    title = "Unauthorized"


_STATUS[Unauthorized] = HTTPStatus.UNAUTHORIZED


def problem(
    status: HTTPStatus,
    detail: str,
    *,
    slug: str | None = None,
    title: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[str]:
    body = {
        "type": PROBLEM_BASE + (slug or status.phrase.lower().replace(" ", "-")),
        "title": title or status.phrase,
        "status": status.value,
        "detail": detail,
        **extra,
    }
    return Response(status_code=status.value, content_type=PROBLEM_JSON, body=json.dumps(body), headers=headers or {})


def _field_name(loc: Any) -> str:
    parts = [str(p) for p in (loc or ())]
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


def _validation_problem(exc: RequestValidationError) -> Response[str]:
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return problem(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON.", slug="malformed-json", title="Malformed JSON")
        errors.append({"field": _field_name(err.get("loc")), "message": str(err.get("msg", "invalid value"))})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "The request is not valid."
    return problem(HTTPStatus.UNPROCESSABLE_ENTITY, detail, slug="validation", title="Validation failed", errors=errors)


DOC_PATHS = frozenset({"/openapi.json", "/docs"})


class FieldError(BaseModel):
    field: str = Field(description="Which field, dotted for nested ones (colleague.email).")
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details: every error this API answers with."""

    type: str
    title: str
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None


def _problem_response(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {PROBLEM_JSON: {"model": Problem}}}


PROBLEM_RESPONSES: dict[int, OpenAPIResponse] = {
    400: _problem_response("Malformed JSON."),
    401: _problem_response('No valid token (answered by API Gateway\'s JWT authorizer as {"message": "Unauthorized"}).'),
    404: _problem_response("No such thing, or not yours: the two look the same."),
    405: _problem_response("A known path with another method; see the Allow header."),
    409: _problem_response("Clashes with the current state (a concurrent change, an invitation already accepted)."),
    415: _problem_response("The body is not JSON."),
    422: _problem_response("A field's value is not acceptable; `errors` names each field."),
    500: _problem_response("Our fault; logged, without your data."),
}


class ApiResolver(APIGatewayHttpResolver):
    """The HTTP API resolver: validation on, problem details, 405 with Allow, and docs added on first use.

    The OpenAPI document and Swagger UI (/openapi.json, /docs) are registered the first
    time one of them is asked for: their models cost ~50 ms of import that no other
    request needs, and every cold start would pay it otherwise.
    """

    def __init__(self, *, title: str, description: str):
        super().__init__(enable_validation=True)
        self._info = {"title": title, "description": description}
        self._docs_enabled = False
        _install_error_handlers(self)

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if not self._docs_enabled and event.get("rawPath") in DOC_PATHS:
            self._enable_docs()
        refused = _non_json_body(event)
        if refused is not None:
            return {
                "statusCode": refused.status_code,
                "headers": {"Content-Type": PROBLEM_JSON},
                "body": refused.body,
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)

    def _enable_docs(self) -> None:
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

        # Every route documents the problem responses it can give, besides its own.
        for route in self._static_routes + self._dynamic_routes:
            success: OpenAPIResponse = {"description": route.summary or "Success"}
            if route.status_code == HTTPStatus.NO_CONTENT:
                success["content"] = {}
            route.responses = {route.status_code: success, **PROBLEM_RESPONSES, **(route.responses or {})}
            route._dependant = None  # noqa: SLF001 - rebuilt with the responses' models on next use

        info: dict[str, Any] = {
            **self._info,
            "version": "1.0.0",
            "security_schemes": {
                "bearer": HTTPBearer(bearerFormat="JWT", description="A Cognito access token with the peer-support/api scope."),
            },
            "security": [{"bearer": []}],
        }

        @self.get("/openapi.json", include_in_schema=False)
        def _openapi():  # type: ignore[no-untyped-def]  # an annotation here would enter the OpenAPI models
            return Response(status_code=200, content_type="application/json", body=self.get_openapi_json_schema(**info))

        self.enable_swagger(path="/docs", **info)
        self._docs_enabled = True


def _non_json_body(event: Mapping[str, Any]) -> Response[str] | None:
    """A body must be JSON: `curl -d` without a content type would otherwise be read as a form."""
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = str(headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if event.get("body") and not (media_type == "application/json" or media_type.endswith("+json")):
        return problem(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"Send the body as JSON with 'Content-Type: application/json' (got '{media_type or 'none'}').",
            slug="unsupported-media-type",
        )
    return None


def create_resolver(*, title: str, description: str) -> ApiResolver:
    return ApiResolver(title=title, description=description)


def _install_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return _validation_problem(exc)

    @app.exception_handler(ResponseValidationError)
    def _bad_response(exc: ResponseValidationError) -> Response[str]:
        # Our bug, not the caller's: a 500, logged without the (possibly personal) values.
        logger.error("response failed validation", extra={"fields": [_field_name(e.get("loc")) for e in exc.errors()]})
        return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side. It has been logged; please try again.")

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[str]:
        status = next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), HTTPStatus.BAD_REQUEST)
        extra: dict[str, Any] = {}
        if isinstance(exc, InvalidField):
            extra = {"field": exc.field, "errors": [{"field": exc.field, "message": exc.reason}]}
        return problem(status, exc.detail, title=exc.title, slug=type(exc).__name__.lower(), **extra)

    @app.not_found
    def _not_found(_: NotFoundError) -> Response[str]:
        event = app.current_event
        allowed = allowed_methods(app, event.path)
        if allowed and event.http_method.upper() not in allowed:
            return problem(
                HTTPStatus.METHOD_NOT_ALLOWED,
                f"{event.http_method.upper()} is not allowed on {event.path}; use {', '.join(allowed)}.",
                headers={"Allow": ", ".join(allowed)},
            )
        return problem(HTTPStatus.NOT_FOUND, f"There is nothing at {event.path}.")

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[str]:
        # The type and where it happened only: exception messages may carry personal data.
        frames = [f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in traceback.extract_tb(exc.__traceback__)]
        logger.error("unhandled error", extra={"error_type": type(exc).__name__, "frames": frames[-8:]})
        return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side. It has been logged; please try again.")


def allowed_methods(app: APIGatewayHttpResolver, path: str) -> list[str]:
    """The methods registered for a path (the resolver knows its routes; it just answers 404 by default)."""
    routes = app._static_routes + app._dynamic_routes  # noqa: SLF001 - the resolver's own route table
    return sorted({route.method for route in routes if route.rule.match(path)})


# ------------------------------------------------------------------ who is calling, and when


@dataclass(frozen=True)
class Caller:
    """The signed-in therapist, from the claims the JWT authorizer verified."""

    sub: str
    email: str | None
    email_verified: bool
    scopes: frozenset[str]


def caller(app: APIGatewayHttpResolver) -> Caller:
    ctx = app.current_event.request_context
    claims = ctx.authorizer.jwt_claim if ctx.authorizer else None
    if not claims or not claims.get("sub"):
        raise Unauthorized("This route needs a signed-in member.")
    verified = str(claims.get("email_verified", "false")).lower() == "true"
    return Caller(
        sub=str(claims["sub"]),
        email=str(claims["email"]).lower() if claims.get("email") else None,
        email_verified=verified,
        scopes=frozenset(str(claims.get("scope", "")).split()),
    )


def request_time(app: APIGatewayHttpResolver) -> datetime:
    """When API Gateway received the request: the `now` the domain is given (the local stack can move it)."""
    epoch_ms = app.current_event.request_context.time_epoch
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
