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
# AWS Control Tower's proactive controls (237 cfn-guard rules) and the cfn-guard 3.1.1 binary
# that runs them ship together in one npm package: `npm pack` of a pinned version, checked
# against its sha512 (npm's integrity string), unpacked into .tools/cfn-guard.
CFN_GUARD_STAMP = .tools/cfn-guard/.installed-$(CFN_GUARD_NPM_VERSION)
CFN_GUARD_NPM := @cdklabs/cdk-validator-cfnguard
CFN_GUARD_NPM_VERSION := 0.0.62
CFN_GUARD_NPM_TARBALL := cdklabs-cdk-validator-cfnguard-$(CFN_GUARD_NPM_VERSION).tgz
CFN_GUARD_NPM_INTEGRITY := sha512-Sg2k8067B0AIJ82QFSLhHTUIqxOYTKABvVrTHiyc6j0rE2NHli2diIYqf+w+DkuDKCYYgMIOga3OrYMOHUw0mQ==
# The package's binaries live under bin/<ubuntu|macos>/<x86_64|aarch64>/.
CFN_GUARD_OS := $(if $(filter Darwin,$(shell uname -s)),macos,ubuntu)
CFN_GUARD_ARCH := $(if $(filter arm64 aarch64,$(shell uname -m)),aarch64,x86_64)
# cdk-nag's PCI DSS 3.2.1 pack runs through the AWS CDK (jsii, so Node.js 18+): a venv of its
# own of about 460 MB; a run takes some twenty seconds of CPU and a gigabyte of memory per
# template. Optional: `make nag` installs it and runs tests/optional/test_cdk_nag.py.
CDK_NAG_VERSION := 2.38.2
CDK_NAG_STAMP = .tools/cdk-nag/.installed-$(CDK_NAG_VERSION)

.PHONY: demo test thorough lint format bench clean judges nag report-browser mutate

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

# Built in a scratch directory and moved into place last: an interrupted install leaves no
# half-unpacked tool that looks installed. The stamp names the version, so a bump reinstalls.
$(CFN_GUARD_STAMP):
	rm -rf .tools/cfn-guard .tools/cfn-guard.partial
	mkdir -p .tools/cfn-guard.partial/bin
	npm pack --silent --pack-destination .tools/cfn-guard.partial '$(CFN_GUARD_NPM)@$(CFN_GUARD_NPM_VERSION)'
	$(PYTHON) -c 'import base64, hashlib, sys; digest = hashlib.sha512(open(sys.argv[1], "rb").read()).digest(); sys.exit(0 if "sha512-" + base64.b64encode(digest).decode() == sys.argv[2] else "integrity mismatch: " + sys.argv[1])' .tools/cfn-guard.partial/$(CFN_GUARD_NPM_TARBALL) '$(CFN_GUARD_NPM_INTEGRITY)'
	tar -xzf .tools/cfn-guard.partial/$(CFN_GUARD_NPM_TARBALL) -C .tools/cfn-guard.partial
	rm .tools/cfn-guard.partial/$(CFN_GUARD_NPM_TARBALL)
	ln -s ../package/bin/$(CFN_GUARD_OS)/$(CFN_GUARD_ARCH)/cfn-guard .tools/cfn-guard.partial/bin/cfn-guard
	.tools/cfn-guard.partial/bin/cfn-guard --version
	touch .tools/cfn-guard.partial/.installed-$(CFN_GUARD_NPM_VERSION)
	mv .tools/cfn-guard.partial .tools/cfn-guard

# tests/test_control_tower.py runs the Control Tower controls; missing, the suite fails.
test: $(CFN_GUARD_STAMP)

# The outside judges the suite and `paycompile report` run: checkov, cfn-guard with the
# Control Tower controls (cfn-lint comes with the dev extra).
judges: $(CHECKOV) $(CFN_GUARD_STAMP)

