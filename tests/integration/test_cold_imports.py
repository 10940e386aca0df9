"""What a function's cold start imports: only the API pays for pydantic (Powertools' request validation).

Each function's module is imported in a fresh interpreter as Lambda does it (its folder on sys.path, the
template's code URI), and the modules it pulled in are listed. pydantic and the API's schemas cost a
sender or a sweep ~60 ms of cold start for nothing (see `make bench`): shared code they import (the
digest's lapsed-contact helpers, say) lives apart from the schemas.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from infra import cfn

IMPORT = textwrap.dedent(
    """
    import importlib.util, json, sys
    sys.path.insert(0, {code_uri!r})
    spec = importlib.util.spec_from_file_location("handler_module", {module_file!r})
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    print(json.dumps(sorted(sys.modules)))
    """
)
FUNCTIONS = sorted(cfn.functions())


def imported_by(logical_id: str) -> set[str]:
    fn = cfn.functions()[logical_id]
    script = IMPORT.format(code_uri=str(fn.code_uri), module_file=str(fn.module_file))
    env = {**os.environ, "PYTHONPATH": str(cfn.ROOT), "TABLE_NAME": "cold-imports", "EVENT_BUS_NAME": "cold-imports"}
    out = subprocess.run([sys.executable, "-c", script], cwd=cfn.ROOT, env=env, capture_output=True, text=True, check=True)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_the_api_does_import_pydantic() -> None:
    # The check below can fail: the one function that validates requests with pydantic shows it.
    assert "pydantic" in imported_by("ApiFunction")


@pytest.mark.parametrize("logical_id", [fn for fn in FUNCTIONS if fn != "ApiFunction"])
def test_no_other_function_imports_pydantic_or_the_api_schemas(logical_id: str) -> None:
    loaded = imported_by(logical_id)
    assert "pydantic" not in loaded
    assert not {name for name in loaded if name.endswith(".schemas")}
