"""Hostile input on every route that takes a JSON body: refused with a 4xx problem, never a 5xx, nothing half-written.

The routes and their body schemas are read from the OpenAPI document the API serves, so a
new route with a body is attacked too. Each field's wrong JSON types come from its schema;
a valid example of each body model (EXAMPLES) is the base the bad values are put into, so
a refusal is the bad value's doing and not a missing field's.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import unicodedata
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest

from infra.lambdas import invoke
from infra.local import apigw
from tests.helpers import DEFAULT_NOW, Reply, call, http_event, member, pact

ANN, BOB = "ann@example.org", "bob@example.org"
PROBLEM_JSON = "application/problem+json"

# A valid instance of each request model (nested ones too): the base that bad values go into.
EXAMPLES: dict[str, dict[str, Any]] = {
    "GroupIn": {
        "name": "Cork peer supervision",
        "purpose": "Case consultation",
        "objectives": "One case each",
        "rhythm": {"rrule": "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;BYMINUTE=0", "time_zone": "Europe/Dublin", "starts_on": "2026-12-01"},
        "duration_minutes": 120,
        "where": {"kind": "rotation", "stops": [{"venue": "Cork"}, {"venue": "Dublin"}], "venue": None, "url": None},
        "format": {
            "segments": [
                {
                    "title": "Case",
                    "minutes": 30,
                    "kind": "case",
                    "repeat": 2,
                    "steps": [{"title": "Tell", "minutes": 30}],
                    "roles": ["the client"],
                }
            ],
            "roles": ["moderator"],
        },
        "size_limit": 8,
        "reminder_days": 1,
        "review_months": 6,
    },
    "GroupPatch": {"name": "Cork group", "duration_minutes": 120},
    "InviteIn": {"email": "cara@example.org"},
    "RoleIn": {"role": "convener"},
    "RsvpIn": {"answer": "no"},
    "CancelIn": {"reason": "Holiday"},
    "RescheduleIn": {"starts_at": "2026-12-09T19:00:00+00:00", "venue": "Cork", "url": "https://meet.example.org/x"},
    "AttendanceIn": {"attended": ["a"], "presented": ["a"]},
    "ProfileIn": {
        "display_name": "Ann",
        "time_zone": "Europe/Dublin",
        "phone": "+353 85 123 4567",
        "specialties": ["Grief & Loss"],
        "modalities": ["CBT"],
        "region": "Dublin",
        "in_directory": True,
        "notifications": {
            "channels": ["email", "sms"],
            "nudge_hour": 8,
            "quiet_days": ["sunday"],
            "quiet_hours": [{"weekday": "monday", "start": "09:00", "end": "17:00"}],
        },
    },
    "Notifications": {"channels": ["email"], "nudge_hour": 9, "quiet_days": [], "quiet_hours": []},
    "QuietHours": {"weekday": "monday", "start": "09:00", "end": "17:00"},
    "AwayIn": {"until": "2026-12-24"},
    "AskIn": {"text": "Has anyone worked with complex PTSD after a car crash?", "to": {"kind": "pacts"}},
    "ToPacts": {"kind": "pacts"},
    "ToGroup": {"kind": "group", "group_id": "g_doesnotexist0000"},
    "ToSpecialty": {"kind": "specialty", "specialty": "trauma"},
    "ReplyIn": {"text": "The Ehlers and Clark model helped me."},
    "PactIn": {
        "colleague": {"name": "Dee", "phone": "+353851111111", "email": "dee@example.org"},
        "rhythm": {"weekday": "tuesday", "time": "08:30", "every_weeks": 1},
        "mode": "video",
        "time_limit_minutes": 30,
        "grace_days": 2,
        "starts_at": "2026-12-01T09:00:00Z",
    },
    "ColleagueIn": {"name": "Dee", "phone": "+353851111111", "email": "dee@example.org"},
    "RhythmIn": {"every_days": 7},
    "PactPatch": {"rhythm": {"every_days": 14}, "mode": "phone", "time_limit_minutes": 45, "grace_days": 3, "colleague_name": "Robert"},
    "PauseIn": {"until": "2027-01-04"},
    "ResendIn": {"email": "robert@example.org"},
    "CheckInIn": {"mode": "phone", "duration_minutes": 20, "note": "Talked.\nGood call."},
    "IntroductionIn": {"to": "0b7e6a4e-5c1d-5a0e-9a57-3c0c2f1d9e11", "message": "I work with grief.\nCould we talk?"},
    "IntroductionPactIn": {"rhythm": {"every_days": 14}, "mode": "video", "time_limit_minutes": 30, "grace_days": 2},
}

# One value of each JSON type, to put where the schema says another type.
SAMPLES: dict[str, list[Any]] = {
    "integer": [3],
    "number": [3.5],
    "string": ["x"],
    "boolean": [True],
    "array": [[]],
    "object": [{}],
    "null": [None],
}


# ------------------------------------------------------------------ the API's body routes, from its OpenAPI document


def _openapi() -> dict[str, Any]:
    reply = call("GET", "/openapi.json", email=None)
    assert reply.status == 200, reply.body
    return dict(reply.json())


DOC = _openapi()
COMPONENTS: dict[str, Any] = DOC["components"]["schemas"]


def _ref_name(schema: dict[str, Any]) -> str | None:
    """The model a schema is (or, optionally, is): `{"$ref": ...}` or `anyOf: [{"$ref": ...}, {"type": "null"}]`."""
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for member_schema in schema.get("anyOf", []) + schema.get("allOf", []):
        if name := _ref_name(member_schema):
            return name
    return None


def _array_items(schema: dict[str, Any]) -> dict[str, Any] | None:
    if schema.get("type") == "array":
        return dict(schema.get("items", {}))
    for member_schema in schema.get("anyOf", []):
        if (items := _array_items(member_schema)) is not None:
            return items
    return None


def json_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a schema accepts."""
    if "$ref" in schema:
        return {"object"}
    types: set[str] = set()
    for member_schema in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        types |= json_types(member_schema)
    if "type" in schema:
        types |= {schema["type"]} if isinstance(schema["type"], str) else set(schema["type"])
    if "enum" in schema and "type" not in schema:
        types |= {"string" if isinstance(v, str) else "integer" if isinstance(v, int) else "null" for v in schema["enum"]}
    if "number" in types:
        types.add("integer")
    return types


