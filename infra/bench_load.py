"""`make bench`'s load test: many members at once against the local stack, beside a do-nothing baseline.

One run: the local stack (`python -m infra.local --bench-baseline`) in a subprocess on a free loopback
port; the members seeded through the API (profiles, a ring of pacts so each member has two, one
check-in on each, groups of GROUP_SIZE with weekly meetings); then locust, headless, in a subprocess
(infra/bench_load_users.py), twice with the same settings: first against GET /_bench/baseline, a
handler that does nothing behind the same HTTP server, JWT check, API Gateway event and one-container
invoke as the API; then the API mix (profile, pacts, meetings, check-ins). Each prints one
`BENCH {json}` line: requests served, failures, p50, p99, requests/s, per route too, and how long seeding
and its events took (`seed_seconds`). The stack and the temporary folder are removed however the run ends.

    python -m infra.bench_load [--users 20] [--seconds 30] [--members 200]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from infra.cfn import ROOT
from infra.local.auth import mint_token
from infra.local.process import local_stack

USERS, SECONDS, MEMBERS = 20, 30, 200  # the bounded figures
GROUP_SIZE = 8
SETTLE_SECONDS = 300.0
LOG_TAIL = 20_000
SEED_THREADS = 4
USERS_FILE = ROOT / "infra" / "bench_load_users.py"
TARGETS = ("baseline", "api")

T = TypeVar("T")


class Api:
    """Just enough HTTP for seeding: JSON in, JSON out, anything but the expected status is an error."""

    def __init__(self, url: str, state: Path):
        self.url = url
        self.state = state
        self.tokens: dict[str, str] = {}

    def token(self, email: str) -> str:
        if email not in self.tokens:
            self.tokens[email] = mint_token(self.state, email)
        return self.tokens[email]

    def call(self, method: str, path: str, email: str, body: Any = None, expect: int = 200) -> Any:
        data = None if body is None else json.dumps(body).encode()
        headers = {"content-type": "application/json", "authorization": f"Bearer {self.token(email)}"}
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as resp:
                status, text = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read()
        if status != expect:
            raise RuntimeError(f"seeding: {method} {path} answered {status}, not {expect}: {text[:500]!r}")
        return json.loads(text) if text else None


def _each(pool: ThreadPoolExecutor, fn: Callable[..., T], *iterables: Any) -> list[T]:
    return list(pool.map(fn, *iterables))


def seed(api: Api, members: int) -> list[dict[str, Any]]:
    """Seed `members` members through the API; for each, its token, pact ids and group id."""
    if members < 3:
        raise ValueError("the load bench needs at least 3 members (a ring of pacts)")
    emails = [f"load{i:04d}@example.org" for i in range(members)]
    now = datetime.now(UTC)
    began = (now - timedelta(days=365)).replace(microsecond=0)
    with ThreadPoolExecutor(SEED_THREADS) as pool:
        _each(pool, lambda i: api.call("PUT", "/members/me", emails[i], _profile(i)), range(members))
        # A ring: member i proposes to member i+1, who accepts; everyone is in two pacts.
        pact_body = {"rhythm": {"weekday": "tuesday", "time": "08:30"}, "mode": "phone", "starts_at": began.isoformat()}
        proposed = _each(
            pool,
            lambda i: api.call("POST", "/pacts", emails[i], {"colleague": {"email": emails[(i + 1) % members]}, **pact_body}, 201),
            range(members),
        )
        pacts = [p["id"] for p in proposed]
        _each(pool, lambda i: api.call("POST", f"/pacts/{pacts[i]}/accept", emails[(i + 1) % members]), range(members))
        talked = (began + timedelta(days=7)).isoformat()
        _each(pool, lambda i: api.call("POST", f"/pacts/{pacts[i]}/check-ins", emails[i], {"occurred_at": talked}, 201), range(members))
        chunks = [emails[i : i + GROUP_SIZE] for i in range(0, members, GROUP_SIZE)]
        groups = _each(pool, lambda chunk: _group(api, chunk, now), chunks)
    group_of = {email: group for chunk, group in zip(chunks, groups, strict=True) for email in chunk}
    return [
        {"token": api.token(email), "pacts": [pacts[i], pacts[(i - 1) % members]], "group": group_of[email]}
        for i, email in enumerate(emails)
    ]


def _profile(i: int) -> dict[str, Any]:
    return {"display_name": f"Load Member {i}", "time_zone": "Europe/Dublin", "specialties": ["Grief & Loss"]}


def _group(api: Api, emails: list[str], now: datetime) -> str:
    """A weekly group convened by the first of `emails`; the others invited and accepted."""
    body = {
        "name": "Load peer supervision",
        "rhythm": {"rrule": "FREQ=WEEKLY;BYDAY=TU;BYHOUR=19;BYMINUTE=0", "time_zone": "Europe/Dublin", "starts_on": now.date().isoformat()},
        "duration_minutes": 90,
        "where": {"kind": "place", "venue": "Cork"},
        "format": {"preset": "case_slots", "case_slots": 2},
    }
    group = str(api.call("POST", "/groups", emails[0], body, 201)["id"])
    for email in emails[1:]:
        api.call("POST", f"/groups/{group}/invitations", emails[0], {"email": email})
        api.call("POST", f"/groups/{group}/accept", email)
    return group


def _local(url: str, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method, headers={"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as resp:
        return json.loads(resp.read())


def settle(url: str, timeout: float = SETTLE_SECONDS) -> None:
    """Hold the clock still (no schedule fires into the runs), then wait out the seeding's domain events.

    Seeding raises hundreds of events (invitations, acceptances, check-ins) that the stack hands to their
    functions for a while afterwards, through the same one-at-a-time moto: measured on top of them, the
    first run's figures were the events' and not its own.
    """
    _local(url, "PUT", "/_local/clock", {"now": datetime.now(UTC).isoformat()})
    deadline = time.monotonic() + timeout
    while (pending := _local(url, "GET", "/_local/pending")["pending"]) and time.monotonic() < deadline:
        time.sleep(0.5)
    if pending:
        raise RuntimeError(f"the local stack still had {pending} events or messages to handle {timeout:.0f} s after seeding")


def run_locust(url: str, seed_file: Path, target: str, users: int, seconds: int, folder: Path) -> dict[str, Any]:
    """One headless locust run against `target`; its figures, as infra/bench_load_users.py reports them on quitting."""
    report = folder / f"{target}.json"
    env = {**os.environ, "BENCH_LOAD_SEED": str(seed_file), "BENCH_LOAD_TARGET": target, "BENCH_LOAD_REPORT": str(report)}
    env["BENCH_LOAD_SECONDS"] = str(seconds)  # the users file ends the run (see its _stop_later), not `--run-time`
    command = [sys.executable, "-m", "locust", "-f", str(USERS_FILE), "--headless", "--only-summary"]
    command += ["-u", str(users), "-r", str(users), "--host", url]
    command += ["--exit-code-on-error", "0", "--loglevel", "WARNING"]
    log = folder / f"{target}.locust.log"
    with log.open("w") as out:
        done = subprocess.run(
            command, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT, timeout=seconds + 120, check=False
        )
    if done.returncode or not report.exists():
        raise RuntimeError(f"locust ({target}) exited with {done.returncode}:\n{log.read_text()[-3000:]}")
    figures = json.loads(report.read_text())
    return {"stage": "load", "target": target, "users": users, "seconds": seconds, **figures}


def run(users: int = USERS, seconds: int = SECONDS, members: int = MEMBERS) -> Iterator[dict[str, Any]]:
    """Seed, then the baseline and the API mix with the same locust settings; one record each, as measured."""
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        folder = Path(tmp)
        log = folder / "stack.log"
        try:
            with local_stack(folder, log, "--bench-baseline", quiet=True) as url:
                started = time.monotonic()
                seeded = seed(Api(url, folder), members)
                settle(url)
                seed_seconds = round(time.monotonic() - started, 1)  # how long the set-up took, seeding and settling
                seed_file = folder / "seed.json"
                seed_file.write_text(json.dumps(seeded))
                for target in TARGETS:
                    yield {**run_locust(url, seed_file, target, users, seconds, folder), "members": members, "seed_seconds": seed_seconds}
        except Exception:
            # The folder goes with the run: what the stack printed (tracebacks of 500s) goes to stderr first.
            print(f"--- the local stack's output, last {LOG_TAIL} characters ---", file=sys.stderr)
            print(log.read_text()[-LOG_TAIL:] if log.exists() else "(none)", file=sys.stderr, flush=True)
            raise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--users", type=int, default=USERS, help=f"concurrent simulated members (default {USERS})")
    parser.add_argument("--seconds", type=int, default=SECONDS, help=f"how long each of the two runs lasts (default {SECONDS})")
    parser.add_argument("--members", type=int, default=MEMBERS, help=f"members seeded (default {MEMBERS})")
    args = parser.parse_args()
    for record in run(args.users, args.seconds, args.members):
        print("BENCH " + json.dumps(record), flush=True)


if __name__ == "__main__":
    main()
