"""The HTTP API's shared behaviour: problem details, 404/405, OpenAPI and docs, never a stack trace."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from pydantic import BaseModel

from tests.helpers import call


class Out(BaseModel):
    ok: bool


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


def test_openapi_documents_success_and_problem_responses_for_every_operation(aws) -> None:
    doc = call("GET", "/openapi.json", email=None).json()
    assert "Problem" in doc["components"]["schemas"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"404", "422", "500"} <= codes, (method, path)
            problem = operation["responses"]["422"]["content"]["application/problem+json"]["schema"]
            assert problem == {"$ref": "#/components/schemas/Problem"}
            success = [c for c in codes if c.startswith("2")]
            assert len(success) == 1, (method, path, codes)
    assert doc["paths"]["/pacts"]["post"]["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/PactOut"
    }


def test_docs_still_build_after_routes_have_served_requests() -> None:
    # The problem responses are added to the routes when the docs are first asked for;
    # a route that already served requests (its validation models built) must document them too.
    from infra.lambdas import LambdaContext
    from shared.http import create_resolver
    from tests.helpers import http_event

    app = create_resolver(title="t", description="d")

    @app.get("/members/me")
    def me() -> Out:
        return Out(ok=True)

    _, event = http_event("GET", "/members/me")
    assert app.resolve(event, LambdaContext("f"))["statusCode"] == 200
    _, docs = http_event("GET", "/openapi.json", email=None)
    reply = app.resolve(docs, LambdaContext("f"))
    assert reply["statusCode"] == 200
    operation = json.loads(reply["body"])["paths"]["/members/me"]["get"]
    assert operation["responses"]["404"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Out"}
