"""`make bench`: figures measured side by side in one run, printed as a table. Nothing here asserts.

Each row is printed as soon as it is measured, and a row that misses its goal says so at
its end (`MISSES GOAL (...)`); the last line counts them. Rows:
- the cold start of each function as a user feels it, against moto: a fresh interpreter imports the
  handler module and makes its first call (the API answers its first `GET /members/me`; every other
  function builds the clients its first call needs and reads one item), median of several runs,
  next to the floor, `import boto3` plus one client and one `GetItem`, measured interleaved in the
  same run, and the ratio (goal: at most 1.3x the floor); beside it, the ratio to its kind's library
  floor (the Powertools pieces it uses and PynamoDB reading the same item, with none of our code:
  what is left above that is ours). `python -m infra.bench --cold [Fn ...]` runs this stage alone;
- the zipped deployment size of each function and of the shared layer (from `make package`):
  the zip `sam deploy` uploads, every file of the build folder, precompiled bytecode included;
- DynamoDB calls per API request, counted on moto (goal: at most 3, and no Scan);
- the nudge sweep at 100,000 pacts with 1,000 due: items read (goal: at most 1.1 per nudge)
  and calls per nudge, SES calls per 1,000 nudges, and its wall time next to a plain query
  loop over the same items (goal: at most 1.3x), with how much of it is queueing; the sender's
  DynamoDB calls per nudge (goal: at most 3, as for every sender below);
- the group reminder sweep at 10,000 groups with 100 meetings due (500 reminders): items read per
  reminder (same goal), beside the nudge sweep's figure, its wall time next to a plain query loop
  (at most 1.3x), and the sender's calls per reminder;
- the habit sweep at 20,000 establishing pact views with 200 reminders due: items read per reminder
  (same goal), beside the nudge sweep's figure, and its DynamoDB and SES calls per reminder (it sends
  itself: no plain-loop ratio);
- load (`--load` runs only this): 20 concurrent clients for 30 s across 200 seeded members on the local
  stack, the API mix and a do-nothing handler through the same path: requests served, failures
  (goal 0), p50 and p99, requests/s, and the API's overhead as a ratio (see infra/bench_load.py).

`python -m infra.bench --only nudges,habit` runs some row groups (see STAGES); each stage's scale
comes from its BENCH_* environment variables (e.g. BENCH_PACTS=5000 for a quick nudge run).
"""

from __future__ import annotations

import io
import itertools
import json
import logging
import os
import statistics
import subprocess
import sys
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, NamedTuple, TextIO

from infra import cfn

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
BUILD_DIR = cfn.ROOT / ".aws-sam" / "build"

# The goals a row can miss.
COLD_GOAL = 1.3  # cold init, times the floor
CALLS_GOAL = 3  # DynamoDB calls per API request
SWEEP_GOAL = 1.1  # items the sweep reads per nudge due
SENDER_GOAL = 3.0  # DynamoDB calls per message sent (nudge, meeting reminder, habit reminder, digest)
RATIO_GOAL = 1.3  # a sweep's wall time, times a plain query loop over the same items
# Requests allowed to grow with the member's own data (never with the table's): no calls goal, still no Scan.
GROWS_WITH_OWN_DATA = {"DELETE /members/me", "GET /members/me/export", "DELETE /pacts/{id}"}
# Over the goal by design, once in a member's life: a first profile reads the address's invitations
# (one query) and their pacts (one batch read) to take them over in the profile's own transaction.
ONCE_PER_MEMBER = {"PUT /members/me (first profile, 3 open invitations)"}

FLOOR = """
import time
t0 = time.perf_counter()
import boto3
boto3.client("dynamodb").get_item(TableName="bench-table", Key={"pk": {"S": "MEMBER#bench"}, "sk": {"S": "PROFILE"}})
print(time.perf_counter() - t0)
"""

