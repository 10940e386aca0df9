"""Build the events API Gateway would send (with the same builder the local stack uses) and call handlers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infra import cfn
from infra.lambdas import invoke
from infra.local import apigw
from infra.local.auth import member_sub

DEFAULT_NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def claims_for(email: str) -> dict[str, Any]:
    return {
        "sub": member_sub(email),
        "email": email,
        "email_verified": True,
        "scope": "openid email peer-support/api",
        "client_id": "local-app-client",
        "token_use": "access",
    }


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_event(
    method: str,
    path: str,
    *,
    email: str | None = "ann@example.org",
    body: Any = None,
    headers: dict[str, str] | None = None,
    now: datetime = DEFAULT_NOW,
) -> tuple[str, dict[str, Any]]:
    raw_path, _, query = path.partition("?")
    hdrs = {"content-type": "application/json", **(headers or {})}
    payload = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    request = apigw.HttpRequest(method, raw_path, query, list(hdrs.items()), payload)
    for route in cfn.http_routes():
        params = route.match(method, apigw.unquote(raw_path))
        if params is not None:
            claims = claims_for(email) if (route.authorizer and email) else None
            return route.function, apigw.build_event(request, route, params, claims, now, "api.peer.test")
    raise AssertionError(f"API Gateway has no route for {method} {path}")


def call(method: str, path: str, **kwargs: Any) -> Reply:
    function, event = http_event(method, path, **kwargs)
    response = apigw.to_response(invoke(function, event))
    return Reply(response.status, {k.lower(): v for k, v in response.headers}, response.body)
