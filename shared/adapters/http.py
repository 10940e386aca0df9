"""What every HTTP function shares: the resolver, problem details (RFC 9457), the caller, the request time.

Bad input gets a 4xx problem-details body naming what was wrong; a known path with
the wrong method gets 405 with an `Allow` header; nothing answers with a stack trace.
Each status has exactly one problem type and one title (`PROBLEM_TITLES`), whoever
answers with it: a domain error, the resolver, or validation.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import re
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from http import HTTPStatus
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.api_gateway import Route
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError, ResponseValidationError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.types import EventHandlerInstance
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, Field

from shared.adapters.observability import logger
from shared.adapters.schema_types import Schema
from shared.domain.errors import Conflict, DomainError, Forbidden, Gone, InvalidField, NotFound, TooManyRequests

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://peer-support.dev/problems/"

MAX_BODY_BYTES = 64 * 1024
"""Our bodies are small JSON documents (a profile is well under 4 KiB); API Gateway itself would allow 10 MB."""
MAX_BODY_DEPTH = 32
"""Nesting levels a body may have (ours need 4); deeper is refused before any model sees it."""

PROBLEM_TITLES: dict[HTTPStatus, str] = {
    HTTPStatus.BAD_REQUEST: "Malformed JSON",
    HTTPStatus.UNAUTHORIZED: "Unauthorized",
    HTTPStatus.FORBIDDEN: "Forbidden",
    HTTPStatus.NOT_FOUND: "Not found",
    HTTPStatus.METHOD_NOT_ALLOWED: "Method not allowed",
    HTTPStatus.CONFLICT: "Conflict",
    HTTPStatus.GONE: "Gone",
    HTTPStatus.REQUEST_ENTITY_TOO_LARGE: "Body too large",
    HTTPStatus.UNSUPPORTED_MEDIA_TYPE: "Unsupported media type",
    HTTPStatus.UNPROCESSABLE_ENTITY: "Validation failed",
    HTTPStatus.TOO_MANY_REQUESTS: "Too many requests",
    HTTPStatus.INTERNAL_SERVER_ERROR: "Internal error",
    HTTPStatus.SERVICE_UNAVAILABLE: "Service unavailable",
}
"""The one title of each status we answer with; the problem type is the title as a slug (not-found, validation-failed)."""


def problem_type(status: HTTPStatus) -> tuple[str, str]:
    """(type URI, title) of a status: the same pair wherever the problem comes from."""
    title = PROBLEM_TITLES[status]
    return PROBLEM_BASE + title.lower().replace(" ", "-"), title


_STATUS: dict[type[DomainError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    Forbidden: HTTPStatus.FORBIDDEN,
    Conflict: HTTPStatus.CONFLICT,
    InvalidField: HTTPStatus.UNPROCESSABLE_ENTITY,
    Gone: HTTPStatus.GONE,
    TooManyRequests: HTTPStatus.TOO_MANY_REQUESTS,
}


class Unauthorized(DomainError):
    """No signed-in member on a route that needs one (API Gateway's authorizer normally answers first)."""


_STATUS[Unauthorized] = HTTPStatus.UNAUTHORIZED


def domain_status(exc: DomainError) -> HTTPStatus | None:
    """The status a domain error answers with (None: nobody mapped it, which is our bug)."""
    return next((s for cls, s in _STATUS.items() if isinstance(exc, cls)), None)


def problem(status: HTTPStatus, detail: str, *, headers: dict[str, str] | None = None, **extra: Any) -> Response[str]:
    type_, title = problem_type(status)
    body = {"type": type_, "title": title, "status": status.value, "detail": detail, **extra}
    return Response(status_code=status.value, content_type=PROBLEM_JSON, body=json.dumps(body), headers=headers or {})


def _field_name(loc: Any) -> str:
    parts = [str(p) for p in (loc or ())]
    if parts[:1] == ["header"] and len(parts) > 1:
        return "-".join(word.capitalize() for word in parts[1].split("-"))  # as headers are written: Idempotency-Key
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    return ".".join(parts) or "body"


_LIBRARY_PREFIXES = ("Value error, ", "Assertion failed, ")
"""What pydantic puts before the message of a ValueError or AssertionError raised in a validator."""


def _message(err: Mapping[str, Any]) -> str:
    message = str(err.get("msg") or "invalid value")
    for prefix in _LIBRARY_PREFIXES:
        if message.startswith(prefix):
            return message[len(prefix) :]
    return message


def _validation_problem(exc: RequestValidationError) -> Response[str]:
    errors = []
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            return problem(HTTPStatus.BAD_REQUEST, "The request body is not valid JSON.")
        errors.append({"field": _field_name(err.get("loc")), "message": _message(err)})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "The request is not valid."
    return problem(HTTPStatus.UNPROCESSABLE_ENTITY, detail, errors=errors)


# ------------------------------------------------------------------ reading a JSON body


class BodyRefused(Exception):
    """The body cannot be read as JSON within our limits (a 400)."""

    def __init__(self, detail: str):
        super().__init__(detail)
        self.detail = detail


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _deeper_than(value: Any, limit: int) -> bool:
    """Whether containers nest more than `limit` levels (walked with a stack: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def read_json_body(raw: str | None, *, base64_encoded: bool) -> Any:
    """The body as JSON, or BodyRefused saying why not (bad base64 or UTF-8, not JSON, nested too deep).

    Python's JSON parser recurses once per nesting level, so `[[[[...]]]]` a thousand
    deep raises RecursionError; huge integers raise ValueError. Both are the caller's
    malformed input, not our failure.
    """
    if not raw:
        return None
    text = raw
    if base64_encoded:
        try:
            text = base64.b64decode(raw, validate=True).decode("utf-8")
        except (binascii.Error, ValueError):  # UnicodeDecodeError is a ValueError
            raise BodyRefused("The request body is not valid UTF-8 JSON.") from None
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except RecursionError:
        raise BodyRefused(f"The request body is nested too deeply (at most {MAX_BODY_DEPTH} levels).") from None
    except ValueError:  # JSONDecodeError, NaN/Infinity, integers of more than 4300 digits
        raise BodyRefused("The request body is not valid JSON.") from None
    if _deeper_than(value, MAX_BODY_DEPTH):
        raise BodyRefused(f"The request body is nested too deeply (at most {MAX_BODY_DEPTH} levels).")
    return value


def _is_object_type(annotation: Any) -> bool:
    """Whether a body annotation only accepts a JSON object (a model, a dict, or an optional one of those)."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _is_object_type(get_args(annotation)[0])
    if origin is Union or origin is UnionType:
        members = [arg for arg in get_args(annotation) if arg is not type(None)]
        return bool(members) and all(_is_object_type(arg) for arg in members)
    if origin is dict or annotation is dict:
        return True
    return isinstance(annotation, type) and issubclass(annotation, BaseModel) and not getattr(annotation, "__pydantic_root_model__", False)


def _takes_an_object(route: Route) -> bool:
    params = route.dependant.body_params
    if not params:
        return False
    if len(params) > 1 or getattr(params[0].field_info, "embed", False):
        return True  # several body parameters (or an embedded one) are read as keys of one object
    return _is_object_type(params[0].field_info.annotation)


_JSON_KINDS = {list: "an array", str: "a string", bool: "true or false", int: "a number", float: "a number", type(None): "null"}


class _RequestValidation(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, with the body read by `read_json_body` and its shape checked first.

    Powertools parses the body with json.loads and nothing around RecursionError (a 500),
    and passes a JSON array in place of a model as its first element (its form-data
    handling, `_normalize_field_value`, applied to JSON too): `[{...}]` was accepted as
    `{...}`. A route whose body is a model gets a JSON object here, or a 422.
    """

    def _get_body(self, app: EventHandlerInstance) -> Any:
        event = app.current_event
        body = read_json_body(event.body, base64_encoded=bool(event.is_base64_encoded))
        if event.body and not isinstance(body, dict) and _takes_an_object(app.context["_route"]):
            kind = _JSON_KINDS.get(type(body), "not an object")
            raise RequestValidationError([{"type": "model_type", "loc": ("body",), "msg": f"must be a JSON object, not {kind}"}])
        return body


DOC_PATHS = frozenset({"/openapi.json", "/docs"})


class FieldError(Schema):
    field: str = Field(description="Which field, dotted for nested ones (colleague.email).")
    message: str


class Problem(Schema):
    """RFC 9457 problem details: every error this API answers with."""

    type: str = Field(description="One per status: https://peer-support.dev/problems/not-found, .../validation-failed, ...")
    title: str = Field(description="The same for every problem of this type.")
    status: int
    detail: str
    field: str | None = None
    errors: list[FieldError] | None = None
    retry_after: int | None = Field(default=None, description="With 429: seconds to wait, as in the Retry-After header.")


class GatewayMessage(Schema):
    """What API Gateway itself answers with (its JWT authorizer, before this API is reached)."""

    message: str = Field(examples=["Unauthorized"])


def _problem_response(description: str, headers: dict[str, str] | None = None) -> OpenAPIResponse:
    response: OpenAPIResponse = {"description": description, "content": {PROBLEM_JSON: {"model": Problem}}}
    if headers:
        response["headers"] = {name: {"description": text, "schema": {"type": "string"}} for name, text in headers.items()}
    return response


def _gateway_response(description: str, message: str) -> OpenAPIResponse:
    return {
        "description": description,
        "content": {"application/json": {"model": GatewayMessage, "examples": {message.lower(): {"value": {"message": message}}}}},
    }


PROBLEM_RESPONSES: dict[int, OpenAPIResponse] = {
    400: _problem_response(f"The body is not JSON we can read: not valid JSON, not UTF-8, or nested deeper than {MAX_BODY_DEPTH} levels."),
    401: _gateway_response("No valid token: API Gateway's JWT authorizer answers, with this body (not a problem).", "Unauthorized"),
    403: {
        "description": "The token lacks the peer-support/api scope (API Gateway's JWT authorizer answers, application/json), "
        "or you may see this but not change it, e.g. only a group's conveners do (a problem).",
        "content": {
            **_gateway_response("", "Forbidden")["content"],
            **_problem_response("")["content"],
        },
    },
    404: _problem_response("No such thing, or not yours: the two look the same."),
    405: _problem_response("A known path with another method.", {"Allow": "The methods this path accepts."}),
    409: _problem_response("Clashes with the current state (a concurrent change, an invitation already accepted)."),
    410: _problem_response("It existed but can no longer be used (an expired invitation)."),
    413: _problem_response(f"The body is larger than {MAX_BODY_BYTES // 1024} KiB."),
    415: _problem_response("The body is not sent as JSON (Content-Type: application/json)."),
    422: _problem_response("A value is not acceptable; `errors` names each field ('body' for the body as a whole)."),
    429: _problem_response("Too many attempts; try again later.", {"Retry-After": "Seconds to wait before trying again."}),
    500: _problem_response("Our fault; logged, without your data."),
    503: _problem_response(
        "Busy for a moment (throttled after our own retries); nothing was written. Try again after Retry-After seconds.",
        {"Retry-After": "Seconds to wait before trying again."},
    ),
}

TRANSIENT_AWS_ERRORS = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
"""AWS error codes that mean "not now": botocore has retried them already; the client may retry the request."""
TRANSIENT_CANCELLATION_REASONS = frozenset({"ThrottlingError", "ProvisionedThroughputExceeded", "TransactionConflict"})
"""A transaction's cancellation reasons that mean "not now" as well (botocore does not retry a cancelled transaction)."""
RETRY_AFTER_SECONDS = 2


def transient_aws_error(exc: BaseException) -> str | None:
    """The code of a throttling (or briefly unavailable) AWS answer behind `exc`, PynamoDB's wrapping included.

    A cancelled transaction counts when every item that cancelled it did so for a "not now" reason (ThrottlingError
    inside the reasons, say): a use case handles the cancellations it expects (its conditions) and re-raises the rest,
    and those that reach here are the service's, not the caller's. Any other reason (a failed condition nobody
    expected, a ValidationError) stays our fault.
    """
    seen: BaseException | None = exc
    while seen is not None:
        response = getattr(seen, "response", None)
        code = response.get("Error", {}).get("Code") if isinstance(response, dict) else getattr(seen, "cause_response_code", None)
        if code in TRANSIENT_AWS_ERRORS:
            return str(code)
        if code == "TransactionCanceledException" and (reason := _transient_cancellation(seen)):
            return reason
        seen = seen.__cause__ or seen.__context__
    return None


def _transient_cancellation(error: BaseException) -> str | None:
    """The first reason of a cancelled transaction (PynamoDB's error) whose every actual reason is transient."""
    codes = [getattr(reason, "code", None) for reason in getattr(error, "cancellation_reasons", None) or ()]
    reasons = [str(code) for code in codes if code is not None]  # None: this item did not cancel it
    if reasons and all(reason in TRANSIENT_CANCELLATION_REASONS for reason in reasons):
        return reasons[0]
    return None


def _optional_bodies_are_omitted_not_null(document: dict[str, Any]) -> None:
    """An optional body (`body: Model | None = None`) is one that may be left out; a JSON `null` is refused (422).

    The generated document said `anyOf: [Model, null]`, which promises that `null` is accepted (schemathesis
    sent it and got the 422): the body's schema is the model, and the body is not required.
    """
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
            members = content.get("schema", {}).get("anyOf", [])
            models = [m for m in members if m != {"type": "null"}]
            if len(members) == 2 and len(models) == 1:
                content["schema"] = models[0]
                operation["requestBody"]["required"] = False


def _public_pages() -> dict[str, Any]:
    """The routes API Gateway sends to other functions, without a token: the one-tap link pages and the calendar feed.

    They are served by LinksFunction and CalendarFeedFunction (template.yaml), not by this resolver; they are
    written here so that the one document describes every route of the HTTP API (and fuzzers find them).
    """
    page = {"content": {"text/html": {"schema": {"type": "string"}}}}
    problem_ref = {"content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    form = {
        "type": "object",
        "properties": {
            "nonce": {"type": "string", "description": "The hidden field of the page's form."},
            "choice": {"type": "string", "description": "The button pressed."},
            "List-Unsubscribe": {"type": "string", "description": "RFC 8058 one-click unsubscribe: `One-Click`."},
        },
    }
    pages: dict[str, Any] = {}
    for prefix, what in (("c", "A one-tap check-in link"), ("u", "An unsubscribe link"), ("i", "An invitation link")):
        token = [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}, "description": "The link's key."}]
        answers = {
            "400": {"description": "The form was not the page's own (no or a wrong nonce), or unreadable.", **page},
            "404": {"description": "No such link.", **page},
            "409": {"description": "The link's action no longer fits (e.g. already done another way).", **page},
            "410": {"description": "The link was used or has expired.", **page},
            "500": {"description": "Our fault; nothing was lost.", **page},
        }
        pages[f"/{prefix}/{{token}}"] = {
            "get": {
                "summary": f"{what}: a page that shows what the link does (records nothing)",
                "tags": ["links"],
                "security": [],
                "parameters": token,
                "responses": {"200": {"description": "The page, with its buttons.", **page}, **answers},
            },
            "post": {
                "summary": f"{what}: the page's button, which acts",
                "tags": ["links"],
                "security": [],
                "parameters": token,
                "requestBody": {
                    "required": False,
                    "content": {"application/x-www-form-urlencoded": {"schema": form}, "multipart/form-data": {"schema": form}},
                },
                "responses": {"200": {"description": "Done: what was recorded.", **page}, **answers},
            },
        }
    pages["/calendar/{secret}"] = {
        "get": {
            "summary": "Your private calendar feed (iCalendar); the address is the key",
            "tags": ["calendar"],
            "security": [],
            "parameters": [
                {"name": "secret", "in": "path", "required": True, "schema": {"type": "string"}, "description": "<secret>.ics"},
                {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": {"description": "The feed.", "content": {"text/calendar": {"schema": {"type": "string"}}}},
                "304": {"description": "Unchanged since the ETag named in If-None-Match."},
                "404": {"description": "No calendar at this address (unknown, rotated away, or erased).", **problem_ref},
                "500": {"description": "Our fault.", **problem_ref},
            },
        }
    }
    return pages


class ApiResolver(APIGatewayHttpResolver):
    """The HTTP API resolver: validation on, problem details, 405 with Allow, and docs added on first use.

    The OpenAPI document and Swagger UI (/openapi.json, /docs) are registered the first
    time one of them is asked for: their models cost ~50 ms of import that no other
    request needs, and every cold start would pay it otherwise.

    Routes may live in modules imported on first need (`route_modules`): a request imports the
    modules whose path prefixes it falls under, the docs import them all. A cold start then
    imports the capability it serves, not every capability's use-cases and schemas.

    A body larger than MAX_BODY_BYTES is refused (413) before anything reads it, one
    that is not JSON (415) likewise; a route with a body reads it with `read_json_body`.
    """

    def __init__(self, *, title: str, description: str):
        # A response that fails its model is our bug: ResponseValidationError (a 500), not a 422 blaming the caller.
        super().__init__(enable_validation=True, response_validation_error_http_code=HTTPStatus.INTERNAL_SERVER_ERROR)
        self._request_validation_middleware = _RequestValidation()  # type: ignore[no-untyped-call]  # its __init__ is untyped
        self._info = {"title": title, "description": description}
        self._docs_enabled = False
        self._route_modules: list[tuple[tuple[str, ...], str]] = []
        self._imported: set[str] = set()
        _install_error_handlers(self)

    def route_modules(self, *modules: tuple[tuple[str, ...], str]) -> None:
        """Modules that add routes to this resolver when imported, each with the path prefixes of its routes.

        A request imports those whose prefixes its path is (or lies under), before its route is
        looked up; every route a module adds must lie under one of its prefixes (checked as it is
        imported), so a route is always there when a request could match it, and a path under no
        prefix matches none. The docs list the modules' routes in this order.
        """
        self._route_modules.extend(modules)

    def _import_routes(self, path: str | None) -> None:
        """Import the route modules a path needs (None: all of them), each once."""
        for prefixes, name in self._route_modules:
            if name in self._imported or (path is not None and not any(path == p or path.startswith(p + "/") for p in prefixes)):
                continue
            before = {id(route) for route in self._static_routes + self._dynamic_routes}
            importlib.import_module(name)
            self._imported.add(name)
            for route in self._static_routes + self._dynamic_routes:
                if id(route) not in before and not any(route.path == p or route.path.startswith(p + "/") for p in prefixes):
                    raise RuntimeError(f"{name} adds {route.method} {route.path}, outside its prefixes {prefixes}")

    def resolve(self, event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
        if not self._docs_enabled and event.get("rawPath") in DOC_PATHS:
            self._enable_docs()
        self._import_routes(str(event.get("rawPath") or "/"))
        refused = _unreadable_body(event)
        # A method the path does not take is a 405 (or 404) whatever its body: the body is not read then.
        if refused is not None and _method(event) in allowed_methods(self, str(event.get("rawPath") or "")):
            return {
                "statusCode": refused.status_code,
                "headers": {"Content-Type": PROBLEM_JSON},
                "body": refused.body,
                "isBase64Encoded": False,
            }
        return super().resolve(event, context)

    def _enable_docs(self) -> None:
        from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

        self._import_routes(None)
        # The document lists the routes in the order of their modules, whichever requests imported them first.
        order = {name: index for index, (_, name) in enumerate(self._route_modules)}
        for routes in (self._static_routes, self._dynamic_routes):
            routes.sort(key=lambda route: order.get(route.func.__module__, -1))
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
            document = json.loads(self.get_openapi_json_schema(**info))
            _optional_bodies_are_omitted_not_null(document)
            document["paths"].update(_public_pages())
            return Response(status_code=200, content_type="application/json", body=json.dumps(document))

        self.enable_swagger(path="/docs", **info)
        self._docs_enabled = True


def _body_size(event: Mapping[str, Any]) -> int:
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        return len(body) * 3 // 4  # within two bytes: the padding
    return len(body) if body.isascii() else len(body.encode("utf-8", "surrogatepass"))


def _unreadable_body(event: Mapping[str, Any]) -> Response[str] | None:
    """Too large (413), or not JSON (415): `curl -d` without a content type would otherwise be read as a form."""
    if not event.get("body"):
        return None
    size = _body_size(event)
    if size > MAX_BODY_BYTES:
        return problem(
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
            f"The request body may be at most {MAX_BODY_BYTES // 1024} KiB; this one is {size // 1024} KiB.",
        )
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    media_type = str(headers.get("content-type") or "").split(";", 1)[0].strip().lower()
    if not (media_type == "application/json" or media_type.endswith("+json")):
        return problem(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"Send the body as JSON with 'Content-Type: application/json' (got '{media_type or 'none'}').",
        )
    return None


def create_resolver(*, title: str, description: str) -> ApiResolver:
    return ApiResolver(title=title, description=description)


def _install_error_handlers(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        return _validation_problem(exc)

    @app.exception_handler(BodyRefused)
    def _unreadable(exc: BodyRefused) -> Response[str]:
        return problem(HTTPStatus.BAD_REQUEST, exc.detail)

    @app.exception_handler(ResponseValidationError)
    def _bad_response(exc: ResponseValidationError) -> Response[str]:
        # Our bug, not the caller's: a 500, logged without the (possibly personal) values.
        logger.error("response failed validation", extra={"fields": [_field_name(e.get("loc")) for e in exc.errors()]})
        return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side. It has been logged; please try again.")

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[str]:
        status = domain_status(exc)
        if status is None:
            logger.error("domain error without a status", extra={"error_type": type(exc).__name__})
            return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side. It has been logged; please try again.")
        extra: dict[str, Any] = {}
        headers: dict[str, str] = {}
        if isinstance(exc, InvalidField):
            extra = {"field": exc.field, "errors": [{"field": exc.field, "message": exc.reason}]}
        if isinstance(exc, TooManyRequests):
            extra = {"retry_after": exc.retry_after}
            headers = {"Retry-After": str(exc.retry_after)}
        return problem(status, exc.detail, headers=headers, **extra)

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
        code = transient_aws_error(exc)
        if code is not None:  # a DynamoDB write is one transaction or one item: nothing is half-written
            logger.warning("AWS busy; asked the client to retry", extra={"error_code": code})
            return problem(
                HTTPStatus.SERVICE_UNAVAILABLE,
                "The service is busy for a moment; nothing was saved. Please try again shortly.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                retry_after=RETRY_AFTER_SECONDS,
            )
        # The type and where it happened only: exception messages may carry personal data.
        frames = [f"{f.filename.rsplit('/', 2)[-1]}:{f.lineno} {f.name}" for f in traceback.extract_tb(exc.__traceback__)]
        logger.error("unhandled error", extra={"error_type": type(exc).__name__, "frames": frames[-8:]})
        return problem(HTTPStatus.INTERNAL_SERVER_ERROR, "Something went wrong on our side. It has been logged; please try again.")


def allowed_methods(app: APIGatewayHttpResolver, path: str) -> list[str]:
    """The methods a path takes: the resolver's routes, or the public pages' (another function serves those).

    A public page's path reaches this resolver only with a method API Gateway routes elsewhere
    (PUT /c/<token> falls to the greedy route): it is a known path with the wrong method all the same.
    """
    routes = app._static_routes + app._dynamic_routes  # noqa: SLF001 - the resolver's own route table
    methods = {route.method for route in routes if route.rule.match(path)}
    methods |= {method for pattern, page_methods in _public_page_patterns() if pattern.fullmatch(path) for method in page_methods}
    return sorted(methods)


@cache
def _public_page_patterns() -> tuple[tuple[re.Pattern[str], frozenset[str]], ...]:
    return tuple(
        (re.compile(re.sub(r"\\\{\w+\\\}", "[^/]+", re.escape(path)), re.DOTALL), frozenset(m.upper() for m in operations))
        for path, operations in _public_pages().items()
    )


def _method(event: Mapping[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "").upper()


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


def public_base_url(app: APIGatewayHttpResolver, configured: str) -> str:
    """The base of links we hand out: the configured one, or the domain this request came in on."""
    return configured or f"https://{app.current_event.request_context.domain_name}"


def request_time(app: APIGatewayHttpResolver) -> datetime:
    """When API Gateway received the request: the `now` the domain is given (the local stack can move it)."""
    epoch_ms = app.current_event.request_context.time_epoch
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
