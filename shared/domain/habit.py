"""The habit: how established a pact's regular contact is, and when to remind before a slot. Pure: time is passed in.

Counting. A slot pact ("Tuesdays 08:30") keeps a slot with a check-in from half a period
before the slot until the grace period after it (the same half period `rhythm.next_due`
uses: a call a day early still counts for that week). An every-N-days pact keeps an
interval with a check-in no sooner than half an interval after the previous one and no
later than N days plus grace after it. `TARGET` (6) consecutive kept slots or intervals
make the pact **established**. A window whose grace has passed without a check-in is a
miss: the streak starts again from nought. Slots while the pact is paused are neither
kept nor missed (counting resumes at `since`).

Falling back. Once established, two misses within `RELAPSE_SPAN` (8 weeks) take the pact
back to establishing (its streak from nought), as of the close of the second miss's window.
Intervals longer than 8 weeks can never miss twice within 8 weeks: such a pact stays established.

Reminders (slot pacts, while establishing): the morning of the slot day at the member's
nudge hour, or, if that is not at least `LEAD` before the slot, the day before at their
nudge hour; never on a quiet day, moved out of quiet hours (and dropped if that leaves it
too late), never after `LATEST`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from shared.domain.rhythm import Rhythm
from shared.domain.sms import LATEST, QuietHours, transliterate

TARGET = 6
RELAPSE_SPAN = timedelta(weeks=8)
LEAD = timedelta(minutes=30)  # a reminder comes at least this long before the slot
MAX_WINDOWS = 64  # a long-idle pact: count this many missed windows, no more

ESTABLISHING, ESTABLISHED = "establishing", "established"


@dataclass(frozen=True)
class Progress:
    """What a pact has kept so far: the streak, the last kept slot (or interval's check-in), the state."""

    kept: int = 0
    last: datetime | None = None  # the last kept slot (slot pacts) or the check-in that kept the last interval
    established_at: datetime | None = None
    misses: tuple[datetime, ...] = ()  # closes of windows missed since established (the recent ones)
    since: datetime | None = None  # counting starts here: the pact's start, or the end of a pause


@dataclass(frozen=True)
class Terms:
    rhythm: Rhythm
    grace: timedelta
    target: int = TARGET


@dataclass(frozen=True)
class Establishment:
    state: str
    kept: int
    of: int


@dataclass(frozen=True)
class Outcome:
    """A check-in's effect: the new progress and what to say once (established, back to establishing), if anything."""

    progress: Progress
    event: str | None = None  # "established" | "back"
    event_at: datetime | None = None


@dataclass(frozen=True)
class Window:
    due: datetime
    closes: datetime


def _start(terms: Terms, progress: Progress) -> datetime:
    return max(t for t in (terms.rhythm.starts_at, progress.since) if t is not None)


def windows(terms: Terms, progress: Progress) -> Iterator[Window]:
    """The windows still to be kept after the last kept one, in order (at most MAX_WINDOWS)."""
    rule = terms.rhythm
    start = _start(terms, progress)
    if rule.is_slot:
        cursor = start if progress.last is None else max(progress.last + timedelta(minutes=1), start)
        for _ in range(MAX_WINDOWS):
            slot = rule.slot_after(cursor)
            if slot is None:
                return
            yield Window(slot, slot + terms.grace)
            cursor = slot + timedelta(minutes=1)
        return
    anchor = max(progress.last, start) if progress.last is not None else start
    zone = ZoneInfo(rule.time_zone)
    local = anchor.astimezone(zone)
    for count, occurrence in enumerate(rrulestr(rule.rrule, dtstart=local).xafter(local, inc=False)):
        if count >= MAX_WINDOWS:
            return
        due = occurrence.astimezone(UTC)
        yield Window(due, due + terms.grace)


def settle(terms: Terms, progress: Progress, at: datetime) -> tuple[Progress, datetime | None]:
    """The progress as of `at`: windows closed by then unkept are misses. Also: when it fell back, if it did."""
    missed: list[Window] = []
    for window in windows(terms, progress):
        if window.closes > at:
            break
        missed.append(window)
    if not missed:
        return progress, None
    # The streak starts again; counting goes on after the last missed window (so no miss is counted twice).
    after = missed[-1].due + (timedelta(minutes=1) if terms.rhythm.is_slot else timedelta(0))
    progress = replace(progress, kept=0, since=after)
    if progress.established_at is None:
        return progress, None
    recent = [*progress.misses, *(w.closes for w in missed)]
    for earlier, later in pairwise(recent):
        if later - earlier <= RELAPSE_SPAN:
            return replace(progress, established_at=None, misses=()), later
    # Only the last miss can still pair with a later one.
    return replace(progress, misses=(recent[-1],)), None


def establishment(terms: Terms, progress: Progress, now: datetime) -> Establishment:
    settled, _ = settle(terms, progress, now)
    state = ESTABLISHED if settled.established_at is not None else ESTABLISHING
    return Establishment(state, min(settled.kept, terms.target) if state == ESTABLISHING else terms.target, terms.target)


def kept_by(terms: Terms, progress: Progress, occurred: datetime) -> datetime | None:
    """The slot (or, every-N-days, the interval's check-in) a check-in at `occurred` keeps; None if it keeps nothing new."""
    rule = terms.rhythm
    if occurred < _start(terms, progress) - rule.period / 2:
        return None
    if rule.is_slot:
        slot = rule.slot_after(max(occurred - terms.grace, _start(terms, progress)))
        if slot is None or slot - occurred > rule.period / 2:
            return None  # too early for any slot
        if progress.last is not None and slot <= progress.last:
            return None  # that slot was kept already (or is older than the streak)
        return slot
    if progress.last is not None and occurred < progress.last + rule.period / 2:
        return None  # the same interval, again
    return occurred


def on_check_in(terms: Terms, progress: Progress, occurred: datetime) -> Outcome:
    """Count one check-in (recorded now, having happened at `occurred`)."""
    settled, back_at = settle(terms, progress, occurred - timedelta(seconds=1))  # a call at the very close keeps it
    kept = kept_by(terms, settled, occurred)
    if kept is None:
        return Outcome(settled, "back" if back_at else None, back_at)
    new = replace(settled, kept=settled.kept + 1, last=kept)
    if new.established_at is None and new.kept >= terms.target:
        return Outcome(replace(new, established_at=kept, misses=()), "established", kept)
    return Outcome(new, "back" if back_at else None, back_at)


def falls_back_at(terms: Terms, progress: Progress) -> datetime | None:
    """When an established pact goes back to establishing if no check-in comes (None: not established, or never)."""
    if progress.established_at is None:
        return None
    recent = progress.misses[-1] if progress.misses else None
    for count, window in enumerate(windows(terms, progress)):
        if recent is not None and window.closes - recent <= RELAPSE_SPAN:
            return window.closes
        if count >= 2:
            return None  # windows further apart than 8 weeks: two misses never fall within it
        recent = window.closes
    return None


# ------------------------------------------------------------------ reminders before a slot


@dataclass(frozen=True)
class Prefs:
    time_zone: str
    nudge_hour: int = 9
    quiet_days: frozenset[int] = frozenset()
    quiet_hours: list[QuietHours] = field(default_factory=list)


def _out_of_quiet(at: datetime, quiet: list[QuietHours]) -> datetime:
    for _ in range(len(quiet) + 1):
        moved = False
        for q in quiet:
            if q.weekday == at.weekday() and q.start <= at.time() < q.end:
                at = datetime.combine(at.date(), q.end, at.tzinfo)
                moved = True
        if not moved:
            break
    return at


def reminder_at(slot: datetime, prefs: Prefs) -> datetime | None:
    """When to remind about one slot: its morning at the nudge hour, else the day before; None: no reminder for it."""
    zone = ZoneInfo(prefs.time_zone)
    slot_day: date = slot.astimezone(zone).date()
    for day in (slot_day, slot_day - timedelta(days=1)):
        if day.weekday() in prefs.quiet_days:
            continue
        at = _out_of_quiet(datetime.combine(day, time(prefs.nudge_hour), zone), prefs.quiet_hours)
        if at.date() != day or at.time() > LATEST:
            continue
        if at.astimezone(UTC) <= slot - LEAD:
            return at.astimezone(UTC)
    return None


# ------------------------------------------------------------------ what is said


NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}


