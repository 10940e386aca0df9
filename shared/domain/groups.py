"""Peer supervision groups: their format, their series of meetings, and fair turns.

A group meets on a rhythm (an RFC 5545 RRULE in the group's IANA zone, expanded with
`dateutil.rrule` from the series' anchor, so a monthly 19:00 stays 19:00 local across
daylight-saving changes), inside a time boundary, with an agreed format (ordered agenda
segments, some of them case slots with one presenter each), at one place or a rotation of
venues and hosts. Presentation slots and roles (moderator, timekeeper, the perspectives of
the Borders model) go round fairly: whoever has had fewest turns goes first.

Pure: every instant is passed in; nothing here reads the clock, the environment or a table.
"""

from __future__ import annotations

import calendar
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrulestr

# ------------------------------------------------------------------ formats

PLAIN, CASE = "plain", "case"
KINDS = (PLAIN, CASE)


@dataclass(frozen=True)
class Step:
    """One part of the inner structure of a case slot ("Feedback statements", 15 minutes)."""

    title: str
    minutes: int


@dataclass(frozen=True)
class Segment:
    """One part of the agenda, possibly repeated (a case slot repeats once per presenter)."""

    title: str
    minutes: int  # per repetition
    kind: str = PLAIN  # "plain" | "case" (a case slot has one presenter)
    repeat: int = 1  # number of repetitions (case slots: presenters per meeting)
    steps: tuple[Step, ...] = ()  # optional inner structure of each repetition; sums to `minutes`
    roles: tuple[str, ...] = ()  # roles each repetition needs (e.g. Borders' perspectives), held by non-presenters


@dataclass(frozen=True)
class Format:
    """The agreed shape of a meeting: its segments in order and its meeting-wide roles."""

    segments: tuple[Segment, ...]
    roles: tuple[str, ...] = ()  # meeting-wide roles, e.g. ("moderator", "timekeeper")
    preset: str | None = None  # the preset it was made from, if any

    @property
    def total_minutes(self) -> int:
        return sum(s.minutes * s.repeat for s in self.segments)

    @property
    def case_slots(self) -> int:
        return sum(s.repeat for s in self.segments if s.kind == CASE)


def overrun(fmt: Format, boundary_minutes: int) -> int:
    """Minutes by which the format runs past the group's time boundary (0 if it fits)."""
    return max(0, fmt.total_minutes - boundary_minutes)


def check_format(fmt: Format) -> None:
    """Raise ValueError with a plain-English reason when the format cannot be run."""
    if not fmt.segments:
        raise ValueError("a format needs at least one segment")
    _no_duplicates(fmt.roles, "the format names the meeting role")
    for number, segment in enumerate(fmt.segments, start=1):
        name = f"segment {number} ({segment.title!r})"
        if not _is_text(segment.title):
            raise ValueError(f"segment {number} needs a title")
        if segment.kind not in KINDS:
            raise ValueError(f"{name} has an unknown kind {segment.kind!r}: use 'plain' or 'case'")
        if not _is_int(segment.minutes) or segment.minutes < 1:
            raise ValueError(f"{name} must last at least one whole minute")
        if not _is_int(segment.repeat) or segment.repeat < 1:
            raise ValueError(f"{name} must happen at least once (repeat is {segment.repeat!r})")
        for step in segment.steps:
            if not _is_text(step.title):
                raise ValueError(f"every step of {name} needs a title")
            if not _is_int(step.minutes) or step.minutes < 1:
                raise ValueError(f"the step {step.title!r} of {name} must last at least one whole minute")
        if segment.steps and sum(s.minutes for s in segment.steps) != segment.minutes:
            total = sum(s.minutes for s in segment.steps)
            raise ValueError(f"the steps of {name} add up to {total} minutes, not the segment's {segment.minutes}")
        _no_duplicates(segment.roles, f"{name} names the role")


def _no_duplicates(roles: tuple[str, ...], prefix: str) -> None:
    seen: set[str] = set()
    for role in roles:
        if not _is_text(role):
            raise ValueError(f"{prefix} {role!r}, which is not a name")
        if role in seen:
            raise ValueError(f"{prefix} {role!r} twice")
        seen.add(role)


def _is_text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


