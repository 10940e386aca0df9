"""The one-tap check-in text (shared.domain.sms): when it goes out, and a message that fits one GSM-7 segment.

Expected UTC instants are worked out by hand; the local wall clock is then re-checked through zoneinfo.
"""

from __future__ import annotations

import random
import re
import secrets
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.domain.sms import (
    AFTER_THE_CALL,
    GSM7,
    LATEST,
    SEGMENT,
    TEMPLATE,
    QuietHours,
    is_gsm7,
    message,
    quiet_hours_from_json,
    send_at,
    transliterate,
)

DUBLIN = "Europe/Dublin"
NEW_YORK = "America/New_York"
SYDNEY = "Australia/Sydney"
AUCKLAND = "Pacific/Auckland"

BASE_URL = "https://abcdef1234.execute-api.eu-west-1.amazonaws.com"
OVERHEAD = len(TEMPLATE.format(name="", url=""))  # 44: everything but the name and the link
ESCAPE_TABLE = "[]{}\\^~|€\f"  # GSM 03.38 extension table: two septets each
SHAPE = re.compile(r"Did you talk with (?P<name>.+) today\? Tap to record it: (?P<url>\S+)")


def link() -> str:
    """The real link shape: the API's base URL, /c/, then a token_urlsafe(16) token."""
    token = secrets.token_urlsafe(16)
    assert len(token) == 22
    return f"{BASE_URL}/c/{token}"


def url_of_length(n: int) -> str:
    prefix = f"{BASE_URL}/c/"
    assert n >= len(prefix)
    return prefix + "a" * (n - len(prefix))


def parts(text: str, url: str) -> str:
    """Check every invariant of a message and return the name it ended up with."""
    assert len(text) <= SEGMENT
    assert is_gsm7(text)
    assert not set(ESCAPE_TABLE) & set(text)
    assert text.endswith(url)
    assert text.count(url) == 1
    found = SHAPE.fullmatch(text)  # no DOTALL: a newline anywhere would fail to match
    assert found is not None, text
    assert found["url"] == url
    name = found["name"]
    assert name == name.strip()
    assert "  " not in name
    assert "\n" not in name
    assert "\r" not in name
    return name


def local(day: date, hh: int, mm: int, zone: str) -> datetime:
    return datetime.combine(day, time(hh, mm), ZoneInfo(zone))


def utc_slot(day: date, hh: int, mm: int, zone: str) -> datetime:
    """A slot as the rhythm produces it: a UTC instant for a local wall-clock time."""
    return local(day, hh, mm, zone).astimezone(UTC)


TUESDAY = date(2026, 12, 8)  # Dublin in winter: UTC+0
SUMMER_TUESDAY = date(2026, 7, 7)  # Dublin in summer: UTC+1 (IST)


# --- the character set ------------------------------------------------------------------------


def test_gsm7_is_the_basic_table_without_escape() -> None:
    assert len(GSM7) == 127  # 128 code points in the basic table, minus ESC
    assert "\x1b" not in GSM7
    for char in "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./:;<=>?¡ÄÖÑÜ§¿äöñüà":
        assert char in GSM7, char
    for char in "AZaz09":
        assert char in GSM7


@pytest.mark.parametrize("char", list(ESCAPE_TABLE))
def test_escape_table_characters_are_not_basic(char: str) -> None:
    assert char not in GSM7
    assert not is_gsm7(f"Ann {char}")


@pytest.mark.parametrize("char", ["á", "í", "ç", "ë", "\t", "€", "😊", "佐", "а", "ο", "\u00a0", "\u200b", "`"])
def test_characters_outside_the_basic_table(char: str) -> None:
    assert not is_gsm7(char)


def test_is_gsm7() -> None:
    assert is_gsm7("")
    assert is_gsm7("Did you talk with Renée Müller today?")
    assert is_gsm7(link())
    assert not is_gsm7("Siobhán")


