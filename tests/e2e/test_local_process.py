"""`python -m infra.local` (what `make run` runs) as a process: a taken port, and stopping on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from infra.cfn import ROOT
from infra.local.auth import mint_token
from infra.local.stack import free_port

pytestmark = pytest.mark.e2e

ENV = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TABLE_", "EVENT_BUS", "PUBLIC_BASE"))}


def _start(port: int, state: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "infra.local", "--port", str(port), "--state-dir", str(state)],
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_a_taken_port_is_one_line_naming_it_and_the_way_out(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _start(port, tmp_path)
        out, err = proc.communicate(timeout=120)
    assert proc.returncode != 0
    assert "Traceback" not in err
    assert err.strip().splitlines() == [f"port {port} is already in use (another `make run`?); choose another: make run PORT={port + 1}"]
    assert out == ""


def test_sigterm_stops_the_stack_promptly(tmp_path: Path) -> None:
    port = free_port()
    proc = _start(port, tmp_path)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/_local/health", timeout=2):
                    break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                time.sleep(0.2)
        # Some state, as after a while of use.
        token = mint_token(tmp_path, "ann@example.org")
        body = json.dumps({"display_name": "Ann", "time_zone": "Europe/Dublin"}).encode()
        headers = {"authorization": f"Bearer {token}", "content-type": "application/json"}
        with urllib.request.urlopen(urllib.request.Request(f"{url}/members/me", data=body, method="PUT", headers=headers), timeout=30) as r:
            assert r.status == 200
        proc.send_signal(signal.SIGTERM)
        try:
            # Generous: alone it exits in a fraction of a second; under coverage (its atexit save) with a full
            # parallel run beside it, it once took over 10 s.
            out, _ = proc.communicate(timeout=45)
        except subprocess.TimeoutExpired:
            pytest.fail("the local stack was still running 45 s after SIGTERM")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert out.rstrip().endswith("stopped.")
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{url}/_local/health", timeout=2)