@dataclass(frozen=True)
class _Recipe:
    label: str
    description: str
    min_case: int  # the shortest a case slot may be
    target_case: int  # how long a case slot should be when the preset chooses how many fit
    max_case: int  # the longest a case slot grows; beyond it the meeting ends early
    steps: tuple[tuple[str, int], ...]  # the inner structure at min_case minutes, scaled up with the slot
    roles: tuple[str, ...]
    case_roles: tuple[str, ...] = ()
    arrival: tuple[str, int] = ("Arrival", 5)
    close: tuple[str, int] = ("Close", 5)
    admin: int = 0  # minutes of an admin segment before the close, when the boundary is at least ADMIN_FROM


ADMIN_FROM = 90  # a preset with an admin segment includes it from a 90-minute boundary

_RECIPES: dict[str, _Recipe] = {
    "sgsm": _Recipe(
        label="the Structured Group Supervision Model",
        description=(
            "Structured Group Supervision (Wilbur et al., 1991): per case a request for assistance, questions to find the focus, "
            "feedback while the presenter listens, a pause, the presenter's response; 60–90 minutes a case."
        ),
        min_case=60,
        target_case=60,
        max_case=90,
        steps=(
            ("Request for assistance", 5),
            ("Questioning and identifying the focus", 15),
            ("Feedback statements (the presenter listens)", 15),
            ("Pause", 10),
            ("The presenter's response", 10),
            ("Optional process discussion", 5),
        ),
        roles=("moderator", "timekeeper"),
    ),
    "borders": _Recipe(
        label="Structured Peer Group Supervision (Borders)",
        description=(
            "Structured Peer Group Supervision (Borders, 1991): peers give feedback on a case from assigned perspectives "
            "(the client, the counsellor, a theoretical lens, a metaphor) and the moderator summarises; 45–90 minutes a case."
        ),
        min_case=45,
        target_case=50,
        max_case=90,
        steps=(
            ("The presenter states the feedback they want", 5),
            ("Case presentation", 10),
            ("Feedback from the assigned perspectives", 20),
            ("The moderator summarises", 5),
            ("The presenter's response", 5),
        ),
        roles=("moderator",),
        case_roles=("the client", "the counsellor", "a theoretical lens", "a metaphor"),
    ),
    "balint": _Recipe(
        label="a Balint-style case discussion",
        description=(
            "Balint-style case discussion: the presenter tells the case, sits back while the group discusses it, "
            "then returns; 45–90 minutes a case."
        ),
        min_case=45,
        target_case=60,
        max_case=90,
        steps=(
            ("The presenter tells the case", 10),
            ("The presenter sits back while the group discusses", 30),
            ("The presenter returns", 5),
        ),
        roles=("leader",),
    ),
    "case_slots": _Recipe(
        label="case slots",
        description="An arrival round, case slots of 15–45 minutes and a close (with a short admin slot from 90 minutes).",
        min_case=15,
        target_case=30,
        max_case=45,
        steps=(),
        roles=("timekeeper",),
        arrival=("Arrival round", 10),
        admin=5,
    ),
}

PRESETS: dict[str, str] = {name: recipe.description for name, recipe in _RECIPES.items()}


def preset(name: str, boundary_minutes: int, case_slots: int | None = None) -> Format:
    """A preset format fitted to the time boundary: arrival, the case slots, (admin,) close.

    Without `case_slots`, as many cases as fit at about the preset's usual length (at least
    one). Case slots share the slack up to the preset's longest; minutes left over by the
    rounding lengthen the close, and beyond the longest case the meeting simply ends early.
    ValueError (naming the minimum boundary) when it cannot fit.
    """
    recipe = _RECIPES.get(name)
    if recipe is None:
        raise ValueError(f"unknown preset {name!r}: choose one of {', '.join(sorted(_RECIPES))}")
    if case_slots is not None and case_slots < 1:
        raise ValueError("a preset needs at least one case slot")
    fitted = _fit(name, recipe, boundary_minutes, case_slots, admin=True) if recipe.admin and boundary_minutes >= ADMIN_FROM else None
    fitted = fitted or _fit(name, recipe, boundary_minutes, case_slots, admin=False)
    if fitted is None:
        cases = case_slots or 1
        needed = recipe.arrival[1] + recipe.close[1] + cases * recipe.min_case
        slots = "1 case" if cases == 1 else f"{cases} cases"
        raise ValueError(
            f"{recipe.label} needs at least {recipe.min_case} minutes a case: at least {needed} minutes for {slots}, "
            f"and the boundary is {boundary_minutes} minutes"
        )
    return fitted