# --- transliterate ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ann", "Ann"),
        ("Siobhán Ní Bhriain", "Siobhan Ni Bhriain"),  # á and í are not in GSM-7: folded
        ("Zoë Müller-Lüdenscheidt", "Zoe Müller-Lüdenscheidt"),  # ë folded, ü kept
        ("Renée Jürgen Muñoz", "Renée Jürgen Muñoz"),  # é, ü, ñ exist in GSM-7: kept
        ("Àngel Ñúñez", "Angel Ñuñez"),  # à is basic but À is not; ú folded
        ("Ørjan Åse Æsir Søren", "Ørjan Åse Æsir Søren"),
        ("Straße", "Straße"),
        ("François", "Francois"),  # lower-case ç is not basic (only Ç is)
        ("Çelik", "Çelik"),
        ("Ğül", "Gül"),
        ("Ÿvonne", "Yvonne"),
        ("ﬁona", "fiona"),  # compatibility ligature decomposed by NFKD
        ("Ａｎｎ", "Ann"),  # full-width letters
        ("Анна", ""),  # Cyrillic: nothing to fold to
        ("佐藤", ""),
        ("佐藤 花子", ""),
        ("Ann 😊", "Ann"),
        ("😊 Ann 😊", "Ann"),
        ("Ann\nLee", "Ann Lee"),
        ("Ann\r\nLee", "Ann Lee"),
        ("  Ann   Lee  ", "Ann Lee"),
        ("Ann\u00a0Lee", "Ann Lee"),  # no-break space folds to a space
        ("Ann\u200bLee", "AnnLee"),  # zero-width space is dropped
        ("[Ann] {Lee}", "Ann Lee"),
        ("Ann€^~|\\", "Ann"),
        ("", ""),
        ("   ", ""),
        ("\n\r", ""),
    ],
)
def test_transliterate(name: str, expected: str) -> None:
    assert transliterate(name) == expected
    assert is_gsm7(transliterate(name))


def test_transliterate_greek_keeps_only_the_capitals_gsm7_has() -> None:
    # GSM-7 has some Greek capitals (Σ, Φ, ...) but no lower-case Greek: a stump of a name is worse than
    # none, so when less than half the letters survive the text says "your colleague".
    assert transliterate("Σοφία") == ""
    assert transliterate("ΦΩΣ") == "ΦΩΣ"


def test_transliterate_lukasz_keeps_the_rest_of_the_name() -> None:
    result = transliterate("Łukasz")
    assert is_gsm7(result)
    assert result.endswith("ukasz")


def test_transliterate_lukasz_reads_lukasz() -> None:
    assert transliterate("Łukasz Wałęsa") == "Lukasz Walesa"


def test_transliterate_tab_separates_words() -> None:
    assert transliterate("Ann\tLee") == "Ann Lee"


def test_transliterate_is_idempotent_and_gsm7_on_random_unicode() -> None:
    rng = random.Random(20261208)
    pools = [
        (0x20, 0x7E),
        (0xA0, 0x17F),
        (0x370, 0x3FF),
        (0x400, 0x4FF),
        (0x3040, 0x30FF),
        (0x4E00, 0x4FFF),
        (0x1F300, 0x1F64F),
        (0x2000, 0x206F),
        (0xFB00, 0xFB06),
        (0xFF01, 0xFF5E),
        (0x0, 0x1F),
    ]
    for _ in range(500):
        name = "".join(chr(rng.randint(*rng.choice(pools))) for _ in range(rng.randint(0, 40)))
        once = transliterate(name)
        assert is_gsm7(once), repr(name)
        assert "\n" not in once
        assert "\r" not in once
        assert once == once.strip()
        assert "  " not in once
        assert transliterate(once) == once, repr(name)


# --- message ----------------------------------------------------------------------------------


def test_message_with_a_short_name() -> None:
    url = link()
    text = message("Jennifer", url)
    assert text == f"Did you talk with Jennifer today? Tap to record it: {url}"
    assert parts(text, url) == "Jennifer"