def wrong_values(schema: dict[str, Any]) -> list[Any]:
    """Values of a JSON type the schema does not accept, and the near misses strict types refuse."""
    allowed = json_types(schema)
    values = [v for kind, samples in SAMPLES.items() if kind not in allowed for v in samples]
    if "integer" in allowed and "number" not in allowed:
        values += [3.0, "3"]  # an integer written as a float or as text
    if "boolean" in allowed:
        values += ["true", 1, 0]
    if _formats(schema) & {"date", "date-time"}:
        values += [1_796_000_000, "1796000000"]  # Unix time (2026-11-29), as a number and as text
    return values


def _formats(schema: dict[str, Any]) -> set[str]:
    found = {schema["format"]} if "format" in schema else set()
    for member_schema in schema.get("anyOf", []):
        found |= _formats(member_schema)
    return found


@dataclass(frozen=True)
class BodyRoute:
    method: str
    path: str  # with {parameters}
    model: str | None  # the body's component schema

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def body_routes() -> list[BodyRoute]:
    routes = []
    for path, operations in DOC["paths"].items():
        for method, operation in operations.items():
            body = operation.get("requestBody")
            if body and operation.get("security") != []:  # the public link pages take forms, not JSON
                schema = body["content"]["application/json"]["schema"]
                routes.append(BodyRoute(method.upper(), path, _ref_name(schema)))
    return routes


