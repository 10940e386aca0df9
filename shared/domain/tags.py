"""Specialties and modalities as normalised tags: "Grief & Loss " and "grief and loss" are one tag."""

from __future__ import annotations

import re
import unicodedata

_NON_WORD = re.compile(r"[^a-z0-9]+")


def normalise_tag(text: str) -> str:
    """Lower case, accents folded, '&' read as 'and', runs of anything else one hyphen."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    folded = folded.replace("&", " and ")
    return _NON_WORD.sub("-", folded).strip("-")


def normalise_tags(values: list[str]) -> list[str]:
    """Normalised, without empties or repeats, in the order given."""
    return list(dict.fromkeys(tag for tag in (normalise_tag(v) for v in values) if tag))
