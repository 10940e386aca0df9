"""The notify function: a member going away tells each colleague once, even when the event comes twice."""

from __future__ import annotations

import os
from datetime import timedelta
from typing import Any

import boto3
import pytest
from moto.ses.models import ses_backends

from infra.lambdas import invoke
from infra.local.auth import member_sub
from shared.members.notices import NoticeNotSent
from tests.helpers import DEFAULT_NOW, call, member, pact

ANN, BOB = "ann@example.org", "bob@example.org"


@pytest.fixture
def sent(aws) -> Any:
    boto3.client("ses").verify_email_identity(EmailAddress=os.environ.get("SENDER_EMAIL", "nudges@example.org"))
    return lambda: ses_backends["123456789012"]["eu-west-1"].sent_messages


def away_event(event_id: str = "ev-1", until: str = "2026-12-20T00:00:00+00:00") -> dict[str, Any]:
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "MemberWentAway",
        "source": "peer-support",
        "account": "123456789012",
        "time": (DEFAULT_NOW + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
        "region": "eu-west-1",
        "resources": [],
        "detail": {"member_id": member_sub(ANN), "until": until, "pact_ids": []},
    }


@pytest.fixture
def ann_away(sent) -> None:
    member(ANN)
    member(BOB)
    member("jen@example.org", name="Jennifer")
    pact(ANN, BOB)
    pact(ANN, "jen@example.org")
    pact(ANN, {"name": "Dee", "email": "dee@example.org"})  # invited, not a member: nobody she meets yet
    pact(ANN, {"name": "Evelyn", "phone": "+353851111111"})  # no email: nobody to write to
    assert call("PUT", "/members/me/away", body={"until": "2026-12-20"}).status == 200


def test_each_colleague_with_an_email_gets_one_short_notice(ann_away, sent) -> None:
    assert invoke("NotifyFunction", away_event()) == {"sent": 2}
    messages = sent()
    assert sorted(m.destinations[0] for m in messages) == ["bob@example.org", "jen@example.org"]
    raw = next(m.raw_data for m in messages if "jen@example.org" in m.destinations)
    assert "Subject: Ann is away until Sunday 20 December 2026" in raw
    assert "Hello Jennifer" in raw


def test_a_redelivered_event_sends_nothing_twice(ann_away, sent) -> None:
    invoke("NotifyFunction", away_event())
    assert invoke("NotifyFunction", away_event()) == {"sent": 0}
    assert len(sent()) == 2


def test_no_notice_once_back_or_erased(ann_away, sent) -> None:
    call("DELETE", "/members/me/away")
    assert invoke("NotifyFunction", away_event()) == {"sent": 0}
    call("DELETE", "/members/me")
    assert invoke("NotifyFunction", away_event("ev-2")) == {"sent": 0}
    assert sent() == []


def test_a_failed_send_is_retried_later_not_lost(ann_away, sent, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.adapters.mail import Mailer

    real = Mailer.send
    calls = {"n": 0}

    def flaky(self, to, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("SES throttled sending to bob@example.org")
        return real(self, to, *args, **kwargs)

    monkeypatch.setattr(Mailer, "send", flaky)
    with pytest.raises(NoticeNotSent) as failure:
        invoke("NotifyFunction", away_event())
    assert "@" not in str(failure.value)  # nothing of the provider's message, which may name the address
    # Lambda's async retry delivers the same event again: everyone gets exactly one.
    invoke("NotifyFunction", away_event())
    assert sorted(m.destinations[0] for m in sent()) == ["bob@example.org", "jen@example.org"]


def test_other_event_types_are_ignored(aws) -> None:
    assert invoke("NotifyFunction", {**away_event(), "detail-type": "PactCreated"}) == {"sent": 0}


# ------------------------------------------------------------------ changed terms (found trying it: the other was not told)


def _terms_events(bus_events: Any) -> list[dict[str, Any]]:
    return [e for e in bus_events() if e["detail-type"] == "PactTermsChanged"]


def test_the_colleague_hears_once_when_the_other_moves_their_call(sent, bus_events) -> None:
    # GIVEN Ann and Bob agreed Mondays 10:00 by phone
    member(ANN)
    member(BOB)
    pact_id = pact(ANN, BOB, rhythm={"weekday": "monday", "time": "10:00"}, mode="phone")["id"]
    bus_events()  # what the set-up put on the bus
    # WHEN Bob (who did not propose it) moves it to Fridays 07:00
    moved = call("PATCH", f"/pacts/{pact_id}", email=BOB, body={"rhythm": {"weekday": "friday", "time": "07:00"}})
    assert moved.status == 200, moved.body
    # THEN one PactTermsChanged (ids only) reaches NotifyFunction, and Ann gets one email saying what it is now
    [event] = _terms_events(bus_events)
    assert set(event["detail"]) >= {"pact_id", "member_id"}
    assert "@" not in str(event["detail"])
    assert invoke("NotifyFunction", event) == {"sent": 1}
    assert invoke("NotifyFunction", event) == {"sent": 0}  # delivered twice: still one email
    [message] = sent()
    assert message.destinations[0] == ANN
    assert "Subject: Bob changed your regular check-ins" in message.raw_data
    assert "Fridays 07:00" in message.raw_data
    assert "Hello Ann" in message.raw_data


def test_no_notice_for_a_change_only_the_changer_sees_or_nobody_to_tell(sent, bus_events) -> None:
    member(ANN)
    member(BOB)
    mutual = pact(ANN, BOB)["id"]
    invited = pact(ANN, {"name": "Dee", "email": "dee@example.org"})["id"]  # not a member: nobody she meets yet
    by_phone = pact(ANN, {"name": "Evelyn", "phone": "+353851111111"})["id"]  # no address to write to
    bus_events()
    # Her own name for him, and the same terms again, change nothing he agreed to: no event at all
    assert call("PATCH", f"/pacts/{mutual}", email=ANN, body={"colleague_name": "Bobby"}).status == 200
    assert call("PATCH", f"/pacts/{mutual}", email=ANN, body={"mode": "video"}).status == 200
    assert call("PATCH", f"/pacts/{mutual}", email=ANN, body={"mode": "video"}).status == 200
    for pact_id in (invited, by_phone):
        assert call("PATCH", f"/pacts/{pact_id}", email=ANN, body={"time_limit_minutes": 45}).status == 200
    events = _terms_events(bus_events)
    assert [e["detail"]["pact_id"] for e in events] == [mutual, invited, by_phone]  # the mode change once
    assert [invoke("NotifyFunction", e) for e in events] == [{"sent": 1}, {"sent": 0}, {"sent": 0}]
    assert [m.destinations[0] for m in sent()] == [BOB]
