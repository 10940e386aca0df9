"""Pure parts of the local stack: the clock, schedules, scheduled events, instants, the outbox, the command line."""

from __future__ import annotations

import email
import email.policy
import sys
import threading
import time
from collections import OrderedDict
from datetime import UTC, datetime
from email.message import EmailMessage

import pytest

from infra.cfn import Schedule
from infra.local import outbox as outbox_module
from infra.local import token as token_cli
from infra.local.outbox import Outbox
from infra.local.stack import Clock, PortInUse, SerialisedCalls, parse_instant, rate_seconds, scheduled_event
from infra.local.token import is_email_address


def test_clock_is_real_until_set_and_then_stands_still() -> None:
    clock = Clock()
    assert clock.state()["fixed"] is False
    instant = datetime(2026, 12, 8, 9, tzinfo=UTC)
    clock.set(instant)
    assert clock.now() == instant
    assert clock.state() == {"now": "2026-12-08T09:00:00Z", "fixed": True}
    clock.set(None)
    assert clock.now() != instant


@pytest.mark.parametrize(("expr", "seconds"), [("rate(15 minutes)", 900), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)])
def test_rate_expressions(expr: str, seconds: int) -> None:
    assert rate_seconds(expr) == seconds


def test_cron_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ValueError, match="rate"):
        rate_seconds("cron(0 9 * * ? *)")


def test_scheduled_event_carries_the_scheduled_instant() -> None:
    event = scheduled_event(Schedule("SweepFunction", "Every15", "rate(15 minutes)"), datetime(2026, 12, 8, 9, 0, 0, 123, tzinfo=UTC))
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-12-08T09:00:00Z"


def test_schedule_input_replaces_the_envelope() -> None:
    assert scheduled_event(Schedule("F", "n", "rate(1 day)", input='{"a": 1}'), datetime.now(UTC)) == {"a": 1}


def test_instants_need_a_zone() -> None:
    assert parse_instant("2026-12-08T10:00:00+01:00") == datetime(2026, 12, 8, 9, tzinfo=UTC)
    with pytest.raises(ValueError, match="zone"):
        parse_instant("2026-12-08T09:00:00")


# ---------------------------------------------------------------- the outbox


class _Raw:
    """What moto keeps for an SES raw send."""

    def __init__(self, message_id: str, to: str, subject: str, html: str | None = "<p>Hello</p>"):
        mime = EmailMessage()
        mime["From"], mime["To"], mime["Subject"] = "nudges@example.org", to, subject
        mime.set_content("Hello")
        if html:
            mime.add_alternative(html, subtype="html")
        self.id, self.source, self.destinations, self.raw_data = message_id, "nudges@example.org", [to], mime.as_string()


class _Simple:
    """What moto keeps for an SES simple send."""

    def __init__(self, message_id: str, to: str, subject: str):
        self.id, self.source, self.subject, self.body = message_id, "nudges@example.org", subject, "Plain body"
        self.destinations = {"ToAddresses": [to]}


class _Stores:
    def __init__(self) -> None:
        self.emails: list[object] = []
        self.texts: OrderedDict[str, tuple[str, str]] = OrderedDict()

    def __call__(self) -> tuple[list[object], OrderedDict[str, tuple[str, str]]]:
        return self.emails, self.texts


def _outbox(clock: Clock) -> tuple[Outbox, _Stores]:
    stores = _Stores()
    return Outbox(stores, clock.now, "http://127.0.0.1:3000"), stores


