"""Client identifiers in free text: what a question to peers must never carry.

Pure: the patterns and words are data (`client_identifiers.json`, beside this module, read
once), and `findings(text)` returns what was found, each as a kind, the label said to the
member and a masked excerpt (never the whole identifier: the excerpt goes back in an error
message, and we do not repeat what should not have been written). A few rules a regular
expression cannot say are checks named in the data: an NHS number's modulus-11 check digit
(so a ten-digit number that fails it is left to the phone patterns), and whether a date is
a plausible birth date (a real day and month, a year in the data's range).

This is a net for the obvious, not a guarantee: it refuses the shapes of emails, phone
numbers, dates of birth, PPS, NHS and social security numbers, street addresses (a house
number before a street, a flat or apartment number) and Irish and UK postcodes, and a
capitalised full name right after "client"/"patient"; it cannot recognise everything that
identifies a person.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

DATA_FILE = Path(__file__).with_name("client_identifiers.json")


@dataclass(frozen=True)
class Finding:
    kind: str  # email | ssn | nhs | pps | date_of_birth | phone | address | client_name
    label: str  # "an email address": as said to the member
    excerpt: str  # masked: "j…@…", "085…", "J… M…"
    start: int  # where in the text (for tests and highlighting; never logged with the text)


@dataclass(frozen=True)
class _Pattern:
    kind: str
    label: str
    show: int | str
    regex: re.Pattern[str]
    check: str | None
    min_digits: int
    max_digits: int


@dataclass(frozen=True)
class _Rules:
    patterns: tuple[_Pattern, ...]
    earliest: int
    latest: int
    message: str


def _alternation(words: list[str], *, ignore_case: bool) -> str:
    body = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in sorted(words, key=len, reverse=True))
    return f"(?i:{body})" if ignore_case else f"(?:{body})"


@cache
def _rules() -> _Rules:
    data: dict[str, Any] = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    words: dict[str, list[str]] = data["words"]
    fills = {
        "{MONTH}": _alternation(words["MONTH"], ignore_case=True),
        "{CLIENT}": r"\b" + _alternation(words["CLIENT"], ignore_case=True),
        "{TITLE}": _alternation(words["TITLE"], ignore_case=False),
        "{PARTICLE}": _alternation(words["PARTICLE"], ignore_case=False),
        "{NOT_NAME}": _alternation(words["NOT_NAME"], ignore_case=False),
        "{NAME}": f"(?:{data['name_token']})",
    }
    patterns = []
    for kind in data["kinds"]:
        for spec in kind["patterns"]:
            source = spec["regex"]
            for placeholder, value in fills.items():
                source = source.replace(placeholder, value)
            patterns.append(
                _Pattern(
                    kind=kind["kind"],
                    label=kind["label"],
                    show=kind["show"],
                    regex=re.compile(source),
                    check=spec.get("check"),
                    min_digits=int(spec.get("min_digits", 0)),
                    max_digits=int(spec.get("max_digits", 1000)),
                )
            )
    years = data["birth_years"]
    return _Rules(tuple(patterns), int(years["earliest"]), int(years["latest"]), str(data["message"]))


# ------------------------------------------------------------------ the checks the data names


def _nhs_checksum(text: str, _: _Rules) -> bool:
    """NHS numbers end in a modulus-11 check digit (weights 10..2); about one random number in eleven passes."""
    digits = [int(c) for c in text if c.isdigit()]
    if len(digits) != 10:
        return False
    remainder = sum(d * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True)) % 11
    check = 11 - remainder
    if check == 11:
        check = 0
    return check != 10 and check == digits[9]


_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def _real_day(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _birth_date(text: str, rules: _Rules) -> bool:
    """A real calendar day whose year could be a client's birth year (two-digit years always could)."""
    numbers = [int(n) for n in re.findall(r"\d+", text)]
    month_name = next((i + 1 for i, m in enumerate(_MONTHS) if re.search(rf"(?i)\b{m}", text)), None)
    if month_name is not None and len(numbers) >= 2:
        day, year = numbers[0], numbers[-1]
        return rules.earliest <= year <= rules.latest and _real_day(year, month_name, day)
    if len(numbers) != 3:
        return False
    if numbers[0] > 31:  # 1987-03-12
        year, month, day = numbers
        return rules.earliest <= year <= rules.latest and _real_day(year, month, day)
    first, second, year = numbers
    if year < 100:
        year += 1900
    elif not rules.earliest <= year <= rules.latest:
        return False
    return _real_day(year, second, first) or _real_day(year, first, second)  # 12/03/1987 or 03/12/1987


_CHECKS: dict[str, Callable[[str, _Rules], bool]] = {"nhs_checksum": _nhs_checksum, "birth_date": _birth_date}


# ------------------------------------------------------------------ masking


def _mask(matched: str, show: int | str, kind: str) -> str:
    """Enough to find it in one's own text, never the identifier itself."""
    text = " ".join(matched.split())
    if show == "email":
        return f"{text[0]}…@…"
    if show == "initials":  # "my client John Murphy" -> "J… M…": the words after the client word
        words = re.findall(r"[^\W\d_][\w'’-]*", text)
        name = words[-2:] if kind == "client_name" else words
        return " ".join(f"{w[0]}…" for w in name)
    keep = int(show)
    return f"{text[:keep]}…"


# ------------------------------------------------------------------ the one entry point


def findings(text: str) -> list[Finding]:
    """Every identifier-shaped thing in the text, in text order; one per span (earlier kinds win)."""
    rules = _rules()
    taken: list[tuple[int, int]] = []
    found: list[Finding] = []
    for pattern in rules.patterns:
        for match in pattern.regex.finditer(text):
            start, end = match.span()
            if any(start < b and a < end for a, b in taken):
                continue
            value = match.group(0)
            digits = sum(c.isdigit() for c in value)
            if not pattern.min_digits <= digits <= pattern.max_digits:
                continue
            if pattern.check is not None and not _CHECKS[pattern.check](value, rules):
                continue
            taken.append((start, end))
            found.append(Finding(pattern.kind, pattern.label, _mask(value, pattern.show, pattern.kind), start))
    return sorted(found, key=lambda f: f.start)


def describe(found: list[Finding]) -> str:
    """One sentence naming what to remove: 'the text seems to contain an email address ("j…@…") and … — remove …'."""
    parts: list[str] = []
    seen: set[str] = set()
    for finding in found:
        if finding.kind in seen:
            continue
        seen.add(finding.kind)
        parts.append(f'{finding.label} ("{finding.excerpt}")')
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"the text seems to contain {listed} — {_rules().message}"
