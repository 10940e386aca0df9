"""End-to-end: a real local stack (`python -m infra.local`) in a subprocess on a free port, real HTTP."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from infra.local.auth import mint_token
from infra.local.process import local_stack
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

    def wait_for_message(self, to: str, about: str, *, seen: int = 0, seconds: float = 30) -> dict[str, Any]:
        """The latest message in the local outbox to `to` (an address or a phone number) whose subject, or a
        text's words, contain `about`, once more than `seen` of those are there: mail goes out after the
        request that caused it (a domain event, a queue), so it is waited for. `about` is required: the
        stack's own schedules run on its clock too, so a member may rightly get a digest or a reminder
        beside the message a test waits for (CI once took a weekly digest for a nudge)."""
        deadline = time.monotonic() + seconds
        while True:
            messages = self.request("GET", "/_local/outbox").json()["messages"]
            found = [m for m in messages if to in m["to"] and about in m.get("subject", m.get("text", ""))]
            if len(found) > seen:
                return dict(found[-1])
            if time.monotonic() > deadline:
                theirs = [m.get("subject", m.get("text")) for m in messages if to in m["to"]]
                raise AssertionError(f"no message to {to} about {about!r} after {seconds:.0f} s; to them: {theirs}")
            time.sleep(0.1)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    state = tmp_path_factory.mktemp("local-state")
    with local_stack(state, state / "stack.log") as url:
        yield Stack(url, state)
