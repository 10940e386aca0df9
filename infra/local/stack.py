"""The local stack: moto on loopback, the template's table and bus, its HTTP routes and its schedules.

Everything about the deployed shape comes from template.yaml (through infra.cfn):
the table, the routes and which of them need a token, the functions' handlers and
environment, the schedules. The functions themselves are the very modules Lambda
runs, imported once (a cold start) and invoked with the events AWS would send.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import socket
import threading
import time
import traceback
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from infra import cfn
from infra.lambdas import LambdaContext, load_handler, sqs_event
from infra.local import apigw
from infra.local.auth import LOCAL_NAMES, AuthError, Authorizer
from infra.local.outbox import Outbox, iso, moto_stores
from infra.local.streams import StreamPoller

STACK_NAME = "peer-support-local"
REGION = "eu-west-1"
ACCOUNT = "123456789012"
# The methods an HTTP API route can name (ANY is all of them); API Gateway routes nothing else.
GATEWAY_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"})
# How often the servers' loops look for a stop request: what `stop()` waits at most, per server.
POLL_SECONDS = 0.05
# The delivery loop's pace: it looks every DELIVERY_SECONDS, and reads the stream and the queues when a call moto
# served since may have added to them (see SerialisedCalls), and every IDLE_SECONDS whatever happened (a message
# visible again after its visibility timeout). Reading them every time cost ~10% of a core, idle or not.
DELIVERY_SECONDS = 0.2
IDLE_SECONDS = 1.0
# The DynamoDB operations that add no stream record; any other one may (so a new one is never missed).
TABLE_READS = frozenset(
    {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "DescribeTable", "ListTables", "DescribeTimeToLive"}
)
# The operations that may put a message where the delivery loop reads (a queue, or a rule's queue through the bus).
QUEUE_SENDS = frozenset(
    {
        "AmazonSQS.SendMessage",
        "AmazonSQS.SendMessageBatch",
        "AmazonSQS.ChangeMessageVisibility",
        "AmazonSQS.ChangeMessageVisibilityBatch",
        "AWSEvents.PutEvents",
    }
)
# `--bench-baseline`: a do-nothing function behind a token-checked route, the load bench's baseline.
BASELINE_FUNCTION = "LocalBaselineFunction"
BASELINE_PATH = "/_bench/baseline"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def parse_instant(text: str) -> datetime:
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError("give the instant with a zone, e.g. 2026-12-08T09:00:00Z")
    return value.astimezone(UTC)


class PortInUse(Exception):
    """The stack's port is taken (another `make run`?) or not ours to listen on."""

    def __init__(self, port: int, reason: str):
        super().__init__(f"port {port} is {reason}; choose another: make run PORT={port + 1 if port < 65535 else 3001}")
        self.port = port


