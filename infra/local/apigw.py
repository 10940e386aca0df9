"""API Gateway HTTP API, locally: request -> payload format 2.0 event, handler result -> HTTP response."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from infra.cfn import Route

TEXT_TYPES = ("text/", "application/json", "application/problem+json", "application/xml", "application/javascript")


def is_text(content_type: str | None) -> bool:
    ct = (content_type or "").lower()
    return ct.startswith(TEXT_TYPES) or ct.endswith("+json") or ct.endswith("+xml")


@dataclass
class HttpRequest:
    method: str
    raw_path: str  # as on the wire, percent-encoded
    query_string: str
    headers: list[tuple[str, str]]
    body: bytes
    source_ip: str = "127.0.0.1"

    def header(self, name: str) -> str | None:
        values = [v for k, v in self.headers if k.lower() == name.lower()]
        return ",".join(values) if values else None


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


def build_event(
    request: HttpRequest,
    route: Route,
    path_parameters: dict[str, str],
    claims: dict[str, Any] | None,
    now: datetime,
    domain_name: str,
) -> dict[str, Any]:
    """The event API Gateway sends a Lambda integration (payload format version 2.0)."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    query: dict[str, str] = {}
    for key, value in parse_qsl(request.query_string, keep_blank_values=True):
        query[key] = f"{query[key]},{value}" if key in query else value
    path = unquote(request.raw_path)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": path,
        "rawQueryString": request.query_string,
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", maxsplit=1)[0],
            "http": {
                "method": request.method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": route.route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if claims is not None:
        scope = claims.get("scope")
        event["requestContext"]["authorizer"] = {
            "jwt": {
                # API Gateway hands claims over as strings.
                "claims": {k: _claim_str(v) for k, v in claims.items()},
                "scopes": str(scope).split() if scope else None,
            }
        }
    if request.body:
        if is_text(request.header("content-type")):
            event["body"] = request.body.decode("utf-8", errors="replace")
        else:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def _claim_str(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(str(v) for v in value) + "]"
    return str(value)


def to_response(result: Any) -> HttpResponse:
    """Turn what the handler returned into the HTTP response API Gateway would send."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Payload 2.0: a result without statusCode is taken as a 200 JSON body.
        body = result if isinstance(result, str) else json.dumps(result)
        return HttpResponse(200, [("content-type", "application/json")], body.encode())
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((name, str(v)) for v in values)
    headers.extend(("set-cookie", c) for c in result.get("cookies") or [])
    raw = result.get("body") or ""
    body = base64.b64decode(raw) if result.get("isBase64Encoded") else str(raw).encode("utf-8")
    return HttpResponse(int(result["statusCode"]), headers, body)


def gateway_error(status: int, message: str) -> HttpResponse:
    """API Gateway's own answers (no route, authorizer said no, integration failed)."""
    headers = [("content-type", "application/json")]
    if status == 401:
        headers.append(("www-authenticate", 'Bearer realm="peer-support"'))
    return HttpResponse(status, headers, json.dumps({"message": message}).encode())
