"""Specialty and modality tags (shared.domain.tags): one spelling per tag."""

from __future__ import annotations

import pytest

from shared.domain.tags import normalise_tag, normalise_tags


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("Grief & Loss ", "grief-and-loss"),
        ("grief and loss", "grief-and-loss"),
        ("GRIEF&LOSS", "grief-and-loss"),
        ("Émigré", "emigre"),
        ("Ñandú Café", "nandu-cafe"),
        ("Zoë's  Group", "zoe-s-group"),
        ("ﬁre", "fire"),  # compatibility ligature folded by NFKD
        ("CBT", "cbt"),
        ("  EMDR\t", "emdr"),
        ("Trauma-Informed Care", "trauma-informed-care"),
        ("Couples / Family", "couples-family"),
        ("--LGBTQ+--", "lgbtq"),
        ("Level 2", "level-2"),
    ],
)
def test_normalise_tag(text: str, tag: str) -> None:
    assert normalise_tag(text) == tag


@pytest.mark.parametrize("text", ["", "   ", "!!!", "---", "+/+", "🙂"])
def test_symbol_only_text_normalises_to_nothing(text: str) -> None:
    assert normalise_tag(text) == ""


@pytest.mark.parametrize("text", ["Grief & Loss ", "Émigré", "Couples / Family", "a--b"])
def test_normalising_is_idempotent(text: str) -> None:
    once = normalise_tag(text)
    assert normalise_tag(once) == once


def test_normalise_tags_drops_duplicates_after_normalising_and_keeps_order() -> None:
    values = ["Grief & Loss ", "CBT", "grief and loss", "Émigré", "cbt", "GRIEF-AND-LOSS", "emigre"]
    assert normalise_tags(values) == ["grief-and-loss", "cbt", "emigre"]


def test_normalise_tags_keeps_first_seen_order() -> None:
    assert normalise_tags(["Zeta", "alpha", "ZETA", "Mid"]) == ["zeta", "alpha", "mid"]


def test_normalise_tags_drops_empty_and_symbol_only_values() -> None:
    assert normalise_tags(["", "  ", "!!!", "Art Therapy", "---", "🙂"]) == ["art-therapy"]


def test_normalise_tags_of_nothing() -> None:
    assert normalise_tags([]) == []
    assert normalise_tags(["", "?"]) == []
