"""Check-in texts on moto: after the agreed slot, once, out of quiet hours, never to a STOP number."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime

import pytest
from moto.sns.models import sns_backends

from infra import cfn
from infra.lambdas import invoke
from infra.local.stack import scheduled_event
from shared.domain.sms import is_gsm7
from tests.helpers import call, member, pact

ANN = "ann@example.org"
SWEEP = next(s for s in cfn.schedules() if s.function == "SmsSweepFunction")
START = datetime(2026, 12, 1, 9, tzinfo=UTC)  # Tuesday; the first slot is Tuesday 8 December 08:30 Dublin (UTC)
SLOT = {"rhythm": {"weekday": "tuesday", "time": "08:30"}, "time_limit_minutes": 30}
JEN = {"name": "Jennifer", "email": "jen@example.org"}
SMS_PROFILE = {"phone": "+353851234567", "notifications": {"channels": ["email", "sms"]}}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def texts() -> list[tuple[str, str]]:
    return list(sns_backends["123456789012"]["eu-west-1"].sms_messages.values())


def sweep(moment: datetime) -> dict:
    return dict(invoke("SmsSweepFunction", scheduled_event(SWEEP, moment)))


def link(text: str) -> str:
    return re.search(r"https://peer\.test(/c/[\w-]{22})$", text).group(1)  # type: ignore[union-attr]


@pytest.fixture
def ann(aws) -> None:
    member(ANN, **SMS_PROFILE)


def test_a_text_after_the_slot_once(ann) -> None:
    pact(ANN, JEN, now=START, **SLOT)
    assert sweep(at("2026-12-08T09:00:00"))["sent"] == 0  # the call is still on (08:30 + 30 min + 5)
    assert sweep(at("2026-12-08T09:05:00"))["sent"] == 1
    assert sweep(at("2026-12-08T09:05:00"))["sent"] == 0  # the same scheduled event again
    assert sweep(at("2026-12-08T09:10:00"))["sent"] == 0
    [(phone, text)] = texts()
    assert phone == "+353851234567"
    assert text.startswith("Did you talk with Jennifer today? Tap to record it: https://peer.test/c/")
    assert len(text) <= 160
    assert is_gsm7(text)
    # The next slot, a week later, gets its own text
    assert sweep(at("2026-12-15T09:05:00"))["sent"] == 1


def test_the_link_records_the_check_in_and_is_used_up(ann) -> None:
    created = pact(ANN, JEN, now=START, **SLOT)
    sweep(at("2026-12-08T09:05:00"))
    url = link(texts()[0][1])
    moment = at("2026-12-08T09:07:00")
    page = call("GET", url, email=None, now=moment)
    assert b"Did you and Jennifer talk?" in page.body
    assert b"Tuesdays 08:30, by phone, 30 min" in page.body
    nonce = re.search(rb'name="nonce" value="(\w+)"', page.body).group(1).decode()  # type: ignore[union-attr]
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert call("POST", url, email=None, now=moment, headers=form, body=f"nonce={nonce}&choice=yes".encode()).status == 200
    view = call("GET", f"/pacts/{created['id']}", now=moment).json()
    assert view["status"] == "on_track"
    history = call("GET", f"/pacts/{created['id']}/check-ins", now=moment).json()["items"]
    assert [c["source"] for c in history] == ["link"]
    assert call("POST", url, email=None, now=moment, headers=form, body=f"nonce={nonce}&choice=yes".encode()).status == 410


def test_getting_the_link_twice_changes_nothing(ann, aws) -> None:
    pact(ANN, JEN, now=START, **SLOT)
    sweep(at("2026-12-08T09:05:00"))
    url = link(texts()[0][1])
    table = os.environ["TABLE_NAME"]
    before = sorted(aws["dynamodb"].scan(TableName=table)["Items"], key=str)
    for _ in range(2):
        assert call("GET", url, email=None, now=at("2026-12-08T09:07:00")).status == 200
    assert sorted(aws["dynamodb"].scan(TableName=table)["Items"], key=str) == before


def test_no_text_when_they_already_recorded_the_call(ann) -> None:
    created = pact(ANN, JEN, now=START, **SLOT)
    call("POST", f"/pacts/{created['id']}/check-ins", body={}, now=at("2026-12-08T09:02:00"))
    assert sweep(at("2026-12-08T09:05:00"))["sent"] == 0
    assert texts() == []


def test_quiet_hours_hold_the_text_until_they_end(aws) -> None:
    member(
        ANN,
        phone="+353851234567",
        notifications={"channels": ["sms"], "quiet_hours": [{"weekday": "tuesday", "start": "09:00", "end": "13:00"}]},
    )
    pact(ANN, JEN, now=START, **SLOT)
    assert sweep(at("2026-12-08T12:55:00"))["sent"] == 0
    assert sweep(at("2026-12-08T13:00:00"))["sent"] == 1


def test_no_text_on_quiet_days_or_without_sms(aws) -> None:
    member(ANN, phone="+353851234567", notifications={"channels": ["sms"], "quiet_days": ["tuesday"]})
    pact(ANN, JEN, now=START, **SLOT)
    assert sweep(at("2026-12-08T23:00:00"))["sent"] == 0
    member("bob@example.org", phone="+353851111111", notifications={"channels": ["email"]})
    pact("bob@example.org", JEN, now=START, **SLOT)
    assert sweep(at("2026-12-08T23:00:00"))["sent"] == 0
    assert texts() == []


def test_a_number_that_replied_stop_is_never_texted(aws) -> None:
    member(ANN, phone="+353851234599", notifications={"channels": ["sms"]})  # moto: numbers ending 99 opted out
    pact(ANN, JEN, now=START, **SLOT)
    assert sweep(at("2026-12-08T09:05:00"))["sent"] == 0
    assert texts() == []
    assert sweep(at("2026-12-15T09:05:00"))["items_read"] == 0  # the member is marked: no more texts planned


def test_a_long_non_ascii_name_still_fits_one_segment(ann) -> None:
    pact(ANN, {"name": "Siobhán Ní Bhriain-Ó Conchobhair de Barra Mhic Giolla Phádraig", "phone": "+353852222222"}, now=START, **SLOT)
    sweep(at("2026-12-08T09:05:00"))
    [(_, text)] = texts()
    assert len(text) <= 160
    assert is_gsm7(text)
    assert text.startswith("Did you talk with Siobh")
    assert link(text)


def test_a_paused_pact_gets_no_text(ann) -> None:
    created = pact(ANN, JEN, now=START, **SLOT)
    call("POST", f"/pacts/{created['id']}/pause", body={"until": "2026-12-10"}, now=START)
    assert sweep(at("2026-12-08T09:05:00"))["sent"] == 0
    assert sweep(at("2026-12-15T09:05:00"))["sent"] == 1


def test_every_n_days_pacts_have_no_slot_to_text_about(ann) -> None:
    pact(ANN, JEN, now=START, rhythm={"every_days": 7})
    assert sweep(at("2026-12-20T09:05:00"))["items_read"] == 0


def test_choosing_sms_later_plans_from_now_not_from_old_slots(aws) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **SLOT)
    # Ann adds SMS on Thursday 17 December: the next text is after Tuesday 22nd's slot, not a stale one
    call("PUT", "/members/me", body={"display_name": "Ann", "time_zone": "Europe/Dublin", **SMS_PROFILE}, now=at("2026-12-17T12:00:00"))
    assert sweep(at("2026-12-17T12:05:00"))["items_read"] == 0
    assert sweep(at("2026-12-22T09:05:00"))["sent"] == 1


def test_a_sweep_that_comes_days_late_sends_no_stale_text(ann) -> None:
    pact(ANN, JEN, now=START, **SLOT)
    result = sweep(at("2026-12-10T12:00:00"))  # the runs of the 8th never happened
    assert result["sent"] == 0
    assert texts() == []
    assert sweep(at("2026-12-15T09:05:00"))["sent"] == 1


def test_no_text_while_the_colleagues_away_mode_pauses_the_pact(aws) -> None:
    member("bob@example.org", **SMS_PROFILE)
    member(ANN)
    pact(ANN, "bob@example.org", now=START, **SLOT)
    call("PUT", "/members/me/away", body={"until": "2026-12-31"}, now=START)  # Ann goes away: Bob's view is paused
    assert sweep(at("2026-12-08T09:05:00"))["sent"] == 0
    assert texts() == []


def test_a_failed_send_is_tried_again_by_the_next_run(ann, monkeypatch: pytest.MonkeyPatch) -> None:
    pact(ANN, JEN, now=START, **SLOT)
    from shared.texts import sending as texting

    real = texting._send
    failures = {"left": 1}

    def flaky(*args, **kwargs):  # type: ignore[no-untyped-def]
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("SNS unavailable")
        return real(*args, **kwargs)

    monkeypatch.setattr(texting, "_send", flaky)
    assert sweep(at("2026-12-08T09:05:00"))["sent"] == 0
    assert sweep(at("2026-12-08T09:10:00"))["sent"] == 1
    assert len(texts()) == 1


def test_resuming_early_or_a_new_rhythm_plans_the_next_real_slot(ann) -> None:
    created = pact(ANN, JEN, now=START, **SLOT)
    call("POST", f"/pacts/{created['id']}/pause", body={"until": "2027-01-20"}, now=START)
    call("POST", f"/pacts/{created['id']}/resume", now=at("2026-12-02T10:00:00"))
    assert sweep(at("2026-12-08T09:05:00"))["sent"] == 1
    call("PATCH", f"/pacts/{created['id']}", body={"rhythm": {"weekday": "wednesday", "time": "08:30"}}, now=at("2026-12-08T10:00:00"))
    assert sweep(at("2026-12-09T09:05:00"))["sent"] == 1
