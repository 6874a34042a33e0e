# The habits: `make demo`, `make test`, `make lint`, `make bench`. Each sets itself up from nothing.
# constraints.txt pins the versions CI was green with (cfn-lint's and checkov's rules, the
# template snapshots and the mocked Pulumi plan all depend on them); pyproject.toml keeps ranges.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
OUT := out
# checkov pins libraries that clash with ours, so it gets a virtualenv of its own.
CHECKOV := .tools/checkov/bin/checkov
CHECKOV_VERSION := 3.3.30

.PHONY: demo test thorough lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,pulumi]' -c constraints.txt
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/paycompile validate examples/platform.yaml
	$(VENV)/bin/paycompile build examples/platform.yaml --backend cfn -o $(OUT)/payment-dev.template.json
	$(VENV)/bin/paycompile build examples/platform.yaml --backend cfn --env prod -o $(OUT)/payment-prod.template.json
	$(VENV)/bin/cfn-lint $(OUT)/payment-dev.template.json $(OUT)/payment-prod.template.json && echo "cfn-lint: 0 errors, 0 warnings"

$(CHECKOV): constraints-checkov.txt
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/python -m pip install --quiet --upgrade pip
	.tools/checkov/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)' -c constraints-checkov.txt

# tests/test_checkov.py runs this binary; a missing one fails the suite rather than skipping.
test: $(CHECKOV)

test: $(STAMP)
	$(PY) -m pytest -n 2 -q

# The property tests (every test module using @given) with random seeds and many examples.
thorough: $(STAMP) $(CHECKOV)
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -n 2 -q $$(grep -l '@given' tests/test_*.py)

lint: $(STAMP)
	$(VENV)/bin/ruff check paycompile tests benchmarks
	$(VENV)/bin/ruff format --check paycompile tests benchmarks
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format paycompile tests benchmarks
	$(VENV)/bin/ruff check --fix paycompile tests benchmarks

bench: $(STAMP)
	$(PY) benchmarks/bench.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis .mypy_cache .ruff_cache
