"""Drive the nudge pipeline as AWS would: the schedule's event, the queue, the sender's SQS batches, SES."""

from __future__ import annotations

import email
import email.policy
import os
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError
from moto.ses.models import ses_backends

from infra import cfn
from infra.lambdas import invoke, sqs_event
from infra.local.stack import scheduled_event

SWEEP = next(s for s in cfn.schedules() if s.function == "NudgeSweepFunction")


@dataclass(frozen=True)
class Mail:
    to: str
    subject: str
    text: str
    html: str
    headers: dict[str, str]
    ics: bytes | None = None  # a group reminder's invitation, when it has one
    ics_type: str = ""


@lru_cache(maxsize=4096)
def parse_mail(raw: str) -> Mail:
    """One sent message as the tests read it. Cached by its raw text: the harnesses read every message
    sent so far after each run (a month of six-hourly runs parsed the same few mails over and over)."""
    parsed = email.message_from_string(raw, policy=email.policy.default)
    text = parsed.get_body(preferencelist=("plain",))
    html = parsed.get_body(preferencelist=("html",))
    attached = next(iter(parsed.iter_attachments()), None) if parsed.is_multipart() else None
    return Mail(
        to=str(parsed["To"]),
        subject=str(parsed["Subject"]),
        text=text.get_content() if text else "",
        html=html.get_content() if html else "",
        headers={k: str(v) for k, v in parsed.items()},
        ics=attached.get_payload(decode=True) if attached is not None else None,
        ics_type=str(attached["Content-Type"]) if attached is not None else "",
    )


def sent_mails() -> list[Mail]:
    """Every email moto's SES has sent in this test, oldest first."""
    return [parse_mail(message.raw_data) for message in ses_backends["123456789012"]["eu-west-1"].sent_messages]


def as_sent_at(messages: list[dict[str, Any]], at: datetime | None) -> list[dict[str, Any]]:
    """Queued messages as sent at `at`, the sweep's instant that queued them.

    SQS stamps SentTimestamp with the wall clock, and a sender takes as "now" the later of the sweep's
    instant and that stamp (the local stack's clock may run ahead of the wall clock). The tests run on
    fixed dates: unstamped, the wall clock would leak in once it passes them (a digest tested for
    30 November, run on 2 December, saw an invitation expire that had not yet).
    """
    if at is None:
        return messages
    stamp = str(int(at.timestamp() * 1000))
    return [{**m, "Attributes": {**m.get("Attributes", {}), "SentTimestamp": stamp}} for m in messages]


class NudgeHarness:
    def __init__(self) -> None:
        self.sqs = boto3.client("sqs")
        self.swept_at: datetime | None = None
        self.dlq_url = self.sqs.create_queue(QueueName="peer-support-test-nudges-dlq")["QueueUrl"]
        dlq_arn = self.arn(self.dlq_url)
        self.queue_url = self.sqs.create_queue(
            QueueName="peer-support-test-nudges",
            Attributes={"VisibilityTimeout": "0", "RedrivePolicy": f'{{"deadLetterTargetArn": "{dlq_arn}", "maxReceiveCount": "3"}}'},
        )["QueueUrl"]
        assert self.queue_url == os.environ["NUDGE_QUEUE_URL"]
        ses = boto3.client("ses")
        ses.verify_email_identity(EmailAddress=os.environ["SENDER_EMAIL"])
        ses.create_configuration_set(ConfigurationSet={"Name": os.environ["SES_CONFIGURATION_SET"]})

    def arn(self, url: str) -> str:
        return str(self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def sweep(self, at: datetime) -> dict[str, Any]:
        self.swept_at = at
        return dict(invoke("NudgeSweepFunction", scheduled_event(SWEEP, at)))

    def receive(self) -> list[dict[str, Any]]:
        """One ReceiveMessage, as the event source polls (the queue's visibility timeout is 0 here)."""
        return list(self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", []))

    def deliver(self, messages: list[dict[str, Any]] | None = None, *, delete: bool = True) -> dict[str, Any]:
        """Hand queued messages to the sender as one SQS batch; delete what it did not report failed."""
        messages = self.receive() if messages is None else messages
        if not messages:
            return {"batchItemFailures": []}
        try:
            result = dict(invoke("NudgeSenderFunction", sqs_event(as_sent_at(messages, self.swept_at), self.arn(self.queue_url))))
        except BatchProcessingError:
            # Every record failed: the invocation errors and Lambda returns the whole batch to the queue.
            result = {"batchItemFailures": [{"itemIdentifier": m["MessageId"]} for m in messages]}
        failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
        if delete:
            for message in messages:
                if message["MessageId"] not in failed:
                    self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return result

    def run(self, at: datetime) -> list[Mail]:
        """One sweep at `at` and everything it queued delivered; returns the emails sent by it."""
        before = len(self.sent())
        self.sweep(at)
        while self.deliver()["batchItemFailures"] == [] and self._queued():
            pass
        return self.sent()[before:]

    def _queued(self) -> bool:
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        return int(attributes["Attributes"]["ApproximateNumberOfMessages"]) > 0

    def dead_letters(self) -> list[dict[str, Any]]:
        return list(self.sqs.receive_message(QueueUrl=self.dlq_url, MaxNumberOfMessages=10).get("Messages", []))

    @staticmethod
    def sent() -> list[Mail]:
        return sent_mails()
