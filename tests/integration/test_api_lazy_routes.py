"""The API imports each capability's routes when a request first needs them; the document stays the same."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from infra import cfn
from infra.lambdas import LambdaContext
from tests.helpers import call, http_event

# A fresh interpreter, as a cold start: the first request is a profile read (401 without a token: no AWS needed),
# then a group list, then the document.
FRESH = textwrap.dedent(
    """
    import json, sys
    from tests.helpers import call
    assert call("GET", "/members/me", email=None).status == 401
    after_profile = sorted(name for name in sys.modules if name.startswith(("api_", "shared.")))
    assert call("GET", "/groups", email=None).status == 401
    print(json.dumps({"after_profile": after_profile, "doc": call("GET", "/openapi.json", email=None).body.decode()}))
    """
)


@pytest.fixture(scope="module")
def fresh() -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(cfn.ROOT)}
    out = subprocess.run([sys.executable, "-c", FRESH], cwd=cfn.ROOT, env=env, capture_output=True, text=True, check=True)
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_a_profile_read_imports_no_other_capability(fresh: dict[str, object]) -> None:
    loaded = set(fresh["after_profile"])  # type: ignore[call-overload]
    assert {"api_common", "api_members", "shared.members.profile"} <= loaded
    others = {"api_pacts", "api_groups", "api_calendar", "api_directory", "api_introductions", "api_asks", "api_support"}
    assert not loaded & others
    heavy = {"shared.members.use_cases", "shared.pacts.use_cases", "shared.groups.use_cases", "shared.groups.schemas"}
    assert not loaded & heavy


def test_the_document_is_the_same_whichever_routes_were_imported_first(fresh: dict[str, object]) -> None:
    # This process imported the route modules in the order its earlier requests needed them (or all at once):
    # the document lists the same operations, schemas and order as the fresh one's, byte for byte.
    assert call("GET", "/openapi.json", email=None).body.decode() == fresh["doc"]


def test_a_route_module_adding_a_route_outside_its_prefixes_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app_module = """
        from shared.adapters.http import create_resolver
        app = create_resolver(title="t", description="d")
    """
    pacts_module = """
        from lazy_app import app

        @app.get("/pacts")
        def pacts() -> str:
            return "ok"

        @app.get("/groups")  # outside the module's prefix
        def groups() -> str:
            return "ok"
    """
    asks_module = """
        from lazy_app import app

        @app.get("/asks")
        def asks() -> str:
            return "ok"
    """
    for name, code in (("lazy_app", app_module), ("lazy_pacts", pacts_module), ("lazy_asks", asks_module)):
        (tmp_path / f"{name}.py").write_text(textwrap.dedent(code))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("lazy_app", "lazy_pacts", "lazy_asks"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    from lazy_app import app  # type: ignore[import-not-found]

    app.route_modules((("/asks",), "lazy_asks"), (("/pacts",), "lazy_pacts"))
    _, asks = http_event("GET", "/asks", email=None)
    assert app.resolve(asks, LambdaContext("f"))["statusCode"] == 200
    assert "lazy_pacts" not in sys.modules
    _, pacts = http_event("GET", "/pacts", email=None)
    with pytest.raises(RuntimeError, match="lazy_pacts adds GET /groups, outside its prefixes"):
        app.resolve(pacts, LambdaContext("f"))
