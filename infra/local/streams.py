"""Lambda's DynamoDB stream event source, on moto: the local stack's and the tests' way to run the outbox relay.

As on AWS: records are read in order from the table's stream, only those matching the source's
FilterCriteria are handed over (the rest are passed by), in batches of at most BatchSize. When
the function reports batch item failures, the stream resumes at the first of them (the records
before it are done); when it raises, the batch comes again (halved, with BisectBatchOnFunctionError).
After MaximumRetryAttempts failed retries of a batch, its description goes to the OnFailure queue
(as Lambda sends it: the shard and the sequence numbers, not the records) and the stream moves on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config

from infra import cfn

# botocore sends a stream's calls to an account-based endpoint (<account>.streams-ddb...), which moto
# does not serve; the regional endpoint answers the same API.
STREAMS_CONFIG = Config(account_id_endpoint_mode="disabled")


def matches(pattern: Any, value: Any) -> bool:
    """An EventBridge-style pattern (the part FilterCriteria uses: values, prefix, exists) against a record."""
    if isinstance(pattern, dict):
        if not isinstance(value, dict):
            return False
        for key, sub in pattern.items():
            if isinstance(sub, list) and any(isinstance(r, dict) and "exists" in r for r in sub):
                if (key in value) != bool(next(r["exists"] for r in sub if isinstance(r, dict) and "exists" in r)):
                    return False
                continue
            if key not in value or not matches(sub, value[key]):
                return False
        return True
    if isinstance(pattern, list):
        for rule in pattern:
            if isinstance(rule, dict) and "prefix" in rule:
                if isinstance(value, str) and value.startswith(rule["prefix"]):
                    return True
            elif rule == value:
                return True
        return False
    return bool(pattern == value)


@dataclass
class Delivery:
    """What happened to the stream's records so far (for tests and the console)."""

    invocations: int = 0
    failed_invocations: int = 0  # the function raised, or reported records it could not handle
    delivered: int = 0  # records handed over in batches that succeeded
    dead_lettered: list[dict[str, Any]] = field(default_factory=list)


class StreamPoller:
    """Reads one table's stream for one stream event source and invokes its function."""

    def __init__(
        self,
        source: cfn.StreamSource,
        table_name: str,
        clients: Callable[..., Any],  # boto3.client, or the local stack's: (service, **options)
        invoke: Callable[[str, dict[str, Any]], Any],
        on_failure_url: str | None = None,
        region: str = "eu-west-1",
    ):
        self.source = source
        self.table_name = table_name
        self._clients = clients
        self.invoke = invoke  # public: a test can wrap it (a relay that dies)
        self.on_failure_url = on_failure_url
        self.region = region
        self.done_through: int | None = None  # the last sequence number delivered or passed by
        self.retries = 0  # failed attempts of the batch at the head
        self.limit = source.batch_size
        self.stats = Delivery()
        self._arn: str | None = None
        self._shard: str | None = None
        self._streams: Any = None  # one client for every read (made on the first): creating one costs more than a read

    def _streams_client(self) -> Any:
        if self._streams is None:
            self._streams = self._clients("dynamodbstreams", config=STREAMS_CONFIG)
        return self._streams

    def _stream(self) -> tuple[str, str]:
        if self._arn is None or self._shard is None:
            arn = self._clients("dynamodb").describe_table(TableName=self.table_name)["Table"]["LatestStreamArn"]
            stream = self._streams_client().describe_stream(StreamArn=arn)["StreamDescription"]
            shard = stream["Shards"][0]["ShardId"]
            self._arn, self._shard = arn, shard
        return self._arn, self._shard

    def _read(self) -> list[dict[str, Any]]:
        streams = self._streams_client()
        arn, shard = self._stream()
        if self.done_through is None:
            kwargs: dict[str, Any] = {"ShardIteratorType": "TRIM_HORIZON"}
        else:
            kwargs = {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": str(self.done_through)}
        iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, **kwargs)["ShardIterator"]
        return list(streams.get_records(ShardIterator=iterator, Limit=1000)["Records"])

    def poll(self) -> bool:
        """One batch (if the stream has one): True if records were handed over or passed by (poll again)."""
        records = self._read()
        if not records:
            return False
        batch: list[dict[str, Any]] = []
        left = False  # a record the filters keep is left for the next batch
        for record in records:
            if not self.source.filters or any(matches(f, record) for f in self.source.filters):
                if len(batch) == self.limit:
                    left = True
                    break
                batch.append({**record, "eventSourceARN": self._stream()[0], "awsRegion": self.region})
            elif not batch:
                self.done_through = int(record["dynamodb"]["SequenceNumber"])  # filtered out: passed by
        if not batch:
            self.done_through = int(records[-1]["dynamodb"]["SequenceNumber"])
            return True
        self.stats.invocations += 1
        try:
            result = self.invoke(self.source.function, {"Records": batch}) or {}
        except Exception:
            self._failed(batch, raised=True)
            return True
        failed = {str(f["itemIdentifier"]) for f in result.get("batchItemFailures", [])} if self.source.reports_failures else set()
        first = next((i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), None)
        if first is None:
            self._done(batch)
            if not left:  # what was read after the batch was all filtered out: passed by too, not read again
                self.done_through = int(records[-1]["dynamodb"]["SequenceNumber"])
            return True
        self._done(batch[:first])
        self._failed(batch[first:], raised=False)
        return True

    def _done(self, records: list[dict[str, Any]]) -> None:
        if records:
            self.done_through = int(records[-1]["dynamodb"]["SequenceNumber"])
            self.stats.delivered += len(records)
            self.retries, self.limit = 0, self.source.batch_size

    def _failed(self, records: list[dict[str, Any]], *, raised: bool) -> None:
        self.stats.failed_invocations += 1
        if raised and self.source.bisect and len(records) > 1:
            self.limit = max(1, len(records) // 2)  # the batch comes again in halves (this does not use up a retry)
            return
        self.retries += 1
        if 0 <= self.source.max_retries < self.retries:
            self._dead_letter(records)

    def _dead_letter(self, records: list[dict[str, Any]]) -> None:
        """Retries used up: Lambda's OnFailure record (which records, not their contents) goes to the queue."""
        info = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": self.retries},
            "DDBStreamBatchInfo": {
                "shardId": self._stream()[1],
                "startSequenceNumber": records[0]["dynamodb"]["SequenceNumber"],
                "endSequenceNumber": records[-1]["dynamodb"]["SequenceNumber"],
                "batchSize": len(records),
                "streamArn": self._stream()[0],
            },
        }
        self.stats.dead_lettered.append(info)
        if self.on_failure_url:
            self._clients("sqs").send_message(QueueUrl=self.on_failure_url, MessageBody=json.dumps(info))
        self.done_through = int(records[-1]["dynamodb"]["SequenceNumber"])
        self.retries, self.limit = 0, self.source.batch_size

    def drain(self, max_polls: int = 1000) -> Delivery:
        """Poll until the stream has nothing more (each failed batch retried as Lambda would)."""
        for _ in range(max_polls):
            if not self.poll():
                break
        return self.stats
