"""When the weekly digest goes: pure planning on an in-memory profile (no table)."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.adapters.models import Member
from shared.digest import planning
from shared.network.support.standing import ago
from shared.network.support.use_cases import summary


def profile(**fields: object) -> Member:
    base: dict[str, object] = {"display_name": "Ann", "email": "ann@example.org", "time_zone": "Europe/Dublin", "nudge_hour": 9}
    return Member("MEMBER#ann", "PROFILE", **{**base, **fields})


def test_the_first_weekday_that_is_not_quiet_at_the_nudge_hour() -> None:
    tuesday = datetime(2026, 12, 1, 9, tzinfo=UTC)
    assert planning.next_slot(profile(), tuesday) == datetime(2026, 12, 7, 9, tzinfo=UTC)
    assert planning.next_slot(profile(quiet_days={0, 1}), tuesday) == datetime(2026, 12, 2, 9, tzinfo=UTC)
    # Summer time: 09:00 in Dublin is 08:00 UTC.
    assert planning.next_slot(profile(), datetime(2026, 6, 2, 9, tzinfo=UTC)) == datetime(2026, 6, 8, 8, tzinfo=UTC)


def test_never_twice_in_a_week_and_never_when_unwanted() -> None:
    monday_early = datetime(2026, 12, 7, 8, tzinfo=UTC)
    sent_this_week = profile(digest_week="2026-W50")
    assert planning.next_slot(sent_this_week, monday_early) == datetime(2026, 12, 14, 9, tzinfo=UTC)
    assert planning.next_slot(profile(weekly_digest=False), monday_early) is None
    assert planning.next_slot(profile(nudges_unsubscribed=True), monday_early) is None
    assert planning.next_slot(profile(email_suppressed="bounce"), monday_early) is None
    assert planning.next_slot(profile(quiet_days={0, 1, 2, 3, 4}), monday_early) is None


def test_plan_sets_a_stable_shard_or_clears_the_due() -> None:
    member = profile()
    planning.plan(member, datetime(2026, 12, 1, 9, tzinfo=UTC), 8)
    assert member.digest_due == "2026-12-07T09:00:00Z"
    assert member.digest_shard is not None
    assert member.digest_shard.startswith("DUE#")
    member.weekly_digest = False
    planning.plan(member, datetime(2026, 12, 1, 9, tzinfo=UTC), 8)
    assert member.digest_due is None
    assert member.digest_shard is None


def test_week_keys_are_iso_weeks_in_the_members_zone() -> None:
    # Sunday 23:30 UTC is already Monday in Auckland.
    assert planning.week_of(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), "UTC") == "2026-W49"
    assert planning.week_of(datetime(2026, 12, 6, 23, 30, tzinfo=UTC), "Pacific/Auckland") == "2026-W50"


def test_the_summary_in_plain_words() -> None:
    now = datetime(2026, 12, 1, 12, tzinfo=UTC)
    lapsed = [("Evelyn", datetime(2026, 11, 10, tzinfo=UTC))]
    assert (
        summary(["Bob", "Dan"], 0, lapsed, now, now)
        == "You've talked with 2 colleagues this month; contact with Evelyn lapsed 3 weeks ago."
    )
    assert summary([], 0, [], datetime(2026, 10, 1, tzinfo=UTC), now) == (
        "You haven't talked with a colleague this month; your last contact was 2 months ago."
    )
    assert ago(datetime(2026, 11, 30, 12, tzinfo=UTC), now) == "yesterday"
    assert ago(datetime(2026, 11, 26, 12, tzinfo=UTC), now) == "5 days ago"
