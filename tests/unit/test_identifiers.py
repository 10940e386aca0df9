"""Client identifiers in asks and replies: the corpus of realistic phrasing, allowed and refused, classified exactly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shared.domain import identifiers

CORPUS = json.loads((Path(__file__).parent / "identifier_corpus.json").read_text(encoding="utf-8"))


def test_the_corpus_is_classified_without_a_single_mistake() -> None:
    allowed, refused = CORPUS["allowed"], CORPUS["refused"]
    print(f"identifier corpus: {len(allowed)} allowed, {len(refused)} refused")
    assert len(allowed) >= 40
    assert len(refused) >= 40
    mistakes = []
    for text in allowed:
        found = identifiers.findings(text)
        if found:
            mistakes.append(f"allowed but refused: {text!r} -> {[f.kind for f in found]}")
    for case in refused:
        kinds = sorted({f.kind for f in identifiers.findings(case["text"])})
        if kinds != sorted(case["expect"]):
            mistakes.append(f"expected {sorted(case['expect'])}, found {kinds}: {case['text']!r}")
    print(f"misclassified: {len(mistakes)}")
    assert not mistakes, "\n".join(mistakes)


def test_every_kind_is_in_the_corpus() -> None:
    kinds = {k for case in CORPUS["refused"] for k in case["expect"]}
    assert kinds == {"email", "phone", "date_of_birth", "pps", "nhs", "ssn", "address", "client_name"}


@pytest.mark.parametrize("case", CORPUS["refused"], ids=lambda c: c["text"][:40])
def test_an_excerpt_never_repeats_the_identifier(case: dict[str, object]) -> None:
    for finding in identifiers.findings(str(case["text"])):
        assert finding.excerpt.endswith("…") or "…" in finding.excerpt
        digits = sum(c.isdigit() for c in finding.excerpt)
        assert digits <= 3, finding
        letters = finding.excerpt.replace("…", "").replace("@", "").replace(" ", "")
        assert len(letters) <= 3, finding


def test_the_message_names_each_kind_once_with_its_excerpt_and_what_to_do() -> None:
    found = identifiers.findings("My client John Murphy, DOB 12/03/1987; email j.murphy@example.org or jm@example.org")
    message = identifiers.describe(found)
    assert message == (
        'the text seems to contain a client\'s name ("J… M…"), a date of birth ("DOB…") and an email address ("j…@…")'
        " — remove anything that could identify a client"
    )
    assert "murphy@" not in message
    assert "1987" not in message


def test_one_identifier_is_one_finding_even_where_two_shapes_overlap() -> None:
    found = identifiers.findings("NHS number 943 476 5919")
    assert [f.kind for f in found] == ["nhs"]


def test_the_nhs_check_digit_separates_nhs_numbers_from_other_ten_digit_numbers() -> None:
    assert [f.kind for f in identifiers.findings("ref 9434765919")] == ["nhs"]
    assert [f.kind for f in identifiers.findings("ref 9434765918")] == []  # fails the check digit: neither NHS nor a phone shape
    assert [f.kind for f in identifiers.findings("ring 0871234567")] == ["phone"]


def test_a_date_is_a_birth_date_only_when_it_could_be_one() -> None:
    assert identifiers.findings("on 31/02/1987") == []  # no such day
    assert identifiers.findings("the workshop on 12/03/2026") == []  # after the data's latest birth year
    assert [f.kind for f in identifiers.findings("on 12/03/1987")] == ["date_of_birth"]
    assert [f.kind for f in identifiers.findings("on 03/31/1987")] == ["date_of_birth"]  # month first


def test_the_rules_are_data_loaded_once() -> None:
    data = json.loads(identifiers.DATA_FILE.read_text(encoding="utf-8"))
    assert [k["kind"] for k in data["kinds"]] == ["email", "ssn", "nhs", "pps", "date_of_birth", "phone", "address", "client_name"]
    identifiers.findings("warm")
    assert identifiers._rules.cache_info().currsize == 1