BODY_ROUTES = body_routes()


def leaves(model: str, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], dict[str, Any]]]:
    """Every field of a model, nested models' fields and array items included, with its schema."""
    for name, prop in COMPONENTS[model].get("properties", {}).items():
        here = (*path, name)
        yield here, prop
        if (ref := _ref_name(prop)) is not None and len(here) < 6:
            yield from leaves(ref, here)
        elif (items := _array_items(prop)) is not None:
            if (item_ref := _ref_name(items)) is not None:
                yield from leaves(item_ref, (*here, 0))
            else:
                yield (*here, 0), items


def example(model: str | None) -> dict[str, Any]:
    return copy.deepcopy(EXAMPLES.get(model or "", {}))


def put(body: dict[str, Any], model: str, path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    """`body` with `value` at `path`; missing containers on the way are filled from the examples."""
    key, rest = path[0], path[1:]
    if not rest:
        body[str(key)] = value
        return body
    prop = COMPONENTS[model]["properties"][key]
    if rest[0] == 0:  # into an array's first item
        items = body.get(str(key))
        item_ref = _ref_name(_array_items(prop) or {})
        if not isinstance(items, list) or not items:
            items = [example(item_ref)]
            body[str(key)] = items
        if len(rest) == 1:
            items[0] = value
        else:
            assert item_ref is not None
            items[0] = put(items[0] if isinstance(items[0], dict) else example(item_ref), item_ref, rest[1:], value)
        return body
    ref = _ref_name(prop)
    assert ref is not None, (model, path)
    child = body.get(str(key))
    body[str(key)] = put(child if isinstance(child, dict) else example(ref), ref, rest, value)
    return body


# ------------------------------------------------------------------ the cases


@dataclass
class Case:
    label: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    base64_body: str | None = None  # sent as API Gateway sends a binary body
    refused: bool = True  # False: may be accepted as text, but never a 5xx and never stored with control codes


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def nested(depth: int) -> Any:
    value: Any = "deep"
    for _ in range(depth):
        value = [value]
    return value


CONTROL_TEXT = "a\x00b \x1b[2Jcleared bell\x07 del\x7f"
MARKUP_TEXT = '<script>alert(1)</script> "><img src=x onerror=alert(1)>'


def cases(route: BodyRoute) -> Iterator[Case]:
    base = example(route.model)
    yield Case("arrays nested 1,000 deep", b"[" * 1000 + b"]" * 1000)
    yield Case("objects nested 1,000 deep", b'{"a":' * 1000 + b"1" + b"}" * 1000)
    yield Case("a field nested 40 deep", encode({**base, "x": nested(40)}))
    yield Case("the body in an array", encode([base]))
    yield Case("an empty array", b"[]")
    for scalar in (b"3", b"3.5", b'"x"', b"true", b"null"):
        yield Case(f"the scalar {scalar.decode()}", scalar)
    yield Case("not JSON", b"{not json")
    yield Case("NaN", b'{"x": NaN}')
    yield Case("an integer of 5,000 digits", b'{"x": ' + b"7" * 5000 + b"}")
    yield Case("a byte order mark", b"\xef\xbb\xbf" + encode(base))
    yield Case("invalid UTF-8 in a base64 body", base64_body=base64.b64encode(b'{"x": "\xff\xfe"}').decode())
    yield Case("invalid base64", base64_body="{{{not base64")
    yield Case("100 KiB of padding", encode(base)[:-1] + b" " * 100_000 + b"}")
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml", ""):
        yield Case(f"content type {content_type or 'none'}", encode(base), headers={"content-type": content_type})
    if route.model is None:
        return
    for path, schema in leaves(route.model):
        name = ".".join(str(p) for p in path)
        for value in wrong_values(schema):
            yield Case(f"{name} = {value!r}", encode(put(example(route.model), route.model, path, value)))
        if "string" in json_types(schema):
            yield Case(f"{name}: 100,000 characters", encode(put(example(route.model), route.model, path, "x" * 100_000)))
            yield Case(f"{name}: 5,000 characters", encode(put(example(route.model), route.model, path, "é" * 5000)))
            # Accepted or not, never stored as sent: one value carrying every control code, one every markup trick
            # (a value each, not one per code: an accepted case writes, and the table is read whole after each).
            for label, text in (("control codes", CONTROL_TEXT), ("markup", MARKUP_TEXT)):
                yield Case(f"{name}: {label} {text!r}", encode(put(example(route.model), route.model, path, text)), refused=False)


# ------------------------------------------------------------------ running them


def send(route: BodyRoute, pact_id: str, case: Case, now: datetime = DEFAULT_NOW) -> Reply:
    path = route.path
    for parameter in ("{pact_id}", "{id}"):
        path = path.replace(parameter, pact_id)
    if case.base64_body is None:
        return call(route.method, path, body=case.body, headers=case.headers, now=now)
    function, event = http_event(route.method, path, now=now)
    event["body"], event["isBase64Encoded"] = case.base64_body, True
    response = apigw.to_response(invoke(function, event))
    return Reply(response.status, {k.lower(): v for k, v in response.headers}, response.body)


def table(aws: dict[str, Any]) -> list[dict[str, Any]]:
    """Every item in the table: what a refused request must leave exactly as it was."""
    items: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"TableName": os.environ["TABLE_NAME"], "ConsistentRead": True}
    while True:
        page = aws["dynamodb"].scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return sorted(items, key=lambda item: json.dumps(item, sort_keys=True))
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def control_codes(items: list[dict[str, Any]]) -> list[str]:
    text = json.loads(json.dumps(items))  # every stored string, in JSON form
    found = []
    stack: list[Any] = [text]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
        elif isinstance(value, str) and any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in value):
            found.append(value[:40])
    return found


