"""The habit on moto: reminders before slots while establishing, once; established after six; back after two lapses."""

from __future__ import annotations

import os
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from moto.sns.models import sns_backends

from infra import cfn
from infra.lambdas import invoke
from infra.local.stack import scheduled_event
from shared.adapters.models import PactView
from shared.domain.sms import is_gsm7
from shared.pacts.planning import NUDGE_ATTRIBUTES, view_actions
from tests.helpers import call, member, pact
from tests.integration.invite_harness import World, is_outbox
from tests.integration.nudge_harness import Mail, NudgeHarness

ANN, BOB = "ann@example.org", "bob@example.org"
SWEEP = next(s for s in cfn.schedules() if s.function == "HabitSweepFunction")
START = datetime(2026, 12, 1, 9, tzinfo=UTC)  # a Tuesday; slots Tuesdays 08:30 Dublin (= UTC in winter) from 8 December
SLOT = {"rhythm": {"weekday": "tuesday", "time": "08:30"}}
FIRST_SLOT = datetime(2026, 12, 8, 8, 30, tzinfo=UTC)
WEEK = timedelta(weeks=1)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def sweep(moment: datetime) -> dict:
    return dict(invoke("HabitSweepFunction", scheduled_event(SWEEP, moment)))


def texts() -> list[tuple[str, str]]:
    return list(sns_backends["123456789012"]["eu-west-1"].sms_messages.values())


def mails_since(before: int) -> list[Mail]:
    return NudgeHarness.sent()[before:]


def check_in(pact_id: str, occurred: datetime, email: str = ANN) -> None:
    reply = call("POST", f"/pacts/{pact_id}/check-ins", email=email, body={"occurred_at": occurred.isoformat()}, now=occurred)
    assert reply.status in (200, 201), reply.body


def establishment(pact_id: str, now: datetime, email: str = ANN) -> dict:
    return dict(call("GET", f"/pacts/{pact_id}", email=email, now=now).json()["establishment"])


@pytest.fixture
def mail(aws) -> NudgeHarness:
    return NudgeHarness()  # SES identity and configuration set, as the stack has them


@pytest.fixture
def pair(mail) -> str:
    member(ANN, "Ann")
    member(BOB, "Bob")
    return str(pact(ANN, BOB, now=START, **SLOT)["id"])


def test_a_new_pact_is_establishing_nought_of_six(pair) -> None:
    got = call("GET", f"/pacts/{pair}", now=START).json()
    assert got["establishment"] == {"state": "establishing", "kept": 0, "of": 6}
    assert got["slot_reminders"] is True
    listed = call("GET", "/pacts", email=BOB, now=START).json()["items"]
    assert listed[0]["establishment"] == {"state": "establishing", "kept": 0, "of": 6}


def test_each_party_gets_one_reminder_before_the_slot_even_when_swept_twice(pair) -> None:
    before = len(NudgeHarness.sent())
    assert sweep(at("2026-12-07T08:45:00"))["reminders"] == 0  # not yet: the day before at their nudge hour (09:00)
    # The slot is at 08:30, before the nudge hour on its own day: the reminder comes the day before at 09:00.
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 2
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 0  # the same scheduled event again
    assert sweep(at("2026-12-07T09:15:00"))["reminders"] == 0
    sent = mails_since(before)
    assert sorted(m.to for m in sent) == [ANN, BOB]
    to_ann = next(m for m in sent if m.to == ANN)
    assert to_ann.subject == "Reminder: your call with Bob, tomorrow at 08:30"
    assert "Tuesday 8 December at 08:30" in to_ann.text
    assert "You have kept 0 of 6 in a row so far" in to_ann.text
    assert to_ann.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The next slot gets its own reminder, a week later
    assert sweep(at("2026-12-14T09:00:00"))["reminders"] == 2


def test_a_slot_kept_early_gets_no_reminder_and_counts(pair) -> None:
    sweep(at("2026-12-07T09:00:00"))
    check_in(pair, at("2026-12-08T08:40:00"))
    assert establishment(pair, at("2026-12-08T09:00:00")) == {"state": "establishing", "kept": 1, "of": 6}
    # A call a day early keeps the next week's slot: no reminder before it.
    check_in(pair, at("2026-12-14T08:00:00"), email=BOB)
    assert sweep(at("2026-12-14T09:00:00"))["reminders"] == 0
    assert establishment(pair, at("2026-12-14T09:00:00"), email=BOB)["kept"] == 2


