"""The README's walkthrough, run verbatim with bash against a local stack: the promise a newcomer reads first."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator

import pytest

from infra.cfn import ROOT
from tests.e2e.conftest import local_stack

pytestmark = pytest.mark.e2e


def walkthrough() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Five minutes with curl", 1)[1]
    return re.search(r"```sh\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


@pytest.fixture(scope="module")
def readme_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A stack of its own, signing with the key `make token` uses (.local/), on a free port."""
    with local_stack(ROOT / ".local", tmp_path_factory.mktemp("readme") / "stack.log") as url:
        yield url


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
        '"my_state":"invited"',
        '"local_time":"19:00"',
        '"my_rsvp":"no"',
        '"status":"held"',
        '"group_name":"Cork peer supervision"',
        "RRULE:FREQ=MONTHLY;",
        "DTSTART;TZID=Europe/Dublin:20270112T190000",
        '"establishment":{"state":"establishing","kept":1,"of":6}',
        '"closeness":"colleague"',
        "you meet in Cork peer supervision",
        "Cara would like to be introduced to you",
        '"contact":{"email":"cara@example.org"',
        '"state":"active","mutual":true,"colleague":{"member_id"',
        "remove anything that could identify a client",
        '"text":"Has anyone worked with complex PTSD after a car crash?"',
        "You've been to 1 group meeting this month.",
        "Date,Time,Kind,With,Mode,Minutes",
    ):
        assert expected in out, f"the walkthrough did not show {expected!r}"