def test_the_real_link_leaves_room_for_a_name() -> None:
    url = link()
    assert len(url) == 79
    assert SEGMENT - OVERHEAD - len(url) == 37


NAMES = [
    "Jennifer",
    "Ann",
    "A",
    "Jennifer Murphy-O'Sullivan de la Cruz y Fitzgerald-Hamiltons",  # 60 characters, several words
    "Abcdefghij" * 6,  # 60 characters, one word
    "Jennifer " + "x" * 191,  # 200 characters
    "y" * 200,
    " ".join(["Ann"] * 50),
    "Siobhán Ní Bhriain",
    "Zoë Müller-Lüdenscheidt",
    "Łukasz",
    "Анна",
    "Σοφία",
    "佐藤",
    "Ann 😊",
    "😊",
    "Ann\nLee",
    "Ann\tLee",
    "Ann\r\nLee\n",
    "\n\t ",
    "",
    "[Ann]",
    "{Lee}",
    "€uro Ann",
    "Ann^Lee",
    "Ann~Lee|x\\y",
    "Zoë Müller-Lüdenscheidt-Wolkenstein-Hohenzollern von Baden-Württemberg",
    "Siobhán" * 30,
    "佐藤 Ann",
    "Ann 佐藤 " + "Lee" * 40,
]


@pytest.mark.parametrize("name", NAMES)
def test_message_always_fits_one_gsm7_segment_with_the_link_intact(name: str) -> None:
    url = link()
    text = message(name, url)
    shown = parts(text, url)
    assert shown


@pytest.mark.parametrize(
    ("name", "shown"),
    [
        ("Siobhán Ní Bhriain", "Siobhan Ni Bhriain"),
        ("Zoë Müller-Lüdenscheidt", "Zoe Müller-Lüdenscheidt"),
        ("Ann 😊", "Ann"),
        ("Ann\nLee", "Ann Lee"),
        ("[Ann] {Lee}", "Ann Lee"),
        ("Ann€", "Ann"),
        ("Анна", "your colleague"),
        ("佐藤", "your colleague"),
        ("😊", "your colleague"),
        ("", "your colleague"),
        ("  \n ", "your colleague"),
        ("€^{}", "your colleague"),
    ],
)
def test_message_names(name: str, shown: str) -> None:
    url = link()
    assert parts(message(name, url), url) == shown


def test_a_name_that_fits_exactly_is_kept_whole() -> None:
    url = link()
    name = "Ann " + "b" * 33  # 37 characters: exactly the room left
    text = message(name, url)
    assert len(text) == SEGMENT
    assert parts(text, url) == name


def test_a_name_one_too_long_is_cut_to_its_first_word() -> None:
    url = link()
    assert parts(message("Ann " + "b" * 34, url), url) == "Ann"


def test_a_60_character_name_is_cut_to_its_first_word() -> None:
    url = link()
    name = "Jennifer Murphy-O'Sullivan de la Cruz y Fitzgerald-Hamiltons"
    assert len(name) == 60
    assert parts(message(name, url), url) == "Jennifer"


def test_a_first_word_that_is_still_too_long_is_truncated() -> None:
    url = link()
    assert parts(message("Abcdefghij" * 6, url), url) == ("Abcdefghij" * 6)[:37]
    assert parts(message("x" * 50 + " Lee", url), url) == "x" * 37
    assert len(message("y" * 200, url)) == SEGMENT


def test_a_name_is_shortened_after_transliteration() -> None:
    url = link()
    # 37 characters only once the emoji (not GSM-7) is gone: it then fits whole.
    name = "Ann " + "b" * 33
    assert parts(message(name + " 😊", url), url) == name


def test_the_fallback_name_is_shortened_too_when_room_is_tight() -> None:
    url = url_of_length(SEGMENT - OVERHEAD - 5)  # room for 5 characters
    text = message("佐藤", url)
    assert parts(text, url) == "your"
    assert len(text) <= SEGMENT