def test_a_missed_slot_starts_the_count_again(pair) -> None:
    check_in(pair, at("2026-12-08T08:40:00"))
    check_in(pair, at("2026-12-15T08:40:00"))
    assert establishment(pair, at("2026-12-22T08:00:00"))["kept"] == 2
    # Nobody talked on the 22nd; two days' grace later the slot is missed.
    assert establishment(pair, at("2026-12-24T08:29:00"))["kept"] == 2
    assert establishment(pair, at("2026-12-24T08:31:00"))["kept"] == 0
    check_in(pair, at("2026-12-29T08:40:00"))
    assert establishment(pair, at("2026-12-29T09:00:00"))["kept"] == 1


def _six_weeks(pact_id: str) -> None:
    for week in range(6):
        sweep(FIRST_SLOT - timedelta(hours=23, minutes=30) + week * WEEK)  # Monday 09:00: the reminders
        check_in(pact_id, FIRST_SLOT + timedelta(minutes=10) + week * WEEK)


def test_six_in_a_row_is_a_habit_said_once_and_the_reminders_stop(pair) -> None:
    before = len(NudgeHarness.sent())
    _six_weeks(pair)
    reminders = mails_since(before)
    assert len(reminders) == 12  # six slots, two parties
    established_at = FIRST_SLOT + 5 * WEEK + timedelta(minutes=15)
    assert establishment(pair, established_at) == {"state": "established", "kept": 6, "of": 6}
    assert establishment(pair, established_at, email=BOB)["state"] == "established"
    # Said once, kindly, to each party, at their nudge hour (09:00 that day)
    assert sweep(at("2027-01-12T09:00:00"))["notices"] == 2
    assert sweep(at("2027-01-12T09:00:00"))["notices"] == 0
    assert sweep(at("2027-01-12T09:15:00"))["notices"] == 0
    notices = mails_since(before + 12)
    assert sorted(m.to for m in notices) == [ANN, BOB]
    assert {m.subject for m in notices} == {
        "Six weeks in a row with Bob: you've made it a habit",
        "Six weeks in a row with Ann: you've made it a habit",
    }
    assert "no more reminders before your calls" in notices[0].text
    # No reminder before the next slots any more
    for week in range(1, 3):
        assert sweep(at("2027-01-18T09:00:00") + (week - 1) * WEEK)["reminders"] == 0
        check_in(pair, FIRST_SLOT + (5 + week) * WEEK)
    assert len(mails_since(before)) == 14


def test_two_lapses_within_eight_weeks_go_back_to_establishing_said_once(pair) -> None:
    _six_weeks(pair)
    sweep(at("2027-01-12T09:00:00"))
    before = len(NudgeHarness.sent())
    # Nobody talks on the 19th or the 26th: the second miss (grace over on the 28th at 08:30) takes it back.
    assert sweep(at("2027-01-21T09:00:00")) == {"items_read": 0, "reminders": 0, "notices": 0, "checks": 0}
    assert establishment(pair, at("2027-01-27T09:00:00"))["state"] == "established"
    assert sweep(at("2027-01-28T08:30:00"))["checks"] == 2
    assert establishment(pair, at("2027-01-28T08:45:00")) == {"state": "establishing", "kept": 0, "of": 6}
    assert sweep(at("2027-01-28T09:00:00"))["notices"] == 2
    assert sweep(at("2027-01-28T09:00:00"))["notices"] == 0
    back = mails_since(before)
    assert {m.subject for m in back} == {"Reminders are back for your calls with Bob", "Reminders are back for your calls with Ann"}
    assert "missed two check-ins within eight weeks" in back[0].text
    # And the reminders before slots are back
    assert sweep(at("2027-02-01T09:00:00"))["reminders"] == 2
    assert len(mails_since(before)) == 4


