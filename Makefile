# The two promises: `make run` starts the whole local stack, `make test` runs every test.
# Both work on a fresh clone with only Python 3.11, make and git.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
SAM_VENV := .venv-sam
SAM    := $(SAM_VENV)/bin/sam
# sam build needs a python3.12 for the Lambda runtime; pyenv's is picked with PYENV_VERSION.
SAM_PYTHON_VERSION ?= 3.12
# The interpreter that installs the layer's packages and compiles its bytecode: the runtime's version.
LAYER_PYTHON ?= python$(SAM_PYTHON_VERSION)
PORT   ?= 3000
export PORT
comma  := ,

# Every target that runs something from .venv depends on $(STAMP), so any target works first on a fresh clone.
.PHONY: help install run test test-fast coverage lint format token invoke bench package build-SharedLayer clean

help:
	@echo "make run      start the local stack on http://127.0.0.1:$(PORT) (moto, no AWS account; PORT=3001 for another port)"
	@echo "make test     run every test (unit, integration on moto, end-to-end)"
	@echo "make coverage run every test under branch coverage, failing below the floor (slower: about twice make test)"
	@echo "make token EMAIL=you@example.org   a bearer token for the local stack"
	@echo "make invoke FN=<function> [AT=2026-12-08T09:00:00Z]   run a scheduled function now"
	@echo "make lint     ruff, mypy, cfn-lint"
	@echo "make bench    cold starts, package sizes and more, measured side by side (ARGS=--load: only the load test)"
	@echo "make package  sam build (offline) into .aws-sam/"

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(STAMP)

run: $(STAMP)
	@$(PY) -m infra.local --port $(PORT)

# Two workers (one per core here and in CI), a test file to each at a time: the e2e files each share
# their worker's local stack. pytest's exit 5 (no test collected) fails the target like any failure.
test: $(STAMP)
	$(PY) -m pytest -n auto --dist loadfile

test-fast: $(STAMP)
	$(PY) -m pytest -m "not e2e and not browser"

# The same tests under coverage.py (branch, and the e2e tests' local stacks through its subprocess
# patch). Its tracer doubles the run on Python 3.11, so it is a target of its own and CI's second step.
COVERAGE_FLOOR := 94
coverage: $(STAMP)
	$(PY) -m pytest -n auto --dist loadfile \
	  --cov=shared --cov=functions --cov=infra --cov-branch \
	  --cov-report=term-missing:skip-covered --cov-fail-under=$(COVERAGE_FLOOR)

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy
	$(VENV)/bin/cfn-lint template.yaml

format: $(STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

token: $(STAMP)
	@test -n "$(EMAIL)" || (echo "usage: make token EMAIL=you@example.org" >&2; exit 2)
	@$(PY) -m infra.local.token "$(EMAIL)"

invoke: $(STAMP)
	@test -n "$(FN)" || (echo "usage: make invoke FN=<function> [AT=2026-12-08T09:00:00Z]" >&2; exit 2)
	@$(PY) -m infra.local.invoke "$(FN)" $(if $(AT),--at "$(AT)",)

bench: $(STAMP)
	$(PY) -m infra.bench $(ARGS)

$(SAM):
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --disable-pip-version-check aws-sam-cli

package: $(STAMP) $(SAM)
	PYENV_VERSION=$$(pyenv versions --bare 2>/dev/null | grep -m1 '^$(SAM_PYTHON_VERSION)' || true) \
	SAM_CLI_TELEMETRY=0 $(SAM) build --build-in-source --template-file template.yaml --build-dir .aws-sam/build
	$(PY) -m infra.bench --sizes

# Called by `sam build` (Metadata: BuildMethod: makefile on SharedLayer): the shared/ package and the
# third-party dependencies, for Lambda's python3.12 on arm64, under python/ as layers expect.
#
# The layer ships precompiled bytecode, for the runtime's Python only. Lambda unpacks a layer on a
# read-only filesystem (/opt), so a module without a valid .pyc is compiled at every cold start and
# nothing can be kept: measured with Python 3.12, ApiFunction's cold init is 0.6 s with the .pyc files
# and 1.1 s from sources. They are compiled by $(LAYER_PYTHON) (bytecode is tied to the minor version)
# as unchecked-hash .pyc, used as they are. The .pyc pip wrote before were timestamp ones, valid only
# while the source keeps its mtime, and sam's zip dates every file 1980-01-01 (samcli make_zip): on
# Lambda every one of them was stale, 3 MiB uploaded for nothing. `make bench` measures this very
# folder, .pyc included: the zip sam uploads.
build-SharedLayer:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-SharedLayer is run by sam build: use make package" >&2; exit 2; }
	@$(LAYER_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != ($(subst .,$(comma),$(SAM_PYTHON_VERSION))))' 2>/dev/null \
		|| { echo "build-SharedLayer needs Python $(SAM_PYTHON_VERSION), the Lambda runtime's, as $(LAYER_PYTHON) (pyenv install $(SAM_PYTHON_VERSION))" >&2; exit 2; }
	mkdir -p "$(ARTIFACTS_DIR)/python"
	cp -R shared "$(ARTIFACTS_DIR)/python/"
	find "$(ARTIFACTS_DIR)/python/shared" -name __pycache__ -prune -exec rm -rf {} +
	$(LAYER_PYTHON) -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt --target "$(ARTIFACTS_DIR)/python" \
		--platform manylinux2014_aarch64 --implementation cp --python-version $(SAM_PYTHON_VERSION) --only-binary=:all: --upgrade
	# The Lambda runtime brings the AWS SDK; pynamodb's pull of botocore would only add 80 MB.
	cd "$(ARTIFACTS_DIR)/python" && rm -rf boto3 boto3-* botocore botocore-* s3transfer s3transfer-* urllib3 urllib3-* jmespath jmespath-* bin
	$(LAYER_PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(ARTIFACTS_DIR)/python"

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache .coverage htmlcov