def test_the_smallest_room_still_works() -> None:
    url = url_of_length(SEGMENT - OVERHEAD - 5)
    text = message("Jennifer", url)
    assert parts(text, url) == "Jenni"
    assert len(text) == SEGMENT


@pytest.mark.parametrize("room", [4, 1, 0, -1, -50])
def test_a_link_leaving_too_little_room_raises(room: int) -> None:
    url = url_of_length(SEGMENT - OVERHEAD - room)
    with pytest.raises(ValueError, match="no room"):
        message("Ann", url)


@pytest.mark.parametrize("char", ["€", "{", "~", "e\u0301", "\t", "ç"])
def test_a_link_that_is_not_plain_gsm7_raises(char: str) -> None:
    url = f"{BASE_URL}/c/abc{char}def"
    with pytest.raises(ValueError, match="GSM-7"):
        message("Ann", url)


def test_many_real_links_and_names() -> None:
    rng = random.Random(8)
    for _ in range(200):
        url = link()
        name = "".join(rng.choice("Aé ü€[😊佐\nΣοЖłß-'") for _ in range(rng.randint(0, 80)))
        parts(message(name, url), url)


# --- quiet_hours_from_json --------------------------------------------------------------------


def test_quiet_hours_from_json() -> None:
    assert quiet_hours_from_json('[{"weekday": 0, "start": "09:00", "end": "17:00"}]') == [QuietHours(0, time(9), time(17))]


def test_quiet_hours_from_json_many_and_string_weekdays() -> None:
    text = '[{"weekday": 1, "start": "09:00", "end": "12:30"}, {"weekday": "6", "start": "13:15", "end": "18:00"}]'
    assert quiet_hours_from_json(text) == [QuietHours(1, time(9), time(12, 30)), QuietHours(6, time(13, 15), time(18))]


@pytest.mark.parametrize("text", [None, "", "[]"])
def test_no_quiet_hours(text: str | None) -> None:
    assert quiet_hours_from_json(text) == []


@pytest.mark.parametrize(
    "text",
    ['[{"weekday": 0, "start": "9am", "end": "17:00"}]', '[{"weekday": "monday", "start": "09:00", "end": "17:00"}]', "not json"],
)
def test_bad_quiet_hours_raise(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - json.JSONDecodeError is a ValueError too
        quiet_hours_from_json(text)


def test_quiet_hours_from_json_missing_key_raises() -> None:
    with pytest.raises(KeyError):
        quiet_hours_from_json('[{"weekday": 0, "start": "09:00"}]')


# --- send_at ----------------------------------------------------------------------------------


def in_zone(instant: datetime | None, zone: str) -> datetime:
    assert instant is not None
    return instant.astimezone(ZoneInfo(zone))


def test_constants() -> None:
    assert timedelta(minutes=5) == AFTER_THE_CALL
    assert time(21, 0) == LATEST
    assert SEGMENT == 160


def test_plain_case_in_winter() -> None:
    at = send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), [])
    assert at == datetime(2026, 12, 8, 9, 5, tzinfo=UTC)  # Dublin is on UTC in December
    assert in_zone(at, DUBLIN).time() == time(9, 5)


def test_plain_case_in_summer() -> None:
    at = send_at(utc_slot(SUMMER_TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), [])
    assert at == datetime(2026, 7, 7, 8, 5, tzinfo=UTC)  # 09:05 IST = 08:05 UTC
    assert in_zone(at, DUBLIN).time() == time(9, 5)


def test_the_result_is_utc_aware() -> None:
    at = send_at(utc_slot(SUMMER_TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), [])
    assert at is not None
    assert at.tzinfo is UTC
    assert at.utcoffset() == timedelta(0)


def test_a_slot_given_in_local_time_gives_the_same_instant() -> None:
    slot = local(SUMMER_TUESDAY, 8, 30, DUBLIN)
    assert send_at(slot, 30, DUBLIN, frozenset(), []) == send_at(slot.astimezone(UTC), 30, DUBLIN, frozenset(), [])


