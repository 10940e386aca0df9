"""The local stack in a subprocess (`python -m infra.local`) on a free port: the e2e tests' stack, the load bench's."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from infra.cfn import ROOT
from infra.local.stack import free_port


@contextmanager
def local_stack(state: Path, log_path: Path, *args: str, env: dict[str, str] | None = None, quiet: bool = False) -> Iterator[str]:
    """`python -m infra.local` on a free port, signing tokens with the key in `state`; yields its URL.

    `env` adds to its environment (LOG_LEVEL=INFO: the functions log as deployed); `quiet` leaves
    out its own console lines, so the log holds the functions' logs and little else; `args` go to
    `python -m infra.local` as they are (e.g. `--bench-baseline`). The process is stopped on the way
    out, whatever happened inside.
    """
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "EVENT_BUS", "PUBLIC_BASE"))}, **(env or {})}
    args = (*args, "--quiet") if quiet else args
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "--port", str(port), "--state-dir", str(state), *args],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_local/health", timeout=2) as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                raise RuntimeError(f"local stack did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        try:
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
