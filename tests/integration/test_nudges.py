"""Scheduled nudges end to end on moto: sweep -> queue -> sender -> SES, and the links in the email."""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from infra.lambdas import invoke
from tests.helpers import call, member, pact
from tests.integration.nudge_harness import Mail, NudgeHarness

ANN = "ann@example.org"
START = datetime(2026, 12, 1, 9, tzinfo=UTC)  # a Tuesday; first slot 8 Dec 08:30, lapse 10 Dec 08:30 (Dublin = UTC)
WEEKLY = {"rhythm": {"weekday": "tuesday", "time": "08:30"}}
JEN = {"name": "Jennifer", "email": "jen@example.org"}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def nudges(aws) -> NudgeHarness:
    return NudgeHarness()


def links(mail: Mail) -> dict[str, str]:
    urls = re.findall(r"https://peer\.test/[cu]/[\w-]+", mail.text)
    return {"check_in": urls[0], "snooze": urls[1], "pause": urls[2], "unsubscribe": urls[-1]}


def path(url: str) -> str:
    return url.removeprefix("https://peer.test")


def test_a_lapsed_pact_is_nudged_once_at_the_local_nudge_hour(nudges) -> None:
    member(ANN)
    created = pact(ANN, JEN, now=START, **WEEKLY)
    assert nudges.run(at("2026-12-10T08:45:00")) == []  # lapsed at 08:30, but before 09:00 local
    sent = nudges.run(at("2026-12-10T09:00:00"))
    assert [m.to for m in sent] == [ANN]
    assert sent[0].subject == "Time to catch up with Jennifer?"
    assert "Tuesdays 08:30, by phone, 30 minutes" in sent[0].text
    assert nudges.run(at("2026-12-10T09:15:00")) == []  # not twice
    listed = call("GET", "/members/me/nudges", now=at("2026-12-10T10:00:00")).json()["items"]
    assert [(n["pact_ids"], n["reminder"]) for n in listed] == [([created["id"]], False)]


def test_everything_delivered_twice_sends_one_email(nudges) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    moment = at("2026-12-10T09:00:00")
    nudges.sweep(moment)
    nudges.sweep(moment)  # the same scheduled event, delivered twice
    messages = nudges.receive()
    assert len(messages) == 2
    nudges.deliver(messages, delete=False)
    nudges.deliver(messages)  # a redelivered batch (the first one "timed out")
    nudges.sweep(moment + timedelta(minutes=15))  # an overlapping sweep finds nothing due any more
    assert nudges.receive() == []
    assert len(nudges.sent()) == 1


@pytest.mark.parametrize(
    ("zone", "start", "before", "expected"),
    [
        # every 7 days + 2 grace: the lapse lands at 03:00 local; the nudge at 09:00 local that day
        ("Europe/Dublin", "2027-03-19T03:00:00", "2027-03-28T07:59:00", "2027-03-28T08:00:00"),  # spring forward: 09:00 IST
        ("Europe/Dublin", "2026-10-16T02:00:00", "2026-10-25T08:59:00", "2026-10-25T09:00:00"),  # fall back: 09:00 GMT
        ("America/New_York", "2027-03-05T08:00:00", "2027-03-14T12:59:00", "2027-03-14T13:00:00"),  # 09:00 EDT
        ("America/New_York", "2026-10-23T07:00:00", "2026-11-01T13:59:00", "2026-11-01T14:00:00"),  # 09:00 EST
        # due 2 Oct 03:00 AEST; two days' grace end 4 Oct 04:00 AEDT, after the clocks went forward: nudge 09:00 AEDT
        ("Australia/Sydney", "2026-09-24T17:00:00", "2026-10-03T21:59:00", "2026-10-03T22:00:00"),
    ],
)
def test_the_nudge_hour_is_local_in_every_zone_and_dst_week(nudges, zone: str, start: str, before: str, expected: str) -> None:
    member(ANN, time_zone=zone)
    pact(ANN, JEN, now=at(start), rhythm={"every_days": 7})
    assert nudges.run(at(before)) == []
    assert [m.to for m in nudges.run(at(expected))] == [ANN]


