"""Faults moto cannot produce, injected where AWS would produce them: at the service's answer.

Each fault is the answer the service gives to a chosen request (throttling, a transaction
conflict, SES or SNS refusing, or the Lambda dying mid-call). It is given at botocore's
`before-send` step, where moto answers every request in these tests, so botocore's own retry
logic sees it exactly as it would see AWS's answer: what botocore retried is counted from the
`amz-sdk-request: attempt=N` header it puts on each attempt. Nothing of ours is mocked.

Each test prints what it injected, what was retried and the end state, and checks: no check-in
lost or half-written (recorded once, or a clean problem-details answer the client can retry),
no email or text twice, no nudge lost (sent at the next sweep or redelivery, or in the DLQ).
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.retries.standard import ExponentialBackoff
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse
from moto.sns.models import sns_backends

from infra import cfn
from infra.lambdas import invoke, load_handler
from infra.local.stack import scheduled_event
from shared.nudges.sending import deployed_deps
from tests.helpers import Reply, call, member, pact
from tests.integration.digest_harness import DigestHarness
from tests.integration.group_harness import group_of, sub
from tests.integration.group_steps import MEETINGS, RHYTHM, mid
from tests.integration.nudge_harness import NudgeHarness
from tests.integration.test_group_reminders import Reminders, a_group

ANN, BOB, CARA = "ann@example.org", "bob@example.org", "cara@example.org"
START = datetime(2026, 12, 1, 9, tzinfo=UTC)  # a Tuesday; slots Tuesdays 08:30 Dublin (= UTC in winter) from 8 December
WEEKLY = {"rhythm": {"weekday": "tuesday", "time": "08:30"}, "time_limit_minutes": 30}
NUDGE_HOUR = datetime(2026, 12, 10, 9, tzinfo=UTC)  # lapsed at 08:30 (two days' grace), Dublin's nudge hour
SMS = {"phone": "+353851234567", "notifications": {"channels": ["email", "sms"]}}
SMS_SWEEP = next(s for s in cfn.schedules() if s.function == "SmsSweepFunction")
HABIT_SWEEP = next(s for s in cfn.schedules() if s.function == "HabitSweepFunction")


class LambdaTimedOut(BaseException):
    """The function's time ran out here: like Lambda's kill, nothing in the function can catch it."""


# ------------------------------------------------------------------ the injector


@dataclass
class Fault:
    """`code` as the answer to `operation` (e.g. "dynamodb.TransactWriteItems") for the first `times` matching attempts."""

    operation: str
    code: str
    times: int = 10**6
    status: int = 400
    when: Callable[[bytes], bool] = lambda body: True
    skip: int = 0  # let this many matching attempts through first
    # A TransactionCanceledException's reason for each of the transaction's `count` items ("None": not this one).
    reasons: Callable[[int], list[str]] = lambda count: ["TransactionConflict"] * count
    seen: list[int] = field(default_factory=list)  # the attempt number (1 = first try) of every matching request
    injected: int = 0

    @property
    def retries(self) -> int:
        return sum(1 for n in self.seen if n > 1)

    def answer(self, request: AWSPreparedRequest, protocol: str) -> AWSResponse | None:
        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if not self.when(body):
            return None
        header = request.headers.get("amz-sdk-request", b"attempt=1")
        text = header.decode() if isinstance(header, bytes) else str(header)
        self.seen.append(int(re.search(r"attempt=(\d+)", text).group(1)))  # type: ignore[union-attr]
        if self.skip > 0:
            self.skip -= 1
            return None
        if self.injected >= self.times:
            return None
        self.injected += 1
        if self.code == "LambdaTimedOut":
            raise LambdaTimedOut(self.operation)
        return AWSResponse(request.url, self.status, *self._error(body, protocol))

    def _error(self, body: bytes, protocol: str) -> tuple[dict[str, str], MockRawResponse]:
        message = f"injected {self.code}"
        if protocol == "json":  # DynamoDB
            error: dict[str, Any] = {"__type": f"com.amazonaws.dynamodb.v20120810#{self.code}", "message": message}
            if self.code == "TransactionCanceledException":
                codes = self.reasons(len(json.loads(body)["TransactItems"]))
                error["CancellationReasons"] = [{"Code": code, **({"Message": "injected"} if code != "None" else {})} for code in codes]
                error["message"] = f"Transaction cancelled, please refer cancellation reasons for specific reasons [{', '.join(codes)}]"
            return {"content-type": "application/x-amz-json-1.0"}, MockRawResponse(json.dumps(error))
        if protocol == "rest-json":  # SES v2
            return {"x-amzn-ErrorType": self.code, "content-type": "application/json"}, MockRawResponse(json.dumps({"message": message}))
        error_xml = f"<Error><Type>Sender</Type><Code>{self.code}</Code><Message>{message}</Message></Error>"
        xml = f"<ErrorResponse>{error_xml}<RequestId>f</RequestId></ErrorResponse>"
        return {"content-type": "text/xml"}, MockRawResponse(xml)  # query protocol (SNS)


@contextmanager
def injected(*faults: Fault) -> Iterator[tuple[Fault, ...]]:
    """While inside, the endpoint (moto) answers the chosen requests with the faults instead of serving them."""
    original, backoff = BotocoreStubber.__call__, ExponentialBackoff.delay_amount

    def answering(self: BotocoreStubber, event_name: str, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse | None:
        _, service, operation = event_name.split(".", 2)  # before-send.<service>.<Operation>
        protocol = {"dynamodb": "json", "sesv2": "rest-json"}.get(service, "query")
        for fault in faults:
            if fault.operation == f"{service}.{operation}":
                answer = fault.answer(request, protocol)
                if answer is not None:
                    return answer  # not served: moto's state stays as if the request never arrived
        return original(self, event_name, request, **kwargs)

    BotocoreStubber.__call__ = answering  # type: ignore[method-assign]
    ExponentialBackoff.delay_amount = lambda self, context: 0  # type: ignore[method-assign]  # retry at once: the count matters, not the wait
    try:
        yield faults
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
        ExponentialBackoff.delay_amount = backoff  # type: ignore[method-assign]


def report(what: str, **figures: Any) -> None:
    print(f"[fault] {what}: " + ", ".join(f"{k}={v}" for k, v in figures.items()))


def check_ins_stored(pact_id: str) -> int:
    """Every check-in item and timeline entry of a pact, read straight from the table."""
    ddb = boto3.client("dynamodb")
    items = ddb.query(
        TableName=os.environ["TABLE_NAME"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :c)",
        ExpressionAttributeValues={":pk": {"S": f"PACT#{pact_id}"}, ":c": {"S": "CHECKIN#"}},
        ConsistentRead=True,
    )["Items"]
    return len(items)


def timeline_entries(email: str) -> int:
    return len(call("GET", "/check-ins?limit=100", email=email, now=START + timedelta(days=1)).json()["items"])


def assert_problem(reply: Reply, status: int) -> dict[str, Any]:
    assert reply.status == status, (reply.status, reply.body)
    assert reply.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = reply.json()
    assert body["status"] == status
    assert body["detail"]
    assert "Traceback" not in reply.body.decode()
    return body


def sms_sent() -> list[tuple[str, str]]:
    return list(sns_backends["123456789012"]["eu-west-1"].sms_messages.values())


THROTTLES = ["ProvisionedThroughputExceededException", "ThrottlingException"]


# ------------------------------------------------------------------ the template


def _walk(node: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield k, v
            yield from _walk(v, k)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def test_every_queue_has_a_dead_letter_queue_and_every_dead_letter_queue_an_alarm() -> None:
    queues = cfn.resources_of_type("AWS::SQS::Queue")
    # A dead-letter queue is one that something names as where failures go (a queue's redrive, a
    # schedule's or event source's DeadLetterConfig, an async invocation's OnFailure destination).
    dlqs = {
        value["Fn::GetAtt"][0]
        for key, value in _walk(cfn.template()["Resources"])
        if key in ("deadLetterTargetArn", "Arn", "Destination") and isinstance(value, dict) and "Fn::GetAtt" in value
        if value["Fn::GetAtt"][0] in queues
    }
    workers = sorted(set(queues) - dlqs)
    without_dlq = [q for q in workers if "RedrivePolicy" not in queues[q]["Properties"]]
    alarmed = {
        dim["Value"]["Fn::GetAtt"][0]
        for alarm in cfn.resources_of_type("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dim in alarm["Properties"].get("Dimensions", [])
        if dim["Name"] == "QueueName"
    }
    unwatched = sorted(dlqs - alarmed)
    report("template", work_queues=workers, dead_letter_queues=sorted(dlqs), without_dlq=without_dlq, dlqs_without_alarm=unwatched)
    assert workers
    assert dlqs
    assert without_dlq == []
    assert unwatched == []


# ------------------------------------------------------------------ API writes


@pytest.fixture
def ann_and_bob(aws: dict[str, Any]) -> str:
    member(ANN, "Ann")
    member(BOB, "Bob")
    return str(pact(ANN, BOB, now=START, **WEEKLY)["id"])


def check_in(pact_id: str, key: str | None = None, note: str = "Talked about the referral") -> Reply:
    headers = {"Idempotency-Key": key} if key else {}
    body = {"occurred_at": "2026-12-01T09:00:00Z", "note": note}
    return call("POST", f"/pacts/{pact_id}/check-ins", body=body, headers=headers, now=START)


@pytest.mark.parametrize("code", THROTTLES)
def test_a_throttled_check_in_is_retried_by_botocore_and_recorded_once(ann_and_bob: str, code: str) -> None:
    with injected(Fault("dynamodb.TransactWriteItems", code, times=2)) as (fault,):
        reply = check_in(ann_and_bob, "k1")
    stored = check_ins_stored(ann_and_bob)
    report(f"check-in, {code} x2", botocore_retries=fault.retries, status=reply.status, items_in_pact=stored)
    assert reply.status == 201, reply.body
    assert fault.retries == 2
    assert stored == 1
    assert (timeline_entries(ANN), timeline_entries(BOB)) == (1, 1)


@pytest.mark.parametrize("code", THROTTLES)
def test_a_check_in_throttled_throughout_is_a_503_to_retry_and_writes_nothing(ann_and_bob: str, code: str) -> None:
    with injected(Fault("dynamodb.TransactWriteItems", code)) as (fault,):
        refused = check_in(ann_and_bob, "k2")
    problem = assert_problem(refused, 503)
    assert refused.headers["retry-after"].isdigit()
    after_refusal = check_ins_stored(ann_and_bob)
    assert after_refusal == 0  # one transaction: nothing of it was written
    # The client retries with the same Idempotency-Key: recorded once; a further repeat replays it.
    retried = check_in(ann_and_bob, "k2")
    repeated = check_in(ann_and_bob, "k2")
    report(
        f"check-in, {code} on every attempt",
        botocore_retries=fault.retries,
        answer=f"{refused.status} {problem['title']}",
        items_after_refusal=after_refusal,
        client_retry=retried.status,
        repeat=repeated.status,
        items=check_ins_stored(ann_and_bob),
    )
    assert fault.retries == 3  # four attempts in all (PynamoDB's client: standard mode)
    assert retried.status == 201
    assert repeated.status == 201
    assert repeated.json() == retried.json()
    assert check_ins_stored(ann_and_bob) == 1
    assert (timeline_entries(ANN), timeline_entries(BOB)) == (1, 1)


def test_a_throttled_read_before_a_write_is_a_503_too(ann_and_bob: str) -> None:
    with injected(Fault("dynamodb.Query", "ThrottlingException"), Fault("dynamodb.BatchGetItem", "ThrottlingException")) as faults:
        refused = check_in(ann_and_bob)
    assert_problem(refused, 503)
    report("check-in, reads throttled", botocore_retries=sum(f.retries for f in faults), status=refused.status)
    assert sum(f.retries for f in faults) == 3
    assert check_ins_stored(ann_and_bob) == 0
    assert check_in(ann_and_bob).status == 201
    assert check_ins_stored(ann_and_bob) == 1


def test_a_check_in_meeting_a_transaction_conflict_is_read_again_and_recorded_once(ann_and_bob: str) -> None:
    with injected(Fault("dynamodb.TransactWriteItems", "TransactionCanceledException", times=1)) as (fault,):
        reply = check_in(ann_and_bob)
    report("check-in, TransactionConflict x1", transaction_attempts=len(fault.seen), botocore_retries=fault.retries, status=reply.status)
    assert reply.status == 201, reply.body
    assert len(fault.seen) == 2
    assert fault.retries == 0
    assert check_ins_stored(ann_and_bob) == 1


def test_a_check_in_meeting_conflicts_throughout_is_a_409_and_writes_nothing(ann_and_bob: str) -> None:
    with injected(Fault("dynamodb.TransactWriteItems", "TransactionCanceledException")) as (fault,):
        refused = check_in(ann_and_bob, "k3")
    problem = assert_problem(refused, 409)
    after = check_ins_stored(ann_and_bob)
    retried = check_in(ann_and_bob, "k3")
    report("check-in, TransactionConflict always", transaction_attempts=len(fault.seen), answer=problem["detail"], items_after=after)
    assert len(fault.seen) == 3
    assert after == 0
    assert retried.status == 201
    assert check_ins_stored(ann_and_bob) == 1


def throttled_item(count: int) -> list[str]:
    """One item of the transaction over its capacity (an index's, say): DynamoDB cancels it with ThrottlingError inside."""
    return ["None"] * (count - 1) + ["ThrottlingError"]


@pytest.mark.parametrize("write", ["check-in", "propose", "accept"])
def test_a_transaction_cancelled_for_throttling_inside_is_a_503_to_retry_and_writes_nothing(aws: dict[str, Any], write: str) -> None:
    """Not a condition of ours and not a conflict the use case reads again: the service's "not now", as throttling is."""
    member(ANN, "Ann")
    member(BOB, "Bob")
    proposal = {"colleague": {"email": BOB}, **WEEKLY}
    invited = str(pact(ANN, BOB, now=START, accept=False, **WEEKLY)["id"])
    if write == "check-in":
        call("POST", f"/pacts/{invited}/accept", email=BOB, now=START)
    requests = {
        "check-in": ("POST", f"/pacts/{invited}/check-ins", ANN, {"occurred_at": "2026-12-01T09:00:00Z"}, 201),
        "propose": ("POST", "/pacts", ANN, {**proposal, "colleague": {"email": CARA}}, 201),
        "accept": ("POST", f"/pacts/{invited}/accept", BOB, None, 200),
    }
    method, path, email, body, ok = requests[write]
    before = call("GET", "/pacts", email=email, now=START).json()
    with injected(Fault("dynamodb.TransactWriteItems", "TransactionCanceledException", reasons=throttled_item)) as (fault,):
        refused = call(method, path, email=email, body=body, now=START)
    problem = assert_problem(refused, 503)
    after, check_ins_after = call("GET", "/pacts", email=email, now=START).json(), check_ins_stored(invited)
    retried = call(method, path, email=email, body=body, now=START)
    report(f"{write}, ThrottlingError inside the cancellation", attempts=len(fault.seen), answer=refused.status, retry=retried.status)
    assert refused.headers["retry-after"].isdigit()
    assert problem["retry_after"] == int(refused.headers["retry-after"])
    assert after == before  # nothing of the cancelled transaction was written
    assert check_ins_after == 0
    assert retried.status == ok, retried.body


def test_accepting_a_pact_under_conflict_and_throttling_is_all_or_nothing(aws: dict[str, Any]) -> None:
    member(ANN, "Ann")
    member(BOB, "Bob")
    created = pact(ANN, BOB, now=START, accept=False, **WEEKLY)
    accept = f"/pacts/{created['id']}/accept"
    with injected(Fault("dynamodb.TransactWriteItems", "TransactionCanceledException", times=1)) as (conflict,):
        first = call("POST", accept, email=BOB, now=START)
    assert first.status == 200, first.body
    assert conflict.injected == 1
    assert len(conflict.seen) == 2

    created2 = pact(ANN, CARA, now=START, accept=False, **WEEKLY)
    member(CARA, "Cara")
    accept2 = f"/pacts/{created2['id']}/accept"
    with injected(Fault("dynamodb.TransactWriteItems", "ProvisionedThroughputExceededException")) as (throttle,):
        refused = call("POST", accept2, email=CARA, now=START)
    assert_problem(refused, 503)
    still = call("GET", f"/pacts/{created2['id']}", email=CARA, now=START).json()
    retried = call("POST", accept2, email=CARA, now=START)
    report(
        "accept pact",
        conflict_attempts=len(conflict.seen),
        throttled_retries=throttle.retries,
        refused=refused.status,
        state_after_refusal=still["state"],
        retry=retried.status,
    )
    assert still["state"] == "invited"
    assert still["mutual"] is False
    assert retried.status == 200
    assert retried.json()["mutual"] is True
    assert call("GET", f"/pacts/{created2['id']}", email=ANN, now=START).json()["mutual"] is True


def test_group_attendance_under_conflict_and_throttling_is_all_or_nothing(aws: dict[str, Any]) -> None:
    now = datetime(2026, 9, 1, 9, tzinfo=UTC)
    group_id = group_of(ANN, [BOB], now, rhythm=RHYTHM)
    after = MEETINGS[0] + timedelta(hours=2)
    path = f"/groups/{group_id}/meetings/{mid(MEETINGS[0])}/attendance"
    body = {"attended": [sub(ANN), sub(BOB)], "presented": [sub(BOB)]}
    with injected(Fault("dynamodb.TransactWriteItems", "TransactionCanceledException", times=1)) as (conflict,):
        held = call("POST", path, body=body, now=after)
    assert held.status == 200, held.body
    assert held.json()["status"] == "held"
    second = f"/groups/{group_id}/meetings/{mid(MEETINGS[1])}/attendance"
    later = MEETINGS[1] + timedelta(hours=2)
    with injected(Fault("dynamodb.TransactWriteItems", "TransactionCanceledException")) as (always,):
        refused = call("POST", second, body=body, now=later)
    assert_problem(refused, 409)
    unchanged = call("GET", f"/groups/{group_id}/meetings/{mid(MEETINGS[1])}", email=BOB, now=later).json()
    bob_history = call("GET", "/members/me/meetings", email=BOB, now=later).json()["items"]
    retried = call("POST", second, body=body, now=later)
    report(
        "group attendance",
        conflict_once_attempts=len(conflict.seen),
        conflict_always_attempts=len(always.seen),
        refused=refused.status,
        status_after_refusal=unchanged["status"],
        bob_meetings_after_refusal=len(bob_history),
        retry=retried.status,
    )
    assert unchanged["status"] != "held"
    assert [m["meeting_id"] for m in bob_history] == [mid(MEETINGS[0])]
    assert retried.status == 200
    assert retried.json()["status"] == "held"
    assert len(call("GET", "/members/me/meetings", email=BOB, now=later).json()["items"]) == 2


# ------------------------------------------------------------------ the nudge sender and SES


@pytest.fixture
def nudges(aws: dict[str, Any]) -> NudgeHarness:
    return NudgeHarness()


def lapsed(*emails: str) -> None:
    """Each member with a weekly pact with an outside colleague, lapsed at NUDGE_HOUR."""
    for email in emails:
        member(email, email.split("@")[0].title())
        pact(email, {"name": "Jennifer", "email": f"jen.{email}"}, now=START, **WEEKLY)


def test_ses_throttling_is_retried_by_botocore_then_by_the_queue_and_sends_once(nudges: NudgeHarness) -> None:
    lapsed(ANN)
    nudges.sweep(NUDGE_HOUR)
    with injected(Fault("sesv2.SendEmail", "TooManyRequestsException", status=429)) as (fault,):
        first = nudges.deliver()
    assert nudges.sent() == []
    assert len(first["batchItemFailures"]) == 1  # back to the queue
    second = nudges.deliver()  # SQS redelivers it (visibility timeout 0 here)
    again = nudges.run(NUDGE_HOUR + timedelta(minutes=15))
    report(
        "nudge sender, SES TooManyRequests on every attempt",
        botocore_retries=fault.retries,
        sqs_redeliveries=1,
        failed_first=len(first["batchItemFailures"]),
        failed_second=len(second["batchItemFailures"]),
        emails=len(nudges.sent()),
    )
    assert fault.retries == 4  # shared/adapters/aws.py: retries max_attempts=4 (retries, after the first try)
    assert second["batchItemFailures"] == []
    assert again == []
    assert [m.to for m in nudges.sent()] == [ANN]
    assert nudges.dead_letters() == []


def test_one_throttled_send_in_a_batch_returns_only_that_message(nudges: NudgeHarness) -> None:
    lapsed(ANN, BOB, CARA)
    nudges.sweep(NUDGE_HOUR)
    messages = nudges.receive()
    assert len(messages) == 3
    bob_message = next(m["MessageId"] for m in messages if json.loads(m["Body"])["member_id"] == sub(BOB))
    only_bob = Fault("sesv2.SendEmail", "TooManyRequestsException", status=429, when=lambda body: BOB.encode() in body)
    with injected(only_bob):
        result = nudges.deliver(messages)
    failed = [f["itemIdentifier"] for f in result["batchItemFailures"]]
    sent_first = sorted(m.to for m in nudges.sent())
    redelivered = nudges.receive()
    nudges.deliver(redelivered)
    report(
        "nudge sender, SES fails for one member of three",
        botocore_retries=only_bob.retries,
        failed_back_to_queue=len(failed),
        sent_first=sent_first,
        redelivered=len(redelivered),
        emails=sorted(m.to for m in nudges.sent()),
    )
    assert failed == [bob_message]
    assert sent_first == [ANN, CARA]
    assert [m["MessageId"] for m in redelivered] == [bob_message]
    assert sorted(m.to for m in nudges.sent()) == [ANN, BOB, CARA]


def test_a_hard_ses_failure_ends_in_the_dead_letter_queue_and_the_nudge_is_sent_later(nudges: NudgeHarness) -> None:
    lapsed(ANN)
    nudges.sweep(NUDGE_HOUR)
    with injected(Fault("sesv2.SendEmail", "SendingPausedException")) as (fault,):
        for _ in range(4):
            nudges.deliver()
    dead = nudges.dead_letters()
    # The account is sending again; the next sweep finds the nudge still due and sends it, once.
    later = nudges.run(NUDGE_HOUR + timedelta(minutes=15))
    report(
        "nudge sender, SES SendingPaused",
        attempts=len(fault.seen),
        botocore_retries=fault.retries,
        in_dead_letter_queue=len(dead),
        sent_at_next_sweep=len(later),
    )
    assert fault.retries == 0  # not a throttle: botocore does not retry it; SQS did, 3 times
    assert len(fault.seen) == 3
    assert len(dead) == 1
    assert [m.to for m in later] == [ANN]
    assert nudges.run(NUDGE_HOUR + timedelta(minutes=30)) == []


def test_a_sender_that_dies_mid_batch_sends_nothing_twice_and_loses_nothing(nudges: NudgeHarness, monkeypatch: pytest.MonkeyPatch) -> None:
    lapsed(ANN, BOB)
    nudges.sweep(NUDGE_HOUR)
    messages = nudges.receive()
    with injected(Fault("sesv2.SendEmail", "LambdaTimedOut", skip=1)), pytest.raises(LambdaTimedOut):
        nudges.deliver(messages)
    first = [m.to for m in nudges.sent()]
    # Lambda failed: the whole batch comes back. The one already sent is not sent again; the one that
    # died mid-send is claimed: it waits out the claim's lease, then the next sweep sends it.
    redelivered = nudges.receive()
    nudges.deliver(redelivered)
    before_lease = len(nudges.sent())
    load_handler("NudgeSenderFunction")
    sender = vars(sys.modules["lambda_NudgeSenderFunction"])  # the function's module, as Lambda loaded it
    later = replace(deployed_deps(), clock=lambda: datetime.now(UTC) + timedelta(minutes=16))
    monkeypatch.setitem(sender, "deployed_deps", lambda: later)
    after = nudges.run(NUDGE_HOUR + timedelta(minutes=30))
    report(
        "nudge sender, Lambda timeout at the second email of a batch of two",
        sent_before_death=first,
        sqs_redelivered=len(redelivered),
        sent_on_redelivery=before_lease - len(first),
        sent_after_lease=[m.to for m in after],
    )
    assert len(first) == 1
    assert len(redelivered) == 2
    assert before_lease == 1
    assert len(after) == 1
    assert sorted(m.to for m in nudges.sent()) == [ANN, BOB]


# ------------------------------------------------------------------ the reminder and digest senders


def test_the_meeting_reminder_sender_survives_ses_throttling_and_sends_once(aws: dict[str, Any]) -> None:
    reminders = Reminders()
    a_group((BOB, {}))
    reminders.run(datetime(2030, 10, 22, 19, tzinfo=UTC))  # the meeting is fixed a week ahead
    reminders.sweep(datetime(2030, 10, 28, 9, tzinfo=UTC))
    with injected(Fault("sesv2.SendEmail", "TooManyRequestsException", status=429)) as (fault,):
        first = reminders.deliver()
    nothing = len(reminders.sent())
    second = reminders.deliver()
    twice = reminders.sweep(datetime(2030, 10, 28, 9, tzinfo=UTC))  # the schedule's event delivered again
    reminders.deliver()
    report(
        "reminder sender, SES throttled throughout one delivery",
        botocore_retries=fault.retries,
        failed_first=len(first["batchItemFailures"]),
        redelivered_failed=len(second["batchItemFailures"]),
        emails=sorted(m.to for m in reminders.sent()),
    )
    assert nothing == 0
    assert len(first["batchItemFailures"]) == 2
    assert fault.retries == 8  # 4 for each of the two messages
    assert twice["reminders"] == 0
    assert sorted(m.to for m in reminders.sent()) == [ANN, BOB]
    assert reminders.dead_letters() == []


def test_the_digest_sender_survives_ses_throttling_and_sends_once(aws: dict[str, Any]) -> None:
    digest = DigestHarness()
    monday = datetime(2026, 12, 7, 9, tzinfo=UTC)
    member(ANN, "Ann")
    member(BOB, "Bob")
    created = pact(ANN, BOB, now=datetime(2026, 11, 2, 9, tzinfo=UTC), **WEEKLY)
    body = {"occurred_at": "2026-11-20T10:00:00Z"}
    assert call("POST", f"/pacts/{created['id']}/check-ins", body=body, now=datetime(2026, 11, 20, 11, tzinfo=UTC)).status == 201
    digest.sweep(monday)
    with injected(Fault("sesv2.SendEmail", "TooManyRequestsException", status=429, times=6)) as (fault,):
        first = digest.deliver()  # all 5 attempts for the first message fail; the second message's first retry passes
    sent_first = [m.to for m in digest.sent()]
    digest.deliver()
    digest.sweep(monday)  # delivered twice
    digest.sweep(monday + timedelta(hours=3))  # and late
    digest.deliver()
    report(
        "digest sender, SES throttled 5 times",
        botocore_retries=fault.retries,
        failed_first=len(first["batchItemFailures"]),
        sent_first=sent_first,
        emails=sorted(m.to for m in digest.sent()),
    )
    assert fault.injected == 6
    assert fault.retries == 5
    assert len(first["batchItemFailures"]) == 1
    assert len(sent_first) == 1
    assert sorted(m.to for m in digest.sent()) == [ANN, BOB]


# ------------------------------------------------------------------ SNS: the check-in texts and habit reminders


def sms_sweep(moment: datetime) -> dict[str, Any]:
    return dict(invoke("SmsSweepFunction", scheduled_event(SMS_SWEEP, moment)))


def habit_sweep(moment: datetime) -> dict[str, Any]:
    return dict(invoke("HabitSweepFunction", scheduled_event(HABIT_SWEEP, moment)))


def test_a_text_sns_refused_is_sent_at_the_next_sweep_once(aws: dict[str, Any]) -> None:
    member(ANN, "Ann", **SMS)
    pact(ANN, {"name": "Jennifer", "email": "jen@example.org"}, now=START, **WEEKLY)
    slot_over = datetime(2026, 12, 8, 9, 5, tzinfo=UTC)
    with injected(Fault("sns.Publish", "Throttling")) as (throttled,):
        first = sms_sweep(slot_over)
    with injected(Fault("sns.Publish", "InternalError", status=500, times=1)) as (once,):
        second = sms_sweep(slot_over + timedelta(minutes=5))
    twice = sms_sweep(slot_over + timedelta(minutes=5))  # the same scheduled event again
    late = sms_sweep(slot_over + timedelta(minutes=40))  # and a late one
    report(
        "SMS sweep, SNS Throttling throughout, then one 500",
        botocore_retries_first=throttled.retries,
        botocore_retries_second=once.retries,
        sent=[first["sent"], second["sent"], twice["sent"], late["sent"]],
        texts=len(sms_sent()),
    )
    assert throttled.retries == 4
    assert first["sent"] == 0
    assert once.retries == 1
    assert second["sent"] == 1
    assert twice["sent"] == 0
    assert late["sent"] == 0
    assert len(sms_sent()) == 1


def test_a_sweep_that_times_out_midway_leaves_the_rest_to_the_next_run(aws: dict[str, Any]) -> None:
    for email in (ANN, BOB, CARA):
        member(email, email.split("@")[0].title(), **SMS)
        pact(email, {"name": "Jennifer", "email": f"jen.{email}"}, now=START, **WEEKLY)
    slot_over = datetime(2026, 12, 8, 9, 5, tzinfo=UTC)
    with injected(Fault("sns.Publish", "LambdaTimedOut", skip=1)), pytest.raises(LambdaTimedOut):
        sms_sweep(slot_over)
    before = len(sms_sent())
    next_run = sms_sweep(slot_over + timedelta(minutes=5))
    after = sms_sweep(slot_over + timedelta(minutes=10))
    report("SMS sweep, Lambda timeout at the second of three texts", sent_before=before, next_run=next_run, run_after=after)
    assert before == 1
    assert next_run["sent"] == 2  # the one it died on, and the one it never reached
    assert after["sent"] == 0
    phones = [phone for phone, _ in sms_sent()]
    assert len(phones) == 3


def test_a_habit_reminder_text_refused_is_sent_at_the_next_run_once(aws: dict[str, Any]) -> None:
    NudgeHarness()
    member(ANN, "Ann", phone="+353851234567", notifications={"channels": ["sms"]})
    member(BOB, "Bob")
    pact(ANN, BOB, now=START, rhythm={"weekday": "tuesday", "time": "08:30"})
    day_before = datetime(2026, 12, 7, 9, tzinfo=UTC)
    with injected(Fault("sns.Publish", "Throttling")) as (fault,):
        first = habit_sweep(day_before)
    second = habit_sweep(day_before + timedelta(minutes=15))
    twice = habit_sweep(day_before + timedelta(minutes=15))
    report(
        "habit sweep, SNS Throttling throughout",
        botocore_retries=fault.retries,
        reminders=[first["reminders"], second["reminders"], twice["reminders"]],
        texts=len(sms_sent()),
        emails=[m.to for m in NudgeHarness.sent()],
    )
    assert fault.retries == 4
    assert len(sms_sent()) == 1
    assert [m.to for m in NudgeHarness.sent()] == [BOB]  # Bob's email went the first time, once
