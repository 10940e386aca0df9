"""End-to-end: a real local stack (`python -m infra.local`) in a subprocess on a free port, real HTTP."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.cfn import ROOT
from infra.local.auth import mint_token
from infra.local.stack import free_port
from tests.helpers import Reply

pytestmark = pytest.mark.e2e


@dataclass
class Stack:
    url: str
    state_dir: Path

    def token(self, email: str, **kwargs: Any) -> str:
        return mint_token(self.state_dir, email, **kwargs)

    def request(
        self, method: str, path: str, *, body: Any = None, token: str | None = None, headers: dict[str, str] | None = None
    ) -> Reply:
        data = None if body is None else body if isinstance(body, bytes) else json.dumps(body).encode()
        hdrs = {"content-type": "application/json", **(headers or {})}
        if token:
            hdrs["authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return Reply(resp.status, {k.lower(): v for k, v in resp.headers.items()}, resp.read())
        except urllib.error.HTTPError as err:
            return Reply(err.code, {k.lower(): v for k, v in err.headers.items()}, err.read())


@contextmanager
def local_stack(state: Path, log_path: Path, *, env: dict[str, str] | None = None, quiet: bool = False) -> Iterator[str]:
    """`python -m infra.local` on a free port, signing tokens with the key in `state`; yields its URL.

    `env` adds to its environment (LOG_LEVEL=INFO: the functions log as deployed); `quiet` leaves
    out its own console lines, so the log holds the functions' logs and little else.
    """
    port = free_port()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "EVENT_BUS", "PUBLIC_BASE"))}, **(env or {})}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "infra.local", "--port", str(port), "--state-dir", str(state), *(["--quiet"] if quiet else [])],
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


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("local-state")
    with local_stack(state, state / "stack.log") as url:
        yield Stack(url, state)
