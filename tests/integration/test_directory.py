"""The colleague directory through the API: entries with the profile, forgiving search, closeness, paging."""

from __future__ import annotations

from typing import Any

import pytest

from shared.adapters.models import DirectoryEntry, Item
from tests.helpers import DEFAULT_NOW, call, member, pact
from tests.integration.conftest import built_once
from tests.integration.group_harness import group_of, sub

ANN, BOB, JEN, CARA, KIM, DAN, EVE, FRED, EAMON = (
    f"{n}@example.org" for n in ("ann", "bob", "jen", "cara", "kim", "dan", "eve", "fred", "eamon")
)
PHONES = {email: f"+35385{n:07d}" for n, email in enumerate((ANN, BOB, JEN, CARA, KIM, DAN, EVE, FRED, EAMON))}


def listed(email: str, name: str, region: str, specialties: list[str], modalities: list[str] | None = None, **more: Any) -> None:
    body = {
        "display_name": name,
        "time_zone": "Europe/Dublin",
        "phone": PHONES.get(email),
        "region": region,
        "specialties": specialties,
        "modalities": modalities or [],
        "in_directory": True,
        **more,
    }
    reply = call("PUT", "/members/me", email=email, body=body)
    assert reply.status == 200, reply.body


@pytest.fixture
def network(aws) -> dict[str, str]:
    return built_once(_network)


def _network() -> dict[str, str]:
    """Ann (Cork, trauma) and the people around her, whose order in a trauma search is known.

    Ann - Bob: a pact (Bob lists PTSD, Dublin)           -> colleague
    Ann - Jennifer: a pact (Jennifer lists anxiety only: not found by the search, but named as "via")
    Jennifer - Cara: a pact (Cara lists trauma)           -> colleague of a colleague, via Jennifer
    Ann - Kim: a group (Kim is not in the directory)
    Kim - Dan: a pact (Dan lists post-traumatic stress)   -> colleague of a colleague, nobody named
    Eve: Cork, trauma, nobody in common                   -> my region
    Éamon and Fred: Dublin, trauma                        -> the rest, by name (Éamon before Fred)
    """
    group = group_of(ANN, [KIM], DEFAULT_NOW, name="Cork peer supervision")
    for email in (BOB, JEN, CARA, DAN, EVE, FRED, EAMON):
        member(email)
    pact(ANN, BOB)
    pact(ANN, JEN)
    pact(JEN, CARA)
    pact(KIM, DAN)
    listed(ANN, "Ann", "Cork", ["Trauma"], ["CBT"])
    listed(BOB, "Bob", "Dublin", ["PTSD"])
    listed(JEN, "Jennifer", "Galway", ["Anxiety"])
    listed(CARA, "Cara", "Galway", ["trauma"], ["EMDR"])
    listed(DAN, "Dan", "Limerick", ["Post-traumatic stress"])
    listed(EVE, "Eve", "Cork", ["Trauma"], ["Cognitive Behavioural Therapy"])
    listed(FRED, "Fred", "Dublin", ["TRAUMA"])
    listed(EAMON, "Éamon", "Dublin", ["Trauma", "Grief & Loss"])
    return {"group": group}


def names(path: str, email: str = ANN) -> list[str]:
    reply = call("GET", path, email=email)
    assert reply.status == 200, reply.body
    return [i["display_name"] for i in reply.json()["items"]]


def test_closest_first_then_by_name(network: dict[str, str]) -> None:
    reply = call("GET", "/directory?specialty=trauma", email=ANN)
    assert reply.status == 200, reply.body
    items = reply.json()["items"]
    assert [(i["display_name"], i["closeness"], i["via"]) for i in items] == [
        ("Bob", "colleague", None),
        ("Cara", "colleague_of_colleague", "Jennifer"),
        ("Dan", "colleague_of_colleague", None),  # through Kim, who is not in the directory: nobody named
        ("Eve", "region", None),
        ("Éamon", "other", None),
        ("Fred", "other", None),
    ]
    assert [i["reason"] for i in items[:4]] == [
        "you have a pact together",
        "a colleague of Jennifer's",
        "a colleague of one of your colleagues",
        "in your region",
    ]
    assert items[0] == {
        "member_id": sub(BOB),
        "display_name": "Bob",
        "region": "Dublin",
        "specialties": ["PTSD"],  # as Bob typed it (found as "trauma": its tag is in trauma's synonym group)
        "modalities": [],
        "closeness": "colleague",
        "reason": "you have a pact together",
        "via": None,
    }


def card(path: str, name: str, email: str = ANN) -> dict[str, Any]:
    reply = call("GET", path, email=email)
    assert reply.status == 200, reply.body
    return next(i for i in reply.json()["items"] if i["display_name"] == name)


