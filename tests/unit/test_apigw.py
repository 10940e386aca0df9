"""The local HTTP API builds the payload-2.0 event API Gateway sends, and maps results back."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from infra.cfn import Route
from infra.local import apigw

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
ROUTE = Route(method="ANY", path="/{proxy+}", function="ApiFunction", scopes=("peer-support/api",), authorizer="CognitoJwt")


def request(**kwargs) -> apigw.HttpRequest:  # type: ignore[no-untyped-def]
    base = {"method": "POST", "raw_path": "/pacts/p%201/check-ins", "query_string": "limit=5&tag=a&tag=b", "headers": [], "body": b""}
    base.update(kwargs)
    return apigw.HttpRequest(**base)


def test_event_carries_path_query_cookies_and_claims() -> None:
    req = request(
        headers=[("Content-Type", "application/json"), ("Cookie", "a=1; b=2"), ("X-Multi", "1"), ("X-Multi", "2")], body=b'{"x":1}'
    )
    claims = {"sub": "s1", "email_verified": True, "scope": "openid peer-support/api", "exp": 1}
    event = apigw.build_event(req, ROUTE, {"proxy": "pacts/p 1/check-ins"}, claims, NOW, "127.0.0.1:3000")

    assert event["version"] == "2.0"
    assert event["routeKey"] == "ANY /{proxy+}"
    assert event["rawPath"] == "/pacts/p 1/check-ins"
    assert event["rawQueryString"] == "limit=5&tag=a&tag=b"
    assert event["queryStringParameters"] == {"limit": "5", "tag": "a,b"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["headers"]["x-multi"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["pathParameters"] == {"proxy": "pacts/p 1/check-ins"}
    assert event["body"] == '{"x":1}'
    assert event["isBase64Encoded"] is False
    jwt = event["requestContext"]["authorizer"]["jwt"]
    assert jwt["claims"] == {"sub": "s1", "email_verified": "true", "scope": "openid peer-support/api", "exp": "1"}
    assert jwt["scopes"] == ["openid", "peer-support/api"]
    assert event["requestContext"]["timeEpoch"] == int(NOW.timestamp() * 1000)
    assert event["requestContext"]["http"]["method"] == "POST"


def test_binary_and_form_bodies_are_base64() -> None:
    for content_type in ("application/octet-stream", "application/x-www-form-urlencoded", None):
        headers = [("content-type", content_type)] if content_type else []
        event = apigw.build_event(request(headers=headers, body=b"\x00\xffa=1"), ROUTE, {}, None, NOW, "h")
        assert event["isBase64Encoded"] is True
        assert base64.b64decode(event["body"]) == b"\x00\xffa=1"
        assert "authorizer" not in event["requestContext"]


def test_event_without_body_query_or_params_omits_them() -> None:
    event = apigw.build_event(request(query_string=""), ROUTE, {}, None, NOW, "h")
    for key in ("body", "queryStringParameters", "pathParameters", "cookies"):
        assert key not in event


def test_response_with_cookies_headers_and_base64_body() -> None:
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "image/png"},
        "cookies": ["a=1; Secure"],
        "body": base64.b64encode(b"\x89PNG").decode(),
        "isBase64Encoded": True,
    }
    response = apigw.to_response(result)
    assert response.status == 201
    assert ("set-cookie", "a=1; Secure") in response.headers
    assert response.body == b"\x89PNG"


def test_result_without_status_code_is_a_200_json_body() -> None:
    response = apigw.to_response({"hello": "world"})
    assert response.status == 200
    assert json.loads(response.body) == {"hello": "world"}


def test_gateway_errors_look_like_api_gateway() -> None:
    response = apigw.gateway_error(401, "Unauthorized")
    assert json.loads(response.body) == {"message": "Unauthorized"}
    assert dict(response.headers)["www-authenticate"].startswith("Bearer")