# What the libraries this project keeps cost before any of its own code (Powertools' Logger, PynamoDB reading
# the same item; the API with Powertools' HTTP resolver validating one route; an SQS consumer with
# Powertools' batch processor and the SES client it sends with): each function's row shows its ratio to
# the floor above (the goal) and to its kind's library floor (what is its own code's).
LIBRARY_FLOOR = """
import json, time, types
EVENT = json.loads({event!r})
CONTEXT = types.SimpleNamespace(function_name="bench", memory_limit_in_mb=512, aws_request_id="bench",
                                invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:bench")
t0 = time.perf_counter()
from aws_lambda_powertools import Logger
from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model
class Row(Model):
    class Meta:
        table_name = "bench-table"
        region = "eu-west-1"
    pk = UnicodeAttribute(hash_key=True)
    sk = UnicodeAttribute(range_key=True)
logger = Logger()
{kind}
print(time.perf_counter() - t0)
"""
_SECOND_CLIENT = 'Row._get_connection().connection.session.create_client("sesv2", region_name="eu-west-1")\n'
LIBRARY_KINDS = {
    "HTTP API": """
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
app = APIGatewayHttpResolver(enable_validation=True)
@app.get("/members/me")
def me() -> dict:
    return {"pk": Row.get("MEMBER#bench", "PROFILE").pk}
assert app.resolve(EVENT, CONTEXT)["statusCode"] == 200
""",
    "SQS sender": """
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
processor = BatchProcessor(event_type=EventType.SQS)
Row.get("MEMBER#bench", "PROFILE")
"""
    + _SECOND_CLIENT,
    "table + a client": 'Row.get("MEMBER#bench", "PROFILE")\n' + _SECOND_CLIENT,
    "table only": 'Row.get("MEMBER#bench", "PROFILE")\n',
}
SQS_SENDERS = {"NudgeSenderFunction", "ReminderSenderFunction", "DigestSenderFunction"}


def library_kind(fn: str) -> str:
    """The library floor a function is set beside: what its first call does, with only the libraries (clients
    made from PynamoDB's botocore session, as shared/adapters/aws.py makes them)."""
    if fn == "ApiFunction":
        return "HTTP API"
    if fn in SQS_SENDERS:
        return "SQS sender"
    return "table + a client" if "client(" in FIRST_CALL.get(fn, "") else "table only"


# The first call of each function, beyond importing its module: the API answers its first request as a
# user feels it (GET /members/me, the profile read back from moto); every other function builds the
# clients its first call needs and reads one item through the table's model, as the floor reads one.
_TABLE = "from shared.adapters.models import Item; Item.get('MEMBER#bench', 'PROFILE')"
_FIRST_REQUEST = "assert module.handler(EVENT, CONTEXT)['statusCode'] == 200"
FIRST_CALL = {
    "ApiFunction": _FIRST_REQUEST,
    "LinksFunction": _TABLE,
    "CalendarFeedFunction": _TABLE,
    "NotifyFunction": _TABLE + "; from shared.adapters.aws import client; client('sesv2')",
    "NudgeSenderFunction": _TABLE + "; from shared.adapters.aws import client; client('sesv2')",
    "NudgeSweepFunction": _TABLE + "; from shared.adapters.aws import client; client('sqs')",
    "GroupSweepFunction": _TABLE + "; from shared.adapters.aws import client; client('sqs')",
    "ReminderSenderFunction": _TABLE + "; from shared.adapters.aws import client; client('sesv2')",
    "SmsSweepFunction": _TABLE + "; from shared.adapters.aws import client; client('sns')",
    "HabitSweepFunction": _TABLE + "; from shared.adapters.aws import client; client('sesv2')",
    "DigestSweepFunction": _TABLE + "; from shared.adapters.aws import client; client('sqs')",
    "DigestSenderFunction": _TABLE + "; from shared.adapters.aws import client; client('sesv2')",
    "SuppressionFunction": _TABLE,
    "TokenClaimsFunction": "",
}
BENCH_SUB = "bench"
"""The member whose profile the floor reads and the API's first request answers with."""

