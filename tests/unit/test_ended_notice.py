"""The one notice that a pact has ended: when a text may go, and what it says."""

from __future__ import annotations

from datetime import UTC, datetime, time

from shared.domain import sms
from shared.domain.sms import QuietHours

DUBLIN = "Europe/Dublin"


def test_a_notice_text_waits_for_the_nudge_hour_and_skips_quiet_days_and_hours() -> None:
    # GIVEN a pact that ended on Friday 4 December 2026 at 22:30 Dublin time (after 21:00: no text that day)
    ended = datetime(2026, 12, 4, 22, 30, tzinfo=UTC)
    # Saturday is a quiet day; Sunday 09:00-12:00 the member sees clients
    quiet = [QuietHours(6, time(9), time(12))]
    at = sms.notice_at(ended, DUBLIN, 9, frozenset({5}), quiet)
    # THEN the text goes on Sunday at 12:00, when the quiet hours end
    assert at == datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def test_a_notice_text_goes_at_once_inside_the_window_and_in_the_members_zone_across_dst() -> None:
    # Sydney in its first week of daylight saving (4 October 2026): 10:15 local is 23:15 UTC the day before
    ended = datetime(2026, 10, 4, 23, 15, tzinfo=UTC)
    assert sms.notice_at(ended, "Australia/Sydney", 9, frozenset(), []) == ended
    # New York's fall-back Sunday: an end at 07:30 local waits for 09:00 local (14:00 UTC after the change)
    assert sms.notice_at(datetime(2026, 11, 1, 12, 30, tzinfo=UTC), "America/New_York", 9, frozenset(), []) == datetime(
        2026, 11, 1, 14, 0, tzinfo=UTC
    )


def test_every_day_quiet_means_no_text() -> None:
    assert sms.notice_at(datetime(2026, 12, 4, 10, tzinfo=UTC), DUBLIN, 9, frozenset(range(7)), []) is None


def test_the_ended_text_is_one_gsm7_segment_and_names_nobody_after_an_erasure() -> None:
    for name in ("Ann", "Łucja Żółtowska-Brzęczyszczykiewicz " * 4, "Αθηνά"):
        text = sms.ended_message(name)
        assert len(text) <= 160
        assert sms.is_gsm7(text)
    assert "Ann" in sms.ended_message("Ann")
    erased = sms.ended_message(None)
    assert "closed their account" in erased
    assert len(erased) <= 160
