"""The HTTP API's shared behaviour: problem details, 404/405, OpenAPI and docs, never a stack trace."""

from __future__ import annotations

from collections import Counter

import pytest

from tests.helpers import call


def assert_problem(reply, status: int) -> dict:  # type: ignore[no-untyped-def]
    assert reply.status == status
    assert reply.headers["content-type"] == "application/problem+json"
    body = reply.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    return body


def test_profile_of_a_new_member_is_a_404_problem(aws, aws_calls: Counter[str]) -> None:
    body = assert_problem(call("GET", "/members/me"), 404)
    assert "PUT /members/me" in body["detail"]
    assert aws_calls["dynamodb.GetItem"] == 1
    assert not any(op.endswith(".Scan") for op in aws_calls)


def test_unknown_route_is_404_problem(aws) -> None:
    body = assert_problem(call("GET", "/no/such/thing"), 404)
    assert "/no/such/thing" in body["detail"]


@pytest.mark.parametrize(("method", "path", "allow"), [("POST", "/members/me", "DELETE, GET, PUT"), ("PUT", "/pacts", "GET, POST")])
def test_known_path_with_wrong_method_is_405_with_allow(aws, method: str, path: str, allow: str) -> None:
    reply = call(method, path)
    body = assert_problem(reply, 405)
    assert reply.headers["allow"] == allow
    assert method in body["detail"]


def test_missing_claims_is_401_problem(aws) -> None:
    # Behind the authorizer this cannot happen; the function still refuses rather than guessing.
    assert_problem(call("GET", "/members/me", email=None), 401)


def test_openapi_document_comes_from_the_code(aws) -> None:
    reply = call("GET", "/openapi.json", email=None)
    assert reply.status == 200
    doc = reply.json()
    assert doc["openapi"].startswith("3.")
    assert "/members/me" in doc["paths"]
    assert "bearer" in doc["components"]["securitySchemes"]


def test_docs_serve_swagger_ui_without_external_resources(aws) -> None:
    reply = call("GET", "/docs", email=None)
    assert reply.status == 200
    assert reply.headers["content-type"].startswith("text/html")
    assert b"swagger" in reply.body.lower()
    assert b'<script src="http' not in reply.body


def test_unexpected_error_is_a_500_problem_without_trace_or_personal_data(aws, monkeypatch: pytest.MonkeyPatch) -> None:
    import shared.members

    def broken(sub: str) -> None:
        raise RuntimeError("boom for ann@example.org")

    monkeypatch.setattr(shared.members.Member, "get", broken)
    reply = call("GET", "/members/me")
    body = assert_problem(reply, 500)
    assert b"Traceback" not in reply.body
    assert b"ann@example.org" not in reply.body
    assert "try again" in body["detail"]


def test_a_body_that_is_not_json_is_415_problem(aws) -> None:
    reply = call("PUT", "/members/me", body=b'{"display_name": "Ann"}', headers={"content-type": "application/x-www-form-urlencoded"})
    body = assert_problem(reply, 415)
    assert "application/json" in body["detail"]
    assert call("GET", "/members/me").status == 404