@pytest.fixture
def ann_and_bob(aws: dict[str, Any]) -> str:
    member(ANN)
    member(BOB)
    created = pact(ANN, BOB, starts_at="2026-11-20T09:00:00Z")
    assert call("POST", f"/pacts/{created['id']}/check-ins", body={"note": "first call"}).status == 201
    return str(created["id"])


def test_the_api_has_body_routes_and_their_models_are_documented() -> None:
    assert {str(r) for r in BODY_ROUTES} >= {"PUT /members/me", "POST /pacts", "PATCH /pacts/{pact_id}", "POST /pacts/{pact_id}/check-ins"}
    for route in BODY_ROUTES:
        assert route.model in COMPONENTS, route


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_every_body_model_has_a_valid_example(ann_and_bob: str, route: BodyRoute) -> None:
    # The bad values go into this example: it must pass validation itself (the handler may still say 404 or 409).
    assert route.model in EXAMPLES, f"add a valid example of {route.model} to EXAMPLES in {__file__}"
    reply = send(route, ann_and_bob, Case("the example", encode(example(route.model))))
    assert reply.status < 300 or reply.status not in (400, 413, 415, 422), reply.body


WRITES = {f"dynamodb.{op}" for op in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")}


@pytest.mark.parametrize("route", BODY_ROUTES, ids=str)
def test_hostile_bodies_are_refused_with_a_problem_and_change_nothing(
    aws: dict[str, Any], aws_calls: Counter[str], ann_and_bob: str, route: BodyRoute
) -> None:
    before = table(aws)
    failures: list[str] = []
    count = 0
    for case in cases(route):
        count += 1
        aws_calls.clear()
        # A minute apart: a check-in accepted as text is a new one (not the first of its minute, replayed).
        reply = send(route, ann_and_bob, case, now=DEFAULT_NOW + timedelta(minutes=count))
        # Only a write changes the table: after a request that sent none, there is no need to read it all again.
        wrote = bool(WRITES & set(aws_calls))
        content_type = reply.headers.get("content-type", "")
        where = f"{route} with {case.label}: {reply.status} {reply.body[:200]!r}"
        if reply.status >= 500 or b"Traceback" in reply.body:
            failures.append(f"server error: {where}")
            continue
        if case.refused and not 400 <= reply.status < 500:
            failures.append(f"not refused: {where}")
            before = table(aws) if wrote else before  # so that the next case is judged on its own
            continue
        if 400 <= reply.status < 500:
            problem = reply.json()
            if content_type != PROBLEM_JSON or problem.get("status") != reply.status or not problem.get("detail"):
                failures.append(f"not a problem document: {where}")
            after = table(aws) if wrote else before
            if after != before:
                failures.append(f"refused but changed the table: {where}")
                before = after
        else:
            assert content_type == "application/json", where
            stored = set(control_codes(before))
            before = table(aws) if wrote else before
            if added := set(control_codes(before)) - stored:
                failures.append(f"stored control codes {sorted(added)}: {where}")
    assert count > 30
    assert not failures, "\n".join(failures)


def test_an_email_with_a_control_code_in_it_is_refused(aws: dict[str, Any]) -> None:
    member(ANN)
    for address in ("dee\x00@example.org", "dee@exam\u200bple.org", "dee@example.org\x1b"):
        reply = call("POST", "/pacts", body={"colleague": {"email": address}})
        assert reply.status == 422, (address, reply.body)
        assert reply.json()["errors"][0]["field"] == "colleague.email"
    assert call("GET", "/pacts").json()["items"] == []


# ------------------------------------------------------------------ hostile query strings and path parameters

# Percent-encoded as they arrive on the wire; API Gateway decodes them (invalid UTF-8 becomes U+FFFD).
HOSTILE_TEXT = {
    "100,000 characters": "x" * 100_000,
    "control codes": "a%00b%20%1B%5B2J%07%7F",
    "markup": "%3Cscript%3Ealert(1)%3C%2Fscript%3E%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
    "invalid UTF-8": "%FF%FE%C3",
    "a newline": "a%0Ab",
}
HOSTILE_TARGETS = [
    "GET /directory?q={}",
    "GET /directory?specialty={}&region={}",
    "GET /asks?box={}",
    "GET /asks/{}",
    "POST /asks/{}/replies",
    "POST /asks/{}/close",
    "GET /introductions/{}",
    "POST /introductions/{}/accept",
    "POST /suggestions/{}/dismiss",
    "GET /groups/{}",
    "POST /groups/{}/accept",
    "GET /groups/{}/meetings?when={}",
    "DELETE /groups/{}/members/{}",
]


def test_hostile_query_strings_and_path_parameters_are_refused_or_find_nothing(aws: dict[str, Any]) -> None:
    # The network and group routes take text in the query (the directory's search) and ids in the path.
    member(ANN)
    member(BOB)
    before = table(aws)
    failures: list[str] = []
    cells = 0
    for target in HOSTILE_TARGETS:
        method, template = target.split(" ")
        for label, text in HOSTILE_TEXT.items():
            cells += 1
            body = {"text": "a reply"} if target.endswith("/replies") else None
            reply = call(method, template.replace("{}", text), body=body)
            where = f"{target} with {label}: {reply.status} {reply.body[:200]!r}"
            if reply.status >= 500 or b"Traceback" in reply.body:
                failures.append(f"server error: {where}")
            elif 400 <= reply.status < 500:
                problem = reply.json()
                if reply.headers.get("content-type") != PROBLEM_JSON or problem.get("status") != reply.status or not problem.get("detail"):
                    failures.append(f"not a problem document: {where}")
            elif reply.status != 200 or reply.json().get("items"):
                failures.append(f"answered with data: {where}")  # a search for junk finds nobody
    assert cells == len(HOSTILE_TARGETS) * len(HOSTILE_TEXT)
    assert not failures, "\n".join(failures)
    assert table(aws) == before
