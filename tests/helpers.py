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


def claims_for(email: str, sub: str | None = None) -> dict[str, Any]:
    return {
        "sub": sub or member_sub(email),
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
    sub: str | None = None,
) -> tuple[str, dict[str, Any]]:
    raw_path, _, query = path.partition("?")
    hdrs = {"content-type": "application/json", **(headers or {})}
    payload = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
    request = apigw.HttpRequest(method, raw_path, query, list(hdrs.items()), payload)
    for route in cfn.http_routes():
        params = route.match(method, apigw.unquote(raw_path))
        if params is not None:
            claims = claims_for(email, sub) if (route.authorizer and email) else None
            return route.function, apigw.build_event(request, route, params, claims, now, "api.peer.test")
    raise AssertionError(f"API Gateway has no route for {method} {path}")


def call(method: str, path: str, **kwargs: Any) -> Reply:
    function, event = http_event(method, path, **kwargs)
    response = apigw.to_response(invoke(function, event))
    return Reply(response.status, {k.lower(): v for k, v in response.headers}, response.body)


# ------------------------------------------------------------------ factories


def profile(name: str = "Ann", **overrides: Any) -> dict[str, Any]:
    return {"display_name": name, "time_zone": "Europe/Dublin", **overrides}


def member(email: str, name: str | None = None, **overrides: Any) -> dict[str, Any]:
    reply = call("PUT", "/members/me", email=email, body=profile(name or email.split("@", maxsplit=1)[0].title(), **overrides))
    assert reply.status == 200, reply.body
    return reply.json()


def pact(owner: str, colleague: dict[str, Any] | str, *, accept: bool = True, now: datetime = DEFAULT_NOW, **terms: Any) -> dict[str, Any]:
    """A pact from `owner` with a colleague (an email of a member, or an outside colleague's details)."""
    body = {"colleague": {"email": colleague} if isinstance(colleague, str) else colleague, **terms}
    reply = call("POST", "/pacts", email=owner, body=body, now=now)
    assert reply.status == 201, reply.body
    created = reply.json()
    if accept and isinstance(colleague, str):
        # The owner cannot tell whether the address is a member's; the colleague can accept if it is.
        accepted = call("POST", f"/pacts/{created['id']}/accept", email=colleague, now=now)
        assert accepted.status in (200, 404), accepted.body
    return created
