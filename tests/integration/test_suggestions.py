"""Suggestions: group co-members without a pact, listed colleagues of colleagues who share my work; dismissing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from shared.adapters.models import IntroductionSent
from tests.helpers import DEFAULT_NOW, call, member, pact
from tests.integration.group_harness import group_of, sub
from tests.integration.test_directory import ANN, BOB, CARA, DAN, EAMON, EVE, FRED, JEN, KIM, PHONES, listed, network

__all__ = ["network"]  # the fixture, shared with the directory's tests


def suggested(email: str = ANN) -> list[tuple[str, str]]:
    reply = call("GET", "/suggestions", email=email)
    assert reply.status == 200, reply.body
    return [(i["display_name"], i["reason"]) for i in reply.json()["items"]]


def test_each_suggestion_has_its_reason(network: dict[str, str]) -> None:
    assert suggested() == [
        ("Kim", "you meet in Cork peer supervision"),
        ("Cara", "a colleague of Jennifer's; also works with trauma"),
        ("Dan", "a colleague of one of your colleagues; also works with Post-traumatic stress"),  # Dan's own words
    ]
    cara = call("GET", "/suggestions", email=ANN).json()["items"][1]
    assert cara == {
        "member_id": sub(CARA),
        "display_name": "Cara",
        "reason": "a colleague of Jennifer's; also works with trauma",
        "via": "Jennifer",
        "group": None,
        "shared": ["trauma"],
    }


def test_never_someone_i_have_a_pact_with(network: dict[str, str]) -> None:
    pact(ANN, KIM)
    pact(ANN, CARA)
    assert suggested() == [("Dan", "a colleague of one of your colleagues; also works with Post-traumatic stress")]


def test_a_shared_specialty_is_named_in_their_words(network: dict[str, str]) -> None:
    dan = next(i for i in call("GET", "/suggestions", email=ANN).json()["items"] if i["display_name"] == "Dan")
    assert dan["shared"] == ["Post-traumatic stress"]
    listed(CARA, "Cara", "Galway", ["Grief & Loss", "TRAUMA"], ["EMDR"])
    cara = next(i for i in call("GET", "/suggestions", email=ANN).json()["items"] if i["display_name"] == "Cara")
    assert (cara["reason"], cara["shared"]) == ("a colleague of Jennifer's; also works with TRAUMA", ["TRAUMA"])


def test_a_shared_region_is_reason_enough(network: dict[str, str]) -> None:
    listed(KIM, "Kim", "Galway", ["Couples"])  # Ann's group co-member, Jennifer's region, nothing of her work
    assert suggested(JEN) == [("Kim", "a colleague of Ann's; also in Galway")]
    assert suggested(FRED) == []  # nobody in common: unconnected people are never suggested


def test_dismissed_people_are_never_suggested_again(network: dict[str, str]) -> None:
    for _ in range(2):  # idempotent
        reply = call("POST", f"/suggestions/{sub(CARA)}/dismiss", email=ANN)
        assert reply.status == 204
        assert reply.body == b""
    assert [n for n, _ in suggested()] == ["Kim", "Dan"]
    assert call("POST", f"/suggestions/{sub(KIM)}/dismiss", email=ANN).status == 204
    assert [n for n, _ in suggested()] == ["Dan"]
    assert [n for n, _ in suggested(JEN)] == []  # Jennifer's own view is her own: nothing of Ann's dismissals


def test_an_unknown_id_is_dismissed_like_a_known_one(network: dict[str, str]) -> None:
    known = call("POST", f"/suggestions/{sub(CARA)}/dismiss", email=ANN)
    unknown = call("POST", "/suggestions/nobody-at-all-0000/dismiss", email=ANN)
    assert (known.status, known.body, known.headers.get("content-type")) == (
        unknown.status,
        unknown.body,
        unknown.headers.get("content-type"),
    )


def test_a_pending_introduction_blocks_until_its_time(network: dict[str, str]) -> None:
    blocked = IntroductionSent(
        f"MEMBER#{sub(ANN)}",
        f"INTRO_TO#{sub(CARA)}",
        intro_id="i1",
        requested_at=DEFAULT_NOW,
        blocked_until=DEFAULT_NOW + timedelta(days=90),
    )
    blocked.save()
    assert "Cara" not in [n for n, _ in suggested()]
    blocked.blocked_until = DEFAULT_NOW - timedelta(minutes=1)
    blocked.save()
    assert "Cara" in [n for n, _ in suggested()]


def test_listed_only_and_no_contact_details(network: dict[str, str]) -> None:
    listed(EVE, "Eve", "Cork", ["Trauma"])
    pact(DAN, EVE)  # Eve is a colleague of Dan's, who is not Ann's colleague: third degree, never suggested
    text = call("GET", "/suggestions", email=ANN).body.decode()
    assert "Eve" not in text
    for email, phone in PHONES.items():
        assert email not in text
        assert phone not in text
    # Cara leaves the directory: no longer suggested as a colleague of a colleague.
    call("PUT", "/members/me", email=CARA, body={"display_name": "Cara", "specialties": ["trauma"]})
    assert "Cara" not in [n for n, _ in suggested()]


def test_a_member_without_a_profile_gets_no_suggestions(aws) -> None:
    assert suggested("nobody@example.org") == []


@pytest.mark.parametrize(
    ("method", "path", "status", "field"),
    [
        ("GET", "/suggestions?limit=0", 422, "limit"),
        ("GET", "/suggestions?limit=51", 422, "limit"),
        ("GET", "/suggestions?limit=true", 422, "limit"),
        ("POST", "/suggestions/has%20a%20space/dismiss", 422, "member_id"),
        ("POST", "/suggestions/" + "x" * 129 + "/dismiss", 422, "member_id"),
    ],
)
def test_bad_input_is_a_problem(aws, method: str, path: str, status: int, field: str) -> None:
    member(ANN)
    reply = call(method, path, email=ANN)
    assert reply.status == status, reply.body
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in reply.json()["errors"]] == [field]


def test_every_co_member_of_a_group_is_suggested_with_the_group_named(aws) -> None:
    group_of(ANN, [BOB, EAMON], DEFAULT_NOW, name="Dublin peers")
    assert [r for _, r in suggested()] == ["you meet in Dublin peers", "you meet in Dublin peers"]
    assert [n for n, _ in suggested()] == ["Bob", "Eamon"]


def test_dismissing_yourself_stores_nothing(aws) -> None:
    member(ANN)
    assert call("POST", f"/suggestions/{sub(ANN)}/dismiss", email=ANN).status == 204
    from shared.adapters.models import Item

    assert [i.sk for i in Item.query(f"MEMBER#{sub(ANN)}", Item.sk.startswith("DISMISSED#"))] == []