@pytest.mark.parametrize("minutes", [0, 15, 50, 90])
def test_the_text_goes_five_minutes_after_the_time_limit(minutes: int) -> None:
    slot = utc_slot(TUESDAY, 8, 30, DUBLIN)
    assert send_at(slot, minutes, DUBLIN, frozenset(), []) == slot + timedelta(minutes=minutes + 5)


def test_quiet_day_gives_no_text() -> None:
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset({1}), []) is None
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset({0, 1, 2, 3, 4, 5, 6}), []) is None


def test_other_quiet_days_do_not_matter() -> None:
    expected = datetime(2026, 12, 8, 9, 5, tzinfo=UTC)
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset({0, 2, 3, 4, 5, 6}), []) == expected


def test_the_quiet_day_is_the_members_local_weekday() -> None:
    # Tuesday 08:30 in Auckland (UTC+13 in December) is Monday 19:30 UTC.
    slot = utc_slot(TUESDAY, 8, 30, AUCKLAND)
    assert slot == datetime(2026, 12, 7, 19, 30, tzinfo=UTC)
    assert send_at(slot, 30, AUCKLAND, frozenset({1}), []) is None
    assert send_at(slot, 30, AUCKLAND, frozenset({0}), []) == datetime(2026, 12, 7, 20, 5, tzinfo=UTC)


def test_quiet_hours_move_the_text_to_their_end() -> None:
    quiet = [QuietHours(1, time(9), time(17))]
    at = send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), quiet)
    assert at == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
    assert in_zone(at, DUBLIN).time() == time(17)


def test_quiet_hours_end_is_local_in_summer() -> None:
    quiet = [QuietHours(1, time(9), time(17))]
    at = send_at(utc_slot(SUMMER_TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), quiet)
    assert at == datetime(2026, 7, 7, 16, 0, tzinfo=UTC)


def test_quiet_hours_on_another_weekday_do_not_matter() -> None:
    quiet = [QuietHours(0, time(9), time(17)), QuietHours(2, time(0), time(23, 59))]
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), quiet) == datetime(2026, 12, 8, 9, 5, tzinfo=UTC)


def test_quiet_hours_start_is_inclusive_and_end_exclusive() -> None:
    slot = utc_slot(TUESDAY, 8, 30, DUBLIN)  # text due 09:05
    starts_then = [QuietHours(1, time(9, 5), time(12))]
    ends_then = [QuietHours(1, time(8), time(9, 5))]
    ended_before = [QuietHours(1, time(8), time(9))]
    not_yet = [QuietHours(1, time(9, 6), time(12))]
    assert send_at(slot, 30, DUBLIN, frozenset(), starts_then) == datetime(2026, 12, 8, 12, 0, tzinfo=UTC)
    assert send_at(slot, 30, DUBLIN, frozenset(), ends_then) == datetime(2026, 12, 8, 9, 5, tzinfo=UTC)
    assert send_at(slot, 30, DUBLIN, frozenset(), ended_before) == datetime(2026, 12, 8, 9, 5, tzinfo=UTC)
    assert send_at(slot, 30, DUBLIN, frozenset(), not_yet) == datetime(2026, 12, 8, 9, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "quiet",
    [
        [QuietHours(1, time(9), time(12)), QuietHours(1, time(12), time(17))],
        [QuietHours(1, time(12), time(17)), QuietHours(1, time(9), time(12))],  # listed in reverse
        [QuietHours(1, time(9), time(12)), QuietHours(1, time(11), time(17))],  # overlapping
        [QuietHours(1, time(9), time(10)), QuietHours(1, time(10), time(11)), QuietHours(1, time(11), time(17))],
        [QuietHours(1, time(11), time(17)), QuietHours(1, time(10), time(11)), QuietHours(1, time(9), time(10))],
        [QuietHours(1, time(9), time(17)), QuietHours(1, time(10), time(12))],  # one inside another
    ],
)
def test_chained_quiet_hours_move_the_text_to_the_last_end(quiet: list[QuietHours]) -> None:
    at = send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), quiet)
    assert at == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)