def test_cards_show_specialties_and_modalities_as_the_member_typed_them(network: dict[str, str]) -> None:
    eamon = card("/directory?specialty=grief", "Éamon")
    assert eamon["specialties"] == ["Grief & Loss", "Trauma"]
    cara = card("/directory?q=EMDR", "Cara")
    assert (cara["specialties"], cara["modalities"]) == (["trauma"], ["EMDR"])
    eve = card("/directory?region=cork", "Eve")
    assert eve["modalities"] == ["Cognitive Behavioural Therapy"]
    # Searching still goes by the normalised tag: any spelling finds the member.
    for path in ("/directory?specialty=grief%20and%20loss", "/directory?q=GRIEF%20%26%20LOSS", "/directory?specialty=grief-and-loss"):
        assert names(path) == ["Éamon"], path
    entries = {e.sk: e for e in Item.query(f"MEMBER#{sub(EAMON)}", Item.sk.startswith("DIR#")) if isinstance(e, DirectoryEntry)}
    assert sorted(entries) == ["DIR#r:dublin", "DIR#s:grief-and-loss", "DIR#s:trauma"]  # the keys are the tags, as before
    assert {e.gsi2pk for e in entries.values()} == {"DIR#r:dublin", "DIR#s:grief-and-loss", "DIR#s:trauma"}
    assert all(e.specialties == ["grief-and-loss", "trauma"] for e in entries.values())


def test_a_card_written_before_display_forms_were_kept_shows_its_tags_readably(network: dict[str, str]) -> None:
    for entry in Item.query(f"MEMBER#{sub(EAMON)}", Item.sk.startswith("DIR#")):
        assert isinstance(entry, DirectoryEntry)
        entry.specialty_labels = None
        entry.modality_labels = None
        entry.save()
    assert card("/directory?specialty=grief", "Éamon")["specialties"] == ["grief and loss", "trauma"]


def test_the_caller_is_never_in_their_own_results(network: dict[str, str]) -> None:
    assert "Ann" not in names("/directory?region=cork")
    assert names("/directory?region=cork") == ["Eve"]
    assert "Eve" not in names("/directory?region=cork", email=EVE)


def test_a_group_co_member_in_the_directory_is_a_colleague(network: dict[str, str]) -> None:
    listed(KIM, "Kim", "Kerry", ["Trauma"])
    items = call("GET", "/directory?specialty=trauma", email=ANN).json()["items"]
    kim = next(i for i in items if i["display_name"] == "Kim")
    assert (kim["closeness"], kim["reason"]) == ("colleague", "you are in a group together")
    dan = next(i for i in items if i["display_name"] == "Dan")
    assert (dan["via"], dan["reason"]) == ("Kim", "a colleague of Kim's")  # Kim is listed now: named


def test_synonyms_accents_and_case(network: dict[str, str]) -> None:
    trauma = names("/directory?specialty=trauma")
    assert names("/directory?specialty=PTSD") == trauma
    assert names("/directory?specialty=Post-Traumatic%20Stress") == trauma
    assert names("/directory?specialty=TRA%C3%9AMA") == trauma  # TRAÚMA
    assert names("/directory?region=C%C3%B6rk") == ["Eve"]  # Cörk
    assert names("/directory?modality=cognitive%20behavioural%20therapy") == ["Eve"]  # Ann's CBT is her own
    assert names("/directory?modality=cbt", email=BOB) == ["Ann", "Eve"]
    assert names("/directory?modality=eye%20movement%20desensitization%20and%20reprocessing") == ["Cara"]
    assert names("/directory?specialty=bereavement") == ["Éamon"]
    assert names("/directory?q=EMDR") == ["Cara"]
    assert names("/directory?q=grief") == ["Éamon"]
    assert names("/directory?q=galway") == ["Jennifer", "Cara"]  # Jennifer is a colleague: first


def test_filters_combine(network: dict[str, str]) -> None:
    assert names("/directory?specialty=ptsd&region=dublin") == ["Bob", "Éamon", "Fred"]
    assert names("/directory?specialty=ptsd&region=dublin&modality=cbt") == []
    assert names("/directory?specialty=trauma&modality=cbt") == ["Eve"]
    assert names("/directory?specialty=grief&q=dublin") == ["Éamon"]


def test_opting_out_removes_every_entry_at_once(network: dict[str, str]) -> None:
    assert "Fred" in names("/directory?specialty=trauma")
    reply = call("PUT", "/members/me", email=FRED, body={"display_name": "Fred", "specialties": ["trauma"], "region": "Dublin"})
    assert reply.status == 200
    assert "Fred" not in names("/directory?specialty=trauma")
    assert "Fred" not in names("/directory?region=dublin")
    assert list(Item.query(f"MEMBER#{sub(FRED)}", Item.sk.startswith("DIR#"))) == []


