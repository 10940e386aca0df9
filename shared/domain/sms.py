"""The one-tap check-in text: when to send it, and a message that fits one GSM-7 segment. Pure.

After a pact's agreed slot ("Tuesdays 08:30, 30 minutes") the member gets, shortly after
the time limit, "Did you talk with Jennifer today? Tap to record it: <link>". Quiet days
get no text; quiet hours push it to their end, unless that is too late in the evening to
be about "today", and then that slot gets no text.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

AFTER_THE_CALL = timedelta(minutes=5)
LATEST = time(21, 0)  # no "did you talk today?" after nine in the evening
SEGMENT = 160

# GSM 03.38 basic character set: anything else (or an escape-table character) costs more.
GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
TEMPLATE = "Did you talk with {name} today? Tap to record it: {url}"


@dataclass(frozen=True)
class QuietHours:
    weekday: int  # 0 = Monday
    start: time
    end: time


def quiet_hours_from_json(text: str | None) -> list[QuietHours]:
    return [QuietHours(int(q["weekday"]), time.fromisoformat(q["start"]), time.fromisoformat(q["end"])) for q in json.loads(text or "[]")]


def send_at(slot_start: datetime, minutes: int, zone: str, quiet_days: frozenset[int], quiet: list[QuietHours]) -> datetime | None:
    """When to text about one slot: just after it ends, out of quiet hours; None when that slot gets no text."""
    tz = ZoneInfo(zone)
    day: date = slot_start.astimezone(tz).date()  # the day the call was on: "today" in the text
    at = (slot_start + timedelta(minutes=minutes) + AFTER_THE_CALL).astimezone(tz)
    if day.weekday() in quiet_days or at.date() != day:
        return None
    at = _out_of_quiet_hours(at, quiet)
    if at.date() != day or at.time() > LATEST:
        return None
    return at.astimezone(UTC)


def _out_of_quiet_hours(at: datetime, quiet: list[QuietHours]) -> datetime:
    """The first moment from `at` (local) outside the member's quiet hours that day."""
    for _ in range(len(quiet) + 1):  # quiet ranges may follow one another
        moved = False
        for q in quiet:
            if q.weekday == at.weekday() and q.start <= at.time() < q.end:
                at = datetime.combine(at.date(), q.end, at.tzinfo)
                moved = True
        if not moved:
            break
    return at


def notice_at(earliest: datetime, zone: str, nudge_hour: int, quiet_days: frozenset[int], quiet: list[QuietHours]) -> datetime | None:
    """When a one-off text may go: from `earliest`, not before the member's nudge hour, never on a quiet day,
    out of their quiet hours, not after 21:00; None if no day in the coming week allows it."""
    tz = ZoneInfo(zone)
    start = earliest.astimezone(tz)
    for offset in range(8):
        day = start.date() + timedelta(days=offset)
        if day.weekday() in quiet_days:
            continue
        at = _out_of_quiet_hours(max(datetime.combine(day, time(nudge_hour), tz), start), quiet)
        if at.date() == day and at.time() <= LATEST:
            return at.astimezone(UTC)
    return None


ENDED_TEMPLATE = "Your regular check-ins with {name} have ended. Nothing more will come about them. - Peer support"
ENDED_ERASED = "One of your check-in pacts has ended because your colleague closed their account. - Peer support"


def ended_message(colleague_name: str | None) -> str:
    """The one text that a pact has ended (one GSM-7 segment); no name after an erasure."""
    if colleague_name is None:
        return ENDED_ERASED
    room = SEGMENT - len(ENDED_TEMPLATE.format(name=""))
    name = transliterate(colleague_name) or "your colleague"
    if len(name) > room:
        name = name.split(" ")[0][:room].rstrip()
    return ENDED_TEMPLATE.format(name=name)


# Letters that no Unicode decomposition turns into ASCII.
SPELLED = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ı": "i", "Œ": "OE", "œ": "oe", "Þ": "Th", "þ": "th", "ð": "d"})


def transliterate(name: str) -> str:
    """A name in GSM-7: accents that GSM-7 lacks folded away, a few letters spelled out, anything else dropped.

    When less than half of the name's letters survive (a Greek or Cyrillic name, say), the
    result is empty and the message says "your colleague" rather than a stump of the name.
    """
    out = []
    for char in name.translate(SPELLED):
        if char.isspace():
            out.append(" ")
        elif char in GSM7:
            out.append(char)
        else:
            folded = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
            out.append("".join(c for c in folded if c in GSM7))
    result = " ".join("".join(out).split())
    letters = sum(c.isalpha() for c in name)
    if letters and sum(c.isalpha() for c in result) * 2 < letters:
        return ""
    return result


def is_gsm7(text: str) -> bool:
    return all(c in GSM7 for c in text)


def message(colleague_name: str, url: str) -> str:
    """The whole text, one segment (<= 160 GSM-7 characters), the link intact; the name shortened if need be."""
    room = SEGMENT - len(TEMPLATE.format(name="", url=url))
    if room < 5:
        raise ValueError("the link alone leaves no room for a name in one SMS segment")
    name = transliterate(colleague_name) or "your colleague"
    if len(name) > room:
        name = name.split(" ")[0]
    if len(name) > room:
        name = name[:room].rstrip()
    text = TEMPLATE.format(name=name, url=url)
    if len(text) > SEGMENT or not is_gsm7(text):
        raise ValueError("the link is not plain GSM-7 text")
    return text
