"""Schemathesis against the live local stack: every operation of the stack's own /openapi.json, every check.

A real `python -m infra.local` (its own, so the generated data reaches no other test), real HTTP. The
run is deterministic (fixed seed, derandomized, no example database) and bounded (examples per
operation, stateful steps), so it costs the same in CI every time. Two members, Ann and Bob, sign in
with real tokens: schemathesis fuzzes as Ann and replays Ann's reads as Bob (its object-level
authorization check); its `ignored_auth` check sends the same requests without and with broken tokens.

The test prints what it ran and what each check found, and fails on any failure, any 5xx, any error.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis import engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import StopReason, events

from tests.e2e.conftest import Stack, local_stack

pytestmark = pytest.mark.e2e

SEED = 11
MAX_EXAMPLES = 3
"""Generated examples per operation in the fuzzing phase, positive and negative: bounded for CI."""
STATEFUL_STEPS = 4

# The methods API Gateway HTTP APIs route (GET, HEAD, OPTIONS, POST, PUT, PATCH, DELETE); anything else (TRACE,
# QUERY) gets the gateway's own 404 before any function sees it, so no function can answer 405 to it.
UNEXPECTED_METHODS = ["get", "put", "post", "delete", "options", "patch"]

# 422 is this API's documented answer to a value the schema cannot rule out: a cursor no list gave out, a date in
# the past, an rrule that is not one, a colleague with neither email nor phone. Schema-valid data may get it;
# 400 (malformed), 405, 413 and 415 it may not (positive_data_acceptance's other defaults kept).
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]


@pytest.fixture(scope="module")
def fuzz_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("fuzz-state")
    with local_stack(state, state / "stack.log") as url:
        yield Stack(url, state)


def _members(stack: Stack) -> dict[str, str]:
    """Ann and Bob with profiles, a mutual pact and a group: things a peer must not see."""
    stack.request("PUT", "/_local/clock", body={"now": "2026-12-01T09:00:00Z"})  # no schedule runs during the fuzzing
    tokens = {name: stack.token(f"fuzz-{name}@example.org") for name in ("ann", "bob")}
    for name, token in tokens.items():
        reply = stack.request("PUT", "/members/me", token=token, body={"display_name": name.title(), "time_zone": "Europe/Dublin"})
        assert reply.status == 200, reply.body
    pact = stack.request(
        "POST", "/pacts", token=tokens["ann"], body={"colleague": {"email": "fuzz-bob@example.org"}, "rhythm": {"every_days": 14}}
    )
    assert pact.status == 201, pact.body
    assert stack.request("POST", f"/pacts/{pact.json()['id']}/accept", token=tokens["bob"]).status == 200
    return tokens


def _config(wfc: Path) -> SchemathesisConfig:
    generation = {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none", "mode": "all"}
    return SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            # No max-time: with one, the fuzzing and stateful phases start over until it runs out.
            "cache": {"enabled": False},
            "generation": generation,
            "checks": {"enabled": True, "positive_data_acceptance": {"expected-statuses": POSITIVE_STATUSES}},
            "phases": {
                # The coverage phase's boundary values are not bounded by max-examples: all of it took ~180 s here,
                # its positive half ~90 s. It runs positive, on the operations without a body (below); the negative
                # data comes from the fuzzing phase (mode "all"), which every operation gets.
                "coverage": {"unexpected-methods": UNEXPECTED_METHODS, "generation": {"mode": "positive"}},
                "stateful": {"max-steps": STATEFUL_STEPS},
            },
            "operations": [{"include-method": ["POST", "PUT", "PATCH"], "phases": {"coverage": {"enabled": False}}}],
            "auth": {"wfc": {"path": str(wfc), "user": "ann", "peers": ["ann", "bob"]}},
        }
    )


def test_schemathesis_finds_nothing(fuzz_stack: Stack, tmp_path: Path) -> None:
    tokens = _members(fuzz_stack)
    wfc = tmp_path / "members.json"
    users = [{"name": name, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {t}"}]} for name, t in tokens.items()]
    wfc.write_text(json.dumps({"auth": users}))
    document = fuzz_stack.request("GET", "/openapi.json").json()
    documented = {f"{method.upper()} {path}" for path, operations in document["paths"].items() for method in operations}
    public = {"GET /c/{token}", "POST /c/{token}", "GET /u/{token}", "POST /u/{token}", "GET /i/{token}", "POST /i/{token}"}
    assert public | {"GET /calendar/{secret}"} <= documented

    schema = schemathesis.openapi.from_url(f"{fuzz_stack.url}/openapi.json", config=_config(wfc))
    fuzzed: set[str] = set()
    examples = 0
    server_errors: list[str] = []
    failed: Counter[str] = Counter()
    checked: Counter[str] = Counter()
    findings: list[str] = []
    errors: list[str] = []
    finished: events.EngineFinished | None = None
    per_phase: Counter[str] = Counter()
    for event in engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished):
            recorder = event.recorder
            per_phase[str(event.phase)] += len(recorder.cases)
            if event.phase != "stateful" and recorder.interactions:
                fuzzed.add(recorder.label)
            examples += len(recorder.cases)
            for interaction in recorder.interactions.values():
                if interaction.response is not None and interaction.response.status_code >= 500:
                    server_errors.append(f"{interaction.request.method} {interaction.request.uri} -> {interaction.response.status_code}")
            for nodes in recorder.checks.values():
                for node in nodes:
                    checked[node.name] += 1
                    if node.failure_info is not None:
                        failed[node.name] += 1
                        info = node.failure_info
                        findings.append(f"[{node.name}] {recorder.label}: {info.failure.title}\n{info.failure.message}\n{info.code_sample}")
        elif isinstance(event, (events.NonFatalError, events.FatalError)):
            errors.append(repr(event))
        elif isinstance(event, events.EngineFinished):
            finished = event
    assert finished is not None
    for failure in finished.failures:
        failed[failure.title] += 1
        findings.append(f"[after run] {failure.operation}: {failure.title}\n{failure.message}")

    print(f"\nschemathesis: {len(fuzzed)} of {len(documented)} operations fuzzed, {examples} examples, {len(server_errors)} 5xx")
    print("  examples per phase: " + ", ".join(f"{phase} {count}" for phase, count in per_phase.items()))
    for name in sorted(checked):
        print(f"  {name}: run on {checked[name]} responses, {failed[name]} failed")
    print(f"  stop: {finished.stop_reason.value}, {finished.running_time:.0f} s")
    assert not errors, "\n".join(errors)
    assert not server_errors, "\n".join(server_errors[:20])
    assert not findings, "\n\n".join(findings[:30])
    assert finished.stop_reason == StopReason.COMPLETED
    assert fuzzed == documented, sorted(documented - fuzzed)
    # Every check the brief names ran (they could not have failed otherwise).
    assert {"negative_data_rejection", "positive_data_acceptance", "status_code_conformance", "content_type_conformance"} <= set(checked)
    assert {"response_schema_conformance", "ignored_auth", "not_a_server_error"} <= set(checked)
