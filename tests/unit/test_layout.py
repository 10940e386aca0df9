"""The layout shows the architecture: imports run one way, functions -> capabilities -> domain and adapters."""

from __future__ import annotations

import ast
from pathlib import Path

from infra.cfn import ROOT

SHARED = ROOT / "shared"
CAPABILITIES = {"members", "pacts", "invitations", "nudges", "texts", "links", "groups", "calendar", "network", "digest"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py") if "__pycache__" not in p.parts)


def test_shared_has_the_domain_the_adapters_and_one_package_per_capability() -> None:
    packages = {p.name for p in SHARED.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages == {"domain", "adapters", *CAPABILITIES}
    loose = sorted(p.name for p in SHARED.glob("*.py") if p.name != "__init__.py")
    assert loose == [], f"modules belong in a package: {loose}"


def test_the_domain_is_pure() -> None:
    for path in modules(SHARED / "domain"):
        for name in imports_of(path):
            assert not name.startswith(("boto3", "botocore", "pynamodb", "os", "shared.adapters")), (path, name)
            assert not name.startswith("shared.") or name.startswith("shared.domain"), (path, name)


def test_adapters_know_no_capability() -> None:
    for path in modules(SHARED / "adapters"):
        for name in imports_of(path):
            assert not name.startswith("shared.") or name.startswith(("shared.adapters", "shared.domain")), (path, name)


def test_nothing_in_shared_imports_the_functions_the_infra_or_the_tests() -> None:
    for path in modules(SHARED):
        for name in imports_of(path):
            assert not name.startswith(("functions", "infra", "tests")), (path, name)


def test_functions_use_capabilities_and_adapters_never_each_other() -> None:
    for path in modules(ROOT / "functions"):
        for name in imports_of(path):
            assert not name.startswith(("functions", "infra", "tests")), (path, name)