class Clock:
    """The instant the API and the schedules see. Real time unless set; a set clock stands still."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._fixed or datetime.now(UTC)

    def set(self, instant: datetime | None) -> None:
        with self._lock:
            self._fixed = instant

    def state(self) -> dict[str, Any]:
        with self._lock:
            fixed = self._fixed
        return {"now": iso(fixed or datetime.now(UTC)), "fixed": fixed is not None}


def rate_seconds(expression: str) -> int:
    match = re.fullmatch(r"rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)", expression.strip())
    if not match:
        raise ValueError(f"the local scheduler understands rate(...) expressions, not {expression!r}")
    unit = match.group(2).rstrip("s")
    return int(match.group(1)) * {"minute": 60, "hour": 3600, "day": 86400}[unit]


def scheduled_event(schedule: cfn.Schedule, at: datetime) -> dict[str, Any]:
    """What an EventBridge scheduled rule delivers; `time` is the scheduled instant."""
    if schedule.input:
        return dict(json.loads(schedule.input))
    return {
        "version": "0",
        "id": f"local-{schedule.function}-{int(at.timestamp())}",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": iso(at.replace(microsecond=0)),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{STACK_NAME}-{schedule.function}-{schedule.name}"],
        "detail": {},
    }


class LocalStack:
    def __init__(
        self, port: int = 3000, state_dir: Path | None = None, host: str = "127.0.0.1", quiet: bool = False, baseline: bool = False
    ):
        self.host = host
        self.port = port
        self.state_dir = state_dir or cfn.ROOT / ".local"
        self.quiet = quiet
        self.clock = Clock()
        self.base_url = f"http://{host}:{port}"
        self.routes = cfn.http_routes()
        self.functions = cfn.functions()
        self.schedules = cfn.schedules()
        if baseline:
            self._add_baseline()
        self.names = {
            cfn.table_logical_id(): f"{STACK_NAME}-table",
            **{lid: f"{STACK_NAME}-{lid}" for lid in cfn.resources_of_type("AWS::Events::EventBus")},
            **LOCAL_NAMES,
            "Stage": "local",
            "PublicBaseUrl": self.base_url,
        }
        self._locks = {lid: threading.Lock() for lid in self.functions}
        self._stop = threading.Event()
        self.sent = Outbox(moto_stores(ACCOUNT, REGION), self.clock.now, self.base_url)
        self._moto: Any = None
        self._sqs: Any = None
        self._rule_queues: list[tuple[str, str]] = []
        self._queue_sources: list[tuple[cfn.QueueSource, str]] = []
        self._stream_pollers: list[StreamPoller] = []
        self._relaying = threading.Lock()  # one reader of the stream at a time (the delivery loop, or a request just served)
        self._relayed_writes = -1  # SerialisedCalls.table_writes when the stream was last read through
        self._calls: SerialisedCalls | None = None
        self.attributes: dict[tuple[str, str], str] = {}
        self._http: ThreadingHTTPServer | None = None
        self._serving = False
        self.moto_url = ""

    def _add_baseline(self) -> None:
        """GET /_bench/baseline: the API's authorizer and scopes, a handler that does nothing (infra/local/baseline)."""
        api = next(route for route in self.routes if route.authorizer)
        self.routes.insert(0, cfn.Route("GET", BASELINE_PATH, BASELINE_FUNCTION, api.scopes, api.authorizer))
        code = cfn.ROOT / "infra" / "local" / "baseline"
        self.functions = {**self.functions, BASELINE_FUNCTION: cfn.Function(BASELINE_FUNCTION, code, "app.handler", {})}

    # ------------------------------------------------------------ start / stop

    def start(self) -> None:
        # The port first: if it is taken, say so before anything else has started.
        try:
            self._http = ThreadingHTTPServer((self.host, self.port), _make_request_handler(self))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(self.port, "already in use (another `make run`?)") from exc
            if exc.errno == errno.EACCES:
                raise PortInUse(self.port, "not open to this user (ports below 1024 need root)") from exc
            raise
        self._http.daemon_threads = True
        self._moto = _moto_server(after_each_call=self._observe_outbox)
        self._calls = self._moto.app
        threading.Thread(target=self._moto.serve_forever, args=(POLL_SECONDS,), name="local-moto", daemon=True).start()
        self.moto_url = f"http://127.0.0.1:{self._moto.server_port}"
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_SESSION_TOKEN": "local",
                "AWS_DEFAULT_REGION": REGION,
                "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.moto_url,
            }
        )
        self._create_resources()
        self._sqs = self._client("sqs")  # botocore clients are thread-safe to call, not to create
        os.environ.update(self.function_environment())
        self.authorizer = Authorizer(self.state_dir)
        threading.Thread(target=self._http.serve_forever, args=(POLL_SECONDS,), name="local-http", daemon=True).start()
        self._serving = True
        threading.Thread(target=self._scheduler, name="local-scheduler", daemon=True).start()
        if self._rule_queues or self._queue_sources or self._stream_pollers:
            threading.Thread(target=self._deliver_events, name="local-events", daemon=True).start()

    def stop(self) -> None:
        """Stop serving: no new requests, then the schedules and event delivery, then moto."""
        self._stop.set()
        if self._http:
            if self._serving:
                self._http.shutdown()
            self._http.server_close()
        if self._moto:
            self._moto.shutdown()
            self._moto.server_close()

    def _client(self, service: str, **options: Any) -> Any:
        import boto3

        return boto3.client(service, region_name=REGION, endpoint_url=self.moto_url, **options)

    def _create_resources(self) -> None:
        cfn.create_table(self._client("dynamodb"), self.names[cfn.table_logical_id()])
        events = self._client("events")
        for lid in cfn.resources_of_type("AWS::Events::EventBus"):
            events.create_event_bus(Name=self.names[lid])
        sender = cfn.Resolver(self.names).ref("SenderEmail")
        ses = self._client("ses")
        ses.verify_email_identity(EmailAddress=sender)
        for lid in cfn.resources_of_type("AWS::SES::ConfigurationSet"):
            self.names[lid] = f"{STACK_NAME}-{lid}"
            ses.create_configuration_set(ConfigurationSet={"Name": self.names[lid]})
        self._create_queues()
        self._create_event_routes()
        self._create_stream_pollers()

    def _create_queues(self) -> None:
        """The template's SQS queues (dead-letter queues first, so redrive policies can name them)."""
        sqs = self._client("sqs")
        queues = cfn.resources_of_type("AWS::SQS::Queue")
        for lid, res in sorted(queues.items(), key=lambda item: "RedrivePolicy" in (item[1].get("Properties") or {})):
            props = res.get("Properties") or {}
            attributes = {"VisibilityTimeout": str(props.get("VisibilityTimeout", 30))}
            if "RedrivePolicy" in props:
                attributes["RedrivePolicy"] = json.dumps(self.resolver().resolve(props["RedrivePolicy"]))
            url = sqs.create_queue(QueueName=f"{STACK_NAME}-{lid}", Attributes=attributes)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            self.names[lid] = url
            self.attributes[(lid, "Arn")] = arn
            self.attributes[(lid, "QueueName")] = f"{STACK_NAME}-{lid}"
        arns = {arn: url for (lid, attr), arn in self.attributes.items() if attr == "Arn" for url in [self.names[lid]]}
        self._queue_sources = [(source, arns[str(self.resolver().resolve(source.queue))]) for source in cfn.queue_sources()]

    def resolver(self) -> cfn.Resolver:
        return cfn.Resolver(self.names, pseudo={"AWS::StackName": STACK_NAME, "AWS::Region": REGION}, attributes=self.attributes)

    def _create_event_routes(self) -> None:
        """Each EventBridgeRule of the template becomes a rule on the local bus with an SQS target;
        a thread hands what arrives to the function, as EventBridge invokes Lambda."""
        sqs, events = self._client("sqs"), self._client("events")
        resolver = self.resolver()
        self._rule_queues = []
        for rule in cfn.event_rules():
            name = f"{STACK_NAME}-{rule.function}-{rule.name}"
            url = sqs.create_queue(QueueName=name)["QueueUrl"]
            arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
            bus = str(resolver.resolve(rule.bus))
            events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps(rule.pattern))
            events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "local", "Arn": arn}])
            self._rule_queues.append((rule.function, url))

    def _create_stream_pollers(self) -> None:
        """Each DynamoDB stream event source (the outbox relay) polls the table's stream, as Lambda would."""
        urls = {arn: self.names[lid] for (lid, attr), arn in self.attributes.items() if attr == "Arn"}
        resolver = self.resolver()
        self._stream_pollers = [
            StreamPoller(
                source,
                self.names[cfn.table_logical_id()],
                self._client,
                self.invoke,
                on_failure_url=urls.get(str(resolver.resolve(source.on_failure))) if source.on_failure else None,
                region=REGION,
            )
            for source in cfn.stream_sources()
        ]

    def _relay_streams(self, *, always: bool = False) -> None:
        """Read the stream through, if a call since the last time may have written to the table (or `always`)."""
        with self._relaying:
            writes = self._calls.table_writes if self._calls else 0
            if writes == self._relayed_writes and not always:
                return  # nothing was written since: the stream has nothing new (a read, or the baseline, was served)
            self._relayed_writes = writes  # taken before reading: a write while reading is read through next time
            self._relay_each_stream()

    def _relay_each_stream(self) -> None:
        for poller in self._stream_pollers:
            before = poller.stats.delivered
            try:
                poller.drain()
            except Exception:
                traceback.print_exc()
            if poller.stats.delivered > before:
                self.say(f"stream -> {poller.source.function}: {poller.stats.delivered - before} events")

    def _deliver_events(self) -> None:
        sqs = self._client("sqs")
        sends, idle_since, found = -1, time.monotonic(), False
        while not self._stop.is_set():
            idle = time.monotonic() - idle_since >= IDLE_SECONDS
            self._relay_streams(always=idle)  # first: what the outbox relays reaches the rules' queues read next
            if found or idle or (self._calls and self._calls.queue_sends != sends):
                sends, idle_since = self._calls.queue_sends if self._calls else 0, time.monotonic()
                found = self._poll_queues(sqs)  # found some: there may be more than one receive takes
            self._stop.wait(DELIVERY_SECONDS)

    def _poll_queues(self, sqs: Any) -> bool:
        found = False
        for source, url in self._queue_sources:
            found = self._poll_queue(sqs, source, url) or found
        for function, url in self._rule_queues:
            for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", []):
                found = True
                event = json.loads(message["Body"])
                try:
                    self.invoke(function, event)
                    self.say(f"event {event.get('detail-type')} -> {function}")
                except Exception:
                    traceback.print_exc()
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        return found

    def _poll_queue(self, sqs: Any, source: cfn.QueueSource, url: str) -> bool:
        """Lambda's SQS event source: a batch in, failed items (reported or raised) left for redelivery."""
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=min(source.batch_size, 10), WaitTimeSeconds=0, AttributeNames=["All"]
        ).get("Messages", [])
        if not messages:
            return False
        arn = next(a for (lid, attr), a in self.attributes.items() if attr == "Arn" and self.names[lid] == url)
        records = sqs_event(messages, arn, REGION)["Records"]
        try:
            result = self.invoke(source.function, {"Records": records}) or {}
            failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])} if source.reports_failures else set()
        except Exception:
            traceback.print_exc()
            return True  # the whole batch comes back after the visibility timeout
        for record in records:
            if record["messageId"] not in failed:
                sqs.delete_message(QueueUrl=url, ReceiptHandle=record["receiptHandle"])
        self.say(f"queue {url.rsplit('/', 1)[-1]} -> {source.function}: {len(records) - len(failed)} done, {len(failed)} to retry")
        return True

    def pending(self) -> int:
        """Domain events and queued messages not yet handled (waiting, or being handled now)."""
        if self._sqs is None:
            return 0
        sqs = self._sqs
        counts = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
        urls = [url for _, url in self._rule_queues] + [url for _, url in self._queue_sources]
        return sum(
            int(value) for url in urls for value in sqs.get_queue_attributes(QueueUrl=url, AttributeNames=counts)["Attributes"].values()
        )

    def function_environment(self) -> dict[str, str]:
        resolver = self.resolver()
        env: dict[str, str] = {}
        for fn in self.functions.values():
            for key, value in fn.environment.items():
                env[key] = str(resolver.resolve(value))
        env["POWERTOOLS_LOG_LEVEL"] = os.environ.get("LOG_LEVEL", "WARNING")
        env["POWERTOOLS_DEV"] = os.environ.get("POWERTOOLS_DEV", "false")
        return env

    # ------------------------------------------------------------ functions

    def invoke(self, logical_id: str, event: dict[str, Any]) -> Any:
        """Invoke one function, one event at a time per function (as one warm Lambda container)."""
        with self._locks[logical_id]:
            return load_handler(logical_id, self.functions)(event, LambdaContext(function_name=f"{STACK_NAME}-{logical_id}"))

    def function_named(self, name: str) -> str:
        wanted = name.lower().removesuffix("function")
        for lid in self.functions:
            if lid.lower() == name.lower() or lid.lower().removesuffix("function") == wanted:
                return lid
        raise KeyError(f"no function {name!r}; the template has {', '.join(sorted(self.functions))}")

    def invoke_scheduled(self, logical_id: str, at: datetime | None = None) -> Any:
        at = at or self.clock.now()
        schedules = [s for s in self.schedules if s.function == logical_id]
        if not schedules:
            raise KeyError(f"{logical_id} has no schedule in template.yaml")
        try:
            return self.invoke(logical_id, scheduled_event(schedules[0], at))
        finally:
            self._relay_streams()

    def _scheduler(self) -> None:
        """Run each schedule when the clock (real or set) passes its next instant; a jump fires once."""
        next_run: dict[tuple[str, str], datetime] = {}
        while not self._stop.wait(1.0):
            now = self.clock.now()
            for schedule in self.schedules:
                key = (schedule.function, schedule.name)
                period = rate_seconds(schedule.expression)
                boundary = datetime.fromtimestamp(now.timestamp() // period * period, tz=UTC)
                if key not in next_run or now < next_run[key] - timedelta(seconds=period):
                    next_run[key] = boundary + timedelta(seconds=period)
                    continue
                if now >= next_run[key]:
                    next_run[key] = boundary + timedelta(seconds=period)
                    try:
                        self.invoke(schedule.function, scheduled_event(schedule, boundary))
                        self._relay_streams()
                        self.say(f"schedule {schedule.function}/{schedule.name} ran at {iso(boundary)}")
                    except Exception:
                        traceback.print_exc()

    # ------------------------------------------------------------ HTTP

    def handle(self, request: apigw.HttpRequest) -> apigw.HttpResponse:
        path = urlsplit(request.raw_path).path
        if path.startswith("/_local/"):
            return self._local_route(request, path)
        if request.method not in GATEWAY_METHODS:  # TRACE, PROPFIND, …: no route can name them
            return apigw.gateway_error(404, "Not Found")
        for route in self.routes:
            params = route.match(request.method, apigw.unquote(path))
            if params is None:
                continue
            claims = None
            if route.authorizer:
                try:
                    claims = self.authorizer.verify(request.header("authorization"), route.scopes or ())
                except AuthError as exc:
                    return apigw.gateway_error(exc.status, str(exc))
            domain = request.header("host") or f"{self.host}:{self.port}"
            event = apigw.build_event(request, route, params, claims, self.clock.now(), domain)
            try:
                result = self.invoke(route.function, event)
            except Exception:
                traceback.print_exc()
                return apigw.gateway_error(500, "Internal Server Error")
            # The request's events go through the relay before it is answered (Lambda's stream source does it
            # within moments; here it keeps "sleep 1" enough under load, as publishing in the request once did).
            self._relay_streams()
            return apigw.to_response(result)
        return apigw.gateway_error(404, "Not Found")

    def _local_route(self, request: apigw.HttpRequest, path: str) -> apigw.HttpResponse:
        method = "GET" if request.method == "HEAD" else request.method
        try:
            if path == "/_local/clock" and method == "GET":
                return _json(200, self.clock.state())
            if path == "/_local/clock" and method == "PUT":
                body = json.loads(request.body or b"{}")
                self.clock.set(parse_instant(str(body["now"])))
                self.say(f"clock set to {self.clock.state()['now']}")
                return _json(200, self.clock.state())
            if path == "/_local/clock" and method == "DELETE":
                self.clock.set(None)
                return _json(200, self.clock.state())
            if path == "/_local/outbox" and method == "GET":
                return _json(200, {"messages": self.outbox()})
            if path.startswith("/_local/outbox/") and method == "GET":
                return self._outbox_file(unquote(path.removeprefix("/_local/outbox/")))
            if path == "/_local/health" and method == "GET":
                return _json(200, {"ok": True, "moto": self.moto_url, "functions": sorted(self.functions), "clock": self.clock.state()})
            if path == "/_local/pending" and method == "GET":
                return _json(200, {"pending": self.pending()})
            if path.startswith("/_local/invoke/") and method == "POST":
                body = json.loads(request.body or b"{}")
                logical_id = self.function_named(path.rsplit("/", 1)[1])
                at = parse_instant(body["at"]) if body.get("at") else None
                result = self.invoke_scheduled(logical_id, at)
                return _json(200, {"function": logical_id, "at": iso(at or self.clock.now()), "result": result})
        except (KeyError, ValueError, json.JSONDecodeError) as exc:
            return _json(400, {"type": "about:blank", "title": "Bad local request", "status": 400, "detail": str(exc).strip("'\"")})
        return _json(404, {"type": "about:blank", "title": "Not found", "status": 404, "detail": f"no local route {method} {path}"})

    # ------------------------------------------------------------ outbox

    def outbox(self) -> list[dict[str, Any]]:
        """Everything sent through SES and SNS SMS, oldest first by `sent_at` (the stack's clock when sent).

        Each message was taken in right after the moto call that sent it (see `_observe_outbox`): listing
        parses nothing and reads nothing of moto's.
        """
        return self.sent.messages()

    def _outbox_file(self, name: str) -> apigw.HttpResponse:
        """`<id>.html`: an email's HTML part as a page; `<id>.eml`: the whole message, to open in a mail client."""
        message_id, _, suffix = name.rpartition(".")
        if suffix == "html" and (html := self.sent.html(message_id)) is not None:
            headers = [
                ("content-type", "text/html; charset=utf-8"),
                ("content-security-policy", "script-src 'none'; object-src 'none'"),
                ("x-content-type-options", "nosniff"),
            ]
            return apigw.HttpResponse(200, headers, html.encode("utf-8"))
        if suffix == "eml" and (mime := self.sent.mime(message_id)) is not None:
            headers = [("content-type", "message/rfc822"), ("content-disposition", f'attachment; filename="{message_id}.eml"')]
            return apigw.HttpResponse(200, headers, mime)
        what = "an email with an HTML part" if suffix == "html" else "an email" if suffix == "eml" else "a message file (.html or .eml)"
        return _json(404, {"type": "about:blank", "title": "Not found", "status": 404, "detail": f"{name} is not {what} in the outbox"})

    def _observe_outbox(self) -> None:
        """After each call moto serves: take in what it just sent (only that) and print a line for each."""
        for msg in self.sent.observe():
            if msg["channel"] == "email":
                self.say(f"email -> {', '.join(msg['to'])}: {msg['subject']}  ({msg.get('html_url') or msg['eml_url']})")
            else:
                self.say(f"sms -> {msg['to']}: {msg['text']}")

    def say(self, text: str) -> None:
        if not self.quiet:
            print(f"[local] {text}", flush=True)


class SerialisedCalls:
    """WSGI middleware: moto serves one call at a time, and `after_each_call` runs after each.

    moto's backends are plain dicts and lists without locks; concurrent calls broke it
    (`RuntimeError: dictionary changed size during iteration` in TransactWriteItems while
    another request wrote). DynamoDB itself serialises conflicting writes, so callers see
    what AWS would show them; the local stack is not a load test.

    It also counts, by the operation each call names (its X-Amz-Target), the calls that may have
    written to a table (`table_writes`) and those that may have put a message in a queue
    (`queue_sends`): the stack reads its stream and queues again only when these moved.
    """

    def __init__(self, app: Any, after_each_call: Any = None):
        self.app = app
        self.after_each_call = after_each_call
        self.lock = threading.Lock()
        self.table_writes = 0
        self.queue_sends = 0

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
        service, _, operation = target.partition(".")
        with self.lock:
            if service.startswith("DynamoDB_") and operation not in TABLE_READS:
                self.table_writes += 1  # counted before it is served: a reader that sees the count sees the write
            elif target in QUEUE_SENDS:
                self.queue_sends += 1
            result = self.app(environ, start_response)
            try:
                body = b"".join(result)  # the whole response is computed inside the lock
            finally:
                if hasattr(result, "close"):
                    result.close()
            if self.after_each_call:
                try:
                    self.after_each_call()
                except Exception:
                    traceback.print_exc()
        return [body]


def _moto_server(after_each_call: Any = None) -> Any:
    """moto's server app (what `moto_server` and ThreadedMotoServer run) on a free loopback port, one call at a time."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from infra.local import moto_dynamodb, moto_sqs

    moto_dynamodb.install()
    moto_sqs.install()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server logs every call otherwise
    app = SerialisedCalls(DomainDispatcherApplication(create_backend_app), after_each_call)
    return make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler)


def _json(status: int, body: Any) -> apigw.HttpResponse:
    return apigw.HttpResponse(status, [("content-type", "application/json")], json.dumps(body, default=str).encode())


def _make_request_handler(stack: LocalStack) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "peer-support-local"
        # The headers and the body go out in two writes: with Nagle's algorithm the body waited for the
        # client's delayed ACK of the headers, 40 ms on every keep-alive request (seen by the load bench).
        disable_nagle_algorithm = True

        def _serve(self) -> None:
            try:
                length = int(self.headers.get("content-length") or 0)
                if length < 0:
                    raise ValueError(length)
            except ValueError:
                self.send_error(400, "Bad Request")
                return
            body = self.rfile.read(length) if length else b""
            raw_path, _, query = self.path.partition("?")
            request = apigw.HttpRequest(
                method=self.command,
                raw_path=raw_path,
                query_string=query,
                headers=list(self.headers.items()),
                body=body,
                source_ip=self.client_address[0],
            )
            started = time.perf_counter()
            try:
                response = stack.handle(request)
            except Exception:
                traceback.print_exc()
                response = apigw.gateway_error(500, "Internal Server Error")
            self.send_response(response.status)
            names = {k.lower() for k, _ in response.headers}
            for name, value in response.headers:
                self.send_header(name, value)
            if "content-length" not in names:
                self.send_header("content-length", str(len(response.body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(response.body)
            stack.say(f"{self.command} {raw_path} -> {response.status} ({(time.perf_counter() - started) * 1000:.0f} ms)")

        def __getattr__(self, name: str) -> Any:
            # http.server answers 501 with an HTML page for a method it has no do_<METHOD> for;
            # here every method token reaches stack.handle, which answers as API Gateway does.
            if name.startswith("do_"):
                return self._serve
            raise AttributeError(name)

        def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
            """What http.server itself refuses (a malformed request line, oversized headers…): JSON, not HTML."""
            self.close_connection = True
            if self.request_version == "HTTP/0.9":  # the line was refused before its version was read: answer in 1.1
                self.request_version = "HTTP/1.1"
            body = json.dumps({"message": message or self.responses.get(code, ("Error",))[0]}).encode()
            self.send_response(code, message)
            self.send_header("content-type", "application/json")
            self.send_header("connection", "close")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD" and code >= 200 and code not in (204, 304):
                self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            return  # one line per request comes from _serve, without query strings

    return Handler
