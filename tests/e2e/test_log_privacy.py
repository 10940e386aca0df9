"""No personal data in any log: a whole scenario against a local stack that logs as deployed (INFO), then every line read.

The stack runs with its own console quiet, so its log file holds the functions' structured
logs (every function runs in that one process). Every name, email address, phone number (in
several spellings), note, message, ask and reply used is searched for in all of it: none may
appear. Each API request's lines carry API Gateway's request id as the correlation id.
"""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Stack, local_stack

pytestmark = pytest.mark.e2e

PEOPLE = {
    "ann": ("Aoife Quinlivan", "aoife.quinlivan.lp@example.org", "+353872468135", ["+353 87 246 8135", "087 246 8135", "0872468135"]),
    "bob": ("Brendan Okonkwo", "brendan.okonkwo.lp@example.org", "+353879753102", ["+353 87 975 3102", "087 975 3102", "0879753102"]),
    "cara": ("Cliodhna Vasquez", "cliodhna.vasquez.lp@example.org", None, []),
    "dara": ("Darragh Fitzgibbon", "darragh.fitzgibbon.lp@example.org", None, []),
}
NOTE = "Discussed Winterbourne supervision worries at length"
LINK_NOTE = "Second thoughts about the Harcourt referral"
INTRO = "I work with bereaved adolescents near Ballyphehane; could we talk?"
ASK = "Has anyone run a Kilbrittain-style grief circle online?"
REPLY = "Yes, we tried it in Drumcondra for six sessions"
GROUP = "Glasnevin reflective practice circle"


@pytest.fixture(scope="module")
def logged_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    state = tmp_path_factory.mktemp("log-privacy")
    log = state / "stack.log"
    with local_stack(state, log, env={"LOG_LEVEL": "INFO"}, quiet=True) as url:
        yield Stack(url, state), log


def ok(reply: Any, status: int = 200) -> Any:
    assert reply.status == status, (reply.status, reply.body)
    return reply.json() if reply.body and reply.headers.get("content-type", "").startswith("application/json") else reply.body


def planted() -> list[str]:
    values = [NOTE, LINK_NOTE, INTRO, ASK, REPLY]
    for name, email, phone, spellings in PEOPLE.values():
        values += [name, *name.split(), email, email.split("@")[0]]
        if phone:
            values += [phone, phone.lstrip("+"), phone[4:], *spellings]
    # Distinctive words of each text too (a log line could carry a truncated value)
    values += ["Winterbourne", "Harcourt", "Ballyphehane", "Kilbrittain", "Drumcondra"]
    return values


