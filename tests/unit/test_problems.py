"""Problem details: one type and one title per status, whoever answers; bodies read safely; messages without library prefixes."""

from __future__ import annotations

import ast
import base64
import importlib
import inspect
import json
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, StrictInt, field_validator

import shared
from infra.lambdas import LambdaContext
from infra.local import apigw
from shared.adapters.http import (
    MAX_BODY_BYTES,
    MAX_BODY_DEPTH,
    PROBLEM_BASE,
    PROBLEM_TITLES,
    BodyRefused,
    create_resolver,
    problem,
    read_json_body,
)
from shared.domain.errors import DomainError, TooManyRequests


class _Route:
    route_key = "$default"


def resolve(app: Any, method: str, path: str, body: bytes | None = None, content_type: str = "application/json") -> dict[str, Any]:
    request = apigw.HttpRequest(method, path, "", [("content-type", content_type)], body or b"")
    event = apigw.build_event(request, _Route(), {}, {"sub": "s-1"}, datetime(2026, 12, 1, 9, tzinfo=UTC), "api.test")
    return dict(app.resolve(event, LambdaContext("f")))


def domain_errors() -> list[type[DomainError]]:
    """Every DomainError subclass the code defines: found in shared/'s source, then imported."""
    root = Path(shared.__file__).parent
    trees = {path: ast.parse(path.read_text()) for path in root.rglob("*.py")}
    names, modules = {"DomainError"}, set()
    grew = True
    while grew:
        grew = False
        for path, tree in trees.items():
            for node in ast.walk(tree):
                bases = {getattr(base, "id", getattr(base, "attr", None)) for base in getattr(node, "bases", [])}
                if isinstance(node, ast.ClassDef) and node.name not in names and bases & names:
                    names.add(node.name)
                    modules.add(".".join(path.relative_to(root.parent).with_suffix("").parts))
                    grew = True
    for module in modules:
        importlib.import_module(module)
    found, todo = [], [DomainError]
    while todo:
        cls = todo.pop()
        found += cls.__subclasses__()
        todo += cls.__subclasses__()
    assert names - {"DomainError"} <= {cls.__name__ for cls in found}
    return found


def instance(cls: type[DomainError]) -> DomainError:
    params = list(inspect.signature(cls.__init__).parameters.values())[1:]
    args = [7 if "int" in str(p.annotation) else "something" for p in params]
    return cls(*args)


class Thing(BaseModel):
    count: StrictInt = 1
    name: str = "x"

    @field_validator("name")
    @classmethod
    def _named(cls, value: str) -> str:
        if value == "asserted":
            raise AssertionError("may not be 'asserted'")  # what a validator's `assert` raises, without pytest's rewriting
        if value == "valued":
            raise ValueError("may not be 'valued'")
        return value


class Out(BaseModel):
    ok: bool


@pytest.fixture
def app() -> Any:
    app = create_resolver(title="t", description="d")
    errors = {cls.__name__: cls for cls in domain_errors()}

    @app.get("/raise/<name>")
    def raise_(name: str) -> Out:
        raise instance(errors[name])

    @app.put("/things")
    def put_thing(body: Thing) -> Out:
        return Out(ok=True)

    @app.get("/crash")
    def crash() -> Out:
        raise RuntimeError("boom")

    @app.get("/bad-response")
    def bad_response() -> Out:
        return {"ok": "not a bool"}  # type: ignore[return-value]

    return app


def test_every_problem_the_code_can_produce_has_one_title_per_type_and_one_type_per_status(app: Any) -> None:
    replies: list[tuple[str, dict[str, Any]]] = []
    for status in PROBLEM_TITLES:
        replies.append((f"problem({status})", json.loads(problem(status, "d").body)))
    for cls in domain_errors():
        replies.append((cls.__name__, json.loads(resolve(app, "GET", f"/raise/{cls.__name__}")["body"])))
    for label, (method, path, body, content_type) in {
        "no route": ("GET", "/nothing", None, "application/json"),
        "wrong method": ("DELETE", "/things", None, "application/json"),
        "too large": ("PUT", "/things", b" " * (MAX_BODY_BYTES + 1), "application/json"),
        "not JSON": ("PUT", "/things", b"count=1", "application/x-www-form-urlencoded"),
        "malformed": ("PUT", "/things", b"{bad", "application/json"),
        "too deep": ("PUT", "/things", b"[" * 2000 + b"]" * 2000, "application/json"),
        "an array": ("PUT", "/things", b"[{}]", "application/json"),
        "a wrong type": ("PUT", "/things", b'{"count": true}', "application/json"),
        "a crash": ("GET", "/crash", None, "application/json"),
        "a bad response": ("GET", "/bad-response", None, "application/json"),
    }.items():
        replies.append((label, json.loads(resolve(app, method, path, body, content_type)["body"])))

    titles: dict[str, set[str]] = defaultdict(set)
    types: dict[int, set[str]] = defaultdict(set)
    for label, reply in replies:
        assert reply["type"].startswith(PROBLEM_BASE), label
        assert reply["type"].removeprefix(PROBLEM_BASE) == reply["title"].lower().replace(" ", "-"), label
        titles[reply["type"]].add(reply["title"])
        types[reply["status"]].add(reply["type"])
    assert {t: ts for t, ts in titles.items() if len(ts) > 1} == {}
    assert {s: ts for s, ts in types.items() if len(ts) > 1} == {}
    assert {400, 404, 405, 413, 415, 422, 429, 500} <= set(types)