def test_outbox_is_ordered_by_send_time_across_channels_with_timestamps() -> None:
    clock = Clock()
    outbox, stores = _outbox(clock)
    clock.set(datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    stores.texts["t1"] = ("+353851234567", "Did you talk with Bob today?")
    outbox.observe()
    clock.set(datetime(2026, 12, 8, 9, 5, tzinfo=UTC))
    stores.emails.append(_Raw("e1", "ann@example.org", "Time to catch up"))
    outbox.observe()
    clock.set(datetime(2026, 12, 8, 9, 10, tzinfo=UTC))
    stores.texts["t2"] = ("+353851234567", "Did you talk with Bob today?")
    outbox.observe()
    # The clock set back: a message sent then lists before the ones sent at later instants.
    clock.set(datetime(2026, 12, 8, 9, 2, tzinfo=UTC))
    stores.emails.append(_Simple("e2", "bob@example.org", "Ann is away"))
    outbox.observe()
    listed = outbox.messages()
    assert [(m["id"], m["sent_at"]) for m in listed] == [
        ("t1", "2026-12-08T09:00:00Z"),
        ("e2", "2026-12-08T09:02:00Z"),
        ("e1", "2026-12-08T09:05:00Z"),
        ("t2", "2026-12-08T09:10:00Z"),
    ]
    assert listed[2]["html_url"] == "http://127.0.0.1:3000/_local/outbox/e1.html"
    assert listed[2]["eml_url"] == "http://127.0.0.1:3000/_local/outbox/e1.eml"
    assert "html_url" not in listed[1]  # a simple send has no HTML part


def test_a_standing_clock_keeps_the_order_messages_were_sent_in() -> None:
    clock = Clock()
    clock.set(datetime(2026, 12, 8, 9, 0, tzinfo=UTC))
    outbox, stores = _outbox(clock)
    for n in range(3):
        stores.emails.append(_Raw(f"e{n}", "ann@example.org", f"Mail {n}"))
        stores.texts[f"t{n}"] = ("+353851234567", f"Text {n}")
        outbox.observe()
    assert [m["id"] for m in outbox.messages()] == ["e0", "t0", "e1", "t1", "e2", "t2"]


def test_each_message_is_parsed_once_and_a_look_costs_only_the_new_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    original = outbox_module.email_entry

    def counting(msg: object, now: datetime) -> tuple[dict[str, object], bytes]:
        parsed.append(msg.id)  # type: ignore[attr-defined]
        return original(msg, now)

    monkeypatch.setattr(outbox_module, "email_entry", counting)
    outbox, stores = _outbox(Clock())
    for n in range(150):
        stores.emails.append(_Raw(f"e{n}", "ann@example.org", f"Mail {n}"))
        stores.texts[f"t{n}"] = ("+353851234567", f"Text {n}")
        assert [m["id"] for m in outbox.observe()] == [f"e{n}", f"t{n}"]
    assert len(parsed) == 150
    for _ in range(10):  # what every later call into moto does: look, find nothing new
        assert outbox.observe() == []
    assert len(outbox.messages()) == 300
    assert outbox.html("e7") == "<p>Hello</p>\n"
    assert len(parsed) == 150  # listing and looking up re-parse nothing


def test_the_outbox_keeps_the_mime_and_rebuilds_it_for_simple_sends() -> None:
    outbox, stores = _outbox(Clock())
    stores.emails += [_Raw("raw", "ann@example.org", "Time to catch up"), _Simple("simple", "bob@example.org", "Ann is away")]
    stores.texts["t"] = ("+353851234567", "Hi")
    outbox.observe()
    raw = email.message_from_bytes(outbox.mime("raw") or b"", policy=email.policy.default)
    assert raw["subject"] == "Time to catch up"
    simple = email.message_from_bytes(outbox.mime("simple") or b"", policy=email.policy.default)
    assert (simple["to"], simple["subject"], simple.get_content().strip()) == ("bob@example.org", "Ann is away", "Plain body")
    assert outbox.html("simple") is None
    assert outbox.html("t") is None
    assert outbox.mime("t") is None
    assert outbox.mime("nope") is None


def test_a_reset_moto_starts_the_count_again() -> None:
    outbox, stores = _outbox(Clock())
    stores.emails.append(_Raw("before", "ann@example.org", "Before"))
    outbox.observe()
    stores.emails = [_Raw("after", "ann@example.org", "After")]  # moto's reset: new backends, new stores
    assert [m["id"] for m in outbox.observe()] == ["after"]


# ---------------------------------------------------------------- moto, one call at a time


def test_moto_serves_one_call_at_a_time_and_the_outbox_looks_after_each() -> None:
    inside, most, looks = [0], [0], [0]
    lock = threading.Lock()

    def app(environ: dict[str, object], start_response: object) -> list[bytes]:
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.002)  # room for another thread to come in, were it let in
        with lock:
            inside[0] -= 1
        return [b"ok"]

    def after() -> None:
        looks[0] += 1
        if looks[0] == 3:
            raise RuntimeError("a bad look must not break moto's answer")

    serialised = SerialisedCalls(app, after)
    answers: list[list[bytes]] = []

    def caller() -> None:
        for _ in range(10):
            answers.append(serialised({}, lambda *a: None))

    threads = [threading.Thread(target=caller) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most[0] == 1
    assert looks[0] == 80
    assert answers == [[b"ok"]] * 80


def test_moto_calls_are_counted_by_what_they_may_change() -> None:
    """The stack reads its stream again after a call that may have written to the table, its queues after one that may have sent."""
    serialised = SerialisedCalls(lambda environ, start_response: [b"{}"])
    for target in [
        "DynamoDB_20120810.GetItem",
        "DynamoDB_20120810.Query",
        "DynamoDBStreams_20120810.GetRecords",
        "AmazonSQS.ReceiveMessage",
        "",  # a call without a target (SES's REST API)
        "DynamoDB_20120810.TransactWriteItems",
        "DynamoDB_20120810.UpdateItem",
        "DynamoDB_20120810.SomeNewWrite",  # not known to be a read: counted, never missed
        "AWSEvents.PutEvents",
        "AmazonSQS.SendMessage",
    ]:
        serialised({"HTTP_X_AMZ_TARGET": target} if target else {}, lambda *a: None)
    assert (serialised.table_writes, serialised.queue_sends) == (3, 2)


# ---------------------------------------------------------------- the command line


def test_a_taken_port_says_which_and_how_to_choose_another() -> None:
    message = str(PortInUse(3000, "already in use (another `make run`?)"))
    assert "\n" not in message
    assert "port 3000 is already in use" in message
    assert "make run PORT=3001" in message


@pytest.mark.parametrize("text", ["ann@example.org", "a.b+tag@sub.example.co.uk", " ann@example.org "])
def test_email_addresses_are_taken(text: str) -> None:
    assert is_email_address(text)


@pytest.mark.parametrize(
    "text", ["notanemail", "ann@", "@example.org", "ann@example", "ann @example.org", "a@b@example.org", "ann@example..org", ""]
)
def test_what_is_not_an_email_address_is_refused(text: str) -> None:
    assert not is_email_address(text)


def test_make_token_refuses_what_is_not_an_email_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "argv", ["token", "notanemail"])
    with pytest.raises(SystemExit) as exit_:
        token_cli.main()
    assert exit_.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.strip().splitlines()) == 1
    assert "email address" in err
    assert "notanemail" not in err