def test_one_lapse_then_another_within_eight_weeks_goes_back_too(pair) -> None:
    _six_weeks(pair)
    sweep(at("2027-01-12T09:00:00"))
    # Miss the 19th; talk on the 26th; miss 2 February: two lapses within eight weeks.
    check_in(pair, at("2027-01-26T08:40:00"))
    assert establishment(pair, at("2027-01-26T09:00:00"))["state"] == "established"
    assert establishment(pair, at("2027-02-04T08:29:00"))["state"] == "established"
    assert establishment(pair, at("2027-02-04T08:31:00"))["state"] == "establishing"
    assert sweep(at("2027-02-04T08:45:00"))["checks"] == 2
    assert sweep(at("2027-02-04T09:00:00"))["notices"] == 2


def test_the_off_switch(pair) -> None:
    patched = call("PATCH", f"/pacts/{pair}", body={"slot_reminders": False}, now=START)
    assert patched.status == 200, patched.body
    assert patched.json()["slot_reminders"] is False
    assert call("GET", f"/pacts/{pair}", email=BOB, now=START).json()["slot_reminders"] is False  # a term of the pact: both views
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 0
    call("PATCH", f"/pacts/{pair}", email=BOB, body={"slot_reminders": True}, now=at("2026-12-08T10:00:00"))
    assert sweep(at("2026-12-14T09:00:00"))["reminders"] == 2


def test_a_pact_created_with_reminders_off(mail) -> None:
    member(ANN, "Ann")
    member(BOB, "Bob")
    created = pact(ANN, BOB, now=START, slot_reminders=False, **SLOT)
    assert created["slot_reminders"] is False
    assert call("GET", f"/pacts/{created['id']}", email=BOB, now=START).json()["slot_reminders"] is False
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 0


def test_quiet_days_and_quiet_hours_are_respected(mail) -> None:
    # A slot at 18:00: the reminder comes that morning at the nudge hour, out of quiet hours, never on a quiet day.
    member(ANN, "Ann", notifications={"channels": ["email"], "quiet_hours": [{"weekday": "tuesday", "start": "09:00", "end": "13:00"}]})
    member(BOB, "Bob", notifications={"channels": ["email"], "quiet_days": ["tuesday"]})
    pact(ANN, BOB, now=START, rhythm={"weekday": "tuesday", "time": "18:00"})
    before = len(NudgeHarness.sent())
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 1  # Bob: Tuesday is quiet, so Monday at 09:00
    assert sweep(at("2026-12-08T12:59:00"))["reminders"] == 0  # Ann: quiet until 13:00
    assert sweep(at("2026-12-08T13:00:00"))["reminders"] == 1
    sent = mails_since(before)
    assert [(m.to, m.subject) for m in sent] == [
        (BOB, "Reminder: your call with Ann, tomorrow at 18:00"),
        (ANN, "Reminder: your call with Bob, today at 18:00"),
    ]


def test_an_every_n_days_pact_counts_intervals_and_has_no_reminders(mail) -> None:
    member(ANN, "Ann")
    member(BOB, "Bob")
    created = pact(ANN, BOB, now=START, rhythm={"every_days": 7})
    for week in range(6):
        assert sweep(START + timedelta(days=6) + week * WEEK)["reminders"] == 0
        check_in(created["id"], START + timedelta(days=6) + week * WEEK)
    assert establishment(created["id"], START + 6 * WEEK) == {"state": "established", "kept": 6, "of": 6}
    assert sweep(START + 6 * WEEK)["notices"] == 2
    assert {m.subject for m in NudgeHarness.sent()} >= {"Six times in a row with Bob: you've made it a habit"}


def test_pause_suspends_the_reminders_and_the_count(pair) -> None:
    check_in(pair, at("2026-12-08T08:40:00"))
    paused = call("POST", f"/pacts/{pair}/pause", body={"until": "2026-12-23"}, now=at("2026-12-09T10:00:00"))
    assert paused.status == 200, paused.body
    assert sweep(at("2026-12-14T09:00:00"))["reminders"] == 0
    assert sweep(at("2026-12-21T09:00:00"))["reminders"] == 0
    # The slots while paused were neither kept nor missed
    assert establishment(pair, at("2026-12-26T09:00:00"))["kept"] == 1
    assert sweep(at("2026-12-28T09:00:00"))["reminders"] == 2


def test_an_ended_pact_has_no_reminders(pair) -> None:
    assert call("DELETE", f"/pacts/{pair}", email=BOB, now=START).status == 204
    got = sweep(at("2026-12-07T09:00:00"))
    assert got["reminders"] == 0
    assert [m.subject for m in NudgeHarness.sent() if "Reminder" in m.subject] == []