$(CDK_NAG_STAMP): constraints-cdk-nag.txt
	@command -v node >/dev/null || { echo "cdk-nag needs Node.js 18 or later (jsii)"; exit 1; }
	rm -rf .tools/cdk-nag
	$(PYTHON) -m venv .tools/cdk-nag
	.tools/cdk-nag/bin/python -m pip install --quiet --upgrade pip
	.tools/cdk-nag/bin/python -m pip install --quiet 'cdk-nag==$(CDK_NAG_VERSION)' -c constraints-cdk-nag.txt
	touch $(CDK_NAG_STAMP)

# The HTML compliance report in Debian's headless Chromium: its DOM holds every rule, its
# screenshot is not blank (kept in out/report-browser/). Not part of `make test`.
report-browser: $(STAMP) $(CHECKOV) $(CFN_GUARD_STAMP)
	@command -v chromium >/dev/null || { echo "==> installing Debian's chromium"; \
	    apt-get install -y chromium || { apt-get update && apt-get install -y chromium; }; }
	PAYCOMPILE_OPTIONAL=browser $(PY) -m pytest tests/optional/test_report_browser.py -q

# cdk-nag's PCI DSS 3.2.1 pack on the reference templates: its errors are the waived ones.
nag: $(STAMP) $(CDK_NAG_STAMP)
	PAYCOMPILE_OPTIONAL=nag $(PY) -m pytest tests/optional/test_cdk_nag.py -q

# Each test module stays on one worker (the moto modules build on their own earlier tests).
# `--dist loadgroup` would group by xdist_group marks, but with pytest 9.2 and pytest-xdist 3.8
# it silently stops grouping (pytest-xdist#1386).
test: $(STAMP)
	$(PY) -m pytest -n 2 --dist loadfile -q

# The property tests (every test module using @given) with random seeds and many examples.
thorough: $(STAMP) $(CHECKOV)
	HYPOTHESIS_PROFILE=thorough $(PY) -m pytest -n 2 -q $$(grep -l '@given' tests/test_*.py)

# Source mutation, outside CI (docs/testing.md): mutmut mutates paycompile/compiler/rules/ and
# runs the rules' own tests against each mutant ([tool.mutmut] in pyproject.toml). A venv of its
# own with a pinned mutmut; a run from scratch took 13 minutes on 2 cores shared with other jobs. The
# property test runs 10 examples from a fixed seed, so a mutant's verdict does not hang on luck.
MUTMUT_VERSION := 3.8.1
MUTATE_VENV := .venv-mutate
MUTATE_STAMP = $(MUTATE_VENV)/.installed-$(MUTMUT_VERSION)

$(MUTATE_STAMP): pyproject.toml constraints.txt
	rm -rf $(MUTATE_VENV)
	$(PYTHON) -m venv $(MUTATE_VENV)
	$(MUTATE_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(MUTATE_VENV)/bin/python -m pip install --quiet -e '.[dev]' 'mutmut==$(MUTMUT_VERSION)' -c constraints.txt
	touch $(MUTATE_STAMP)

mutate: $(MUTATE_STAMP)
	rm -rf mutants
	HYPOTHESIS_PROFILE=dev $(MUTATE_VENV)/bin/mutmut run --max-children 2
	$(MUTATE_VENV)/bin/mutmut results

lint: $(STAMP)
	$(VENV)/bin/ruff check paycompile tests benchmarks
	$(VENV)/bin/ruff format --check paycompile tests benchmarks
	$(VENV)/bin/mypy

format: $(STAMP)
	$(VENV)/bin/ruff format paycompile tests benchmarks
	$(VENV)/bin/ruff check --fix paycompile tests benchmarks

# Whole processes at 1, 10, 50, 200 services and against the import floor: out/bench.md and
# out/bench.json (docs/performance.md). BENCH_ARGS="--no-pulumi" skips the slow Pulumi plans.
bench: $(STAMP)
	$(PY) benchmarks/bench.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .hypothesis .mypy_cache .ruff_cache $(MUTATE_VENV) mutants
