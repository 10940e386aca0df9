"""`make bench`: figures measured side by side in one run, printed as a table. Nothing here asserts.

Rows:
- cold init of each function: a fresh interpreter imports the handler module and builds
  the AWS clients its first call needs (median of several runs), next to the floor,
  `import boto3` plus one client, measured interleaved in the same run, and the ratio;
- the zipped deployment size of each function and of the shared layer (from `make package`);
- DynamoDB calls per API request, counted on moto (the budget is 3; no Scan);
- the nudge sweep at 100,000 pacts with 1,000 due: items read and calls per nudge, SES
  calls per 1,000 nudges, and its wall time next to a plain query loop over the same items.
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import sys
import zipfile
from pathlib import Path

from infra import cfn

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
BUILD_DIR = cfn.ROOT / ".aws-sam" / "build"

FLOOR = """
import time
t0 = time.perf_counter()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - t0)
"""

# What each function's first call needs, beyond importing its module.
_TABLE = "from shared.models import Item; Item._get_connection().connection.client"
FIRST_CALL = {
    "ApiFunction": _TABLE,
    "LinksFunction": _TABLE,
    "NotifyFunction": _TABLE + "; from shared.aws import client; client('sesv2')",
    "NudgeSenderFunction": _TABLE + "; from shared.aws import client; client('sesv2')",
    "NudgeSweepFunction": _TABLE + "; from shared.aws import client; client('sqs')",
    "SmsSweepFunction": _TABLE + "; from shared.aws import client; client('sns')",
    "SuppressionFunction": _TABLE,
}

# As Lambda does it: the function's folder on sys.path, its module imported by file, nothing else.
COLD = """
import importlib.util, sys, time
t0 = time.perf_counter()
sys.path.insert(0, {code_uri!r})
spec = importlib.util.spec_from_file_location("handler_module", {module_file!r})
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
getattr(module, {attribute!r})
{first_call}
print(time.perf_counter() - t0)
"""


def _cold_script(fn: cfn.Function) -> str:
    return COLD.format(
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


def _time(script: str) -> float:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("AWS_")}, **ENV, "PYTHONPATH": str(cfn.ROOT)}
    out = subprocess.run([sys.executable, "-c", script], cwd=cfn.ROOT, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold_starts() -> list[tuple[str, str, str]]:
    defs = cfn.functions()
    functions = sorted(defs)
    scripts = {fn: _cold_script(defs[fn]) for fn in functions}
    # One untimed run each so .pyc files exist for every candidate alike.
    _time(FLOOR)
    for fn in functions:
        _time(scripts[fn])
    floor: list[float] = []
    samples: dict[str, list[float]] = {fn: [] for fn in functions}
    for _ in range(RUNS):
        floor.append(_time(FLOOR))
        for fn in functions:
            samples[fn].append(_time(scripts[fn]))
    floor_ms = statistics.median(floor) * 1000
    rows = [("cold init floor: import boto3 + 1 client", f"{floor_ms:.0f} ms", "1.00x")]
    for fn in functions:
        ms = statistics.median(samples[fn]) * 1000
        rows.append((f"cold init {fn} (import + first-call clients)", f"{ms:.0f} ms", f"{ms / floor_ms:.2f}x floor (goal <= 1.3x)"))
    return rows


def _zipped_size(folder: Path) -> int:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                zf.write(path, path.relative_to(folder))
    return buffer.tell()


def package_sizes() -> list[tuple[str, str, str]]:
    if not BUILD_DIR.exists():
        return [("zipped package sizes", "n/a", "run `make package` first (sam build)")]
    rows = []
    for folder in sorted(p for p in BUILD_DIR.iterdir() if p.is_dir()):
        size = _zipped_size(folder)
        kind = "function code" if folder.name in cfn.functions() else "layer"
        rows.append((f"zipped size {folder.name}", f"{size / 1024:.0f} KiB", kind))
    return rows


def calls_per_route() -> list[tuple[str, str, str]]:
    """DynamoDB calls per API request (moto, one run): the budget is 3, no Scan."""
    out = subprocess.run([sys.executable, "-m", "infra.bench_calls"], cwd=cfn.ROOT, capture_output=True, text=True, check=True)
    rows = []
    exceptions = {"DELETE /members/me", "GET /members/me/export", "DELETE /pacts/{id}"}
    for route, n, scans in json.loads(out.stdout.strip().splitlines()[-1]):
        note = "grows with the member's own data" if route in exceptions else ("ok" if n <= 3 else "OVER BUDGET (3)")
        rows.append((f"dynamodb calls {route}", f"{n} ({scans} scan)", note))
    return rows


def sweep_at_scale() -> list[tuple[str, str, str]]:
    """The nudge sweep over 100,000 pacts with 1,000 due, on moto (see infra/bench_sweep.py)."""
    out = subprocess.run([sys.executable, "-m", "infra.bench_sweep"], cwd=cfn.ROOT, capture_output=True, text=True, check=True)
    r = json.loads(out.stdout.strip().splitlines()[-1])
    due, sample, sweep_calls = r["due"], r["sender_nudges"], r["sweep_dynamodb_calls"]
    return [
        ("sweep: pacts in the table / nudges due", f"{r['pacts']} / {due}", "due nudges spread over 80% as many members"),
        ("sweep: items read per nudge due", f"{r['items_read'] / due:.2f}", "goal <= 1.1; a full Scan would read 100"),
        ("sweep: DynamoDB calls per nudge", f"{sweep_calls / due:.3f}", f"{sweep_calls} queries, one per shard and page"),
        ("sender: DynamoDB calls per nudge", f"{r['sender_dynamodb_calls'] / sample:.2f}", f"measured on {sample} nudges"),
        ("sender: SES calls per 1,000 nudges", f"{r['emails'] / sample * 1000:.0f}", "one digest per member, not one per pact"),
        ("sweep wall time over the due nudges (moto)", f"{r['sweep_seconds'] * 1000:.0f} ms", "includes queueing the messages"),
        (
            "plain query loop over the same items (moto)",
            f"{r['plain_seconds'] * 1000:.0f} ms",
            f"sweep / plain = {r['sweep_seconds'] / r['plain_seconds']:.2f}x (our code's overhead)",
        ),
    ]


def print_table(rows: list[tuple[str, str, str]]) -> None:
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  {'value':>10}  note")
    print("-" * (width + 40))
    for name, value, note in rows:
        print(f"{name.ljust(width)}  {value:>10}  {note}")


def main() -> None:
    if "--sizes" in sys.argv:
        print_table(package_sizes())
        return
    print_table(cold_starts() + package_sizes() + calls_per_route() + sweep_at_scale())


if __name__ == "__main__":
    main()
