"""Fair turns in a peer group (shared.domain.groups): the rotation of venues and hosts, presentations, roles."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Set as AbstractSet
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.domain.groups import (
    Format,
    RotationState,
    Segment,
    Stop,
    Tally,
    assign_roles,
    choose_presenters,
    next_stop,
    plan_presenters,
    plan_stops,
    presented,
    preset,
)

NOBODY: frozenset[str] = frozenset()
START = datetime(2024, 1, 9, 19, tzinfo=UTC)
MEMBERS = [f"m{i}" for i in range(7)]


def meeting(n: int) -> datetime:
    return START + timedelta(days=28 * n)


def counts(plan: list[list[str]], members: list[str]) -> Counter[str]:
    tally = Counter(dict.fromkeys(members, 0))
    tally.update(m for chosen in plan for m in chosen)
    return tally


# ------------------------------------------------------------------ rotation of venues/hosts

ABC = [Stop("Ann's room", "ann"), Stop("Bob's room", "bob"), Stop("Cat's room", "cat")]


def test_a_stop_skipped_for_an_absent_host_is_served_next_and_the_rotation_continues() -> None:
    chosen, state = plan_stops(ABC, RotationState(), [NOBODY, {"bob"}, NOBODY, NOBODY, NOBODY, NOBODY])
    assert chosen == [0, 2, 1, 0, 1, 2]  # A; B away so C; B (owed); then A, B, C as before
    assert state == RotationState(position=0, owed=())


def test_next_stop_owes_the_skipped_stop_and_serves_it_first_when_available() -> None:
    index, state = next_stop(ABC, RotationState(position=1), {"bob"})
    assert (index, state) == (2, RotationState(position=0, owed=(1,)))
    index, state = next_stop(ABC, state, {"bob"})  # still away: the rotation goes on, bob stays owed
    assert (index, state) == (0, RotationState(position=1, owed=(1,)))
    index, state = next_stop(ABC, state, {"bob"})  # skipped again: owed twice
    assert (index, state) == (2, RotationState(position=0, owed=(1, 1)))
    index, state = next_stop(ABC, state, NOBODY)
    assert (index, state) == (1, RotationState(position=0, owed=(1,)))


def test_owed_stops_are_served_oldest_first() -> None:
    index, state = next_stop(ABC, RotationState(position=0, owed=(2, 1)), NOBODY)
    assert (index, state) == (2, RotationState(position=0, owed=(1,)))
    index, state = next_stop(ABC, RotationState(position=0, owed=(2, 1)), {"cat"})  # the oldest is away: the next owed
    assert (index, state) == (1, RotationState(position=0, owed=(2,)))


def test_no_stop_available_gives_none_and_keeps_the_state() -> None:
    state = RotationState(position=2, owed=(1,))
    assert next_stop(ABC, state, {"ann", "bob", "cat"}) == (None, state)
    assert next_stop([], state, NOBODY) == (None, RotationState())
    chosen, after = plan_stops(ABC, RotationState(), [{"ann", "bob", "cat"}, NOBODY])
    assert (chosen, after) == ([None, 0], RotationState(position=1))


def test_a_stop_without_a_host_is_always_available() -> None:
    stops = [Stop("the clinic"), Stop(host="bob")]
    chosen, _ = plan_stops(stops, RotationState(), [{"bob"}, {"bob"}, {"bob"}])
    assert chosen == [0, 0, 0]


def test_a_state_from_a_longer_rotation_is_read_safely() -> None:
    assert next_stop(ABC, RotationState(position=7, owed=(5, 2)), NOBODY) == (2, RotationState(position=1, owed=()))


def test_over_a_long_run_each_stop_gets_its_turns() -> None:
    rng = random.Random(7)
    hosts = ["ann", "bob", "cat", "dan"]
    stops = [Stop(host=h) for h in hosts]
    away = [frozenset(h for h in hosts if rng.random() < 0.2) for _ in range(120)] + [NOBODY] * 12
    chosen, state = plan_stops(stops, RotationState(), away)
    turns = Counter(chosen)
    assert state.owed == ()
    assert None not in turns or turns[None] == sum(1 for a in away if len(a) == len(hosts))
    assert max(turns[i] for i in range(4)) - min(turns[i] for i in range(4)) <= 1


@settings(database=None, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=5),
    away=st.lists(st.frozensets(st.sampled_from(["h0", "h1", "h2", "h3", "h4"])), max_size=40),
    hostless=st.sets(st.integers(min_value=0, max_value=4)),
)
def test_the_rotation_continues_fairly_whoever_is_away(size: int, away: list[frozenset[str]], hostless: set[int]) -> None:
    stops = [Stop(venue=f"v{i}", host=None if i in hostless else f"h{i}") for i in range(size)]
    state = RotationState()
    turns = [0] * size
    for unavailable in away:
        index, state = next_stop(stops, state, unavailable)
        if index is None:
            assert all(s.host in unavailable for s in stops)
            continue
        assert stops[index].host not in unavailable
        turns[index] += 1
        # every time the rotation passes a stop it either hosts or is owed a turn, so these stay level
        entitled = [turns[i] + state.owed.count(i) for i in range(size)]
        assert max(entitled) - min(entitled) <= 1
    owed = len(state.owed)
    chosen, state = plan_stops(stops, state, [NOBODY] * owed)  # once everyone is back, the debts are paid at once
    for index in chosen:
        assert index is not None
        turns[index] += 1
    assert state.owed == ()
    assert max(turns) - min(turns) <= 1


# ------------------------------------------------------------------ fair speaking time


def test_fewest_presentations_go_first_then_longest_ago_then_joined_earlier_then_id() -> None:
    tallies = [
        Tally("amy", count=2, last_at=meeting(1)),
        Tally("ben", count=1, last_at=meeting(3)),
        Tally("cai", count=1, last_at=meeting(2)),
        Tally("dee", count=1, last_at=None, since=meeting(2)),
        Tally("eve", count=1, last_at=None, since=meeting(1)),
        Tally("fay", count=1, last_at=None, since=meeting(1)),
    ]
    assert choose_presenters(tallies, 6) == ["eve", "fay", "dee", "cai", "ben", "amy"]
    assert choose_presenters(tallies, 2) == ["eve", "fay"]
    assert choose_presenters(tallies, 0) == []
    assert choose_presenters([Tally("new"), Tally("old", since=meeting(0))], 2) == ["new", "old"]  # unknown join: earliest


def test_requests_come_first_and_the_excluded_never_present() -> None:
    tallies = [Tally("amy", 5, meeting(2)), Tally("ben", 3, meeting(1)), Tally("cai"), Tally("dee")]
    assert choose_presenters(tallies, 2, requested={"amy", "ben"}) == ["ben", "amy"]
    assert choose_presenters(tallies, 2, requested={"amy"}) == ["amy", "cai"]
    assert choose_presenters(tallies, 3, requested={"cai"}, excluded={"cai", "dee"}) == ["ben", "amy"]  # fewer than slots
    assert choose_presenters(tallies, 2, excluded={"amy", "ben", "cai", "dee"}) == []


def test_presented_counts_the_meeting_and_adds_a_member_without_a_tally() -> None:
    tallies = [Tally("amy", 1, meeting(0)), Tally("ben")]
    after = presented(tallies, ["ben", "zoe"], meeting(1))
    assert after == [Tally("amy", 1, meeting(0)), Tally("ben", 1, meeting(1)), Tally("zoe", 1, meeting(1), meeting(1))]
    with pytest.raises(ValueError, match="aware"):
        presented(tallies, ["ben"], datetime(2024, 1, 1))


def test_a_meeting_plan_rotates_through_everyone() -> None:
    plan = plan_presenters([Tally(m) for m in MEMBERS], 3, [(meeting(n), NOBODY, NOBODY) for n in range(7)])
    assert plan[:3] == [["m0", "m1", "m2"], ["m3", "m4", "m5"], ["m6", "m0", "m1"]]
    assert set(counts(plan, MEMBERS).values()) == {3}


def test_a_request_jumps_the_queue_and_is_then_counted() -> None:
    meetings = [(meeting(0), frozenset({"m6"}), NOBODY), (meeting(1), NOBODY, NOBODY)]
    plan = plan_presenters([Tally(m) for m in MEMBERS], 3, meetings)
    assert plan == [["m6", "m0", "m1"], ["m2", "m3", "m4"]]


def absences_strategy(most: int = 4) -> st.SearchStrategy[list[frozenset[str]]]:
    return st.lists(st.frozensets(st.sampled_from(MEMBERS), max_size=most), min_size=12, max_size=12)


def run(excluded: list[frozenset[str]], joined: list[int] | None = None) -> tuple[list[list[str]], Counter[str]]:
    tallies = [Tally(m, since=None if joined is None else meeting(-joined[i])) for i, m in enumerate(MEMBERS)]
    plan = plan_presenters(tallies, 3, [(meeting(n), NOBODY, excluded[n]) for n in range(12)])
    return plan, counts(plan, MEMBERS)


@settings(database=None, deadline=None)
@given(joined=st.lists(st.integers(min_value=0, max_value=50), min_size=7, max_size=7))
def test_with_no_absences_seven_members_share_three_slots_within_one_turn(joined: list[int]) -> None:
    plan, tally = run([NOBODY] * 12, joined)
    assert all(len(chosen) == 3 == len(set(chosen)) for chosen in plan)
    assert max(tally.values()) - min(tally.values()) <= 1
    assert sum(tally.values()) == 36


@settings(database=None, deadline=None)
@given(excluded=absences_strategy())
def test_a_member_falls_behind_only_by_the_meetings_they_missed(excluded: list[frozenset[str]]) -> None:
    plan, tally = run(excluded)
    missed = Counter(m for away in excluded for m in away)
    for chosen, away in zip(plan, excluded, strict=True):
        assert len(chosen) == 3  # at most 4 of 7 away: the slots are always filled
        assert not set(chosen) & away
    for a in MEMBERS:
        for b in MEMBERS:
            assert tally[a] - tally[b] <= 1 + missed[b], (a, b, tally, missed)
    assert max(tally.values()) - min(tally.values()) <= 1 + max(missed.values(), default=0)


@settings(database=None, deadline=None)
@given(data=st.data())
def test_one_missed_meeting_each_is_made_up_within_two_full_meetings(data: st.DataObject) -> None:
    # Nobody misses more than one meeting, and nobody the last two: the counts end level again.
    # (Every member is then at most two behind any other, and two full meetings close any such gap of 3 slots in 7.)
    when = data.draw(st.lists(st.none() | st.integers(min_value=0, max_value=9), min_size=7, max_size=7))
    excluded = [frozenset(m for m, n in zip(MEMBERS, when, strict=True) if n == meeting_no) for meeting_no in range(12)]
    if any(len(away) > 4 for away in excluded):
        return
    _, tally = run(excluded)
    assert max(tally.values()) - min(tally.values()) <= 1


def test_one_full_meeting_after_an_absence_is_not_always_enough() -> None:
    # Why the property above waits two meetings: here m0 misses meeting 7 and four miss meeting 10.
    excluded = [NOBODY] * 12
    excluded[7] = frozenset({"m0"})
    excluded[10] = frozenset({"m3", "m4", "m5", "m6"})
    _, tally = run(excluded)
    assert max(tally.values()) - min(tally.values()) == 2


@settings(database=None, deadline=None)
@given(
    excluded=absences_strategy(),
    requested=st.lists(st.frozensets(st.sampled_from(MEMBERS), max_size=3), min_size=12, max_size=12),
    seed=st.integers(min_value=0, max_value=1000),
)
def test_requests_first_excluded_never_and_the_same_answer_whatever_the_order(
    excluded: list[frozenset[str]], requested: list[frozenset[str]], seed: int
) -> None:
    tallies = [Tally(m) for m in MEMBERS]
    shuffled = tallies[:]
    random.Random(seed).shuffle(shuffled)
    meetings: list[tuple[datetime, AbstractSet[str], AbstractSet[str]]] = [(meeting(n), requested[n], excluded[n]) for n in range(12)]
    plan = plan_presenters(tallies, 3, meetings)
    assert plan == plan_presenters(shuffled, 3, meetings) == plan_presenters(tallies, 3, meetings)
    for chosen, asked, away in zip(plan, requested, excluded, strict=True):
        assert not set(chosen) & away
        wanted = asked - away
        assert set(chosen[: len(wanted)]) == wanted  # every eligible request is met, before anyone else


# ------------------------------------------------------------------ roles

PEOPLE = ["ann", "bob", "cat", "dan", "eve"]


def test_nobody_holds_a_perspective_on_their_own_case() -> None:
    fmt = preset("borders", 120)  # two cases, four perspectives each, and a moderator
    roles = assign_roles(fmt, ["ann", "bob"], PEOPLE, {})
    assert roles.meeting == {"moderator": "cat"}  # not a presenter
    first, second = roles.cases
    assert set(first) == set(second) == {"the client", "the counsellor", "a theoretical lens", "a metaphor"}
    assert "ann" not in first.values()
    assert "bob" not in second.values()
    assert len(set(first.values())) == len(set(second.values())) == 4  # one perspective each per case
    assert "bob" in first.values()  # presenting later is no reason to sit out


@settings(database=None, deadline=None)
@given(
    presenters=st.lists(st.none() | st.sampled_from(PEOPLE), min_size=0, max_size=2),
    attendees=st.lists(st.sampled_from(PEOPLE), min_size=0, max_size=7),
    held=st.dictionaries(
        st.sampled_from(PEOPLE), st.dictionaries(st.sampled_from(["moderator", "the client", "a metaphor"]), st.integers(0, 5))
    ),
)
def test_roles_never_put_a_presenter_on_their_own_case(
    presenters: list[str | None], attendees: list[str], held: dict[str, dict[str, int]]
) -> None:
    fmt = preset("borders", 120)
    roles = assign_roles(fmt, presenters, attendees, held)
    assert roles == assign_roles(fmt, presenters, attendees, held)
    assert len(roles.cases) == 2
    everyone = set(attendees)
    for index, perspectives in enumerate(roles.cases):
        presenter = presenters[index] if index < len(presenters) else None
        if presenter is None:
            assert perspectives == {}  # an open slot has no case to look at
            continue
        assert presenter not in perspectives.values()
        assert len(set(perspectives.values())) == len(perspectives)
        assert set(perspectives.values()) <= everyone
        assert len(perspectives) == min(4, len(everyone - {presenter}))
    moderator = roles.meeting.get("moderator")
    assert (moderator is None) == (not attendees)
    if moderator is not None and everyone - set(presenters):
        assert moderator not in presenters


def test_a_role_with_nobody_left_stays_unassigned() -> None:
    fmt = preset("borders", 60)
    roles = assign_roles(fmt, ["ann"], ["ann", "bob", "cat"], {})
    assert roles.meeting == {"moderator": "bob"}
    assert roles.cases == ({"the client": "cat", "the counsellor": "bob"},)  # two of four: nobody else is there
    assert assign_roles(fmt, [None], [], {}).meeting == {}
    assert assign_roles(fmt, ["ann"], ["ann"], {}).meeting == {"moderator": "ann"}  # a presenter only when nobody else is left


def test_fewest_held_first_then_fewest_roles_this_meeting_then_fewest_roles_overall_then_attendee_order() -> None:
    fmt = Format((Segment("Check-in", 30),), roles=("moderator", "timekeeper"))
    held = {"ann": {"moderator": 3, "timekeeper": 0}, "bob": {"moderator": 1}, "cat": {"moderator": 1}}
    roles = assign_roles(fmt, [], ["ann", "bob", "cat"], held)
    assert roles.meeting == {"moderator": "bob", "timekeeper": "cat"}  # cat has held fewer roles than ann
    assert assign_roles(fmt, [], ["ann", "bob", "cat"], {}).meeting == {"moderator": "ann", "timekeeper": "bob"}
    # two meeting roles go to two people while there are two people to take them
    held = {"ann": {"moderator": 0, "timekeeper": 0}, "bob": {"timekeeper": 4}, "cat": {"timekeeper": 4}}
    assert assign_roles(fmt, [], ["ann", "bob", "cat"], held).meeting == {"moderator": "ann", "timekeeper": "bob"}
    assert assign_roles(fmt, [], ["ann"], {}).meeting == {"moderator": "ann", "timekeeper": "ann"}


def test_assign_roles_refuses_more_presenters_than_slots() -> None:
    with pytest.raises(ValueError, match="3 presenters for 2 case slots"):
        assign_roles(preset("borders", 120), ["ann", "bob", "cat"], PEOPLE, {})


def hold(held: dict[str, dict[str, int]], meeting_roles: dict[str, str]) -> None:
    for role, member in meeting_roles.items():
        held.setdefault(member, {})
        held[member][role] = held[member].get(role, 0) + 1


@pytest.mark.parametrize("size", range(2, 9))
def test_the_moderator_and_timekeeper_rotate_across_members(size: int) -> None:
    fmt = Format((Segment("Check-in", 30), Segment("Discussion", 60)), roles=("moderator", "timekeeper"))
    people = [f"m{i}" for i in range(size)]
    held: dict[str, dict[str, int]] = {}
    for _ in range(3 * size + 1):
        roles = assign_roles(fmt, [], people, held)
        assert roles.meeting["moderator"] != roles.meeting["timekeeper"]
        hold(held, roles.meeting)
        for role in fmt.roles:
            times = [held.get(m, {}).get(role, 0) for m in people]
            assert max(times) - min(times) <= 1, (role, times)


@pytest.mark.parametrize("size", range(3, 9))
@pytest.mark.parametrize("slots", [1, 2])
def test_with_presenters_sitting_out_the_meeting_roles_lag_by_one_turn_at_most(size: int, slots: int) -> None:
    # A presenter never moderates, so whoever is due may have to wait a meeting: never longer.
    fmt = preset("sgsm", 70 * slots, slots)
    people = [f"m{i}" for i in range(size)]
    tallies = [Tally(m) for m in people]
    held: dict[str, dict[str, int]] = {}
    for n in range(40):
        chosen = choose_presenters(tallies, slots)
        roles = assign_roles(fmt, chosen, people, held)
        hold(held, roles.meeting)
        tallies = presented(tallies, chosen, meeting(n))
        for role in fmt.roles:
            times = [held.get(m, {}).get(role, 0) for m in people]
            assert max(times) - min(times) <= 2, (n, role, times)


def test_the_moderator_rotates_alongside_the_presenters_and_never_moderates_their_own_case() -> None:
    fmt = preset("sgsm", 90)  # one case a meeting
    tallies = [Tally(m) for m in PEOPLE]
    held: dict[str, dict[str, int]] = {}
    for n in range(10):
        chosen = choose_presenters(tallies, fmt.case_slots)
        roles = assign_roles(fmt, chosen, PEOPLE, held)
        assert roles.meeting["moderator"] not in chosen
        assert roles.meeting["timekeeper"] not in [*chosen, roles.meeting["moderator"]]
        hold(held, roles.meeting)
        tallies = presented(tallies, chosen, meeting(n))
    assert [held[m]["moderator"] for m in PEOPLE] == [2, 2, 2, 2, 2]