def test_a_gap_between_quiet_hours_is_used() -> None:
    quiet = [QuietHours(1, time(9), time(12)), QuietHours(1, time(12, 30), time(17))]
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), quiet) == datetime(2026, 12, 8, 12, 0, tzinfo=UTC)


def test_a_long_chain_of_quiet_hours() -> None:
    quiet = [QuietHours(1, time(h), time(h + 1)) for h in range(20, 8, -1)]  # 09:00 to 21:00 in hour steps, reversed
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), quiet) == datetime(2026, 12, 8, 21, 0, tzinfo=UTC)


@pytest.mark.parametrize(("end", "expected"), [(time(20, 59), time(20, 59)), (time(21, 0), time(21, 0)), (time(21, 1), None)])
def test_quiet_hours_ending_around_nine_in_the_evening(end: time, expected: time | None) -> None:
    at = send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), [QuietHours(1, time(9), end)])
    if expected is None:
        assert at is None
    else:
        assert in_zone(at, DUBLIN).time() == expected


def test_quiet_hours_until_half_past_nine_give_no_text() -> None:
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), [QuietHours(1, time(9), time(21, 30))]) is None


def test_chained_quiet_hours_past_nine_give_no_text() -> None:
    quiet = [QuietHours(1, time(9), time(17)), QuietHours(1, time(17), time(22))]
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), quiet) is None


def test_a_late_evening_slot_gets_no_text() -> None:
    assert send_at(utc_slot(TUESDAY, 20, 40, DUBLIN), 30, DUBLIN, frozenset(), []) is None  # 21:15


@pytest.mark.parametrize(("hh", "mm", "ok"), [(20, 25, True), (20, 26, False), (22, 0, False)])
def test_nine_in_the_evening_is_the_latest(hh: int, mm: int, ok: bool) -> None:
    at = send_at(utc_slot(TUESDAY, hh, mm, DUBLIN), 30, DUBLIN, frozenset(), [])
    if ok:
        assert in_zone(at, DUBLIN).time() == LATEST
    else:
        assert at is None


@pytest.mark.parametrize(
    ("hh", "mm", "minutes", "quiet_days"),
    [
        (23, 40, 30, frozenset()),  # texted 00:15 Wednesday: "did you talk today?"
        (23, 40, 30, frozenset({1})),  # a Tuesday slot, Tuesday is quiet: texted anyway on Wednesday
        (22, 0, 180, frozenset()),  # a long late call ending after midnight
    ],
)
def test_a_slot_ending_after_midnight_gets_no_text(hh: int, mm: int, minutes: int, quiet_days: frozenset[int]) -> None:
    assert send_at(utc_slot(TUESDAY, hh, mm, DUBLIN), minutes, DUBLIN, quiet_days, []) is None


def test_quiet_hours_to_the_end_of_the_day_give_no_text() -> None:
    quiet = [QuietHours(1, time(9), time(23, 59))]
    assert send_at(utc_slot(TUESDAY, 8, 30, DUBLIN), 30, DUBLIN, frozenset(), quiet) is None


def dst_week(zone: str, change: date) -> list[date]:
    return [change + timedelta(days=d) for d in range(-3, 4)]


@pytest.mark.parametrize(
    ("zone", "change"),
    [
        (NEW_YORK, date(2026, 3, 8)),  # clocks go forward
        (NEW_YORK, date(2026, 11, 1)),  # clocks go back
        (SYDNEY, date(2026, 4, 5)),  # clocks go back
        (SYDNEY, date(2026, 10, 4)),  # clocks go forward
    ],
)
def test_the_local_send_time_is_the_same_wall_clock_across_a_dst_change(zone: str, change: date) -> None:
    offsets = set()
    for day in dst_week(zone, change):
        at = send_at(utc_slot(day, 8, 30, zone), 30, zone, frozenset(), [])
        assert at is not None
        assert at.tzinfo is UTC
        here = in_zone(at, zone)
        assert here.date() == day
        assert here.time() == time(9, 5)
        offsets.add(here.utcoffset())
    assert len(offsets) == 2  # the week really did straddle the change