def _fit(name: str, recipe: _Recipe, boundary: int, cases: int | None, *, admin: bool) -> Format | None:
    arrival_title, arrival = recipe.arrival
    close_title, close = recipe.close
    free = boundary - arrival - close - (recipe.admin if admin else 0)
    if cases is None:
        if free < recipe.min_case:
            return None
        cases = max(1, free // recipe.target_case)
        while free // cases > recipe.max_case and (cases + 1) * recipe.min_case <= free:
            cases += 1
    elif cases * recipe.min_case > free:
        return None
    minutes = min(recipe.max_case, free // cases)
    left = free - cases * minutes
    if left < cases:  # rounding: the close takes it; a capped case leaves the rest free
        close += left
    case = Segment(
        "Case",
        minutes,
        kind=CASE,
        repeat=cases,
        steps=_scale(recipe.steps, minutes),
        roles=recipe.case_roles,
    )
    segments = [Segment(arrival_title, arrival), case]
    if admin:
        segments.append(Segment("Admin", recipe.admin))
    segments.append(Segment(close_title, close))
    return Format(tuple(segments), roles=recipe.roles, preset=name)


def _scale(steps: tuple[tuple[str, int], ...], minutes: int) -> tuple[Step, ...]:
    """Steps stretched proportionally to `minutes` (largest remainder, so they sum exactly)."""
    if not steps:
        return ()
    base = sum(m for _, m in steps)
    shares = [m * minutes // base for _, m in steps]
    remainders = [m * minutes % base for _, m in steps]
    for index in sorted(range(len(steps)), key=lambda i: (-remainders[i], i))[: minutes - sum(shares)]:
        shares[index] += 1
    return tuple(Step(title, share) for (title, _), share in zip(steps, shares, strict=True))


def format_to_dict(fmt: Format) -> dict[str, Any]:
    """A JSON-able form with stable keys (the inverse of `format_from_dict`)."""
    return {
        "preset": fmt.preset,
        "roles": list(fmt.roles),
        "segments": [
            {
                "title": s.title,
                "minutes": s.minutes,
                "kind": s.kind,
                "repeat": s.repeat,
                "steps": [{"title": step.title, "minutes": step.minutes} for step in s.steps],
                "roles": list(s.roles),
            }
            for s in fmt.segments
        ],
    }


def format_from_dict(data: Mapping[str, Any]) -> Format:
    """A format from its dict form; ValueError when the shape is wrong or the format cannot be run."""
    if not isinstance(data, Mapping):
        raise ValueError("a format must be an object")
    preset_name = data.get("preset")
    if preset_name is not None and not isinstance(preset_name, str):
        raise ValueError("a format's preset must be a name or null")
    segments = data.get("segments")
    if not isinstance(segments, list | tuple):
        raise ValueError("a format needs a list of segments")
    fmt = Format(
        segments=tuple(_segment_from(item) for item in segments),
        roles=_names(data.get("roles", []), "the format's roles"),
        preset=preset_name,
    )
    check_format(fmt)
    return fmt


def _segment_from(item: object) -> Segment:
    if not isinstance(item, Mapping):
        raise ValueError("every segment must be an object")
    steps = item.get("steps", [])
    if not isinstance(steps, list | tuple):
        raise ValueError("a segment's steps must be a list")
    return Segment(
        title=_text(item.get("title"), "a segment's title"),
        minutes=_whole(item.get("minutes"), "a segment's minutes"),
        kind=_text(item.get("kind", PLAIN), "a segment's kind"),
        repeat=_whole(item.get("repeat", 1), "a segment's repeat"),
        steps=tuple(_step_from(step) for step in steps),
        roles=_names(item.get("roles", []), "a segment's roles"),
    )


def _step_from(item: object) -> Step:
    if not isinstance(item, Mapping):
        raise ValueError("every step must be an object")
    return Step(title=_text(item.get("title"), "a step's title"), minutes=_whole(item.get("minutes"), "a step's minutes"))


def _text(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text")
    return value


def _whole(value: object, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number")
    return value


def _names(value: object, what: str) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{what} must be a list of names")
    return tuple(value)


# ------------------------------------------------------------------ the series of meetings

FREQUENCIES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_TOO_OFTEN = ("HOURLY", "MINUTELY", "SECONDLY")
_OPEN_ENDED = ("DTSTART", "COUNT", "UNTIL")
_KNOWN_PARTS = {
    "FREQ",
    "INTERVAL",
    "WKST",
    "BYSECOND",
    "BYMINUTE",
    "BYHOUR",
    "BYDAY",
    "BYMONTHDAY",
    "BYYEARDAY",
    "BYWEEKNO",
    "BYMONTH",
    "BYSETPOS",
}
_PERIOD_DAYS = {"DAILY": 1, "WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}  # at most, for the search windows
_CHECK_FROM = datetime(2000, 1, 3)  # naive wall clock: a rule's shape does not depend on the zone
_FAR = date(9890, 1, 1)  # "does it ever meet" looks at the last century dateutil can reach (a regular leap cycle)


def check_rrule(rrule: str) -> None:
    """Raise ValueError with a plain-English reason unless the RRULE suits an open-ended series of meetings.

    One RRULE value (an "RRULE:" prefix is allowed) without DTSTART, COUNT or UNTIL, with a
    FREQ of DAILY, WEEKLY, MONTHLY or YEARLY, at one time of day, that meets at all.
    """
    if not isinstance(rrule, str) or not rrule.strip():
        raise ValueError("the rule is empty")
    if "\n" in rrule.strip() or "DTSTART" in rrule.upper():
        raise ValueError("give one RRULE without DTSTART: the series' start is kept separately")
    parts = _parts(rrule)
    for name in _OPEN_ENDED:
        if name in parts:
            raise ValueError(f"the series stays open-ended: drop {name} from the rule")
    freq = parts.get("FREQ")
    if freq is None:
        raise ValueError("the rule has no FREQ (how often the group meets)")
    if freq in _TOO_OFTEN:
        raise ValueError(f"FREQ={freq} meets more often than once a day")
    if freq not in FREQUENCIES:
        raise ValueError(f"FREQ={freq} is not one we support: use DAILY, WEEKLY, MONTHLY or YEARLY")
    unknown = sorted(set(parts) - _KNOWN_PARTS)
    if unknown:
        raise ValueError(f"the rule has parts we do not use: {', '.join(unknown)}")
    try:
        rrulestr(_text_of(parts), dtstart=_CHECK_FROM)
    except (ValueError, TypeError, KeyError, IndexError) as error:
        raise ValueError(f"the rule cannot be read: {error}") from error
    if _interval(parts) < 1:
        raise ValueError("INTERVAL must be at least 1")
    times = 1
    for name in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        times *= len({int(v) for v in parts.get(name, "0").split(",")})
    if times > 1:
        raise ValueError("the rule gives more than one time a day (BYHOUR/BYMINUTE); a group meets at one time")
    every = {k: v for k, v in parts.items() if k != "INTERVAL"}  # whatever the start, could it ever meet?
    if not _meets(_text_of(every), _CHECK_FROM, "DAILY", 1):
        raise ValueError("the rule never meets (no date matches it)")


def _parts(rrule: str) -> dict[str, str]:
    body = rrule.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    parts: dict[str, str] = {}
    for piece in body.split(";"):
        if not piece.strip():
            continue
        name, sep, value = piece.partition("=")
        name, value = name.strip().upper(), value.strip().upper()
        if not sep or not name or not value:
            raise ValueError(f"the rule cannot be read: {piece.strip()!r} is not NAME=value")
        if name in parts:
            raise ValueError(f"the rule cannot be read: it gives {name} twice")
        parts[name] = value
    return parts


def _text_of(parts: Mapping[str, str]) -> str:
    return ";".join(f"{k}={v}" for k, v in parts.items())


def _interval(parts: Mapping[str, str]) -> int:
    return int(parts.get("INTERVAL", "1"))


def _shifted(start: datetime, freq: str, interval: int, target: date) -> datetime:
    """The latest start no later than `target` that keeps the rule's phase and defaults.

    Moving a rule's DTSTART by whole periods of its INTERVAL (same weekday, same day of the
    month, same wall time) leaves its later occurrences exactly as they were, so a series years
    long is expanded from near the instant asked about rather than from its anchor.
    """
    first = start.date()
    if target <= first:
        return start
    if freq in ("DAILY", "WEEKLY"):
        step = interval * _PERIOD_DAYS[freq]
        return datetime.combine(first + timedelta(days=(target - first).days // step * step), start.timetz())
    if freq == "MONTHLY":
        months = (target.year - first.year) * 12 + target.month - first.month - (target.day < first.day)
        for k in range(months // interval, max(months // interval - 48, 0), -1):
            total = first.month - 1 + k * interval
            year, month = first.year + total // 12, total % 12 + 1
            if first.day <= calendar.monthrange(year, month)[1]:
                return datetime.combine(date(year, month, first.day), start.timetz())
        return start
    years = target.year - first.year - ((target.month, target.day) < (first.month, first.day))
    for k in range(years // interval, max(years // interval - 400, 0), -1):
        year = first.year + k * interval
        if first.month != 2 or first.day != 29 or calendar.isleap(year):
            return datetime.combine(date(year, first.month, first.day), start.timetz())
    return start


def _meets(text: str, start: datetime, freq: str, interval: int) -> bool:
    """Whether the rule, started at `start` (naive wall clock), has any occurrence at all.

    dateutil searches to year 9999 before it gives up on a rule no date matches (seconds for
    a daily one), so look only at the last century it reaches, keeping the rule's phase.
    """
    far = _shifted(start, freq, interval, _FAR)
    return rrulestr(text, dtstart=far).after(far, inc=True) is not None


@dataclass(frozen=True)
class _Series:
    text: str
    freq: str
    interval: int
    zone: ZoneInfo
    start: datetime  # local wall clock of the anchor, to the minute: the rule's DTSTART
    lower: datetime  # UTC: no occurrence before it
    meets: bool

    @classmethod
    def of(cls, rrule: str, time_zone: str, anchor: datetime) -> _Series:
        check_rrule(rrule)
        parts = _parts(rrule)
        zone = _zone(time_zone)
        start = _as_utc(anchor, "the anchor").astimezone(zone).replace(second=0, microsecond=0)
        freq, interval, text = parts["FREQ"], _interval(parts), _text_of(parts)
        meets = _meets(text, start.replace(tzinfo=None), freq, interval)
        return cls(text, freq, interval, zone, start, start.astimezone(UTC), meets)

    @property
    def period(self) -> timedelta:
        return timedelta(days=_PERIOD_DAYS[self.freq] * self.interval)

    def from_(self, instant: datetime) -> Iterator[datetime]:
        """Occurrences (UTC, in order) from some time before `instant` on; never before the anchor.

        Compared in UTC: aware datetimes sharing a tzinfo compare by wall clock and ignore
        `fold`, so in the hour that repeats when clocks go back dateutil's own comparisons
        can be an hour out. The expansion starts a couple of days early to be safe.
        """
        if not self.meets:
            return
        target = (instant - timedelta(days=2)).astimezone(self.zone).date()
        rule = rrulestr(self.text, dtstart=_shifted(self.start, self.freq, self.interval, target))
        for occurrence in rule:
            at = occurrence.astimezone(UTC)
            if at >= self.lower:
                yield at


def _zone(time_zone: str) -> ZoneInfo:
    try:
        return ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError, TypeError) as error:
        raise ValueError(f"unknown time zone {time_zone!r}") from error


def _as_utc(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be an aware datetime")
    return value.astimezone(UTC)


def occurrences(rrule: str, time_zone: str, anchor: datetime, after: datetime, count: int, *, inclusive: bool = True) -> list[datetime]:
    """The series' original starts (UTC) at (or strictly after) `after`, at most `count`.

    The RRULE is expanded in the zone with DTSTART = the anchor's local wall time (to the
    minute), so occurrences keep their local time across daylight-saving changes; none is
    before the anchor. An hour that does not exist locally (clocks go forward) falls as
    zoneinfo places it; an hour that repeats takes its first instance.
    """
    series = _Series.of(rrule, time_zone, anchor)
    instant = _as_utc(after, "after")
    found: list[datetime] = []
    if count <= 0:
        return found
    for at in series.from_(instant):
        if at > instant or (inclusive and at == instant):
            found.append(at)
            if len(found) == count:
                break
    return found


def occurrences_before(rrule: str, time_zone: str, anchor: datetime, before: datetime, count: int) -> list[datetime]:
    """The series' starts (UTC) strictly before `before`, newest first, at most `count`, none before the anchor.

    Looks back through a window that doubles until it holds `count` meetings or reaches the
    anchor, expanding each window from its own start: a long series costs no more than a new one.
    """
    series = _Series.of(rrule, time_zone, anchor)
    instant = _as_utc(before, "before")
    if count <= 0 or instant <= series.lower or not series.meets:
        return []
    span = series.period * (count + 1)
    while True:
        since = max(series.lower, instant - span)
        found: list[datetime] = []
        for at in series.from_(since):
            if at >= instant:
                break
            found.append(at)
        if len(found) >= count or since == series.lower:
            return found[::-1][:count]
        span *= 2


def is_occurrence(rrule: str, time_zone: str, anchor: datetime, start: datetime) -> bool:
    """Whether `start` is one of the series' original starts."""
    instant = _as_utc(start, "start")
    return occurrences(rrule, time_zone, anchor, instant, 1) == [instant]


_DAY_NAMES = {"MO": "Monday", "TU": "Tuesday", "WE": "Wednesday", "TH": "Thursday", "FR": "Friday", "SA": "Saturday", "SU": "Sunday"}
_DAY_CODES = tuple(_DAY_NAMES)
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", 5: "fifth", -1: "last", -2: "second to last", -3: "third to last"}


def describe_rhythm(rrule: str, time_zone: str, anchor: datetime) -> str:
    """A short human description, e.g. "second Tuesday of the month at 19:00 (Europe/Dublin)".

    Also "every other Thursday at 08:00 (...)", "every Monday at 18:30 (...)", "the 15th of
    the month at ...", "every day at ...", "every year on 14 March at ..."; any other rule
    is described as "meets by the rule <RRULE> at HH:MM (zone)".
    """
    series = _Series.of(rrule, time_zone, anchor)
    parts = _parts(rrule)
    local = series.start
    at = f"at {int(parts.get('BYHOUR', local.hour)):02d}:{int(parts.get('BYMINUTE', local.minute)):02d} ({time_zone})"
    when = _describe_days(parts, local, series.interval)
    return f"{when} {at}" if when else f"meets by the rule {series.text} {at}"


def _describe_days(parts: Mapping[str, str], local: datetime, interval: int) -> str | None:
    freq = parts["FREQ"]
    shape = set(parts) - {"FREQ", "INTERVAL", "WKST", "BYHOUR", "BYMINUTE", "BYSECOND"}
    if freq == "DAILY" and not shape:
        return "every day" if interval == 1 else ("every other day" if interval == 2 else f"every {interval} days")
    if freq == "WEEKLY" and shape <= {"BYDAY"}:
        codes = parts.get("BYDAY", _DAY_CODES[local.weekday()]).split(",")
        if not all(code in _DAY_NAMES for code in codes):
            return None
        days = _and([_DAY_NAMES[code] for code in sorted(codes, key=_DAY_CODES.index)])
        if interval == 1:
            return f"every {days}"
        return f"every other {days}" if interval == 2 else f"every {interval} weeks on {days}"
    if freq == "MONTHLY":
        months = "the month" if interval == 1 else ("every other month" if interval == 2 else f"every {interval} months")
        return _describe_monthly(parts, shape, local, months)
    if freq == "YEARLY" and shape <= {"BYMONTH", "BYMONTHDAY"} and "," not in parts.get("BYMONTH", "") + parts.get("BYMONTHDAY", ""):
        day, month = int(parts.get("BYMONTHDAY", local.day)), int(parts.get("BYMONTH", local.month))
        if day > 0:
            years = "every year" if interval == 1 else f"every {interval} years"
            return f"{years} on {day} {calendar.month_name[month]}"
    return None


def _describe_monthly(parts: Mapping[str, str], shape: set[str], local: datetime, months: str) -> str | None:
    byday = parts.get("BYDAY", "")
    if shape == {"BYDAY"} or (shape == {"BYDAY", "BYSETPOS"} and "," not in parts["BYSETPOS"]):
        if "," in byday:
            return None
        code, number = byday[-2:], byday[:-2] or parts.get("BYSETPOS", "")
        if code in _DAY_NAMES and number.lstrip("+-").isdigit() and int(number) in _ORDINALS:
            return f"{_ORDINALS[int(number)]} {_DAY_NAMES[code]} of {months}"
        return None
    if shape <= {"BYMONTHDAY"} and "," not in parts.get("BYMONTHDAY", ""):
        day = int(parts.get("BYMONTHDAY", local.day))
        if day == -1:
            return f"the last day of {months}"
        return f"the {_ordinal(day)} of {months}" if day > 0 else None
    return None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


# ------------------------------------------------------------------ rotation of venues/hosts


@dataclass(frozen=True)
class Stop:
    """One place in the rotation: a venue, a host (a member id), or both."""

    venue: str | None = None
    host: str | None = None


@dataclass(frozen=True)
class RotationState:
    position: int = 0  # index of the stop whose turn is next
    owed: tuple[int, ...] = ()  # stops skipped because the host was unavailable, served first when available (oldest first)


def next_stop(stops: Sequence[Stop], state: RotationState, unavailable_hosts: AbstractSet[str]) -> tuple[int | None, RotationState]:
    """The stop for one meeting and the rotation's state after it.

    A stop owed a turn goes first (the oldest owed whose host is available); otherwise the
    stop at `position`, skipping (and owing a turn to) stops whose host is unavailable. A stop
    without a host is always available. Every skip is owed once, so over time each stop gets
    as many turns as every other, as far as availability allows. None, with the state
    unchanged, when no stop is available.
    """
    if not stops:
        return None, RotationState()
    size = len(stops)
    owed = tuple(i for i in state.owed if 0 <= i < size)
    position = state.position % size

    def available(index: int) -> bool:
        host = stops[index].host
        return host is None or host not in unavailable_hosts

    for at, index in enumerate(owed):
        if available(index):
            return index, RotationState(position, owed[:at] + owed[at + 1 :])
    for offset in range(size):
        index = (position + offset) % size
        if available(index):
            skipped = tuple((position + k) % size for k in range(offset))
            return index, RotationState((index + 1) % size, owed + skipped)
    return None, RotationState(position, owed)


def plan_stops(
    stops: Sequence[Stop], state: RotationState, unavailable: Sequence[AbstractSet[str]]
) -> tuple[list[int | None], RotationState]:
    """The stops of successive meetings (one set of unavailable hosts each) and the state after the last."""
    chosen: list[int | None] = []
    for away in unavailable:
        index, state = next_stop(stops, state, away)
        chosen.append(index)
    return chosen, state


# ------------------------------------------------------------------ fair speaking time


@dataclass(frozen=True)
class Tally:
    member: str
    count: int = 0  # presentations so far
    last_at: datetime | None = None  # when they last presented
    since: datetime | None = None  # when they joined (earlier first on ties; unknown counts as earliest)


_NEVER = datetime.min.replace(tzinfo=UTC)


def _turn_order(tally: Tally) -> tuple[int, bool, datetime, bool, datetime, str]:
    """Fewest presentations, then longest ago (never first), then joined earlier, then member id."""
    last = _NEVER if tally.last_at is None else _as_utc(tally.last_at, "last_at")
    since = _NEVER if tally.since is None else _as_utc(tally.since, "since")
    return tally.count, tally.last_at is not None, last, tally.since is not None, since, tally.member


def choose_presenters(
    tallies: Sequence[Tally], slots: int, *, requested: AbstractSet[str] = frozenset(), excluded: AbstractSet[str] = frozenset()
) -> list[str]:
    """Who presents at a meeting, at most `slots` (fewer when not enough are eligible).

    Excluded members (not attending, slot given back, away) are never chosen; members who
    asked for a slot go first; within each group, the fairest turn order (`_turn_order`).
    Deterministic, and independent of the order of `tallies`.
    """
    if slots <= 0:
        return []
    unique = {t.member: t for t in reversed(tallies)}  # the first tally of a member counts
    eligible = [t for t in unique.values() if t.member not in excluded]
    eligible.sort(key=lambda t: (t.member not in requested, *_turn_order(t)))
    return [t.member for t in eligible[:slots]]


def presented(tallies: Sequence[Tally], who: Sequence[str], at: datetime) -> list[Tally]:
    """The tallies after a meeting at which `who` presented (a member without a tally gets one)."""
    _as_utc(at, "at")
    speakers = set(who)
    after = [replace(t, count=t.count + 1, last_at=at) if t.member in speakers else t for t in tallies]
    known = {t.member for t in tallies}
    after.extend(Tally(m, 1, at, at) for m in dict.fromkeys(who) if m not in known)
    return after


def plan_presenters(
    tallies: Sequence[Tally], slots: int, meetings: Sequence[tuple[datetime, AbstractSet[str], AbstractSet[str]]]
) -> list[list[str]]:
    """Presenters of successive meetings, each given as (start, requested, excluded)."""
    plan: list[list[str]] = []
    current = list(tallies)
    for start, requested, excluded in meetings:
        chosen = choose_presenters(current, slots, requested=requested, excluded=excluded)
        plan.append(chosen)
        current = presented(current, chosen, start)
    return plan


# ------------------------------------------------------------------ roles


@dataclass(frozen=True)
class Roles:
    meeting: dict[str, str]  # role -> member (meeting-wide roles)
    cases: tuple[dict[str, str], ...]  # per case slot (in order): perspective role -> member; {} for an open slot


def assign_roles(fmt: Format, presenters: Sequence[str | None], attendees: Sequence[str], held: Mapping[str, Mapping[str, int]]) -> Roles:
    """Who holds each role at one meeting.

    `held[member][role]` counts how often a member held a role before. For each role (the
    meeting's roles first, then each case slot's perspectives in order): fewest times held,
    then fewest roles already given this meeting, then fewest roles held before (of any kind),
    then attendee order. A meeting role goes to
    a presenter, or to someone who already has a meeting role, only when no one else is left.
    Nobody holds a perspective on their own case, nor two perspectives on one case; an open
    case slot (no presenter) needs no perspectives. A role with nobody left stays unassigned
    (absent from the dict).
    """
    slots = fmt.case_slots
    if len(presenters) > slots:
        raise ValueError(f"{len(presenters)} presenters for {slots} case slots")
    people = list(dict.fromkeys(attendees))
    order = {member: index for index, member in enumerate(people)}
    presenting = {p for p in presenters if p is not None}
    given: Counter[str] = Counter()
    overall = {member: sum(held.get(member, {}).values()) for member in people}

    def pick(role: str, candidates: list[str], *avoid: AbstractSet[str]) -> str | None:
        if not candidates:
            return None
        chosen = min(candidates, key=lambda m: (*(m in a for a in avoid), held.get(m, {}).get(role, 0), given[m], overall[m], order[m]))
        given[chosen] += 1
        return chosen

    meeting: dict[str, str] = {}
    for role in fmt.roles:
        member = pick(role, people, presenting, set(meeting.values()))
        if member is not None:
            meeting[role] = member
    case_roles = [segment.roles for segment in fmt.segments if segment.kind == CASE for _ in range(segment.repeat)]
    cases: list[dict[str, str]] = []
    for index, roles in enumerate(case_roles):
        presenter = presenters[index] if index < len(presenters) else None
        perspectives: dict[str, str] = {}
        if presenter is not None:
            for role in roles:
                taken = set(perspectives.values())
                member = pick(role, [m for m in people if m != presenter and m not in taken])
                if member is not None:
                    perspectives[role] = member
        cases.append(perspectives)
    return Roles(meeting, tuple(cases))


# ------------------------------------------------------------------ the agenda


@dataclass(frozen=True)
class AgendaItem:
    starts_at: datetime  # local, aware (the group's zone)
    ends_at: datetime
    title: str
    kind: str
    presenter: str | None = None  # case slots: the member presenting (None: an open slot)
    roles: dict[str, str] = field(default_factory=dict)  # perspectives for this case
    steps: tuple[tuple[str, datetime, datetime], ...] = ()


def agenda(fmt: Format, start: datetime, presenters: Sequence[str | None], roles: Roles | None = None) -> list[AgendaItem]:
    """The meeting's agenda with concrete times from `start` (aware, local), in the zone of `start`.

    Minutes are elapsed time, so a meeting over a daylight-saving change still lasts as long
    as its format. Case slots take the presenters in order (None or missing: an open slot;
    presenters beyond the format's case slots, say of a meeting held before the format
    changed, have no slot and are left out); a repeated segment is numbered ("Case 1", "Case 2").
    """
    _as_utc(start, "start")
    zone = start.tzinfo
    clock = start.astimezone(UTC)

    def local(instant: datetime) -> datetime:
        return instant.astimezone(zone)

    items: list[AgendaItem] = []
    case_index = 0
    for segment in fmt.segments:
        for number in range(1, segment.repeat + 1):
            title = f"{segment.title} {number}" if segment.repeat > 1 else segment.title
            ends = clock + timedelta(minutes=segment.minutes)
            steps: list[tuple[str, datetime, datetime]] = []
            step_at = clock
            for step in segment.steps:
                steps.append((step.title, local(step_at), local(step_at + timedelta(minutes=step.minutes))))
                step_at += timedelta(minutes=step.minutes)
            presenter: str | None = None
            perspectives: dict[str, str] = {}
            if segment.kind == CASE:
                presenter = presenters[case_index] if case_index < len(presenters) else None
                if roles is not None and case_index < len(roles.cases):
                    perspectives = dict(roles.cases[case_index])
                case_index += 1
            items.append(AgendaItem(local(clock), local(ends), title, segment.kind, presenter, perspectives, tuple(steps)))
            clock = ends
    return items
