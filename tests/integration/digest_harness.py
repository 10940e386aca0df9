"""Drive the weekly digest as AWS would: the schedule's event, the digest queue, the sender's SQS batches, SES."""

from __future__ import annotations

import os
from contextlib import suppress
from datetime import datetime
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch.exceptions import BatchProcessingError

from infra import cfn
from infra.lambdas import invoke, sqs_event
from infra.local.stack import scheduled_event
from tests.integration.nudge_harness import Mail, NudgeHarness, as_sent_at

SWEEP = next(s for s in cfn.schedules() if s.function == "DigestSweepFunction")
QUEUE = "peer-support-test-digests"


class DigestHarness:
    def __init__(self) -> None:
        self.sqs = boto3.client("sqs")
        self.swept_at: datetime | None = None
        self.queue_url = self.sqs.create_queue(QueueName=QUEUE, Attributes={"VisibilityTimeout": "0"})["QueueUrl"]
        os.environ["DIGEST_QUEUE_URL"] = self.queue_url  # template.yaml gives the deployed function its queue's URL
        ses = boto3.client("ses")
        ses.verify_email_identity(EmailAddress=os.environ["SENDER_EMAIL"])
        with suppress(ses.exceptions.ConfigurationSetAlreadyExistsException):  # a NudgeHarness beside it made it
            ses.create_configuration_set(ConfigurationSet={"Name": os.environ["SES_CONFIGURATION_SET"]})

    def arn(self) -> str:
        return str(self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])

    def sweep(self, at: datetime) -> dict[str, Any]:
        self.swept_at = at
        return dict(invoke("DigestSweepFunction", scheduled_event(SWEEP, at)))

    def receive(self) -> list[dict[str, Any]]:
        return list(self.sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, AttributeNames=["All"]).get("Messages", []))

    def deliver(self, messages: list[dict[str, Any]] | None = None, *, delete: bool = True) -> dict[str, Any]:
        messages = self.receive() if messages is None else messages
        if not messages:
            return {"batchItemFailures": []}
        try:
            result = dict(invoke("DigestSenderFunction", sqs_event(as_sent_at(messages, self.swept_at), self.arn())))
        except BatchProcessingError:
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
        for _ in range(20):
            messages = self.receive()
            if not messages:
                break
            self.deliver(messages)
        return self.sent()[before:]

    @staticmethod
    def sent() -> list[Mail]:
        return NudgeHarness.sent()