def in_a_row(rrule_text: str, count: int) -> str:
    """ "six weeks in a row" for a weekly slot, "six times in a row" otherwise."""
    weekly = "FREQ=WEEKLY" in rrule_text and "INTERVAL=" not in rrule_text.replace("INTERVAL=1;", "")
    return f"{NUMBERS.get(count, str(count))} {'weeks' if weekly else 'times'} in a row"


def day_phrase(slot: datetime, sent: datetime, zone: str) -> str:
    """ "today", "tomorrow" or the weekday of the slot, as the member reads it when the reminder arrives."""
    tz = ZoneInfo(zone)
    days = (slot.astimezone(tz).date() - sent.astimezone(tz).date()).days
    return "today" if days <= 0 else "tomorrow" if days == 1 else f"on {slot.astimezone(tz):%A}"


SMS_TEXTS = {
    "reminder": "Reminder: your call with {name} is {day} at {time}. - Peer support",
    "established": "{In_a_row} with {name}: you've made it a habit. No more reminders before your calls. - Peer support",
    "back": "You and {name} missed two check-ins in eight weeks, so reminders before your calls are back for now. - Peer support",
}
SEGMENT = 160


def sms_text(what: str, name: str, *, day: str = "", at: str = "", in_a_row_text: str = "") -> str:
    """One GSM-7 segment (<= 160 characters): the colleague's name transliterated, shortened if it must be."""
    template = SMS_TEXTS[what]
    fields = {"day": day, "time": at, "In_a_row": in_a_row_text[:1].upper() + in_a_row_text[1:]}
    room = SEGMENT - len(template.format(name="", **fields))
    clean = transliterate(name) or "your colleague"
    if len(clean) > room:
        clean = clean.split(" ")[0][:room].rstrip()
    return template.format(name=clean, **fields)