# As Lambda does it: the function's folder on sys.path, its module imported by file, nothing else.
# The event and context are plain data, built before the clock starts (Lambda hands them over).
COLD = """
import importlib.util, json, sys, time, types
EVENT = json.loads({event!r})
CONTEXT = types.SimpleNamespace(function_name={function!r}, memory_limit_in_mb=512, aws_request_id="bench",
                                invoked_function_arn="arn:aws:lambda:eu-west-1:123456789012:function:bench")
t0 = time.perf_counter()
sys.path.insert(0, {code_uri!r})
spec = importlib.util.spec_from_file_location("handler_module", {module_file!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
getattr(module, {attribute!r})
{first_call}
print(time.perf_counter() - t0)
"""


def members_me_event(sub: str = BENCH_SUB, method: str = "GET", body: str | None = None) -> dict[str, Any]:
    """The HTTP API event of `<method> /members/me` signed in as `sub` (what API Gateway would hand over)."""
    from datetime import UTC, datetime

    from infra.local import apigw

    route = next(r for r in cfn.http_routes() if r.match(method, "/members/me") is not None)
    headers = [("content-type", "application/json")] if body else []
    request = apigw.HttpRequest(method, "/members/me", "", headers, body.encode() if body else b"")
    claims = {"sub": sub, "email": f"{sub}@example.org", "email_verified": "true", "scope": "peer-support/api"}
    return apigw.build_event(request, route, {}, claims, datetime.now(UTC), "bench.local")


def _cold_script(fn: cfn.Function, event: dict[str, Any] | None = None) -> str:
    return COLD.format(
        event=json.dumps(event or {}),
        function=fn.logical_id,
        code_uri=str(fn.code_uri),
        module_file=str(fn.module_file),
        attribute=fn.attribute,
        first_call=FIRST_CALL.get(fn.logical_id, ""),
    )


ENV = {
    "TABLE_NAME": "bench-table",
    "EVENT_BUS_NAME": "bench-bus",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "peer-support",
    "POWERTOOLS_METRICS_NAMESPACE": "PeerSupport",
}


