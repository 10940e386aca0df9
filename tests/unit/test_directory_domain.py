"""The directory's pure rules: the vocabulary, forgiving terms, closeness ranking, paging, suggestions."""

from __future__ import annotations

import json

import pytest

from infra.cfn import ROOT
from shared.domain.directory import (
    MAX_GROUP_TERMS,
    Card,
    Graph,
    Profile,
    Search,
    Vocabulary,
    after,
    entry_terms,
    parse_link,
    rank,
    suggest,
)

VOCABULARY_FILE = ROOT / "shared" / "network" / "directory" / "vocabulary.json"


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.from_data(json.loads(VOCABULARY_FILE.read_text(encoding="utf-8")))


def test_the_vocabulary_file_is_a_dozen_small_groups(vocabulary: Vocabulary) -> None:
    assert len(vocabulary.groups) >= 12
    assert all(2 <= len(g.tags) <= MAX_GROUP_TERMS for g in vocabulary.groups)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "list of groups"),
        ({"groups": [{"kind": "colour", "terms": ["a", "b"]}]}, "kind"),
        ({"groups": [{"kind": "specialty", "terms": "trauma"}]}, "list of text"),
        ({"groups": [{"kind": "specialty", "terms": ["Trauma", "TRAUMA"]}]}, "between 2"),
        ({"groups": [{"kind": "specialty", "terms": ["a", "b", "c", "d"]}]}, "between 2"),
        ({"groups": [{"kind": "specialty", "terms": ["a", "b"]}, {"kind": "specialty", "terms": ["b", "c"]}]}, "another"),
    ],
)
def test_a_bad_vocabulary_is_refused(data: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Vocabulary.from_data(data)


def test_synonyms_case_and_accents(vocabulary: Vocabulary) -> None:
    assert set(vocabulary.expand("specialty", "PTSD")) == {"trauma", "ptsd", "post-traumatic-stress"}
    assert vocabulary.expand("specialty", "Traúma")[0] == "trauma"
    assert set(vocabulary.expand("modality", "CBT")) >= {"cognitive-behavioural-therapy", "cognitive-behavioral-therapy"}
    assert "bereavement" in vocabulary.expand("specialty", "Grief & Loss")
    assert "relationships" in vocabulary.expand("specialty", "couples")
    assert vocabulary.expand("specialty", "CBT") == ("cbt",)  # a modality's group is not a specialty's
    assert vocabulary.expand("specialty", "sand play") == ("sand-play",)
    assert vocabulary.expand("specialty", "!!") == ()


def test_free_text_uses_the_vocabularys_kind_or_every_kind(vocabulary: Vocabulary) -> None:
    assert set(vocabulary.expand_free_text("emdr")) == {
        "m:emdr",
        "m:eye-movement-desensitisation-and-reprocessing",
        "m:eye-movement-desensitization-and-reprocessing",
    }
    assert vocabulary.expand_free_text("Cork") == ("s:cork", "m:cork", "r:cork")


def test_a_search_reads_one_filters_terms_and_checks_the_rest_on_the_cards(vocabulary: Vocabulary) -> None:
    search = Search.of(vocabulary, specialty="ptsd", region="Dublin")
    assert search.query_terms() == ("r:dublin",)
    assert search.matches(Card("b", "Bob", "dublin", ("trauma",), ()))
    assert not search.matches(Card("c", "Cara", "Cork", ("trauma",), ()))
    assert not search.matches(Card("d", "Dan", "Dublin", ("anxiety",), ()))
    assert len(Search.of(vocabulary, specialty="trauma").query_terms()) == 3


def test_entry_terms() -> None:
    assert entry_terms(["Grief & Loss"], ["CBT"], "Cörk") == {"s:grief-and-loss", "m:cbt", "r:cork"}
    assert entry_terms([], [], None) == set()


def test_links() -> None:
    assert parse_link("abc|PACT#p_1") == ("abc", "pact", "p_1")
    assert parse_link("abc|GROUP#g_1") == ("abc", "group", "g_1")
    for bad in ("abc", "|PACT#p", "abc|OTHER#x", "abc|PACT#"):
        assert parse_link(bad) is None


def world() -> tuple[Graph, list[Card]]:
    """me - bob (pact), me - kim (group), me - jen (pact); jen - cara; kim - dan; bob - cara too."""
    graph = Graph.build(
        "me",
        {"bob|PACT#1", "kim|GROUP#g", "jen|PACT#2", "me|PACT#x"},
        {"jen": {"cara|PACT#3", "me|PACT#2"}, "kim": {"dan|PACT#4", "me|GROUP#g"}, "bob": {"cara|PACT#5", "me|PACT#1"}},
        {"jen": "Jennifer"},  # Bob and Kim are not in the directory
        "Cork",
    )
    cards = [
        Card("fred", "Fred", "Dublin", ("trauma",), ()),
        Card("eamon", "Éamon", "Dublin", ("trauma",), ()),
        Card("eve", "eve", "cork", ("trauma",), ()),
        Card("dan", "Dan", None, ("trauma",), ()),
        Card("cara", "Cara", "Galway", ("trauma",), ()),
        Card("kim", "Kim", "Kerry", ("trauma",), ()),
        Card("bob", "Bob", "Dublin", ("trauma",), ()),
        Card("me", "Me", "Cork", ("trauma",), ()),
        Card("bob", "Bob", "Dublin", ("trauma",), ()),  # found under two terms: once
    ]
    return graph, cards


def test_ranking_closest_first_then_by_name() -> None:
    graph, cards = world()
    ranked = rank(cards, graph)
    assert [(r.card.sub, r.closeness, r.via) for r in ranked] == [
        ("bob", "colleague", None),
        ("kim", "colleague", None),
        ("cara", "colleague_of_colleague", "Jennifer"),  # through Bob and Jennifer: only Jennifer is listed
        ("dan", "colleague_of_colleague", None),
        ("eve", "region", None),
        ("eamon", "other", None),
        ("fred", "other", None),
    ]
    assert [r.reason for r in ranked[:2]] == ["you have a pact together", "you are in a group together"]


def test_pages_by_position() -> None:
    graph, cards = world()
    ranked = rank(cards, graph)
    first, place = after(ranked, None, 3)
    second, place2 = after(ranked, place, 3)
    third, place3 = after(ranked, place2, 3)
    assert [r.card.sub for r in first + second + third] == [r.card.sub for r in ranked]
    assert place3 is None
    assert after(ranked, None, 7)[1] is None


def test_suggestions_rules(vocabulary: Vocabulary) -> None:
    graph, _ = world()
    me = Profile("me", "Me", True, ("trauma",), "Cork")
    profiles = {
        "kim": Profile("kim", "Kim", False),
        "bob": Profile("bob", "Bob", False),
        "cara": Profile("cara", "Cara", True, ("PTSD", "couples"), "Galway"),
        "dan": Profile("dan", "Dan", True, ("anxiety",), "Cork"),
    }
    out = suggest(graph, me, profiles, {"g": "Cork peers"}, excluded=set(), vocabulary=vocabulary, limit=10)
    assert [(s.sub, s.reason) for s in out] == [
        ("kim", "you meet in Cork peers"),
        ("cara", "a colleague of Jennifer's; also works with PTSD"),
        ("dan", "a colleague of one of your colleagues; also in Cork"),
    ]
    assert [s.sub for s in suggest(graph, me, profiles, {}, {"cara", "kim"}, vocabulary, 10)] == ["dan"]
    unlisted = {**profiles, "cara": Profile("cara", "Cara", False, ("PTSD",))}
    assert [s.sub for s in suggest(graph, me, unlisted, {}, set(), vocabulary, 10)] == ["kim", "dan"]
    assert [s.sub for s in suggest(graph, me, profiles, {}, set(), vocabulary, 1)] == ["kim"]
