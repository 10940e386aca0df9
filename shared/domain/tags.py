"""Specialties and modalities as normalised tags: "Grief & Loss " and "grief and loss" are one tag.

The tag is what matching, the directory's keys and search read. What a person reads is the tag's
display form: the words the member typed for it (`labelled`), kept beside the tags, or for a tag
saved before display forms were kept, the tag made readable (`readable`). `labels_of` is the one
way from stored tags to what is shown.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping

_NON_WORD = re.compile(r"[^a-z0-9]+")
MAX_LABEL_CHARS = 60  # as the API takes a specialty or modality
_INVISIBLE = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})  # control, format (bidi overrides, zero-width), private, unassigned


def normalise_tag(text: str) -> str:
    """Lower case, accents folded, '&' read as 'and', runs of anything else one hyphen."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    folded = folded.replace("&", " and ")
    return _NON_WORD.sub("-", folded).strip("-")


def _first_per_tag(values: Iterable[str]) -> dict[str, str]:
    """Tag -> the first of `values` that normalises to it, in the order given; values without a tag left out."""
    out: dict[str, str] = {}
    for value in values:
        out.setdefault(normalise_tag(value), value)
    out.pop("", None)
    return out


def normalise_tags(values: list[str]) -> list[str]:
    """Normalised, without empties or repeats, in the order given."""
    return list(_first_per_tag(values))


def one_per_tag(values: list[str]) -> list[str]:
    """`values` as given, without empties or a second typing of a tag (the first one wins), in the order given."""
    return list(_first_per_tag(values).values())


def label(text: str) -> str:
    """The words as typed, fit to show: any run of white space one space, no control or invisible characters, at most 60.

    Untrusted text still: HTML escapes it (the email templates autoescape, the link pages escape).
    """
    visible = "".join(" " if c.isspace() else c for c in text if c.isspace() or unicodedata.category(c) not in _INVISIBLE)
    return " ".join(visible.split())[:MAX_LABEL_CHARS].rstrip()


def labelled(values: Iterable[str]) -> dict[str, str]:
    """Tag -> display form, in the order given: two typings of one tag are one entry (the first wins); no empties."""
    return {tag: label(value) or readable(tag) for tag, value in _first_per_tag(values).items()}


def readable(tag: str) -> str:
    """A tag saved without its display form, as a person reads it: 'grief-and-loss' -> 'grief and loss'."""
    return tag.replace("-", " ")


def label_of(tag: str, labels: Mapping[str, str] | None) -> str:
    return (labels or {}).get(tag) or readable(tag)


def labels_of(tags: Iterable[str] | None, labels: Mapping[str, str] | None) -> list[str]:
    """What a person reads for stored tags: each one's display form (or its readable form), in tag order."""
    return [label_of(tag, labels) for tag in sorted(tags or ())]
