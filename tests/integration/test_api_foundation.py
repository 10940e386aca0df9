"""The HTTP API's shared behaviour: problem details, 404/405, OpenAPI and docs, never a stack trace."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from pydantic import BaseModel

from tests.helpers import call, member, pact, profile


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
    import shared.members.use_cases

    def broken(sub: str) -> None:
        raise RuntimeError("boom for ann@example.org")

    monkeypatch.setattr(shared.members.use_cases.Member, "get", broken)
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
            if operation.get("security") == []:
                continue  # a public page of another function: test_openapi_documents_the_public_pages
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
    from shared.adapters.http import create_resolver
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


# ------------------------------------------------------------------ bodies that cannot be read, or are not objects


@pytest.mark.parametrize("body", [b"[" * 1000 + b"]" * 1000, b'{"a":' * 1000 + b"1" + b"}" * 1000], ids=["arrays", "objects"])
def test_a_body_nested_a_thousand_deep_is_400_problem_not_500(aws, body: bytes) -> None:
    problem = assert_problem(call("PUT", "/members/me", body=body), 400)
    assert "nested too deeply" in problem["detail"]
    assert problem["title"] == "Malformed JSON"
    assert call("GET", "/members/me").status == 404


def test_a_body_over_64_kib_is_413_problem(aws) -> None:
    reply = call("PUT", "/members/me", body={"display_name": "Ann", "region": "x" * 70_000})
    problem = assert_problem(reply, 413)
    assert "64 KiB" in problem["detail"]
    assert call("GET", "/members/me").status == 404


@pytest.mark.parametrize(
    ("body", "kind"),
    [(b'[{"display_name": "Ann"}]', "an array"), (b"3", "a number"), (b'"x"', "a string"), (b"null", "null"), (b"true", "true or false")],
)
def test_anything_but_an_object_for_a_body_is_422_naming_the_body(aws, body: bytes, kind: str) -> None:
    problem = assert_problem(call("PUT", "/members/me", body=body), 422)
    assert problem["errors"] == [{"field": "body", "message": f"must be a JSON object, not {kind}"}]
    assert call("GET", "/members/me").status == 404


def test_null_for_an_optional_body_is_422_while_no_body_is_fine(aws) -> None:
    member("ann@example.org")
    member("bob@example.org")
    url = f"/pacts/{pact('ann@example.org', 'bob@example.org')['id']}/check-ins"
    assert_problem(call("POST", url, body=b"null"), 422)
    assert call("GET", url).json()["items"] == []
    assert call("POST", url).status == 201


@pytest.mark.parametrize(("field", "value"), [("grace_days", True), ("grace_days", "3"), ("grace_days", 3.0), ("time_limit_minutes", 5.0)])
def test_integers_are_strict_and_a_refused_patch_changes_nothing(aws, field: str, value: object) -> None:
    member("ann@example.org")
    member("bob@example.org")
    url = f"/pacts/{pact('ann@example.org', 'bob@example.org')['id']}"
    before = call("GET", url).body
    problem = assert_problem(call("PATCH", url, body={field: value}), 422)
    assert problem["errors"][0]["field"] == field
    assert call("GET", url).body == before


@pytest.mark.parametrize("value", ["true", 1, 0, None])
def test_booleans_are_strict(aws, value: object) -> None:
    problem = assert_problem(call("PUT", "/members/me", body=profile(in_directory=value)), 422)
    assert problem["errors"][0]["field"] == "in_directory"
    assert call("GET", "/members/me").status == 404


@pytest.mark.parametrize("value", [1_796_000_000, "1796000000", "20261208"])
def test_a_time_is_iso_text_not_a_unix_timestamp(aws, value: object) -> None:
    member("ann@example.org")
    member("bob@example.org")
    url = f"/pacts/{pact('ann@example.org', 'bob@example.org', starts_at='2026-11-01T09:00:00Z')['id']}/check-ins"
    problem = assert_problem(call("POST", url, body={"occurred_at": value}), 422)
    assert problem["errors"][0]["field"] == "occurred_at"
    assert call("GET", url).json()["items"] == []


def test_validation_messages_have_no_library_prefix(aws) -> None:
    problem = assert_problem(call("PUT", "/members/me", body=profile(phone="12")), 422)
    assert problem["errors"] == [{"field": "phone", "message": "give an international number starting with +, e.g. +353 85 123 4567"}]
    assert "Value error" not in problem["detail"]


# ------------------------------------------------------------------ problem types


def test_the_same_status_is_the_same_problem_type_whoever_answers(aws) -> None:
    not_found = "https://peer-support.dev/problems/not-found", "Not found"
    domain = assert_problem(call("GET", "/members/me"), 404)  # NotFound, raised by the domain
    resolver = assert_problem(call("GET", "/no/such/thing"), 404)  # no route
    assert (domain["type"], domain["title"]) == (resolver["type"], resolver["title"]) == not_found
    member("ann@example.org")
    member("bob@example.org")
    url = f"/pacts/{pact('ann@example.org', 'bob@example.org')['id']}/check-ins"
    invalid = assert_problem(call("POST", url, body={"occurred_at": "2026-12-24T09:00:00Z"}), 422)  # InvalidField: in the future
    validation = assert_problem(call("POST", url, body={"duration_minutes": "ten"}), 422)  # the model
    assert invalid["field"] == "occurred_at"
    assert (invalid["type"], invalid["title"]) == (validation["type"], validation["title"])
    assert (validation["type"], validation["title"]) == ("https://peer-support.dev/problems/validation-failed", "Validation failed")


# ------------------------------------------------------------------ Idempotency-Key and the OpenAPI document


def test_an_idempotency_key_over_100_characters_is_422_naming_the_header(aws) -> None:
    member("ann@example.org")
    member("bob@example.org")
    url = f"/pacts/{pact('ann@example.org', 'bob@example.org')['id']}/check-ins"
    problem = assert_problem(call("POST", url, body={"note": "n"}, headers={"Idempotency-Key": "k" * 101}), 422)
    assert problem["errors"][0]["field"] == "Idempotency-Key"
    assert call("GET", url).json()["items"] == []
    assert call("POST", url, body={"note": "n"}, headers={"Idempotency-Key": "k" * 100}).status == 201


def test_openapi_documents_what_api_gateway_answers_for_401_and_403(aws) -> None:
    doc = call("GET", "/openapi.json", email=None).json()
    assert doc["components"]["schemas"]["GatewayMessage"]["required"] == ["message"]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            if operation.get("security") == []:
                assert not {"401", "403"} & set(operation["responses"]), (method, path)  # no authorizer before it
                continue
            for status in ("401", "403"):
                content = operation["responses"][status]["content"]
                assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/GatewayMessage"}
            # 403 is also ours where only a group's conveners may do something: then a problem.
            assert set(operation["responses"]["401"]["content"]) == {"application/json"}, (method, path)
            assert set(operation["responses"]["403"]["content"]) == {"application/json", "application/problem+json"}, (method, path)
            assert operation["responses"]["429"]["headers"]["Retry-After"]
            assert operation["responses"]["405"]["headers"]["Allow"]
            assert "413" in operation["responses"]


def test_openapi_documents_the_public_pages_other_functions_serve(aws) -> None:
    # The link pages and the calendar feed are routes of the same HTTP API (template.yaml), without a token.
    from infra import cfn

    doc = call("GET", "/openapi.json", email=None).json()
    public = {(r.method.lower(), r.path) for r in cfn.http_routes() if r.scopes is None and r.path not in ("/openapi.json", "/docs")}
    documented = {(m, p) for p, ops in doc["paths"].items() for m, op in ops.items() if op.get("security") == []}
    assert public == documented
    assert len(public) == 7
    page = doc["paths"]["/c/{token}"]["post"]
    assert set(page["requestBody"]["content"]) == {"application/x-www-form-urlencoded", "multipart/form-data"}
    feed = doc["paths"]["/calendar/{secret}"]["get"]["responses"]
    assert set(feed) == {"200", "304", "404", "500"}
    assert feed["404"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_openapi_documents_the_idempotency_key_header(aws) -> None:
    operation = call("GET", "/openapi.json", email=None).json()["paths"]["/pacts/{pact_id}/check-ins"]["post"]
    (header,) = [p for p in operation["parameters"] if p["in"] == "header"]
    assert header["name"].lower() == "idempotency-key"
    assert header["required"] is False
    assert {"type": "string", "maxLength": 100, "minLength": 1} in header["schema"]["anyOf"]


def test_a_public_page_with_another_method_is_405_whatever_the_body(aws) -> None:
    # Found by schemathesis (tests/e2e/test_fuzz.py): PUT /c/<token> falls to the greedy route, and its form body
    # got a 415 before anyone noticed the method. The gateway sends GET and POST of these paths to other functions.
    form = {"content-type": "application/x-www-form-urlencoded"}
    for path, allowed in (("/c/abc", "GET, POST"), ("/u/abc", "GET, POST"), ("/i/abc", "GET, POST"), ("/calendar/abc.ics", "GET")):
        reply = call("PUT", path, body=b"choice=yes", headers=form)
        assert_problem(reply, 405)
        assert reply.headers["allow"] == allowed
    # A path of this API likewise: the method first, then the body.
    reply = call("PATCH", "/members/me", body=b"x" * 70_000, headers={"content-type": "text/plain"})
    assert_problem(reply, 405)
    assert call("PUT", "/members/me", body=b"x=1", headers=form).status == 415
    assert call("GET", "/c/abc/more").status == 404


def test_an_optional_body_is_documented_as_one_to_leave_out_not_as_null(aws) -> None:
    # Found by schemathesis (positive_data_acceptance): the document allowed a JSON null body, the API refuses it.
    doc = call("GET", "/openapi.json", email=None).json()
    body = doc["paths"]["/pacts/{pact_id}/resend-invitation"]["post"]["requestBody"]
    assert body["required"] is False
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ResendIn"}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
            assert {"type": "null"} not in schema.get("anyOf", []), (method, path)
    member("ann@example.org")
    assert_problem(call("POST", "/pacts/p0/resend-invitation", body=b"null"), 422)
    assert_problem(call("POST", "/pacts/p0/resend-invitation"), 404)