def test_no_nudge_on_quiet_days(nudges) -> None:
    member(ANN, notifications={"quiet_days": ["saturday", "sunday"]})
    # every 7 days from Thursday 3 Dec 10:00 -> due Thu 10 Dec, lapses Sat 12 Dec 10:00
    pact(ANN, JEN, now=at("2026-12-03T10:00:00"), rhythm={"every_days": 7})
    assert nudges.run(at("2026-12-12T10:00:00")) == []
    assert nudges.run(at("2026-12-13T12:00:00")) == []
    assert [m.to for m in nudges.run(at("2026-12-14T09:00:00"))] == [ANN]


def test_no_nudge_while_paused_or_unsubscribed(nudges) -> None:
    member(ANN)
    paused = pact(ANN, JEN, now=START, **WEEKLY)
    call("POST", f"/pacts/{paused['id']}/pause", body={"until": "2026-12-20"}, now=START)
    assert nudges.run(at("2026-12-10T09:00:00")) == []
    # When the pause ends, the pact is still lapsed: one nudge at the next nudge hour
    assert [m.to for m in nudges.run(at("2026-12-21T09:00:00"))] == [ANN]
    call("PUT", "/members/me", body={"display_name": "Ann", "time_zone": "Europe/Dublin", "notifications": {"channels": []}})
    pact(ANN, {"name": "Evelyn", "email": "eve@example.org"}, now=START, **WEEKLY)
    assert nudges.run(at("2026-12-28T09:00:00")) == []


def test_one_reminder_a_week_later_then_silence(nudges) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    assert len(nudges.run(at("2026-12-10T09:00:00"))) == 1
    assert nudges.run(at("2026-12-17T08:45:00")) == []
    reminder = nudges.run(at("2026-12-17T09:00:00"))
    assert [m.subject for m in reminder] == ["A gentle reminder: time to catch up with Jennifer"]
    for day in ("2026-12-24T09:00:00", "2026-12-31T09:00:00", "2027-01-14T09:00:00"):
        assert nudges.run(at(day)) == []


def test_missed_runs_are_caught_up_once(nudges) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    # No sweep ran from the 10th to the 13th (an outage): the next one sends what fell due, once.
    assert len(nudges.run(at("2026-12-13T15:00:00"))) == 1
    assert nudges.run(at("2026-12-13T15:15:00")) == []


def test_we_talked_from_the_email_records_the_check_in_and_ends_the_nudges(nudges) -> None:
    member(ANN)
    created = pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    url = path(links(mail)["check_in"])
    moment = at("2026-12-10T12:00:00")
    page = call("GET", url, email=None, now=moment)
    assert page.status == 200
    assert b"Did you and Jennifer talk?" in page.body
    token_nonce = re.search(rb'name="nonce" value="(\w+)"', page.body).group(1).decode()  # type: ignore[union-attr]
    form = {"content-type": "application/x-www-form-urlencoded"}
    done = call("POST", url, email=None, now=moment, headers=form, body=f"nonce={token_nonce}&choice=yes".encode())
    assert done.status == 200
    assert b"recorded" in done.body
    view = call("GET", f"/pacts/{created['id']}", now=moment).json()
    assert view["status"] == "on_track"
    assert view["last_check_in_at"] == "2026-12-10T12:00:00Z"
    again = call("POST", url, email=None, now=moment, headers=form, body=f"nonce={token_nonce}&choice=yes".encode())
    assert again.status == 410
    assert b"Already done" in again.body
    assert len(call("GET", f"/pacts/{created['id']}/check-ins", now=moment).json()["items"]) == 1
    assert nudges.run(at("2026-12-16T09:00:00")) == []  # on track again: no reminder about the old lapse
    # They did not talk at Tuesday 15th's slot: that is a new lapse, with a first nudge of its own.
    assert [m.subject for m in nudges.run(at("2026-12-17T09:00:00"))] == ["Time to catch up with Jennifer?"]