def test_a_whole_scenario_logs_no_personal_data(logged_stack: tuple[Stack, Path]) -> None:
    stack, log_path = logged_stack
    tokens = {who: stack.token(email) for who, (_, email, _, _) in PEOPLE.items()}
    api_requests = 0

    def api(method: str, path: str, who: str, body: Any = None, status: int = 200) -> Any:
        nonlocal api_requests
        api_requests += 1
        return ok(stack.request(method, path, token=tokens[who], body=body), status)

    ok(stack.request("PUT", "/_local/clock", body={"now": "2026-12-01T09:00:00Z"}))
    for who, (name, _, phone, spellings) in PEOPLE.items():
        profile: dict[str, Any] = {"display_name": name, "time_zone": "Europe/Dublin"}
        if phone:
            profile |= {"phone": spellings[0], "notifications": {"channels": ["email", "sms"]}}
        if who == "dara":
            profile |= {"in_directory": True, "specialties": ["PTSD", "Grief & Loss"], "region": "Cork"}
        api("PUT", "/members/me", who, profile)

    # A pact, accepted; the text after its first slot; the nudge when it lapses.
    terms = {"colleague": {"email": PEOPLE["bob"][1]}, "rhythm": {"weekday": "tuesday", "time": "08:30"}}
    pact_id = api("POST", "/pacts", "ann", terms, 201)["id"]
    api("POST", f"/pacts/{pact_id}/accept", "bob")
    ok(stack.request("PUT", "/_local/clock", body={"now": "2026-12-08T09:05:00Z"}))
    ok(stack.request("POST", "/_local/invoke/SmsSweep", body={}))
    text = stack.wait_for_message(PEOPLE["ann"][2], "Did you talk with")
    ok(stack.request("PUT", "/_local/clock", body={"now": "2026-12-10T09:05:00Z"}))
    ok(stack.request("POST", "/_local/invoke/NudgeSweep", body={}))
    stack.wait_for_message(PEOPLE["ann"][1], "Time to catch up with")
    # The text's one-tap link records a check-in; then one through the API with a private note.
    link = urlsplit(re.search(r"(http://\S+/c/[\w-]+)", text["text"]).group(1)).path  # type: ignore[union-attr]
    page = stack.request("GET", link)
    nonce = re.search(rb'name="nonce" value="(\w+)"', page.body).group(1).decode()  # type: ignore[union-attr]
    form = {"content-type": "application/x-www-form-urlencoded"}
    ok(stack.request("POST", link, body=f"nonce={nonce}&choice=yes".encode(), headers=form))
    api("POST", f"/pacts/{pact_id}/check-ins", "ann", {"occurred_at": "2026-12-10T08:00:00Z", "note": NOTE}, 201)
    api("POST", f"/pacts/{pact_id}/check-ins", "bob", {"occurred_at": "2026-12-09T18:00:00Z", "note": LINK_NOTE}, 201)

    # A group with a meeting, attendance recorded.
    group = {
        "name": GROUP,
        "rhythm": {"rrule": "FREQ=WEEKLY;BYDAY=FR;BYHOUR=19;BYMINUTE=0", "time_zone": "Europe/Dublin", "starts_on": "2026-12-10"},
        "duration_minutes": 90,
        "where": {"kind": "place", "venue": "Quinlivan rooms"},
        "format": {"preset": "case_slots", "case_slots": 2},
    }
    group_id = api("POST", "/groups", "ann", group, 201)["id"]
    for who in ("bob", "cara"):
        api("POST", f"/groups/{group_id}/invitations", "ann", {"email": PEOPLE[who][1]})
        api("POST", f"/groups/{group_id}/accept", who)
    first = api("GET", f"/groups/{group_id}/meetings?limit=1", "bob")["items"][0]["id"]
    ok(stack.request("PUT", "/_local/clock", body={"now": "2026-12-11T21:00:00Z"}))
    members = {who: api("GET", "/members/me", who)["id"] for who in PEOPLE}
    attended = {"attended": [members["ann"], members["bob"]], "presented": [members["bob"]]}
    api("POST", f"/groups/{group_id}/meetings/{first}/attendance", "ann", attended)

    # The directory, an introduction accepted, an ask to the group with a reply.
    card = api("GET", "/directory?specialty=trauma", "cara")["items"][0]
    intro = api("POST", "/introductions", "cara", {"to": card["member_id"], "message": INTRO}, 201)["id"]
    stack.wait_for_message(PEOPLE["dara"][1], "would like to be introduced")
    api("POST", f"/introductions/{intro}/accept", "dara")
    ask = api("POST", "/asks", "bob", {"text": ASK, "to": {"kind": "group", "group_id": group_id}}, 201)["id"]
    api("POST", f"/asks/{ask}/replies", "cara", {"text": REPLY}, 201)

    # The feeds and exports a member can read.
    feed = api("POST", "/members/me/calendar-secret", "ann")["url"]
    ok(stack.request("GET", urlsplit(feed).path))
    api("GET", "/members/me/export", "ann")
    api("GET", "/members/me/log.csv?from=2026-12-01&to=2026-12-31", "bob")
    api("GET", "/members/me/support", "ann")
    ok(stack.request("PUT", "/_local/clock", body={"now": "2026-12-14T09:05:00Z"}))  # a Monday: the weekly digests
    ok(stack.request("POST", "/_local/invoke/DigestSweep", body={}))
    stack.wait_for_message(PEOPLE["bob"][1], "Your week in peer support")
    time.sleep(1)  # anything still on its way (domain events to the notify function) logs too

    lines = log_path.read_text().splitlines()
    structured = [json.loads(line) for line in lines if line.startswith("{")]
    other = [line for line in lines if not line.startswith("{")]
    text_of_log = "\n".join(lines).lower()
    values = planted()
    hits = {v: text_of_log.count(v.lower()) for v in values if v.lower() in text_of_log}
    by_function = Counter(str(r.get("function_name")).removeprefix("peer-support-local-") for r in structured)
    requests = [r for r in structured if r.get("message") == "request"]
    print(
        f"\n[log privacy] {len(lines)} log lines ({len(structured)} JSON) from {dict(by_function)}; "
        f"{len(values)} personal values planted; hits: {sum(hits.values())} {hits or ''}"
    )
    print(f"[log privacy] API requests made: {api_requests}; 'request' lines: {len(requests)}; non-JSON lines (local server): {len(other)}")
    assert hits == {}
    # The functions log structured JSON lines only: any other line is the local stack's own (its
    # banner; its HTTP server's note of a client that hung up), never a trace through our code.
    assert [line for line in other if "/shared/" in line or "/functions/" in line] == []
    assert {"level", "message", "timestamp", "service", "function_name"} <= set(structured[0])
    # Each of these functions logged its line. Told by the line's message: in the local stack every function
    # runs in one process and shares one Powertools logger, so under a parallel run a line can carry the
    # function_name of another function running at that moment (in Lambda each function is its own process).
    expected = {"request": "ApiFunction", "nudge message handled": "NudgeSenderFunction", "link used": "LinksFunction"}
    expected["calendar feed"] = "CalendarFeedFunction"
    assert {fn for message, fn in expected.items() if any(r.get("message") == message for r in structured)} == set(expected.values())
    # One line per API request, each under its own correlation id (API Gateway's request id).
    assert len(requests) == api_requests
    assert all(r.get("correlation_id") for r in requests)
    assert len({r["correlation_id"] for r in requests}) == api_requests
    public = [r for r in structured if r.get("message") in ("link used", "calendar feed")]
    assert public
    assert all(r.get("correlation_id") for r in public)