def _time(script: str, endpoint: str = "") -> float:
    # PYTHONDONTWRITEBYTECODE (set on some machines) would leave our modules without .pyc and time their
    # compilation on every run: Lambda reads the layer's precompiled bytecode, so the bench must too.
    skip = ("AWS_", "PYTHONDONTWRITEBYTECODE")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(skip)}, **ENV, "PYTHONPATH": str(cfn.ROOT)}
    if endpoint:
        env["AWS_ENDPOINT_URL"] = endpoint
    out = subprocess.run([sys.executable, "-c", script], cwd=cfn.ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


class Row(NamedTuple):
    name: str
    value: str
    note: str
    misses: str = ""  # the goal this row misses, e.g. "≤1.3× floor"; empty when it meets it (or has none)


NAME_WIDTH = 62


def format_row(row: Row) -> str:
    line = f"{row.name.ljust(NAME_WIDTH)}  {row.value:>12}  {row.note}"
    return f"{line}  MISSES GOAL ({row.misses})" if row.misses else line


def emit(rows: Iterable[Row], out: TextIO | None = None) -> int:
    """Print each row the moment it is measured; the number of rows that miss their goal."""
    out = out or sys.stdout
    print(f"{'measure'.ljust(NAME_WIDTH)}  {'value':>12}  note", file=out)
    print("-" * (NAME_WIDTH + 42), file=out, flush=True)
    missed = 0
    for row in rows:
        missed += bool(row.misses)
        print(format_row(row), file=out, flush=True)
    print(f"{missed} row(s) miss their goal" if missed else "every goal met", file=out, flush=True)
    return missed


def progress(text: str) -> None:
    """A line while something slow runs (stderr: the table on stdout stays a table)."""
    print(f"... {text}", file=sys.stderr, flush=True)


def cold_row(fn: str, ms: float, floor_ms: float, library_ms: float | None = None) -> Row:
    ratio = ms / floor_ms
    first = "first GET /members/me" if fn == "ApiFunction" else "clients + 1 read"
    libraries = f"; {ms / library_ms:.2f}x its library floor" if library_ms else ""
    return Row(
        f"cold {fn} (init + {first})",
        f"{ms:.0f} ms",
        f"{ratio:.2f}x floor (goal <= {COLD_GOAL}x){libraries}",
        f"≤{COLD_GOAL}× floor" if ratio > COLD_GOAL else "",
    )


class MotoEndpoint:
    """moto's server on a free loopback port with the template's table and the bench member's profile."""

    def __enter__(self) -> str:
        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the server logs every call otherwise
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self._server.start()
        host, port = self._server.get_host_and_port()
        url = f"http://{host}:{port}"
        keys = {k: ENV[k] for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
        dynamodb = boto3.client("dynamodb", region_name=ENV["AWS_REGION"], endpoint_url=url, **{k.lower(): v for k, v in keys.items()})
        cfn.create_table(dynamodb, ENV["TABLE_NAME"])
        return url

    def __exit__(self, *exc: object) -> None:
        self._server.stop()


def _put_bench_profile(fn: cfn.Function, endpoint: str) -> None:
    """The bench member's profile, written through the API itself (untimed), for the first request to read."""
    body = json.dumps({"display_name": "Bench", "time_zone": "Europe/Dublin"})
    script = COLD.format(
        event=json.dumps(members_me_event(method="PUT", body=body)),
        function=fn.logical_id,
        code_uri=str(fn.code_uri),
        module_file=str(fn.module_file),
        attribute=fn.attribute,
        first_call="assert module.handler(EVENT, CONTEXT)['statusCode'] == 200",
    )
    _time(script, endpoint)


def cold_starts(only: Iterable[str] = ()) -> Iterator[Row]:
    defs = cfn.functions()
    functions = sorted(set(only) or defs)
    progress(f"cold starts: {len(functions)} functions, {RUNS} runs each, interleaved with the floor, on moto")
    with MotoEndpoint() as endpoint:
        _put_bench_profile(defs["ApiFunction"], endpoint)
        scripts = {fn: _cold_script(defs[fn], members_me_event() if fn == "ApiFunction" else None) for fn in functions}
        # One untimed run each so .pyc files exist for every candidate alike (the layer ships them: see the Makefile).
        _time(FLOOR, endpoint)
        for fn in functions:
            _time(scripts[fn], endpoint)
        floor = [_time(FLOOR, endpoint) for _ in range(RUNS)]
        floor_ms = statistics.median(floor) * 1000
        yield Row("cold init floor: import boto3 + 1 client + 1 GetItem", f"{floor_ms:.0f} ms", "1.00x")
        library: dict[str, list[float]] = {}
        libraries = {
            kind: LIBRARY_FLOOR.format(event=json.dumps(members_me_event()), kind=LIBRARY_KINDS[kind])
            for kind in sorted({library_kind(fn) for fn in functions})
        }
        for kind, script in libraries.items():
            _time(script, endpoint)
            library[kind] = []
            for _ in range(RUNS):
                floor.append(_time(FLOOR, endpoint))
                library[kind].append(_time(script, endpoint))
            ms = statistics.median(library[kind]) * 1000
            name = f"cold library floor, {kind}: Powertools + PynamoDB, no own code"
            yield Row(name, f"{ms:.0f} ms", f"{ms / (statistics.median(floor) * 1000):.2f}x floor")
        for fn in functions:
            kind = library_kind(fn)
            samples = []
            for _ in range(RUNS):  # each sample next to a floor and a library-floor sample: a busy moment weighs on all
                floor.append(_time(FLOOR, endpoint))
                library[kind].append(_time(libraries[kind], endpoint))
                samples.append(_time(scripts[fn], endpoint))
            median_ms = statistics.median(samples) * 1000
            yield cold_row(fn, median_ms, statistics.median(floor) * 1000, statistics.median(library[kind]) * 1000)


def zipped_size(folder: Path) -> int:
    """The size of the zip `sam deploy` uploads for a build folder: every file in it, deflated.

    Bytecode included: the shared layer ships precompiled .pyc on purpose (see build-SharedLayer in the
    Makefile), so leaving __pycache__ out would measure a smaller package than the one deployed.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder))
    return buffer.tell()


def package_sizes() -> Iterator[Row]:
    if not BUILD_DIR.exists():
        yield Row("zipped package sizes", "n/a", "run `make package` first (sam build)")
        return
    for folder in sorted(p for p in BUILD_DIR.iterdir() if p.is_dir()):
        size = zipped_size(folder)
        kind = "function code" if folder.name in cfn.functions() else "layer"
        pyc = sum(1 for p in folder.rglob("*.pyc"))
        yield Row(f"zipped size {folder.name}", f"{size / 1024:.0f} KiB", f"{kind}, {pyc} .pyc files" if pyc else kind)


def calls_row(route: str, calls: int, scans: int) -> Row:
    misses = []
    if route in GROWS_WITH_OWN_DATA:
        note = "grows with the member's own data"
    elif route in ONCE_PER_MEMBER:
        note = f"goal <= {CALLS_GOAL}; +1 once per member: taking over the invitations waiting for the address"
    else:
        note = f"goal <= {CALLS_GOAL}, no Scan"
        if calls > CALLS_GOAL:
            misses.append(f"≤{CALLS_GOAL} DynamoDB calls")
    if scans:
        misses.append("0 Scans")
    return Row(f"dynamodb calls {route}", f"{calls} ({scans} scan)", note, ", ".join(misses))


def _child_rows(module: str) -> Iterator[dict[str, Any]]:
    """Run a bench child process; yield each `BENCH {json}` line it prints, as it prints it."""
    with subprocess.Popen([sys.executable, "-m", module], cwd=cfn.ROOT, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.startswith("BENCH "):
                yield json.loads(line.removeprefix("BENCH "))
    if proc.returncode:
        raise subprocess.CalledProcessError(proc.returncode, [sys.executable, "-m", module])


def calls_per_route() -> Iterator[Row]:
    """DynamoDB calls per API request (moto, one run)."""
    progress("DynamoDB calls per API request, on moto")
    for r in _child_rows("infra.bench_calls"):
        yield calls_row(r["route"], r["calls"], r["scans"])


def sender_row(name: str, calls: int, sample: int, note: str) -> Row:
    """DynamoDB calls per message sent, next to the senders' goal."""
    per = calls / sample
    return Row(name, f"{per:.2f}", f"goal <= {SENDER_GOAL:g}; {note}", f"≤{SENDER_GOAL:g} DynamoDB calls" if per > SENDER_GOAL else "")


def ratio_row(name: str, sweep_seconds: float, plain_seconds: float) -> Row:
    """A plain query loop's wall time, and the sweep's over it next to the goal."""
    ratio = sweep_seconds / plain_seconds
    return Row(
        name,
        f"{plain_seconds * 1000:.0f} ms",
        f"sweep / plain = {ratio:.2f}x (goal <= {RATIO_GOAL}x; the sweep queues too, the loop does not)",
        f"≤{RATIO_GOAL}× plain" if ratio > RATIO_GOAL else "",
    )


def queueing_rows(sweep: str, r: dict[str, Any]) -> Iterator[Row]:
    """How much of a sweep's wall time is queueing: on moto each message sent costs more the deeper the queue."""
    queue, finding = r["queue_seconds"], r["sweep_seconds"] - r["queue_seconds"]
    yield Row(
        f"{sweep}: of which queueing (moto)",
        f"{queue * 1000:.0f} ms",
        f"{r['messages']} messages in {r['sqs_calls']} SendMessageBatch calls",
    )
    yield Row(
        f"{sweep}: finding the due items alone / plain loop",
        f"{finding / r['plain_seconds']:.2f}x",
        "the queries, PynamoDB's deserialising and the grouping, over the same plain loop",
    )


def sweep_rows(r: dict[str, Any]) -> Iterator[Row]:
    """Rows from one stage of infra/bench_sweep.py."""
    if r["stage"] == "sweep":
        due, sweep_calls, per_nudge = r["due"], r["sweep_dynamodb_calls"], r["items_read"] / r["due"]
        yield Row("sweep: pacts in the table / nudges due", f"{r['pacts']} / {due}", "due nudges spread over 80% as many members")
        yield Row(
            "sweep: items read per nudge due",
            f"{per_nudge:.2f}",
            f"goal <= {SWEEP_GOAL}; a full Scan would read {r['pacts'] / due:.0f}",
            f"≤{SWEEP_GOAL} items read per nudge" if per_nudge > SWEEP_GOAL else "",
        )
        yield Row("sweep: DynamoDB calls per nudge", f"{sweep_calls / due:.3f}", f"{sweep_calls} queries, one per shard and page")
        yield Row("sweep wall time over the due nudges (moto)", f"{r['sweep_seconds'] * 1000:.0f} ms", "includes queueing the messages")
        yield ratio_row("plain query loop over the same items (moto)", r["sweep_seconds"], r["plain_seconds"])
        if "queue_seconds" in r:
            yield from queueing_rows("sweep", r)
    elif r["stage"] == "sender":
        sample = r["sender_nudges"]
        yield sender_row(
            "sender: DynamoDB calls per nudge",
            r["sender_dynamodb_calls"],
            sample,
            f"measured on {sample} nudges; per member: profile and views, group line, claims, closing",
        )
        yield Row("sender: SES calls per 1,000 nudges", f"{r['emails'] / sample * 1000:.0f}", "one digest per member, not one per pact")


def sweep_at_scale() -> Iterator[Row]:
    """The nudge sweep over 100,000 pacts with 1,000 due, on moto (see infra/bench_sweep.py)."""
    progress("the nudge sweep at scale, on moto: seeding the table takes a few minutes")
    for r in _child_rows("infra.bench_sweep"):
        if r["stage"] == "sweep":
            MEASURED["items_per_nudge"] = r["items_read"] / r["due"]
        yield from sweep_rows(r)


MEASURED: dict[str, float] = {}  # figures one row group shows beside another's


def reminder_rows(r: dict[str, Any], items_per_nudge: float | None = None) -> Iterator[Row]:
    """Rows from one stage of infra/bench_reminders.py, the nudge sweep's figure beside the reminders'."""
    if r["stage"] == "reminder_sweep":
        due, calls, per_reminder = r["due"], r["sweep_dynamodb_calls"], r["items_read"] / r["due"]
        beside = f"; the nudge sweep reads {items_per_nudge:.2f} per nudge" if items_per_nudge is not None else ""
        counts = f"{r['groups']} / {r['memberships']} / {due}"
        yield Row("reminder sweep: groups / memberships / reminders due", counts, "every member's reminder planned")
        yield Row(
            "reminder sweep: items read per reminder due",
            f"{per_reminder:.2f}",
            f"goal <= {SWEEP_GOAL}{beside}",
            f"≤{SWEEP_GOAL} items read per reminder" if per_reminder > SWEEP_GOAL else "",
        )
        yield Row("reminder sweep: DynamoDB calls per reminder", f"{calls / due:.3f}", f"{calls} queries, one per shard and page")
        yield Row("reminder sweep wall time (moto)", f"{r['sweep_seconds'] * 1000:.0f} ms", "includes queueing the messages")
        if "plain_seconds" in r:
            yield ratio_row("reminder sweep: plain query loop over the same items (moto)", r["sweep_seconds"], r["plain_seconds"])
            yield from queueing_rows("reminder sweep", r)
    elif r["stage"] == "reminder_sender":
        sample = r["sender_reminders"]
        if not sample:  # a bench that measured nothing says so, and the run goes on
            yield Row("reminder sender: DynamoDB calls per reminder", "n/a", "no reminder was due in the sample", "measured nothing")
            return
        yield sender_row(
            "reminder sender: DynamoDB calls per reminder",
            r["sender_dynamodb_calls"],
            sample,
            f"measured on {sample} reminders; group, profile, claim, closing",
        )
        yield Row("reminder sender: SES calls per 1,000 reminders", f"{r['emails'] / sample * 1000:.0f}", "one per member and meeting")


def reminders_at_scale() -> Iterator[Row]:
    """The group reminder sweep over 10,000 groups with 100 meetings due, on moto (see infra/bench_reminders.py)."""
    progress("the group reminder sweep at scale, on moto: seeding the table takes a few minutes")
    for r in _child_rows("infra.bench_reminders"):
        yield from reminder_rows(r, MEASURED.get("items_per_nudge"))


def digest_rows(r: dict[str, Any]) -> Iterator[Row]:
    """Rows from one stage of infra/bench_digest.py: the digest sweep, its sender, and the support routes' calls."""
    if r["stage"] == "digest_sweep":
        due, calls, per_digest = r["due"], r["sweep_dynamodb_calls"], r["items_read"] / r["due"]
        yield Row("digest sweep: members / digests due", f"{r['members']} / {due}", "every member's digest planned over the week")
        yield Row(
            "digest sweep: items read per digest due",
            f"{per_digest:.2f}",
            f"goal <= {SWEEP_GOAL}; a full Scan would read {r['members'] / due:.0f}",
            f"≤{SWEEP_GOAL} items read per digest" if per_digest > SWEEP_GOAL else "",
        )
        yield Row("digest sweep: DynamoDB calls per digest", f"{calls / due:.3f}", f"{calls} queries, one per shard and page")
        yield Row("digest sweep wall time (moto)", f"{r['sweep_seconds'] * 1000:.0f} ms", "includes queueing the messages")
    elif r["stage"] == "digest_sender":
        sample = r["sender_digests"]
        reads = "profile, pacts/groups/introductions, asks, last meeting (+1 per group), claim, closing"
        note = f"measured on {sample} digests; {reads}"
        yield sender_row("digest sender: DynamoDB calls per digest", r["sender_dynamodb_calls"], sample, note)
        yield Row("digest sender: SES calls per 1,000 digests", f"{r['emails'] / sample * 1000:.0f}", "one per member and week")
    elif r["stage"] == "support_calls":
        yield calls_row(r["route"], r["calls"], 0)


def digests_at_scale() -> Iterator[Row]:
    """The weekly digest sweep over 20,000 members with 200 due, on moto (see infra/bench_digest.py)."""
    progress("the weekly digest sweep at scale, on moto: seeding the table takes a few minutes")
    for r in _child_rows("infra.bench_digest"):
        yield from digest_rows(r)


def habit_rows(r: dict[str, Any], items_per_nudge: float | None = None) -> Iterator[Row]:
    """Rows from infra/bench_habit.py: the habit sweep (its own sender), the nudge sweep's figure beside it."""
    due, calls, per_reminder = r["due"], r["sweep_dynamodb_calls"], r["items_read"] / r["due"]
    beside = f"; the nudge sweep reads {items_per_nudge:.2f} per nudge" if items_per_nudge is not None else ""
    yield Row("habit sweep: pact views establishing / reminders due", f"{r['views']} / {due}", "every view's next reminder planned")
    yield Row(
        "habit sweep: items read per reminder due",
        f"{per_reminder:.2f}",
        f"goal <= {SWEEP_GOAL}{beside}",
        f"≤{SWEEP_GOAL} items read per reminder" if per_reminder > SWEEP_GOAL else "",
    )
    yield Row("habit sweep: index queries per reminder", f"{r['queries'] / due:.3f}", f"{r['queries']} queries, one per shard and page")
    yield sender_row(
        "habit sweep: DynamoDB calls per reminder sent",
        calls - r["queries"],
        due,
        "beyond the index queries: view and profile, claim with its link, closing",
    )
    yield Row("habit sweep: SES calls per 1,000 reminders", f"{r['emails'] / due * 1000:.0f}", "one per member and slot")
    yield Row(
        "habit sweep wall time (moto)",
        f"{r['sweep_seconds'] * 1000:.0f} ms",
        "includes sending (the sweep is its own sender); on a table of the due views",
    )


def habit_at_scale() -> Iterator[Row]:
    """The habit sweep over 20,000 establishing pact views with 200 reminders due, on moto (see infra/bench_habit.py)."""
    progress("the habit sweep at scale, on moto: seeding the table takes a minute or two")
    for r in _child_rows("infra.bench_habit"):
        yield from habit_rows(r, MEASURED.get("items_per_nudge"))


LOAD_LEGEND = (
    "locust on loopback, no think time; the local stack serialises every call to moto and runs one call at a time "
    "per function (one warm container), on the same 2 cores as locust: a comparison, not AWS's figures"
)
LOAD_LABELS = {"baseline": "baseline (do-nothing handler)", "api": "API mix"}


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


def load_rows(r: dict[str, Any], baseline: dict[str, Any] | None = None) -> Iterator[Row]:
    """Rows from one run of infra/bench_load.py; the API run's with its ratios to the baseline run's."""
    label = LOAD_LABELS[r["target"]]
    if r["target"] == "baseline":
        seeded = f"; seeding them through the API took {r['seed_seconds']:.0f} s" if r.get("seed_seconds") is not None else ""
        yield Row("load: clients / seconds per run / members", f"{r['users']} / {r['seconds']} / {r['members']}", LOAD_LEGEND + seeded)
    failed = r["failures"] + r["exceptions"]
    first_error = f"; {r['errors'][0]}" if r["errors"] else ""
    yield Row(
        f"load {label}: requests served / failed",
        f"{r['requests']} / {failed}",
        f"{r['rps']:.1f} requests/s; goal 0 failed{first_error}",
        "measured nothing" if not r["requests"] else "0 failed" if failed else "",
    )
    yield Row(f"load {label}: p50 / p99", f"{_ms(r['p50_ms'])} / {_ms(r['p99_ms'])} ms", "client-side, as locust times them")
    if r["target"] != "api":
        return
    for route in r["routes"]:
        yield Row(
            f"load API {route['name']}: p50 / p99",
            f"{_ms(route['p50_ms'])} / {_ms(route['p99_ms'])} ms",
            f"{route['requests']} requests, {route['failures']} failed",
        )
    if baseline and baseline["p50_ms"] and baseline["p99_ms"] and r["p50_ms"] and r["p99_ms"]:
        yield Row(
            "load overhead: API mix / baseline, p50",
            f"{r['p50_ms'] / baseline['p50_ms']:.1f}x",
            f"p99 {r['p99_ms'] / baseline['p99_ms']:.1f}x; requests/s {r['rps'] / baseline['rps']:.2f}x; same clients, stack and run",
        )
    else:
        yield Row("load overhead: API mix / baseline", "n/a", "a run served no request", "measured nothing")


def load_test() -> Iterator[Row]:
    """20 clients for 30 s across 200 members on the local stack, then the same against a do-nothing handler."""
    progress("load: seeding 200 members through the local stack, then two 30 s locust runs (a few minutes)")
    baseline = None
    for r in _child_rows("infra.bench_load"):
        yield from load_rows(r, baseline)
        if r["target"] == "baseline":
            baseline = r


def _directory() -> Iterator[Row]:
    from infra.bench_directory import directory_rows

    yield from directory_rows()


# Each row group by name, in the order `make bench` runs them; `--only nudges,habit` runs just those
# (the stages' scale is set by their BENCH_* environment variables: see each infra/bench_*.py).
STAGES = {
    "cold": cold_starts,
    "sizes": package_sizes,
    "calls": calls_per_route,
    "nudges": sweep_at_scale,
    "reminders": reminders_at_scale,
    "habit": habit_at_scale,
    "digest": digests_at_scale,
    "directory": _directory,
    "load": load_test,
}


def chosen_stages(argv: list[str]) -> list[str]:
    """The stages named by `--only a,b` (all of them without it); an unknown name stops the run."""
    if "--sizes" in argv:
        return ["sizes"]
    if "--load" in argv:
        return ["load"]
    if "--only" not in argv:
        return list(STAGES)
    at = argv.index("--only")
    names = argv[at + 1].split(",") if at + 1 < len(argv) else []
    unknown = [name for name in names if name not in STAGES]
    if not names or unknown:
        raise SystemExit(f"--only takes some of {','.join(STAGES)}; unknown: {','.join(unknown) or '(none given)'}")
    return [name for name in STAGES if name in names]


def main() -> None:
    if "--help" in sys.argv or "-h" in sys.argv:
        print(f"python -m infra.bench [--only {','.join(STAGES)}] [--sizes] [--load] [--cold [Function ...]]")
        return
    if "--cold" in sys.argv:  # the cold-start stage alone, of every function or of those named after it
        emit(cold_starts(sys.argv[sys.argv.index("--cold") + 1 :]))
        return
    emit(itertools.chain.from_iterable(STAGES[name]() for name in chosen_stages(sys.argv)))


if __name__ == "__main__":
    main()
