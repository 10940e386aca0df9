"""Asks through the HTTP API: who is asked (pacts, a group, a specialty), client identifiers refused, replies, closing, erasure."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import boto3
import pytest

from shared.adapters.models import Ask, AskReceived, DirectoryEntry, Item, member_pk
from shared.network.asks import use_cases as asks_module
from tests.helpers import DEFAULT_NOW, call, member, pact
from tests.integration.group_harness import group_of, sub

ANN, BOB, CARA, DAN, EVE = "ann@example.org", "bob@example.org", "cara@example.org", "dan@example.org", "eve@example.org"
LATER = DEFAULT_NOW + timedelta(hours=1)
QUESTION = "Has anyone worked with complex PTSD after a car crash? Looking for reading or a referral near Cork."


def ask(email: str, to: dict[str, Any], text: str = QUESTION) -> Any:
    return call("POST", "/asks", email=email, body={"text": text, "to": to}, now=LATER)


def ok_ask(email: str, to: dict[str, Any], text: str = QUESTION) -> dict[str, Any]:
    reply = ask(email, to, text)
    assert reply.status == 201, reply.body
    assert reply.headers["location"] == f"/asks/{reply.json()['id']}"
    return dict(reply.json())


def inbox(email: str) -> list[dict[str, Any]]:
    reply = call("GET", "/asks?box=received", email=email, now=LATER)
    assert reply.status == 200, reply.body
    return list(reply.json()["items"])


def table_items() -> list[dict[str, Any]]:
    """Everything in the table (a Scan: tests only)."""
    client = boto3.client("dynamodb")
    name = Item.Meta.table_name
    return [i for page in client.get_paginator("scan").paginate(TableName=name) for i in page["Items"]]


def asks_stored() -> list[dict[str, Any]]:
    return [i for i in table_items() if i["kind"]["S"] in ("ask", "ask_received", "ask_reply")]


@pytest.fixture
def pacts_world(aws: Any) -> None:
    """Ann has mutual pacts with Bob and Cara, an unanswered invitation to Dan, and an outside colleague."""
    for email in (ANN, BOB, CARA, DAN, EVE):
        member(email)
    pact(ANN, BOB)
    call("POST", "/pacts/" + pact(CARA, ANN, accept=False)["id"] + "/accept", email=ANN)  # Cara proposed; Ann accepted
    pact(ANN, DAN, accept=False)
    pact(ANN, {"name": "Fran", "phone": "+353851111111"})


def listed(specialty: str, emails_or_subs: list[str], name: str = "Listed") -> None:
    """Directory entries as the profile writes them (another capability owns that write)."""
    with DirectoryEntry.batch_write() as batch:
        for who in emails_or_subs:
            member_sub = sub(who) if "@" in who else who
            batch.save(
                DirectoryEntry(
                    member_pk(member_sub),
                    f"DIR#s:{specialty}",
                    gsi2pk=f"DIR#s:{specialty}",
                    gsi2sk=member_sub,
                    member_sub=member_sub,
                    display_name=name,
                )
            )


# ------------------------------------------------------------------ who is asked


def test_an_ask_to_my_pacts_reaches_the_other_members_of_my_mutual_pacts_only(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    assert created["recipients"] == 2
    assert created["mine"] is True
    assert created["audience"] == {"kind": "pacts", "label": "pact colleagues", "group_id": None, "specialty": None}
    assert created["capped"] is False
    for email in (BOB, CARA):
        [received] = inbox(email)
        assert received["id"] == created["id"]
        assert received["text"] == QUESTION
        assert received["author_name"] == "Ann"
        assert received["mine"] is False
        assert received["recipients"] is None  # how many were asked is the asker's to know
    for email in (ANN, DAN, EVE):
        assert inbox(email) == []
    stored = Ask.get(*Ask.key(created["id"]))
    assert stored.recipient_subs == {sub(BOB), sub(CARA)}


def test_an_ask_with_nobody_to_ask_is_a_422_saying_why_and_stores_nothing(aws: Any) -> None:
    member(ANN)
    pact(ANN, DAN, accept=False)  # an invitation is not a pact colleague yet
    reply = ask(ANN, {"kind": "pacts"})
    assert reply.status == 422, reply.body
    problem = reply.json()
    assert problem["field"] == "to"
    assert "you have no pact colleagues yet" in problem["detail"]
    assert asks_stored() == []


def test_an_ask_to_a_group_reaches_its_other_active_members(aws: Any) -> None:
    group_id = group_of(ANN, [BOB, EVE], DEFAULT_NOW)
    member(DAN)
    member(CARA)
    assert call("POST", f"/groups/{group_id}/invitations", email=ANN, body={"email": DAN}).status == 200  # invited, not active
    created = ok_ask(BOB, {"kind": "group", "group_id": group_id})
    assert created["recipients"] == 2
    assert created["audience"]["label"] == "Cork peer supervision"
    assert created["audience"]["group_id"] == group_id
    assert [a["id"] for a in inbox(ANN)] == [created["id"]]
    assert [a["id"] for a in inbox(EVE)] == [created["id"]]
    assert inbox(BOB) == inbox(DAN) == inbox(CARA) == []


def test_an_ask_to_a_group_i_am_not_an_active_member_of_looks_like_an_unknown_group(aws: Any) -> None:
    group_id = group_of(ANN, [BOB], DEFAULT_NOW)
    member(CARA)
    member(DAN)
    assert call("POST", f"/groups/{group_id}/invitations", email=ANN, body={"email": DAN}).status == 200
    missing = "g_doesnotexist0000"
    for email in (CARA, DAN):
        theirs = ask(email, {"kind": "group", "group_id": group_id})
        unknown = ask(email, {"kind": "group", "group_id": missing})
        assert theirs.status == unknown.status == 404
        assert theirs.body.replace(group_id.encode(), b"<id>") == unknown.body.replace(missing.encode(), b"<id>")
    assert asks_stored() == []


def test_a_group_of_one_has_nobody_to_ask(aws: Any) -> None:
    group_id = group_of(ANN, [], DEFAULT_NOW)
    reply = ask(ANN, {"kind": "group", "group_id": group_id})
    assert reply.status == 422
    assert "only active member" in reply.json()["detail"]


def test_an_ask_to_a_specialty_reaches_the_members_listed_under_it_except_me(aws: Any) -> None:
    for email in (ANN, BOB, CARA):
        member(email)
    listed("grief-and-loss", [ANN, BOB, CARA])
    listed("trauma", [DAN])
    created = ok_ask(ANN, {"kind": "specialty", "specialty": "Grief & Loss"})
    assert created["recipients"] == 2
    assert created["capped"] is False
    assert created["note"] is None
    # The label is the asker's words; `specialty` the normalised tag the directory is read by.
    audience = {"kind": "specialty", "label": "specialty: Grief & Loss", "group_id": None, "specialty": "grief-and-loss"}
    assert created["audience"] == audience
    assert len(inbox(BOB)) == len(inbox(CARA)) == 1
    assert inbox(BOB)[0]["audience"] == audience
    [received] = [i for i in table_items() if i["kind"]["S"] == "ask_received" and i["pk"]["S"] == member_pk(sub(BOB))]
    assert received["audience_label"]["S"] == "specialty: Grief & Loss"  # what Bob's weekly digest says
    assert inbox(ANN) == []


def test_an_ask_to_a_specialty_finds_what_a_directory_search_for_it_finds(aws: Any, aws_calls: Any) -> None:
    # Found trying it: the directory's search for 'grief' lists members under 'Grief & Loss' and 'bereavement'
    # (one synonym group of its vocabulary); an ask to 'grief' was a 422 "nobody is listed under 'grief'".
    # Both now expand a specialty with the same vocabulary (shared/network/directory).
    for email in (ANN, BOB, CARA, DAN, EVE):
        member(email)
    listed("grief-and-loss", [BOB, CARA])
    listed("bereavement", [CARA, DAN])  # Cara under two synonyms: asked once
    listed("trauma", [EVE])
    aws_calls.clear()
    created = ok_ask(ANN, {"kind": "specialty", "specialty": "grief"})
    used = sum(n for op, n in aws_calls.items() if op.startswith("dynamodb."))
    assert created["recipients"] == 3
    assert created["audience"]["label"] == "specialty: grief"
    assert [len(inbox(who)) for who in (BOB, CARA, DAN, EVE)] == [1, 1, 1, 0]
    # The asker's profile, each of the group's 3 terms read from a random point and wrapped around (at most
    # 2 queries a term), and the write; the first term alone when it fills the ask (test_asks_authorization).
    assert used <= 8, aws_calls


def test_a_popular_specialty_is_capped_and_the_response_says_so(aws: Any) -> None:
    member(ANN)
    others = [f"00000000-0000-4000-8000-{n:012d}" for n in range(73)]
    listed("trauma", [ANN, *others])
    created = ok_ask(ANN, {"kind": "specialty", "specialty": "trauma"})
    assert created["recipients"] == asks_module.MAX_SPECIALTY_RECIPIENTS == 50
    assert created["capped"] is True
    assert "50 of them were asked" in created["note"]
    received = [i for i in table_items() if i["kind"]["S"] == "ask_received"]
    assert len(received) == 50
    assert {i["pk"]["S"] for i in received} <= {member_pk(s) for s in others}
    assert sub(ANN) not in Ask.get(*Ask.key(created["id"])).recipient_subs


def test_a_specialty_nobody_else_is_listed_under_is_a_422(aws: Any) -> None:
    member(ANN)
    listed("sandplay", [ANN])
    reply = ask(ANN, {"kind": "specialty", "specialty": "Sandplay"})
    assert reply.status == 422
    assert "nobody else is listed in the directory under 'Sandplay'" in reply.json()["detail"]
    assert ask(ANN, {"kind": "specialty", "specialty": "!!!"}).json()["field"] == "to.specialty"


def test_an_audience_too_large_for_one_transaction_is_written_ask_first_then_in_batches(
    pacts_world: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(asks_module, "MAX_TRANSACTION_ITEMS", 2)  # the ask and one recipient; Ann has two
    created = ok_ask(ANN, {"kind": "pacts"})
    assert created["recipients"] == 2
    assert len(inbox(BOB)) == len(inbox(CARA)) == 1


# ------------------------------------------------------------------ client identifiers and text


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("My client John Murphy (DOB 12/03/1987) keeps missing sessions", ['a client\'s name ("J… M…")', "a date of birth"]),
        ("Email j.murphy@example.org if you can take a referral", ['an email address ("j…@…")']),
        ("Her mobile is 087 123 4567", ['a phone number ("087…")']),
        ("PPS 1234567T on the form", ["a PPS number"]),
        ("NHS number 943 476 5919", ["an NHS number"]),
        ("SSN 123-45-6789", ["a US social security number"]),
    ],
)
def test_an_ask_that_could_identify_a_client_is_refused_naming_what_to_remove_and_nothing_is_stored(
    pacts_world: None, text: str, says: list[str]
) -> None:
    reply = ask(ANN, {"kind": "pacts"}, text)
    assert reply.status == 422, reply.body
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem = reply.json()
    assert problem["field"] == "text"
    for phrase in says:
        assert phrase in problem["detail"]
    assert "remove anything that could identify a client" in problem["detail"]
    for secret in ("Murphy", "murphy@", "4567", "1234567T", "5919", "6789"):
        assert secret not in problem["detail"]
    assert asks_stored() == []


def test_a_reply_that_could_identify_a_client_is_refused_and_nothing_is_stored(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    before = asks_stored()
    reply = call("POST", f"/asks/{created['id']}/replies", email=BOB, body={"text": "Ring my colleague on +353 85 123 4567"}, now=LATER)
    assert reply.status == 422
    assert 'a phone number ("+35…")' in reply.json()["detail"]
    assert asks_stored() == before


@pytest.mark.parametrize(
    ("text", "field_says"),
    [("x" * 2001, "at most 2000"), ("a bell\x07 rings", "control characters"), ("   ", "at least 1"), ("", "at least 1")],
)
def test_text_limits(pacts_world: None, text: str, field_says: str) -> None:
    reply = ask(ANN, {"kind": "pacts"}, text)
    assert reply.status == 422
    assert field_says in reply.json()["detail"]
    assert asks_stored() == []


def test_html_is_never_interpreted_the_text_comes_back_as_it_was_written(pacts_world: None) -> None:
    text = "Anyone used <b>ACT</b> with <script>alert(1)</script> adolescents?\nLine two & more"
    created = ok_ask(ANN, {"kind": "pacts"}, text)
    got = call("GET", f"/asks/{created['id']}", email=BOB, now=LATER)
    assert got.headers["content-type"].startswith("application/json")
    assert got.json()["text"] == text


def test_unknown_audience_kinds_and_extra_fields_are_422(pacts_world: None) -> None:
    assert ask(ANN, {"kind": "everyone"}).status == 422
    assert ask(ANN, {"kind": "pacts", "also": 1}).status == 422
    assert call("POST", "/asks", email=ANN, body={"text": QUESTION}).status == 422


# ------------------------------------------------------------------ replies and closing


def test_the_asker_sees_every_reply_and_a_replier_only_their_own(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    path = f"/asks/{created['id']}"
    for minutes, (email, text) in enumerate(((BOB, "Try the Ehlers and Clark model."), (CARA, "I can take a referral in January."))):
        reply = call("POST", f"{path}/replies", email=email, body={"text": text}, now=LATER + timedelta(minutes=minutes))
        assert reply.status == 201, reply.body
        assert reply.json()["mine"] is True
    asker = call("GET", path, email=ANN, now=LATER).json()
    assert asker["reply_count"] == 2
    assert [(r["author_name"], r["text"]) for r in asker["replies"]] == [
        ("Bob", "Try the Ehlers and Clark model."),
        ("Cara", "I can take a referral in January."),
    ]
    assert all(r["mine"] is False for r in asker["replies"])
    bob = call("GET", path, email=BOB, now=LATER).json()
    assert [r["text"] for r in bob["replies"]] == ["Try the Ehlers and Clark model."]
    assert bob["reply_count"] is None
    assert bob["recipients"] is None
    assert "January" not in call("GET", path, email=BOB, now=LATER).body.decode()
    for reply in asker["replies"]:
        assert sub(BOB) not in reply["id"]
        assert sub(CARA) not in reply["id"]


def test_the_asker_closes_and_no_reply_is_taken_after(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    path = f"/asks/{created['id']}"
    assert call("POST", f"{path}/close", email=BOB, now=LATER).status == 403  # only the asker
    closed = call("POST", f"{path}/close", email=ANN, now=LATER)
    assert closed.status == 200
    assert closed.json()["state"] == "closed"
    assert closed.json()["closed_at"] is not None
    late = call("POST", f"{path}/replies", email=BOB, body={"text": "Sorry, only seeing this now."}, now=LATER)
    assert late.status == 409
    assert late.headers["content-type"].startswith("application/problem+json")
    assert "closed" in late.json()["detail"]
    again = call("POST", f"{path}/close", email=ANN, now=LATER)
    assert again.status == 200
    assert again.json()["closed_at"] == closed.json()["closed_at"]
    assert [a["state"] for a in inbox(BOB)] == ["closed"]


def test_the_asker_does_not_reply_to_their_own_ask(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    assert call("POST", f"/asks/{created['id']}/replies", email=ANN, body={"text": "Bump"}, now=LATER).status == 403


def test_outsiders_get_the_404_of_an_unknown_ask_and_change_nothing(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    ask_id, missing = created["id"], "a_doesnotexist0000"
    before = asks_stored()
    for method, suffix, body in (("GET", "", None), ("POST", "/replies", {"text": "Me too"}), ("POST", "/close", None)):
        theirs = call(method, f"/asks/{ask_id}{suffix}", email=DAN, body=body, now=LATER)
        unknown = call(method, f"/asks/{missing}{suffix}", email=DAN, body=body, now=LATER)
        assert theirs.status == unknown.status == 404
        assert theirs.body.replace(ask_id.encode(), b"<id>") == unknown.body.replace(missing.encode(), b"<id>")
        assert QUESTION not in theirs.body.decode()
    assert asks_stored() == before
    assert call("GET", "/asks?box=mine", email=DAN, now=LATER).json()["items"] == []


def test_my_asks_newest_first_and_paged(pacts_world: None) -> None:
    first = ok_ask(ANN, {"kind": "pacts"}, "First question about grief groups?")
    second = call("POST", "/asks", email=ANN, body={"text": "Second question?", "to": {"kind": "pacts"}}, now=LATER + timedelta(minutes=1))
    page = call("GET", "/asks?box=mine&limit=1", email=ANN, now=LATER).json()
    assert [a["id"] for a in page["items"]] == [second.json()["id"]]
    assert page["items"][0]["recipients"] == 2
    rest = call("GET", f"/asks?box=mine&limit=1&next={page['next']}", email=ANN, now=LATER).json()
    assert [a["id"] for a in rest["items"]] == [first["id"]]
    assert call("GET", "/asks?box=mine&next=bogus", email=ANN, now=LATER).status == 422
    assert call("GET", "/asks?box=everyone", email=ANN, now=LATER).status == 422


# ------------------------------------------------------------------ erasure


def test_an_author_erasing_takes_their_asks_replies_and_inbox_items(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    assert call("POST", f"/asks/{created['id']}/replies", email=BOB, body={"text": "Happy to talk."}, now=LATER).status == 201
    assert call("DELETE", "/members/me", email=ANN, now=LATER).status == 204
    assert asks_stored() == []
    assert inbox(BOB) == inbox(CARA) == []
    assert call("GET", f"/asks/{created['id']}", email=BOB, now=LATER).status == 404


def test_a_replier_erasing_loses_their_inbox_and_their_replies_become_a_former_member(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    assert call("POST", f"/asks/{created['id']}/replies", email=BOB, body={"text": "Happy to talk."}, now=LATER).status == 201
    assert call("DELETE", "/members/me", email=BOB, now=LATER).status == 204
    assert list(AskReceived.query(member_pk(sub(BOB)))) == []
    seen = call("GET", f"/asks/{created['id']}", email=ANN, now=LATER).json()
    assert [(r["author_name"], r["text"]) for r in seen["replies"]] == [("a former member", "Happy to talk.")]
    assert sub(BOB) not in str(asks_stored())
    assert len(inbox(CARA)) == 1


def test_the_export_has_my_asks_with_every_reply_and_the_asks_i_was_sent_with_my_own_replies(pacts_world: None) -> None:
    created = ok_ask(ANN, {"kind": "pacts"})
    path = f"/asks/{created['id']}/replies"
    assert call("POST", path, email=BOB, body={"text": "Happy to talk."}, now=LATER).status == 201
    assert call("POST", path, email=CARA, body={"text": "Cara's thought."}, now=LATER + timedelta(minutes=1)).status == 201

    def exported(email: str) -> list[tuple[str, list[str]]]:
        reply = call("GET", "/members/me/export", email=email, now=LATER)
        assert reply.status == 200, reply.body
        return [(a["id"], [r["text"] for r in a["replies"]]) for a in reply.json()["asks"]]

    assert exported(ANN) == [(created["id"], ["Happy to talk.", "Cara's thought."])]
    assert exported(BOB) == [(created["id"], ["Happy to talk."])]
    assert exported(DAN) == []


class KeptLogs(logging.Handler):
    """Every log line the functions write, formatted as shipped (JSON with its extras)."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


def test_ask_and_reply_texts_never_reach_the_logs(pacts_world: None) -> None:
    from shared.adapters.observability import logger

    kept = KeptLogs()
    kept.setFormatter(logger.registered_formatter)
    logger._logger.addHandler(kept)
    logger.setLevel("DEBUG")
    try:
        logger.debug("probe: the handler sees what the functions log")
        created = ok_ask(ANN, {"kind": "pacts"})
        refused = ask(ANN, {"kind": "pacts"}, "my client Orla Quinlan again")
        assert refused.status == 422
        replied = call("POST", f"/asks/{created['id']}/replies", email=BOB, body={"text": "Zebra-striped answer"}, now=LATER)
        assert replied.status == 201
        missing = call("GET", "/asks/a_doesnotexist0000", email=DAN, now=LATER)
        assert missing.status == 404
    finally:
        logger.setLevel("WARNING")
        logger._logger.removeHandler(kept)
    assert "probe" in kept.lines[0]
    logged = "\n".join(kept.lines)
    for secret in (QUESTION, "Orla", "Quinlan", "Zebra-striped"):
        assert secret not in logged