def test_reminders_by_text_fit_one_segment_once(mail) -> None:
    member(ANN, "Ann", phone="+353851234567", notifications={"channels": ["sms"]})
    member(BOB, "Bob")
    pact(ANN, BOB, now=START, **SLOT)
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 2  # Ann by text, Bob by email
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 0
    [(phone, text)] = texts()
    assert phone == "+353851234567"
    assert text == "Reminder: your call with Bob is tomorrow at 08:30. - Peer support"
    assert is_gsm7(text)
    assert len(text) <= 160


def test_the_reminder_keeps_the_local_hour_across_daylight_saving(mail) -> None:
    # New York springs forward on Sunday 14 March 2027: 09:00 local is 14:00 UTC before, 13:00 UTC after.
    member(ANN, "Ann", time_zone="America/New_York")
    member(BOB, "Bob", time_zone="America/New_York")
    pact(ANN, BOB, now=at("2027-03-02T15:00:00"), rhythm={"weekday": "tuesday", "time": "08:30"})
    assert sweep(at("2027-03-08T13:59:00"))["reminders"] == 0
    assert sweep(at("2027-03-08T14:00:00"))["reminders"] == 2  # Monday 8 March 09:00 EST
    assert sweep(at("2027-03-15T12:59:00"))["reminders"] == 0
    assert sweep(at("2027-03-15T13:00:00"))["reminders"] == 2  # Monday 15 March 09:00 EDT
    subjects = {m.subject for m in NudgeHarness.sent()}
    assert subjects == {"Reminder: your call with Bob, tomorrow at 08:30", "Reminder: your call with Ann, tomorrow at 08:30"}


def test_a_run_that_died_after_sending_sends_nothing_twice(pair) -> None:
    before = len(NudgeHarness.sent())
    stale = {v.member_sub: v for v in PactView.query(f"PACT#{pair}")}
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 2
    # As if the run had died after sending, before moving the views on: the index still says "due".
    for view in PactView.query(f"PACT#{pair}"):
        old = stale[view.member_sub]
        for name in NUDGE_ATTRIBUTES:
            setattr(view, name, getattr(old, name))
        view.update(actions=view_actions(view, NUDGE_ATTRIBUTES))
    assert all(v.habit_due == "2026-12-07T09:00:00Z" for v in PactView.query(f"PACT#{pair}"))
    assert sweep(at("2026-12-07T09:15:00"))["reminders"] == 0  # the claims hold
    assert len(mails_since(before)) == 2
    assert all(v.habit_due != "2026-12-07T09:00:00Z" for v in PactView.query(f"PACT#{pair}"))  # and the views moved on


def test_away_mode_suspends_the_reminders(pair) -> None:
    reply = call("PUT", "/members/me/away", email=BOB, body={"until": "2026-12-16"}, now=START)
    assert reply.status == 200, reply.body
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 0  # both sides are paused
    assert sweep(at("2026-12-14T09:00:00"))["reminders"] == 0
    assert sweep(at("2026-12-21T09:00:00"))["reminders"] == 2  # back: the slot of the 22nd is reminded of


def test_erasure_leaves_no_reminders_and_no_trace(pair, aws) -> None:
    sweep(at("2026-12-07T09:00:00"))
    bob = call("GET", "/members/me", email=BOB, now=START).json()["id"]
    assert call("DELETE", "/members/me", email=BOB, now=at("2026-12-08T10:00:00")).status == 204
    assert sweep(at("2026-12-14T09:00:00"))["reminders"] == 0  # Ann's view has ended: no reminders
    items = aws["dynamodb"].scan(TableName=os.environ["TABLE_NAME"])["Items"]
    # Bob's claims and view went with his partition. Only the domain events about him remain for a day, as outbox
    # items (ids only, no personal data, like the bus's archive), until the relay has put them on the bus.
    assert [i for i in items if bob in str(i) and not is_outbox(i)] == []