def test_dst_in_new_york_by_hand() -> None:
    before = send_at(utc_slot(date(2026, 3, 6), 8, 30, NEW_YORK), 30, NEW_YORK, frozenset(), [])
    after = send_at(utc_slot(date(2026, 3, 9), 8, 30, NEW_YORK), 30, NEW_YORK, frozenset(), [])
    assert before == datetime(2026, 3, 6, 14, 5, tzinfo=UTC)  # EST, UTC-5
    assert after == datetime(2026, 3, 9, 13, 5, tzinfo=UTC)  # EDT, UTC-4


def test_dst_in_sydney_by_hand() -> None:
    before = send_at(utc_slot(date(2026, 4, 3), 8, 30, SYDNEY), 30, SYDNEY, frozenset(), [])
    after = send_at(utc_slot(date(2026, 4, 6), 8, 30, SYDNEY), 30, SYDNEY, frozenset(), [])
    assert before == datetime(2026, 4, 2, 22, 5, tzinfo=UTC)  # AEDT, UTC+11
    assert after == datetime(2026, 4, 5, 23, 5, tzinfo=UTC)  # AEST, UTC+10


def test_dst_quiet_days_use_the_local_weekday_in_sydney() -> None:
    # Monday 08:30 in Sydney is Sunday evening UTC: Monday (0) is the quiet day that counts.
    slot = utc_slot(date(2026, 4, 6), 8, 30, SYDNEY)
    assert slot.weekday() == 6
    assert send_at(slot, 30, SYDNEY, frozenset({0}), []) is None
    assert send_at(slot, 30, SYDNEY, frozenset({6}), []) is not None


def test_quiet_hours_on_the_day_clocks_go_forward() -> None:
    day = date(2026, 3, 8)  # Sunday; 02:00 EST became 03:00 EDT
    quiet = [QuietHours(6, time(9), time(17))]
    at = send_at(utc_slot(day, 8, 30, NEW_YORK), 30, NEW_YORK, frozenset(), quiet)
    assert at == datetime(2026, 3, 8, 21, 0, tzinfo=UTC)  # 17:00 EDT
    assert in_zone(at, NEW_YORK).time() == time(17)


def test_quiet_hours_on_the_day_clocks_go_back() -> None:
    day = date(2026, 4, 5)  # Sunday in Sydney; 03:00 AEDT became 02:00 AEST
    quiet = [QuietHours(6, time(9), time(17))]
    at = send_at(utc_slot(day, 8, 30, SYDNEY), 30, SYDNEY, frozenset(), quiet)
    assert at == datetime(2026, 4, 5, 7, 0, tzinfo=UTC)  # 17:00 AEST
    assert in_zone(at, SYDNEY).time() == time(17)


def test_the_members_zone_not_the_slots_decides() -> None:
    # The pact's slot is 08:30 New York; the member lives in Dublin, where the call ends 14:00 (winter: UTC-5 vs UTC+0).
    slot = utc_slot(TUESDAY, 8, 30, NEW_YORK)
    assert send_at(slot, 30, DUBLIN, frozenset(), []) == datetime(2026, 12, 8, 14, 5, tzinfo=UTC)
    assert send_at(slot, 30, DUBLIN, frozenset(), [QuietHours(1, time(9), time(17))]) == datetime(2026, 12, 8, 17, 0, tzinfo=UTC)
    assert send_at(utc_slot(TUESDAY, 16, 0, NEW_YORK), 30, DUBLIN, frozenset(), []) is None  # 21:35 in Dublin
