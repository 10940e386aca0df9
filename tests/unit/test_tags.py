"""Specialty and modality tags (shared.domain.tags): one spelling per tag."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.domain.tags import MAX_LABEL_CHARS, label, labelled, labels_of, normalise_tag, normalise_tags, one_per_tag, readable


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


# ------------------------------------------------------------------ display forms


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Grief & Loss", "Grief & Loss"),
        ("  Grief\t&\nLoss  ", "Grief & Loss"),  # white space of any kind: one space
        ("Émigré\u00a0Care", "Émigré Care"),
        ("Grief\u202e & Lo\u200bss", "Grief & Loss"),  # a bidi override and a zero-width space: out
        ("Play\x00 therapy\x1b[31m", "Play therapy[31m"),  # control codes: out
        ("<b>Play</b> therapy", "<b>Play</b> therapy"),  # markup stays text (escaped where HTML is written)
        ("x" * 80, "x" * MAX_LABEL_CHARS),
    ],
)
def test_label_is_the_typed_text_fit_to_show(text: str, shown: str) -> None:
    assert label(text) == shown


@given(st.text(max_size=80))
def test_a_label_is_short_and_has_no_control_or_invisible_characters(text: str) -> None:
    shown = label(text)
    assert len(shown) <= MAX_LABEL_CHARS
    assert shown == shown.strip()
    assert not any(unicodedata.category(c) in ("Cc", "Cf", "Co", "Cs", "Cn") for c in shown)
    assert label(shown) == shown


def test_labelled_keeps_one_entry_per_tag_the_first_typing_winning() -> None:
    values = ["Grief & Loss ", "CBT", "grief and loss", "!!!", "cbt", "Émigré"]
    assert labelled(values) == {"grief-and-loss": "Grief & Loss", "cbt": "CBT", "emigre": "Émigré"}
    assert one_per_tag(values) == ["Grief & Loss ", "CBT", "Émigré"]
    assert normalise_tags(one_per_tag(values)) == normalise_tags(values)


def test_readable_form_of_a_tag_without_its_display_form() -> None:
    assert readable("grief-and-loss") == "grief and loss"
    assert readable("cbt") == "cbt"
    assert normalise_tag(readable("post-traumatic-stress")) == "post-traumatic-stress"


def test_labels_of_shows_display_forms_in_tag_order_and_falls_back_to_readable() -> None:
    labels = {"grief-and-loss": "Grief & Loss", "cbt": "CBT"}
    assert labels_of({"grief-and-loss", "cbt", "post-traumatic-stress"}, labels) == ["CBT", "Grief & Loss", "post traumatic stress"]
    assert labels_of(["grief-and-loss"], None) == ["grief and loss"]
    assert labels_of(None, labels) == []