def test_check_ins_before_the_colleague_accepts_count_for_both(mail) -> None:
    member(ANN, "Ann")
    member(BOB, "Bob")
    created = pact(ANN, BOB, accept=False, now=START, **SLOT)
    check_in(created["id"], at("2026-12-08T08:40:00"))
    check_in(created["id"], at("2026-12-15T08:40:00"))
    assert call("POST", f"/pacts/{created['id']}/accept", email=BOB, now=at("2026-12-16T10:00:00")).status == 200
    assert establishment(created["id"], at("2026-12-16T10:00:00"), email=BOB) == {"state": "establishing", "kept": 2, "of": 6}
    assert establishment(created["id"], at("2026-12-16T10:00:00")) == {"state": "establishing", "kept": 2, "of": 6}


def test_an_invitation_that_expired_unanswered_and_unused_goes_quiet_until_a_call_is_recorded(mail) -> None:
    # Found trying it: Ann was reminded "your call with Bob, tomorrow" (and texted "did you talk?") every week,
    # for months, about a pact Bob never said yes to and nobody used. While the invitation is open she may well
    # call him all the same; once it has expired (30 days) with no call recorded, its slots go quiet.
    member(ANN, "Ann", phone="+353851234567", notifications={"channels": ["email", "sms"]})
    member(BOB, "Bob")
    created = pact(ANN, BOB, accept=False, now=START, **SLOT)  # open until Thursday 31 December
    before = len(NudgeHarness.sent())
    monday = at("2026-12-07T09:00:00")
    for week in range(4):  # the Tuesdays 8 to 29 December
        assert sweep(monday + week * WEEK)["reminders"] == 2  # by email and by text
        assert World.sms_sweep(FIRST_SLOT + timedelta(hours=2) + week * WEEK)["sent"] == 1
    for week in range(4, 7):  # the Tuesdays 5 to 19 January: the invitation expired, nothing recorded
        assert sweep(monday + week * WEEK)["reminders"] == 0
        assert World.sms_sweep(FIRST_SLOT + timedelta(hours=2) + week * WEEK)["sent"] == 0
    assert len(mails_since(before)) == 4
    assert len(texts()) == 8
    # They talked on the 19th all the same, and Ann records it: her regular call again, reminded before each slot
    check_in(created["id"], at("2027-01-19T08:40:00"))
    assert sweep(monday + 7 * WEEK)["reminders"] == 2  # Ann only: Bob has not said yes
    assert mails_since(before)[-1].subject == "Reminder: your call with bob, tomorrow at 08:30"  # her label: the address
    assert World.sms_sweep(FIRST_SLOT + timedelta(hours=2) + 7 * WEEK)["sent"] == 1


def test_an_invitation_sent_again_brings_the_reminders_back(mail) -> None:
    member(ANN, "Ann")
    member(BOB, "Bob")
    created = pact(ANN, BOB, accept=False, now=START, **SLOT)
    assert sweep(at("2027-01-04T09:00:00"))["reminders"] == 0  # expired on 31 December, nothing recorded
    resent = call("POST", f"/pacts/{created['id']}/resend-invitation", email=ANN, now=at("2027-01-06T10:00:00"))
    assert resent.status == 200, resent.body
    assert sweep(at("2027-01-11T09:00:00"))["reminders"] == 1


def test_with_no_grace_days_a_call_within_its_time_limit_still_keeps_the_slot(mail) -> None:
    member(ANN, "Ann")
    member(BOB, "Bob")
    created = pact(ANN, BOB, now=START, grace_days=0, time_limit_minutes=30, **SLOT)
    check_in(created["id"], at("2026-12-08T08:55:00"))
    assert establishment(created["id"], at("2026-12-08T09:00:00"))["kept"] == 1
    check_in(created["id"], at("2026-12-15T09:01:00"))  # after the call's half hour: too late for that slot
    assert establishment(created["id"], at("2026-12-15T09:05:00"))["kept"] == 0


def test_a_reminder_costs_three_dynamodb_calls_beyond_the_index_queries(pair, aws_calls: Counter[str]) -> None:
    before = len(NudgeHarness.sent())
    aws_calls.clear()
    assert sweep(at("2026-12-07T09:00:00"))["reminders"] == 2  # one to each party
    dynamodb = {op: n for op, n in aws_calls.items() if op.startswith("dynamodb.")}
    # Per reminder: the view and the profile in one read, the claim with the link, the closing transaction.
    assert dynamodb == {"dynamodb.Query": int(os.environ["DUE_SHARDS"]), "dynamodb.BatchGetItem": 2, "dynamodb.TransactWriteItems": 4}
    assert len(mails_since(before)) == 2
