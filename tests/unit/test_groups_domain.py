"""Peer supervision groups (shared.domain.groups): formats and presets, the series of meetings, the agenda."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.groups import (
    PRESETS,
    AgendaItem,
    Format,
    Roles,
    Segment,
    Step,
    agenda,
    check_format,
    check_rrule,
    describe_rhythm,
    format_from_dict,
    format_to_dict,
    is_occurrence,
    occurrences,
    occurrences_before,
    overrun,
    preset,
)

DUBLIN = "Europe/Dublin"
SECOND_TUESDAY = "FREQ=MONTHLY;BYDAY=2TU;BYHOUR=19;BYMINUTE=0"
OTHER_THURSDAY = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;BYHOUR=8;BYMINUTE=0"


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(instant: datetime, zone: str) -> datetime:
    return instant.astimezone(ZoneInfo(zone))


CASE_SLOTS_80 = Format(
    segments=(
        Segment("Arrival round", 10),
        Segment("Case", 20, kind="case", repeat=3),
        Segment("Admin", 5),
        Segment("Close", 5),
    ),
    roles=("timekeeper",),
)


# ------------------------------------------------------------------ formats


def test_a_format_totals_its_minutes_and_counts_its_case_slots() -> None:
    assert CASE_SLOTS_80.total_minutes == 10 + 3 * 20 + 5 + 5 == 80
    assert CASE_SLOTS_80.case_slots == 3


@pytest.mark.parametrize(("boundary", "expected"), [(75, 5), (79, 1), (80, 0), (90, 0), (60, 20)])
def test_overrun_is_the_exact_minutes_past_the_boundary(boundary: int, expected: int) -> None:
    assert overrun(CASE_SLOTS_80, boundary) == expected


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("boundary", [60, 90, 120, 150])
def test_every_preset_fits_the_usual_boundaries_or_names_the_minimum(name: str, boundary: int) -> None:
    if (name, boundary) == ("sgsm", 60):  # 60 minutes a case, plus arrival and close
        with pytest.raises(ValueError, match="at least 70 minutes"):
            preset(name, boundary)
        return
    fmt = preset(name, boundary)
    check_format(fmt)
    assert fmt.preset == name
    assert overrun(fmt, boundary) == 0
    assert fmt.total_minutes >= boundary - 20  # the slack goes into the cases
    assert fmt.case_slots >= 1
    assert fmt.segments[0].minutes <= 10  # arrival and close stay short
    assert fmt.segments[-1].minutes <= 10
    for segment in fmt.segments:
        if segment.steps:
            assert sum(s.minutes for s in segment.steps) == segment.minutes


@pytest.mark.parametrize("name", sorted(PRESETS))
@settings(database=None, deadline=None)
@given(boundary=st.integers(min_value=1, max_value=600), cases=st.none() | st.integers(min_value=1, max_value=8))
def test_a_preset_fits_any_boundary_it_can_or_says_how_much_it_needs(name: str, boundary: int, cases: int | None) -> None:
    try:
        fmt = preset(name, boundary, cases)
    except ValueError as error:
        needed = int(re.findall(r"at least (\d+) minutes for", str(error))[0])
        assert needed > boundary
        fmt = preset(name, needed, cases)  # the minimum it names is enough
        assert fmt.total_minutes == needed
        return
    check_format(fmt)
    assert fmt.total_minutes <= boundary
    if cases is not None:
        assert fmt.case_slots == cases


def test_sgsm_has_the_steps_of_wilbur_et_al_and_as_many_cases_as_fit() -> None:
    fmt = preset("sgsm", 150)
    arrival, case, close = fmt.segments
    assert (arrival.minutes, case.kind, case.repeat, case.minutes, close.minutes) == (5, "case", 2, 70, 5)
    assert [s.title for s in case.steps] == [
        "Request for assistance",
        "Questioning and identifying the focus",
        "Feedback statements (the presenter listens)",
        "Pause",
        "The presenter's response",
        "Optional process discussion",
    ]
    assert fmt.roles == ("moderator", "timekeeper")
    assert preset("sgsm", 90).case_slots == 1
    assert preset("sgsm", 250).case_slots == 4  # 240 minutes of cases at 60
    assert preset("sgsm", 120).segments[1].minutes == 90  # a case grows to 90 minutes at most; the meeting ends early
    assert preset("sgsm", 120).total_minutes == 100


def test_a_preset_with_a_given_number_of_cases_shares_the_boundary_or_names_the_minimum() -> None:
    fmt = preset("sgsm", 150, case_slots=1)
    assert fmt.case_slots == 1
    assert fmt.segments[1].minutes == 90
    with pytest.raises(ValueError, match="at least 130 minutes for 2 cases"):
        preset("sgsm", 120, case_slots=2)
    with pytest.raises(ValueError, match="at least one case slot"):
        preset("sgsm", 120, case_slots=0)
    with pytest.raises(ValueError, match="unknown preset 'intervision'"):
        preset("intervision", 120)


def test_borders_gives_each_case_the_four_perspectives_and_a_moderator() -> None:
    fmt = preset("borders", 120)
    case = fmt.segments[1]
    assert case.roles == ("the client", "the counsellor", "a theoretical lens", "a metaphor")
    assert case.steps[0].title == "The presenter states the feedback they want"
    assert case.steps[3].title == "The moderator summarises"
    assert fmt.roles == ("moderator",)


def test_balint_has_the_presenter_sit_back_and_return() -> None:
    fmt = preset("balint", 90)
    assert [s.title for s in fmt.segments[1].steps] == [
        "The presenter tells the case",
        "The presenter sits back while the group discusses",
        "The presenter returns",
    ]
    assert fmt.roles == ("leader",)
    assert preset("balint", 120).case_slots == 2  # rather than one 110-minute case


def test_case_slots_is_arrival_cases_and_close_with_admin_when_there_is_room() -> None:
    assert [s.title for s in preset("case_slots", 60).segments] == ["Arrival round", "Case", "Close"]
    fmt = preset("case_slots", 120)
    assert [s.title for s in fmt.segments] == ["Arrival round", "Case", "Admin", "Close"]
    assert (fmt.case_slots, fmt.total_minutes) == (3, 120)
    assert preset("case_slots", 80, case_slots=3).case_slots == 3
    assert fmt.roles == ("timekeeper",)


def test_the_presets_have_one_line_descriptions() -> None:
    assert set(PRESETS) == {"sgsm", "borders", "balint", "case_slots"}
    assert all(text and "\n" not in text for text in PRESETS.values())


@pytest.mark.parametrize(
    ("fmt", "reason"),
    [
        (Format(()), "at least one segment"),
        (Format((Segment("Talk", 0),)), "at least one whole minute"),
        (Format((Segment("Talk", 10, repeat=0),)), "at least once"),
        (Format((Segment("Talk", 10, kind="lecture"),)), "unknown kind 'lecture'"),
        (Format((Segment("Case", 10, kind="case", steps=(Step("Tell", 5), Step("Ask", 4))),)), "add up to 9 minutes, not the segment's 10"),
        (Format((Segment("Case", 10, kind="case", steps=(Step("Tell", 10), Step("Ask", 0))),)), "'Ask' .* at least one whole minute"),
        (Format((Segment("Case", 10, kind="case", roles=("the client", "the client")),)), "names the role 'the client' twice"),
        (Format((Segment("Talk", 10),), roles=("moderator", "moderator")), "meeting role 'moderator' twice"),
        (Format((Segment(" ", 10),)), "needs a title"),
        (Format((Segment("Case", 10, steps=(Step("", 10),)),)), "every step .* needs a title"),
        (Format((Segment("Talk", 10),), roles=("",)), "not a name"),
    ],
)
def test_check_format_refuses_with_a_reason(fmt: Format, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_format(fmt)


@pytest.mark.parametrize(
    "fmt",
    [CASE_SLOTS_80, preset("sgsm", 150), preset("borders", 90), preset("balint", 120), preset("case_slots", 90, case_slots=2)],
)
def test_a_format_round_trips_through_json(fmt: Format) -> None:
    data = json.loads(json.dumps(format_to_dict(fmt)))
    assert format_from_dict(data) == fmt
    assert set(data) == {"preset", "roles", "segments"}
    assert all(set(s) == {"title", "minutes", "kind", "repeat", "steps", "roles"} for s in data["segments"])


def test_the_dict_form_has_stable_keys() -> None:
    fmt = Format(
        (Segment("Case", 10, kind="case", repeat=2, steps=(Step("Tell", 4), Step("Ask", 6)), roles=("the client",)),), ("moderator",)
    )
    assert format_to_dict(fmt) == {
        "preset": None,
        "roles": ["moderator"],
        "segments": [
            {
                "title": "Case",
                "minutes": 10,
                "kind": "case",
                "repeat": 2,
                "steps": [{"title": "Tell", "minutes": 4}, {"title": "Ask", "minutes": 6}],
                "roles": ["the client"],
            }
        ],
    }
    assert format_from_dict({"segments": [{"title": "Talk", "minutes": 30}]}) == Format((Segment("Talk", 30),))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ([], "must be an object"),
        ({}, "list of segments"),
        ({"segments": []}, "at least one segment"),
        ({"segments": ["talk"]}, "every segment must be an object"),
        ({"segments": [{"title": "Talk", "minutes": "30"}]}, "minutes must be a whole number"),
        ({"segments": [{"title": "Talk", "minutes": True}]}, "minutes must be a whole number"),
        ({"segments": [{"title": 3, "minutes": 30}]}, "title must be text"),
        ({"segments": [{"title": "Talk", "minutes": 30, "steps": "x"}]}, "steps must be a list"),
        ({"segments": [{"title": "Talk", "minutes": 30, "steps": [3]}]}, "every step must be an object"),
        ({"segments": [{"title": "Talk", "minutes": 30, "roles": "moderator"}]}, "list of names"),
        ({"segments": [{"title": "Talk", "minutes": 30}], "preset": 3}, "preset must be a name"),
        ({"segments": [{"title": "Talk", "minutes": 30, "steps": [{"title": "A", "minutes": 20}]}]}, "add up to 20"),
    ],
)
def test_format_from_dict_refuses_a_wrong_shape(data: object, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        format_from_dict(data)  # type: ignore[arg-type]


# ------------------------------------------------------------------ the series of meetings


def test_second_tuesday_stays_at_19_local_across_the_october_clock_change() -> None:
    starts = occurrences(SECOND_TUESDAY, DUBLIN, utc(2024, 1, 1), utc(2024, 9, 1), 4)
    assert starts == [utc(2024, 9, 10, 18), utc(2024, 10, 8, 18), utc(2024, 11, 12, 19), utc(2024, 12, 10, 19)]
    for start in starts:
        at = local(start, DUBLIN)
        assert (at.weekday(), at.hour, at.minute) == (1, 19, 0)
        assert 8 <= at.day <= 14
        assert start.tzinfo == UTC


def test_new_york_keeps_its_wall_clock_when_the_clocks_go_back_in_november() -> None:
    rule = "FREQ=WEEKLY;BYDAY=MO;BYHOUR=18;BYMINUTE=30"
    starts = occurrences(rule, "America/New_York", utc(2024, 10, 1), utc(2024, 10, 27), 2)
    assert starts == [utc(2024, 10, 28, 22, 30), utc(2024, 11, 4, 23, 30)]
    assert {local(s, "America/New_York").hour for s in starts} == {18}


def test_sydney_keeps_its_wall_clock_when_the_clocks_go_forward_in_october() -> None:
    rule = "FREQ=WEEKLY;BYDAY=TH;BYHOUR=8;BYMINUTE=0"
    starts = occurrences(rule, "Australia/Sydney", utc(2024, 9, 1), utc(2024, 10, 1), 2)
    assert starts == [utc(2024, 10, 2, 22), utc(2024, 10, 9, 21)]  # AEST +10, then AEDT +11
    assert {local(s, "Australia/Sydney").hour for s in starts} == {8}


def test_every_other_thursday_counts_its_weeks_from_the_anchor() -> None:
    from_4th = occurrences(OTHER_THURSDAY, DUBLIN, utc(2024, 1, 4, 8), utc(2024, 3, 1), 3)
    from_11th = occurrences(OTHER_THURSDAY, DUBLIN, utc(2024, 1, 11, 8), utc(2024, 3, 1), 3)
    assert from_4th == [utc(2024, 3, 14, 8), utc(2024, 3, 28, 8), utc(2024, 4, 11, 7)]
    assert from_11th == [utc(2024, 3, 7, 8), utc(2024, 3, 21, 8), utc(2024, 4, 4, 7)]
    years_later = occurrences(OTHER_THURSDAY, DUBLIN, utc(2024, 1, 4, 8), utc(2031, 1, 1), 1)[0]
    assert (years_later - utc(2024, 1, 4, 8)).days % 14 == 0


def test_no_occurrence_is_before_the_anchor_and_inclusive_decides_about_the_instant_itself() -> None:
    anchor = utc(2024, 10, 8, 18)  # a second Tuesday
    assert occurrences(SECOND_TUESDAY, DUBLIN, anchor, utc(2020, 1, 1), 1) == [anchor]
    assert occurrences(SECOND_TUESDAY, DUBLIN, anchor, anchor, 1) == [anchor]
    assert occurrences(SECOND_TUESDAY, DUBLIN, anchor, anchor, 1, inclusive=False) == [utc(2024, 11, 12, 19)]
    assert occurrences(SECOND_TUESDAY, DUBLIN, utc(2024, 10, 8, 18, 1), utc(2024, 10, 1), 1) == [utc(2024, 11, 12, 19)]
    assert occurrences(SECOND_TUESDAY, DUBLIN, anchor, anchor, 0) == []


def test_the_hour_that_repeats_when_the_clocks_go_back_is_compared_in_utc() -> None:
    rule = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30"  # 27 Oct 2024: 01:30 happens twice in Dublin
    anchor = utc(2024, 10, 1)
    assert occurrences(rule, DUBLIN, anchor, utc(2024, 10, 27, 0, 30), 1) == [utc(2024, 10, 27, 0, 30)]
    # 01:15 UTC is 01:15 local (the second time round): the wall-clock 01:30 slot is already past
    assert occurrences(rule, DUBLIN, anchor, utc(2024, 10, 27, 1, 15), 1) == [utc(2024, 11, 3, 1, 30)]


def test_an_hour_that_does_not_exist_locally_still_gives_one_meeting_that_day() -> None:
    rule = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=1;BYMINUTE=30"  # 31 Mar 2024: Dublin skips 01:00-02:00
    starts = occurrences(rule, DUBLIN, utc(2024, 3, 1), utc(2024, 3, 30), 2)
    assert starts == [utc(2024, 3, 31, 1, 30), utc(2024, 4, 7, 0, 30)]


def test_occurrences_before_are_newest_first_strictly_before_and_bounded_by_the_anchor() -> None:
    anchor = utc(2024, 1, 1)
    assert occurrences_before(SECOND_TUESDAY, DUBLIN, anchor, utc(2024, 4, 9, 18), 10) == [
        utc(2024, 3, 12, 19),
        utc(2024, 2, 13, 19),
        utc(2024, 1, 9, 19),
    ]
    assert occurrences_before(SECOND_TUESDAY, DUBLIN, anchor, utc(2024, 11, 13), 2) == [utc(2024, 11, 12, 19), utc(2024, 10, 8, 18)]
    assert occurrences_before(SECOND_TUESDAY, DUBLIN, anchor, utc(2024, 1, 9, 19), 5) == []
    assert occurrences_before(SECOND_TUESDAY, DUBLIN, anchor, utc(2023, 1, 1), 5) == []
    assert occurrences_before(SECOND_TUESDAY, DUBLIN, anchor, utc(2025, 1, 1), 0) == []


def test_occurrences_before_widens_its_window_for_a_sparse_series() -> None:
    leap_days = "FREQ=YEARLY;BYHOUR=9;BYMINUTE=0"  # anchored on 29 February: once in four years
    assert occurrences_before(leap_days, DUBLIN, utc(2000, 2, 29, 9), utc(2027, 1, 1), 2) == [utc(2024, 2, 29, 9), utc(2020, 2, 29, 9)]
    assert occurrences_before(leap_days, DUBLIN, utc(2000, 2, 29, 9), utc(2027, 1, 1), 50)[-1] == utc(2000, 2, 29, 9)


def test_occurrences_before_reaches_far_into_a_long_series_quickly() -> None:
    began = time.perf_counter()
    starts = occurrences_before("FREQ=DAILY;BYHOUR=7;BYMINUTE=0", DUBLIN, utc(1950, 1, 1), utc(2900, 1, 1), 3)
    weekly = occurrences_before("FREQ=WEEKLY;BYDAY=MO;BYHOUR=18;BYMINUTE=30", DUBLIN, utc(2000, 1, 1), utc(2040, 1, 1), 2)
    assert time.perf_counter() - began < 1  # expanding from the anchor would take several seconds
    assert starts == [utc(2899, 12, 31, 7), utc(2899, 12, 30, 7), utc(2899, 12, 29, 7)]
    assert weekly == [utc(2039, 12, 26, 18, 30), utc(2039, 12, 19, 18, 30)]


RULES = [
    SECOND_TUESDAY,
    OTHER_THURSDAY,
    "FREQ=MONTHLY;BYHOUR=18;BYMINUTE=0",  # the anchor's day of the month (the 31st: only long months)
    "FREQ=MONTHLY;INTERVAL=2;BYDAY=-1FR;BYHOUR=12;BYMINUTE=0",
    "FREQ=YEARLY;BYHOUR=9;BYMINUTE=0",  # the anchor's date (29 February: leap years only)
    "FREQ=YEARLY;INTERVAL=2;BYMONTH=3;BYDAY=1SA;BYHOUR=10;BYMINUTE=0",
    "FREQ=DAILY;INTERVAL=3;BYHOUR=1;BYMINUTE=30",
    "FREQ=DAILY;INTERVAL=3;BYDAY=MO,FR;BYHOUR=7;BYMINUTE=15",
    "FREQ=WEEKLY;INTERVAL=3;BYDAY=MO,WE",
]


@settings(database=None, deadline=None, max_examples=60)
@given(
    rule=st.sampled_from(RULES),
    zone=st.sampled_from([DUBLIN, "America/New_York", "Australia/Sydney", "UTC"]),
    anchor=st.sampled_from([utc(2020, 1, 31, 10), utc(2020, 2, 29, 23, 30), utc(2021, 3, 28, 1, 30), utc(2022, 10, 30, 1)]),
    days=st.integers(min_value=-30, max_value=3000),
    count=st.integers(min_value=1, max_value=6),
)
def test_the_series_read_backwards_and_forwards_agree_with_expanding_from_the_anchor(
    rule: str, zone: str, anchor: datetime, days: int, count: int
) -> None:
    instant = anchor + timedelta(days=days, minutes=days * 7)
    everything = occurrences(rule, zone, anchor, anchor, 600)
    assert everything == sorted(everything)
    assert everything[0] >= anchor
    later = [at for at in everything if at >= instant][:count]
    if len(later) == count:
        assert occurrences(rule, zone, anchor, instant, count) == later
    if not everything or everything[-1] >= instant:
        assert occurrences_before(rule, zone, anchor, instant, count) == [at for at in everything if at < instant][::-1][:count]
    for at in everything[:3]:
        assert is_occurrence(rule, zone, anchor, at)


def test_is_occurrence() -> None:
    anchor = utc(2024, 1, 1)
    assert is_occurrence(SECOND_TUESDAY, DUBLIN, anchor, utc(2024, 10, 8, 18))
    assert is_occurrence(SECOND_TUESDAY, DUBLIN, anchor, datetime(2024, 10, 8, 19, tzinfo=ZoneInfo(DUBLIN)))
    assert not is_occurrence(SECOND_TUESDAY, DUBLIN, anchor, utc(2024, 10, 8, 19))  # 20:00 local
    assert not is_occurrence(SECOND_TUESDAY, DUBLIN, anchor, utc(2024, 10, 15, 18))  # the third Tuesday
    assert not is_occurrence(SECOND_TUESDAY, DUBLIN, utc(2024, 10, 9), utc(2024, 10, 8, 18))  # before the anchor
    assert is_occurrence(OTHER_THURSDAY, DUBLIN, utc(2024, 1, 4, 8), utc(2024, 3, 14, 8))
    assert not is_occurrence(OTHER_THURSDAY, DUBLIN, utc(2024, 1, 4, 8), utc(2024, 3, 7, 8))  # the off week


@pytest.mark.parametrize(
    ("rule", "reason"),
    [
        ("", "empty"),
        ("FREQ=WEEKLY;BYDAY", "cannot be read"),
        ("FREQ=WEEKLY;BYDAY=XX", "cannot be read"),
        ("FREQ=WEEKLY;BYHOUR=25", "cannot be read"),
        ("FREQ=WEEKLY;FREQ=DAILY", "cannot be read"),
        ("BYDAY=MO;BYHOUR=9", "no FREQ"),
        ("FREQ=HOURLY", "more often than once a day"),
        ("FREQ=MINUTELY;INTERVAL=30", "more often than once a day"),
        ("FREQ=FORTNIGHTLY", "DAILY, WEEKLY, MONTHLY or YEARLY"),
        ("FREQ=WEEKLY;COUNT=10", "open-ended: drop COUNT"),
        ("FREQ=WEEKLY;UNTIL=20300101T000000Z", "open-ended: drop UNTIL"),
        ("DTSTART:20240101T190000\nRRULE:FREQ=WEEKLY", "without DTSTART"),
        ("FREQ=DAILY;BYHOUR=9,17", "more than one time a day"),
        ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=9;BYMINUTE=0,30", "more than one time a day"),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be at least 1"),
        ("FREQ=WEEKLY;BYEASTER=0", "parts we do not use: BYEASTER"),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "never meets"),
        ("FREQ=DAILY;BYMONTH=4;BYMONTHDAY=31", "never meets"),
    ],
)
def test_check_rrule_refuses_with_a_reason(rule: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_rrule(rule)


@pytest.mark.parametrize(
    "rule",
    [SECOND_TUESDAY, OTHER_THURSDAY, "RRULE:FREQ=WEEKLY;BYDAY=MO", "FREQ=DAILY", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=9"],
)
def test_check_rrule_accepts_open_ended_series(rule: str) -> None:
    check_rrule(rule)


def test_a_series_that_can_never_meet_from_its_anchor_has_no_occurrences_and_says_so_quickly() -> None:
    rule = "FREQ=DAILY;INTERVAL=7;BYDAY=MO"  # every seventh day from a Tuesday is always a Tuesday
    began = time.perf_counter()
    assert occurrences(rule, DUBLIN, utc(2024, 1, 2, 9), utc(2024, 1, 1), 3) == []
    assert occurrences_before(rule, DUBLIN, utc(2024, 1, 2, 9), utc(2030, 1, 1), 3) == []
    assert time.perf_counter() - began < 1


def test_instants_must_be_aware_and_zones_real() -> None:
    with pytest.raises(ValueError, match="anchor must be an aware datetime"):
        occurrences(SECOND_TUESDAY, DUBLIN, datetime(2024, 1, 1), utc(2024, 1, 1), 1)
    with pytest.raises(ValueError, match="after must be an aware datetime"):
        occurrences(SECOND_TUESDAY, DUBLIN, utc(2024, 1, 1), datetime(2024, 1, 1), 1)
    with pytest.raises(ValueError, match="unknown time zone 'Europe/Atlantis'"):
        occurrences(SECOND_TUESDAY, "Europe/Atlantis", utc(2024, 1, 1), utc(2024, 1, 1), 1)
    with pytest.raises(ValueError, match="more often than once a day"):
        occurrences("FREQ=HOURLY", DUBLIN, utc(2024, 1, 1), utc(2024, 1, 1), 1)


@pytest.mark.parametrize(
    ("rule", "anchor", "expected"),
    [
        (SECOND_TUESDAY, utc(2024, 1, 1), "second Tuesday of the month at 19:00 (Europe/Dublin)"),
        (OTHER_THURSDAY, utc(2024, 1, 4), "every other Thursday at 08:00 (Europe/Dublin)"),
        ("FREQ=WEEKLY;BYDAY=MO;BYHOUR=18;BYMINUTE=30", utc(2024, 1, 1), "every Monday at 18:30 (Europe/Dublin)"),
        ("FREQ=WEEKLY", utc(2024, 7, 3, 17, 45), "every Wednesday at 18:45 (Europe/Dublin)"),  # day and time from the anchor
        ("FREQ=WEEKLY;BYDAY=TH,MO;BYHOUR=7;BYMINUTE=5", utc(2024, 1, 1), "every Monday and Thursday at 07:05 (Europe/Dublin)"),
        ("FREQ=WEEKLY;INTERVAL=3;BYDAY=FR;BYHOUR=12", utc(2024, 1, 1), "every 3 weeks on Friday at 12:00 (Europe/Dublin)"),
        ("FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=12;BYMINUTE=0", utc(2024, 1, 1), "last Friday of the month at 12:00 (Europe/Dublin)"),
        ("FREQ=MONTHLY;BYDAY=WE;BYSETPOS=1;BYHOUR=9", utc(2024, 1, 1), "first Wednesday of the month at 09:00 (Europe/Dublin)"),
        ("FREQ=MONTHLY;INTERVAL=2;BYDAY=3TH;BYHOUR=9", utc(2024, 1, 1), "third Thursday of every other month at 09:00 (Europe/Dublin)"),
        ("FREQ=MONTHLY;INTERVAL=3;BYMONTHDAY=15;BYHOUR=9", utc(2024, 1, 1), "the 15th of every 3 months at 09:00 (Europe/Dublin)"),
        ("FREQ=MONTHLY;BYHOUR=9", utc(2024, 1, 22), "the 22nd of the month at 09:00 (Europe/Dublin)"),
        ("FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9", utc(2024, 1, 1), "the last day of the month at 09:00 (Europe/Dublin)"),
        ("FREQ=DAILY;BYHOUR=7;BYMINUTE=0", utc(2024, 1, 1), "every day at 07:00 (Europe/Dublin)"),
        ("FREQ=DAILY;INTERVAL=2;BYHOUR=7", utc(2024, 1, 1), "every other day at 07:00 (Europe/Dublin)"),
        ("FREQ=DAILY;INTERVAL=10;BYHOUR=7", utc(2024, 1, 1), "every 10 days at 07:00 (Europe/Dublin)"),
        ("FREQ=YEARLY;BYMONTH=3;BYMONTHDAY=14;BYHOUR=19", utc(2024, 1, 1), "every year on 14 March at 19:00 (Europe/Dublin)"),
        ("FREQ=WEEKLY;BYDAY=1MO;BYHOUR=9", utc(2024, 1, 1), "meets by the rule FREQ=WEEKLY;BYDAY=1MO;BYHOUR=9 at 09:00 (Europe/Dublin)"),
        ("FREQ=MONTHLY;BYDAY=TU;BYHOUR=9", utc(2024, 1, 1), "meets by the rule FREQ=MONTHLY;BYDAY=TU;BYHOUR=9 at 09:00 (Europe/Dublin)"),
        (
            "FREQ=MONTHLY;BYMONTHDAY=-2;BYHOUR=9",
            utc(2024, 1, 1),
            "meets by the rule FREQ=MONTHLY;BYMONTHDAY=-2;BYHOUR=9 at 09:00 (Europe/Dublin)",
        ),
        (
            "FREQ=MONTHLY;BYMONTH=1,7;BYMONTHDAY=1;BYHOUR=9",
            utc(2024, 1, 1),
            "meets by the rule FREQ=MONTHLY;BYMONTH=1,7;BYMONTHDAY=1;BYHOUR=9 at 09:00 (Europe/Dublin)",
        ),
        (
            "freq=yearly;bymonth=12;bymonthday=-1;byhour=9;",
            utc(2024, 1, 1),
            "meets by the rule FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=-1;BYHOUR=9 at 09:00 (Europe/Dublin)",
        ),
        (
            "FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=2;BYHOUR=9",
            utc(2024, 1, 1),
            "meets by the rule FREQ=MONTHLY;BYDAY=MO,TU;BYSETPOS=2;BYHOUR=9 at 09:00 (Europe/Dublin)",
        ),
    ],
)
def test_describe_rhythm(rule: str, anchor: datetime, expected: str) -> None:
    assert describe_rhythm(rule, DUBLIN, anchor) == expected


# ------------------------------------------------------------------ the agenda


def at(hour: int, minute: int) -> datetime:
    return datetime(2024, 10, 8, hour, minute, tzinfo=ZoneInfo(DUBLIN))


def test_the_agenda_gives_each_item_concrete_local_times_and_presenters_in_order() -> None:
    items = agenda(CASE_SLOTS_80, at(19, 0), ["ann", "bob"])
    assert [(i.title, i.kind, i.starts_at, i.ends_at, i.presenter) for i in items] == [
        ("Arrival round", "plain", at(19, 0), at(19, 10), None),
        ("Case 1", "case", at(19, 10), at(19, 30), "ann"),
        ("Case 2", "case", at(19, 30), at(19, 50), "bob"),
        ("Case 3", "case", at(19, 50), at(20, 10), None),  # an open slot
        ("Admin", "plain", at(20, 10), at(20, 15), None),
        ("Close", "plain", at(20, 15), at(20, 20), None),
    ]
    assert all(i.starts_at.tzinfo == ZoneInfo(DUBLIN) for i in items)


def test_the_agenda_times_the_steps_inside_each_case() -> None:
    fmt = preset("sgsm", 150)
    items = agenda(fmt, at(18, 30), ["ann", "bob"])
    assert [i.title for i in items] == ["Arrival", "Case 1", "Case 2", "Close"]
    for item in items[1:3]:
        assert item.steps[0][1] == item.starts_at
        assert item.steps[-1][2] == item.ends_at
        assert all(a[2] == b[1] for a, b in zip(item.steps, item.steps[1:], strict=False))
    assert items[1].steps[0] == ("Request for assistance", at(18, 35), at(18, 41))
    assert items[2].starts_at == at(19, 45)
    assert items[-1].ends_at == at(21, 0)


def test_a_single_case_keeps_its_title_and_the_agenda_carries_the_perspectives() -> None:
    fmt = preset("borders", 60)
    roles = Roles(meeting={"moderator": "cat"}, cases=({"the client": "bob", "the counsellor": "cat"},))
    items = agenda(fmt, at(19, 0), ["ann"], roles)
    case = items[1]
    assert (case.title, case.presenter, case.roles) == ("Case", "ann", {"the client": "bob", "the counsellor": "cat"})
    open_slot = agenda(fmt, at(19, 0), [None])[1]
    assert open_slot == AgendaItem(at(19, 5), at(19, 55), "Case", "case", None, {}, case.steps)


def test_an_agenda_across_the_clock_change_lasts_as_long_as_its_format() -> None:
    start = datetime(2024, 10, 27, 1, 0, tzinfo=ZoneInfo(DUBLIN))  # 01:00 IST; at 02:00 IST it is 01:00 GMT again
    items = agenda(CASE_SLOTS_80, start, [])
    assert items[-1].ends_at.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=80)
    assert (items[-1].ends_at.hour, items[-1].ends_at.minute, items[-1].ends_at.utcoffset()) == (1, 20, timedelta(0))  # 01:20 GMT


def test_the_agenda_leaves_out_presenters_beyond_the_slots_and_refuses_a_naive_start() -> None:
    items = agenda(CASE_SLOTS_80, at(19, 0), ["a", "b", "c", "d"])  # e.g. a meeting held before the format changed
    assert [i.presenter for i in items if i.kind == "case"] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="aware"):
        agenda(CASE_SLOTS_80, datetime(2024, 10, 8, 19), [])