def test_one_click_unsubscribe_takes_effect_at_once(nudges) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    assert mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert links(mail)["unsubscribe"] in mail.headers["List-Unsubscribe"]
    assert "mailto:" in mail.headers["List-Unsubscribe"]
    # RFC 8058: the mail client POSTs "List-Unsubscribe=One-Click" to the https URI, without a page or a login
    reply = call(
        "POST",
        path(links(mail)["unsubscribe"]),
        email=None,
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"List-Unsubscribe=One-Click",
    )
    assert reply.status == 200
    assert call("GET", "/members/me").json()["email_status"] == "unsubscribed"
    assert nudges.run(at("2026-12-17T09:00:00")) == []  # no reminder either


def test_a_bounce_suppresses_the_address(nudges) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    notification = json.loads((Path(__file__).parent.parent / "events" / "ses_bounce_sns.json").read_text())
    assert invoke("SuppressionFunction", notification) == {"suppressed": 1}
    assert call("GET", "/members/me").json()["email_status"] == "bounce"
    assert nudges.run(at("2026-12-10T09:00:00")) == []


def test_a_failing_message_goes_to_the_dlq_while_the_rest_of_its_batch_is_sent(nudges, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.adapters.mail import Mailer

    for who in ("ann", "bob", "cem"):
        member(f"{who}@example.org")
        pact(f"{who}@example.org", {"name": "Jennifer", "email": f"jen.{who}@example.org"}, now=START, **WEEKLY)
    real = Mailer.send

    def throttled_for_bob(self, to, *args, **kwargs):  # type: ignore[no-untyped-def]
        if to == "bob@example.org":
            raise ClientError({"Error": {"Code": "Throttling", "Message": "slow down"}}, "SendEmail")
        return real(self, to, *args, **kwargs)

    monkeypatch.setattr(Mailer, "send", throttled_for_bob)
    nudges.sweep(at("2026-12-10T09:00:00"))
    result = nudges.deliver()
    assert len(result["batchItemFailures"]) == 1
    assert sorted(m.to for m in nudges.sent()) == ["ann@example.org", "cem@example.org"]
    for _ in range(3):  # the queue's maxReceiveCount: then SQS moves it to the dead-letter queue
        nudges.deliver()
    dead = nudges.dead_letters()
    assert len(dead) == 1
    assert json.loads(dead[0]["Body"])["member_id"]  # the message itself, for a replay after the fix
    assert sorted(m.to for m in nudges.sent()) == ["ann@example.org", "cem@example.org"]


def test_a_permanent_failure_is_recorded_and_not_retried(nudges, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.adapters.mail import Mailer

    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)

    def rejected(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ClientError({"Error": {"Code": "MessageRejected", "Message": "Address blacklisted: ann@example.org"}}, "SendEmail")

    monkeypatch.setattr(Mailer, "send", rejected)
    nudges.sweep(at("2026-12-10T09:00:00"))
    assert nudges.deliver()["batchItemFailures"] == []
    assert call("GET", "/members/me").json()["email_status"] == "rejected"
    assert nudges.dead_letters() == []
    # The views moved out of the due index: later sweeps find nothing to send, ever
    assert nudges.sweep(at("2026-12-10T09:15:00"))["items_read"] == 0
    assert nudges.sweep(at("2026-12-17T09:00:00"))["items_read"] == 0


def test_our_own_configuration_errors_go_to_the_dlq_not_onto_the_member(nudges, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.adapters.mail import Mailer

    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)

    def missing_configuration_set(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise ClientError({"Error": {"Code": "NotFoundException", "Message": "Configuration set does not exist"}}, "SendEmail")

    monkeypatch.setattr(Mailer, "send", missing_configuration_set)
    nudges.sweep(at("2026-12-10T09:00:00"))
    for _ in range(4):
        nudges.deliver()
    assert len(nudges.dead_letters()) == 1
    assert call("GET", "/members/me").json()["email_status"] == "ok"


def test_a_check_in_while_the_email_is_on_its_way_is_not_overwritten(nudges, monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.adapters.mail import Mailer

    member(ANN)
    created = pact(ANN, JEN, now=START, **WEEKLY)
    real = Mailer.send

    def check_in_meanwhile(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        call("POST", f"/pacts/{created['id']}/check-ins", body={}, now=at("2026-12-10T09:00:00"))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Mailer, "send", check_in_meanwhile)
    assert len(nudges.run(at("2026-12-10T09:00:00"))) == 1
    monkeypatch.setattr(Mailer, "send", real)
    view = call("GET", f"/pacts/{created['id']}", now=at("2026-12-10T09:05:00")).json()
    assert view["last_check_in_at"] == "2026-12-10T09:00:00Z"
    # The next lapse (no call at the 15th's slot) gets exactly one first nudge, no stray reminder
    assert nudges.run(at("2026-12-16T09:00:00")) == []
    assert [m.subject for m in nudges.run(at("2026-12-17T09:00:00"))] == ["Time to catch up with Jennifer?"]
    assert nudges.run(at("2026-12-17T09:15:00")) == []


def test_names_are_escaped_in_the_html(nudges) -> None:
    member(ANN)
    pact(ANN, {"name": "<b>Jen</b> & co", "email": "jen@example.org"}, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    assert "&lt;b&gt;Jen&lt;/b&gt; &amp; co" in mail.html
    assert "<b>Jen</b>" not in mail.html


def test_a_get_of_any_link_never_changes_anything(nudges, aws) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    table = os.environ["TABLE_NAME"]

    def dump() -> list[dict]:
        return sorted(aws["dynamodb"].scan(TableName=table)["Items"], key=str)

    before = dump()
    for url in links(mail).values():
        for _ in range(2):
            assert call("GET", path(url), email=None, now=at("2026-12-10T10:00:00")).status == 200
    assert dump() == before


def test_unknown_tampered_expired_and_used_links_get_friendly_pages(nudges) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    snooze = path(links(mail)["snooze"])
    tampered = snooze[:-1] + ("A" if snooze[-1] != "A" else "B")
    for url, status in ((tampered, 404), ("/c/" + "x" * 22, 404), ("/c/short", 404)):
        page = call("GET", url, email=None, now=at("2026-12-10T10:00:00"))
        assert page.status == status
        assert b"Jennifer" not in page.body
        assert page.headers["cache-control"] == "no-store"
    expired = call("GET", snooze, email=None, now=at("2026-12-17T09:00:01"))
    assert expired.status == 410
    assert b"expired" in expired.body
    assert b"Jennifer" not in expired.body


def test_a_post_without_the_pages_nonce_records_nothing(nudges) -> None:
    member(ANN)
    created = pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    reply = call(
        "POST",
        path(links(mail)["check_in"]),
        email=None,
        now=at("2026-12-10T10:00:00"),
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"choice=yes",
    )
    assert reply.status == 400
    assert call("GET", f"/pacts/{created['id']}/check-ins").json()["items"] == []


def _press(url: str, page_body: bytes, choice: str, moment: datetime):  # type: ignore[no-untyped-def]
    token_nonce = re.search(rb'name="nonce" value="(\w+)"', page_body).group(1).decode()  # type: ignore[union-attr]
    form = {"content-type": "application/x-www-form-urlencoded"}
    return call("POST", url, email=None, now=moment, headers=form, body=f"nonce={token_nonce}&choice={choice}".encode())


def test_snooze_a_week_from_the_email(nudges) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    url = path(links(mail)["snooze"])
    moment = at("2026-12-10T10:00:00")
    page = call("GET", url, email=None, now=moment)
    assert b"Snooze reminders about Jennifer for a week?" in page.body
    done = _press(url, page.body, "snooze", moment)
    assert done.status == 200
    assert b"Snoozed for a week" in done.body
    # The reminder would have come on the 17th at 09:00; the snooze holds it until the 17th at 10:00
    assert nudges.run(at("2026-12-17T09:00:00")) == []
    assert [m.subject for m in nudges.run(at("2026-12-17T10:00:00"))] == ["A gentle reminder: time to catch up with Jennifer"]


def test_pause_from_the_email_pauses_the_pact(nudges) -> None:
    member(ANN)
    created = pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    url = path(links(mail)["pause"])
    moment = at("2026-12-10T10:00:00")
    page = call("GET", url, email=None, now=moment)
    assert b"Pause your pact with Jennifer?" in page.body
    assert b"resumes by itself on Thursday 7 January" in page.body
    assert _press(url, page.body, "pause", moment).status == 200
    view = call("GET", f"/pacts/{created['id']}", now=moment).json()
    assert view["status"] == "paused"
    assert view["paused_until"] == "2027-01-07T00:00:00Z"
    assert nudges.run(at("2026-12-17T09:00:00")) == []


def test_not_this_time_records_nothing_and_uses_the_link(nudges) -> None:
    member(ANN)
    created = pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    url = path(links(mail)["check_in"])
    moment = at("2026-12-10T10:00:00")
    page = call("GET", url, email=None, now=moment)
    assert _press(url, page.body, "no", moment).status == 200
    assert call("GET", f"/pacts/{created['id']}/check-ins").json()["items"] == []
    assert call("GET", url, email=None, now=moment).status == 410
    assert _press(url, page.body, "maybe", moment).status == 410  # used up: nothing more, whatever is sent


def test_a_complaint_suppresses_and_a_transient_bounce_does_not(nudges) -> None:
    member(ANN)
    notification = json.loads((Path(__file__).parent.parent / "events" / "ses_bounce_sns.json").read_text())
    message = json.loads(notification["Records"][0]["Sns"]["Message"])
    message["bounce"]["bounceType"] = "Transient"
    notification["Records"][0]["Sns"]["Message"] = json.dumps(message)
    assert invoke("SuppressionFunction", notification) == {"suppressed": 0}
    complaint = {"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "ANN@example.org"}]}}
    notification["Records"][0]["Sns"]["Message"] = json.dumps(complaint)
    assert invoke("SuppressionFunction", notification) == {"suppressed": 1}
    assert call("GET", "/members/me").json()["email_status"] == "complaint"
    # A new address is a fresh start; saving email as a channel does not undo a complaint on the same address
    call("PUT", "/members/me", body={"display_name": "Ann", "time_zone": "Europe/Dublin"})
    assert call("GET", "/members/me").json()["email_status"] == "complaint"


def test_one_click_from_a_multipart_mail_client_and_not_on_pact_links(nudges) -> None:
    member(ANN)
    created = pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    # A pact link ignores the one-click field: without the page's nonce nothing is recorded
    sneaky = call(
        "POST",
        path(links(mail)["check_in"]),
        email=None,
        headers={"content-type": "application/x-www-form-urlencoded"},
        body=b"List-Unsubscribe=One-Click&choice=yes",
        now=at("2026-12-10T10:00:00"),
    )
    assert sneaky.status == 400
    assert call("GET", f"/pacts/{created['id']}/check-ins").json()["items"] == []
    # RFC 8058 clients may post multipart/form-data
    boundary = "----peer"
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--{boundary}--\r\n'.encode()
    reply = call(
        "POST",
        path(links(mail)["unsubscribe"]),
        email=None,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
        body=body,
    )
    assert reply.status == 200
    assert call("GET", "/members/me").json()["email_status"] == "unsubscribed"


def test_an_unreadable_form_is_a_400_not_a_500(nudges) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    mail = nudges.run(at("2026-12-10T09:00:00"))[0]
    reply = call(
        "POST", path(links(mail)["check_in"]), email=None, headers={"content-type": "application/x-www-form-urlencoded"}, body=b"\xff\xfe=1"
    )
    assert reply.status == 400
    assert b"could not be read" in reply.body


def _dynamodb(calls: Counter[str]) -> dict[str, int]:
    return {op: n for op, n in calls.items() if op.startswith("dynamodb.")}


KIM = {"name": "Kim", "email": "kim@example.org"}


def test_one_digest_of_two_nudges_costs_four_dynamodb_calls_and_its_redelivery_sends_nothing(nudges, aws_calls: Counter[str]) -> None:
    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    pact(ANN, KIM, now=START, **WEEKLY)
    nudges.sweep(at("2026-12-10T09:00:00"))
    [message] = nudges.receive()
    aws_calls.clear()
    nudges.deliver([message], delete=False)
    # The profile and both views in one read, the groups' missed-meetings line, the claims with the email's
    # links, the closing transaction (claims sent, the nudge on record, the views moved on).
    assert _dynamodb(aws_calls) == {"dynamodb.BatchGetItem": 1, "dynamodb.Query": 1, "dynamodb.TransactWriteItems": 2}
    [mail] = nudges.sent()
    assert "Jennifer" in mail.subject
    assert "Kim" in mail.subject
    aws_calls.clear()
    nudges.deliver([message])  # the same message again: the first batch "timed out"
    assert len(nudges.sent()) == 1
    assert _dynamodb(aws_calls) == {"dynamodb.BatchGetItem": 1}  # the views moved on: nothing to claim, nothing written


def test_a_nudge_another_sender_holds_is_left_out_and_the_rest_goes_with_working_links(nudges) -> None:
    from shared.adapters.models import SendClaim, member_pk

    member(ANN)
    held = pact(ANN, JEN, now=START, **WEEKLY)["id"]
    pact(ANN, KIM, now=START, **WEEKLY)
    nudges.sweep(at("2026-12-10T09:00:00"))
    [message] = nudges.receive()
    body = json.loads(message["Body"])
    about = next(p for p in body["pacts"] if p["pact_id"] == held)
    key = (member_pk(body["member_id"]), f"NUDGED#{held}#{about['lapse_at']}#{about['stage']}")
    SendClaim(*key, status="sending", claimed_at=datetime.now(UTC)).save()  # a concurrent sender is on it
    nudges.deliver([message])
    [mail] = nudges.sent()
    assert mail.subject == "Time to catch up with Kim?"
    assert SendClaim.get(*key).status == "sending"  # still the other sender's
    page = call("GET", path(links(mail)["check_in"]), email=None, now=at("2026-12-10T12:00:00"))
    assert page.status == 200
    assert b"Did you and Kim talk?" in page.body


def test_a_claim_transaction_lost_to_a_conflict_claims_one_by_one_and_still_stores_the_links(
    nudges, monkeypatch: pytest.MonkeyPatch
) -> None:
    from botocore.client import BaseClient

    member(ANN)
    pact(ANN, JEN, now=START, **WEEKLY)
    nudges.sweep(at("2026-12-10T09:00:00"))
    real = BaseClient._make_api_call
    conflicts = []

    def conflict_once(self, operation, params):  # type: ignore[no-untyped-def]
        # moto cannot produce it: another transaction on the same item at that moment (nothing was written)
        if operation == "TransactWriteItems" and not conflicts:
            conflicts.append(params)
            reasons = [{"Code": "TransactionConflict"}] + [{"Code": "None"}] * (len(params["TransactItems"]) - 1)
            error = {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"}
            raise ClientError({"Error": error, "CancellationReasons": reasons}, operation)
        return real(self, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", conflict_once)
    nudges.deliver()
    assert len(conflicts) == 1
    [mail] = nudges.sent()
    page = call("GET", path(links(mail)["check_in"]), email=None, now=at("2026-12-10T12:00:00"))
    assert page.status == 200
    assert b"Did you and Jennifer talk?" in page.body
