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

# A first install takes a minute or two: say what is happening, and let pip show each package.
$(STAMP): pyproject.toml constraints.txt
	@echo "==> [1/3] creating the virtualenv $(VENV)"
	$(PYTHON) -m venv $(VENV)
	@echo "==> [2/3] upgrading pip"
	$(PY) -m pip install --quiet --upgrade pip
	@echo "==> [3/3] installing paycompile with its dev and pulumi extras (pinned by constraints.txt)"
	$(PY) -m pip install --progress-bar on -e '.[dev,pulumi]' -c constraints.txt
	touch $(STAMP)
	@echo "==> $(VENV) is ready"

demo: $(STAMP)
	@echo "==> validating the reference spec"
	$(VENV)/bin/paycompile validate examples/platform.yaml
	@echo "==> building the dev and prod templates"
	$(VENV)/bin/paycompile build examples/platform.yaml --backend cfn -o $(OUT)/payment-dev.template.json
	$(VENV)/bin/paycompile build examples/platform.yaml --backend cfn --env prod -o $(OUT)/payment-prod.template.json
	@echo "==> linting them with cfn-lint"
	$(VENV)/bin/cfn-lint $(OUT)/payment-dev.template.json $(OUT)/payment-prod.template.json && echo "cfn-lint: 0 errors, 0 warnings"

$(CHECKOV): constraints-checkov.txt
	$(PYTHON) -m venv .tools/checkov
	.tools/checkov/bin/python -m pip install --quiet --upgrade pip
	.tools/checkov/bin/python -m pip install --quiet 'checkov==$(CHECKOV_VERSION)' -c constraints-checkov.txt

# tests/test_checkov.py runs this binary; a missing one fails the suite rather than skipping.
test: $(CHECKOV)

test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadgroup -q

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