def test_every_domain_error_is_mapped_to_a_4xx(app: Any) -> None:
    errors = domain_errors()
    assert TooManyRequests in errors
    for cls in errors:
        reply = resolve(app, "GET", f"/raise/{cls.__name__}")
        assert 400 <= reply["statusCode"] < 500, cls


def test_too_many_requests_is_429_with_retry_after(app: Any) -> None:
    reply = resolve(app, "GET", "/raise/TooManyRequests")
    assert reply["statusCode"] == 429
    assert reply["headers"]["Retry-After"] == "7"
    body = json.loads(reply["body"])
    assert (body["title"], body["retry_after"], body["detail"]) == ("Too many requests", 7, "something")


def test_a_response_that_fails_its_model_is_a_500_not_a_422(app: Any) -> None:
    reply = resolve(app, "GET", "/bad-response")
    assert reply["statusCode"] == 500
    assert "errors" not in json.loads(reply["body"])


@pytest.mark.parametrize(("name", "message"), [("asserted", "may not be 'asserted'"), ("valued", "may not be 'valued'")])
def test_validation_messages_carry_no_library_prefix(app: Any, name: str, message: str) -> None:
    reply = resolve(app, "PUT", "/things", json.dumps({"name": name}).encode())
    body = json.loads(reply["body"])
    assert reply["statusCode"] == 422
    assert body["errors"] == [{"field": "name", "message": message}]
    assert body["detail"] == f"name: {message}"


def test_integers_are_strict(app: Any) -> None:
    for value in ("true", '"3"', "3.0"):
        reply = resolve(app, "PUT", "/things", b'{"count": %s}' % value.encode())
        assert reply["statusCode"] == 422, value
        assert json.loads(reply["body"])["errors"][0]["field"] == "count"
    assert resolve(app, "PUT", "/things", b'{"count": 3}')["statusCode"] == 200


# ------------------------------------------------------------------ reading a body


def test_a_body_as_deep_as_allowed_is_read() -> None:
    body = "[" * MAX_BODY_DEPTH + "]" * MAX_BODY_DEPTH
    assert read_json_body(body, base64_encoded=False) is not None


@pytest.mark.parametrize(
    "raw",
    [
        "[" * (MAX_BODY_DEPTH + 1) + "]" * (MAX_BODY_DEPTH + 1),
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 5000 + "1" + "}" * 5000,
    ],
    ids=["one too deep", "100,000 deep", "objects 5,000 deep"],
)
def test_a_body_nested_too_deeply_is_refused_without_recursion_error(raw: str) -> None:
    with pytest.raises(BodyRefused, match="nested too deeply"):
        read_json_body(raw, base64_encoded=False)


@pytest.mark.parametrize(
    ("raw", "base64_encoded"),
    [
        ("{bad", False),
        ('{"x": NaN}', False),
        ('{"x": -Infinity}', False),
        ('{"x": ' + "9" * 5000 + "}", False),
        (base64.b64encode(b'{"x": "\xff"}').decode(), True),
        ("not base64!", True),
    ],
    ids=["not JSON", "NaN", "Infinity", "5,000 digits", "not UTF-8", "not base64"],
)
def test_a_body_that_is_not_json_is_refused(raw: str, base64_encoded: bool) -> None:
    with pytest.raises(BodyRefused):
        read_json_body(raw, base64_encoded=base64_encoded)


def test_a_base64_body_is_decoded() -> None:
    assert read_json_body(base64.b64encode('{"name": "Siobhán"}'.encode()).decode(), base64_encoded=True) == {"name": "Siobhán"}
    assert read_json_body("", base64_encoded=False) is None


@pytest.mark.parametrize(
    ("reasons", "answer"),
    [
        (["None", "ThrottlingError"], "ThrottlingError"),
        (["ProvisionedThroughputExceeded", "None"], "ProvisionedThroughputExceeded"),
        (["TransactionConflict", "ThrottlingError"], "TransactionConflict"),
        (["ConditionalCheckFailed", "ThrottlingError"], None),  # a condition failed too: not only "not now"
        (["None", "ValidationError"], None),
        (["None", "None"], None),
    ],
)
def test_a_cancelled_transaction_is_transient_only_when_every_reason_is(reasons: list[str], answer: str | None) -> None:
    from pynamodb.connection.base import VerboseClientError
    from pynamodb.exceptions import CancellationReason, TransactWriteError

    from shared.adapters.http import transient_aws_error

    cause = VerboseClientError(
        {"Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}},
        "TransactWriteItems",
        cancellation_reasons=[CancellationReason(code=code) if code != "None" else None for code in reasons],
    )
    assert transient_aws_error(TransactWriteError("Failed to write transaction items", cause=cause)) == answer