def test_a_changed_profile_replaces_its_entries_and_card(network: dict[str, str]) -> None:
    listed(FRED, "Frederick", "Kerry", ["Grief"])
    assert "Frederick" not in names("/directory?specialty=trauma")
    assert names("/directory?specialty=grief") == ["Éamon", "Frederick"]
    terms = sorted(i.sk for i in Item.query(f"MEMBER#{sub(FRED)}", Item.sk.startswith("DIR#")) if isinstance(i, DirectoryEntry))
    assert terms == ["DIR#r:kerry", "DIR#s:grief"]


def test_erasure_removes_the_entries(network: dict[str, str]) -> None:
    assert call("DELETE", "/members/me", email=FRED).status == 204
    assert "Fred" not in names("/directory?specialty=trauma")
    assert list(Item.query(f"MEMBER#{sub(FRED)}")) == []


def test_no_email_or_phone_in_any_card(network: dict[str, str]) -> None:
    for path in ("/directory?specialty=trauma", "/directory?region=dublin", "/directory?q=galway"):
        body = call("GET", path, email=ANN).body.decode()
        for email, phone in PHONES.items():
            assert email not in body
            assert phone not in body
            assert email.split("@")[0] + "@" not in body
    for entry in Item.query(f"MEMBER#{sub(BOB)}", Item.sk.startswith("DIR#")):
        stored = entry.serialize()
        assert BOB not in str(stored)
        assert PHONES[BOB] not in str(stored)


def test_pages_follow_the_same_order_without_repeats(network: dict[str, str]) -> None:
    whole = names("/directory?specialty=trauma")
    seen: list[str] = []
    path = "/directory?specialty=trauma&limit=2"
    pages = 0
    while True:
        reply = call("GET", path, email=ANN).json()
        seen += [i["display_name"] for i in reply["items"]]
        pages += 1
        if reply["next"] is None:
            break
        path = f"/directory?specialty=trauma&limit=2&next={reply['next']}"
    assert seen == whole
    assert pages == 3


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/directory", "specialty, modality, region or q"),
        ("/directory?specialty=%20%20", "specialty, modality, region or q"),
        ("/directory?specialty=%21%21%21", "specialty"),
        ("/directory?specialty=trauma&limit=0", "limit"),
        ("/directory?specialty=trauma&limit=101", "limit"),
        ("/directory?specialty=trauma&next=garbage", "next"),
        ("/directory?specialty=trauma&next=WzksIngiLCJ5Il0", "next"),  # [9,"x","y"]: not a place this list gives
        ("/directory?specialty=" + "a" * 81, "specialty"),
    ],
)
def test_bad_input_is_a_problem_naming_the_parameter(aws, path: str, field: str) -> None:
    member(ANN)
    reply = call("GET", path, email=ANN)
    assert reply.status == 422, reply.body
    assert reply.headers["content-type"].startswith("application/problem+json")
    problem = reply.json()
    assert problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == [field]
    if field.startswith("specialty, "):
        assert "specialty" in problem["detail"]
        assert "region" in problem["detail"]
        assert "q" in problem["detail"]


def test_the_readme_walkthrough(aws) -> None:
    """Find a colleague by specialty: the curl lines of the README, as API Gateway calls the handler."""
    group = group_of(ANN, [BOB, DAN], DEFAULT_NOW)
    pact(ANN, BOB)
    dan = {"display_name": "Dan", "time_zone": "Europe/Dublin", "region": "Cork", "specialties": ["PTSD"], "in_directory": True}
    assert call("PUT", "/members/me", email=DAN, body=dan).status == 200
    found = call("GET", "/directory?specialty=trauma", email=ANN).json()
    cards = [(i["display_name"], i["closeness"], i["reason"]) for i in found["items"]]
    assert cards == [("Dan", "colleague", "you are in a group together")]
    assert found["next"] is None
    assert names("/directory?q=ptsd&region=cork", email=BOB) == ["Dan"]
    assert call("GET", "/suggestions", email=BOB).json()["items"][0]["reason"] == "you meet in Cork peer supervision"
    assert call("POST", f"/suggestions/{sub(DAN)}/dismiss", email=BOB).status == 204
    assert call("GET", "/suggestions", email=BOB).json() == {"items": []}
    assert call("GET", "/directory", email=ANN).status == 422
    assert group


def test_a_refused_profile_leaves_the_entries_as_they_were(network: dict[str, str]) -> None:
    """Fred's sign-in now carries Bob's address: the profile, and its directory changes with it, are refused."""
    body = {"display_name": "Fred", "region": "Kerry", "specialties": ["grief"]}
    reply = call("PUT", "/members/me", email=BOB, sub=sub(FRED), body=body)
    assert reply.status == 409, reply.body
    assert "belongs to another member" in reply.json()["detail"]
    assert "Fred" in names("/directory?specialty=trauma")
    assert "Fred" not in names("/directory?specialty=grief")
