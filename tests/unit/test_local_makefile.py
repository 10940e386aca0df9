"""The Makefile: every target works first on a fresh clone, and the layer's build agrees with `make bench`."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from infra.cfn import ROOT

MAKEFILE = (ROOT / "Makefile").read_text()


def _rules() -> dict[str, tuple[list[str], list[str]]]:
    """target -> (prerequisites, recipe lines), for the explicit rules of the Makefile."""
    rules: dict[str, tuple[list[str], list[str]]] = {}
    current: list[str] | None = None
    for line in MAKEFILE.splitlines():
        if line.startswith("\t") and current is not None:
            current.append(line.strip())
            continue
        match = re.match(r"^([^\s:=#.][^:=]*|\$\([A-Z_]+\)):(?!=)\s*(.*)$", line)
        if match:
            current = []
            rules[match.group(1).strip()] = (match.group(2).split(), current)
        elif line.strip() and not line.startswith("#"):
            current = None
    return rules


def test_every_target_that_uses_the_venv_depends_on_installing_it() -> None:
    rules = _rules()
    assert {"package", "run", "bench", "token"} <= set(rules)  # the parser sees the rules
    for target, (prerequisites, recipe) in rules.items():
        if target == "$(STAMP)":
            continue
        if any("$(PY)" in line or "$(VENV)/" in line for line in recipe):
            assert "$(STAMP)" in prerequisites, f"make {target} uses .venv without depending on $(STAMP)"


def test_package_installs_what_it_runs() -> None:
    prerequisites, _ = _rules()["package"]
    assert {"$(STAMP)", "$(SAM)"} <= set(prerequisites)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_package_on_a_fresh_clone_would_install_the_venv_before_using_it() -> None:
    # -B: as if nothing existed yet (a fresh clone); -n: print, run nothing.
    out = subprocess.run(["make", "-n", "-B", "package"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "-r requirements-dev.txt" in out
    assert out.index("-r requirements-dev.txt") < out.index("-m infra.bench --sizes")


def test_the_layer_ships_bytecode_for_the_runtime_that_is_valid_once_unzipped() -> None:
    _, recipe = _rules()["build-SharedLayer"]
    text = "\n".join(recipe)
    assert "--no-compile" in text  # not the .pyc of whichever python runs pip
    # compiled by the runtime's Python, valid whatever dates the files get (sam's zip dates them all 1980)
    assert "$(LAYER_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash" in text
    assert re.search(r"^LAYER_PYTHON \?= python\$\(SAM_PYTHON_VERSION\)$", MAKEFILE, re.MULTILINE)


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_build_shared_layer_outside_sam_refuses_instead_of_writing_to_the_root() -> None:
    # Checked before running it: without the guard, this very call would install into /python.
    _, recipe = _rules()["build-SharedLayer"]
    assert recipe[0].startswith('@test -n "$(ARTIFACTS_DIR)" ||')
    done = subprocess.run(["make", "-s", "build-SharedLayer", "ARTIFACTS_DIR="], cwd=ROOT, capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "make package" in done.stderr
