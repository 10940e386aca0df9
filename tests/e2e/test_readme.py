"""The README's walkthrough, run verbatim with bash against a local stack: the promise a newcomer reads first."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator

import pytest

from infra.cfn import ROOT
from infra.local.stack import free_port

pytestmark = pytest.mark.e2e


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Five minutes with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def readme_stack() -> Iterator[str]:
    """A stack of its own, signing with the key `make token` uses (.local/), on a free port."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "EVENT_BUS", "PUBLIC_BASE"))}
    proc = subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--port", str(port), "--state-dir", str(ROOT / ".local")],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_local/health", timeout=2):
                break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("the local stack did not start") from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_the_readme_walkthrough_runs_verbatim(readme_stack: str) -> None:
    script = walkthrough()
    assert "API=http://127.0.0.1:3000" in script
    # The one change: the port of this test's stack (the README's is 3000, the default of `make run`).
    script = script.replace("API=http://127.0.0.1:3000", f"API={readme_stack}")
    port = readme_stack.rsplit(":", 1)[1]
    env = {**os.environ, "PORT": port}
    done = subprocess.run(["bash", "-eu", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, f"the walkthrough stopped (exit {done.returncode}):\n{done.stderr[-3000:]}\n{done.stdout[-3000:]}"
    out = done.stdout
    # What the comments promise
    for expected in (
        "Unauthorized",
        '"mutual":true',
        "Ann would like to keep in regular touch with you",
        '"status":"on_track"',
        '"next_due_at":"2026-12-15T08:30:00Z"',
        '"status":"lapsed"',
        "Time to catch up with Bob?",
        "Did you talk with",
        '"state":"ended"',
        '"ended_reason":"colleague_left"',
    ):
        assert expected in out, f"the walkthrough did not show {expected!r}"
