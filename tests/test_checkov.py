"""checkov finds nothing to fail in the templates paycompile writes; every skip says why.

checkov lives in its own virtualenv (`make .tools/checkov/bin/checkov`, or PAYCOMPILE_CHECKOV)
because its pins clash with ours. It is part of the suite: when it is missing the tests fail
and say how to install it, they never skip. One checkov run takes a few seconds, so the
property test scans at most 5 generated templates (fewer under a smaller profile).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from judging import Judgement
from strategies import GeneratedSpec, valid_specs

import paycompile
from paycompile.report import checkov

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
SECURITY_DOC = ROOT / "docs" / "security.md"
DEFAULT_CHECKOV = ROOT / ".tools" / "checkov" / "bin" / "checkov"
CHECKOV_EXAMPLES = min(5, settings.default.max_examples)
CHECK_ID = re.compile(r"\bCKV2?_AWS_\d+\b")
# The session's judgement of the reference templates (tests/judges_plugin.py).
pytest_plugins = ["judges_plugin"]


def checkov_binary() -> Path:
    path = Path(os.environ.get("PAYCOMPILE_CHECKOV", DEFAULT_CHECKOV))
    if not path.is_file():
        pytest.fail(
            f"checkov not found at {path}: run `make .tools/checkov/bin/checkov` "
            "(or point PAYCOMPILE_CHECKOV at a checkov 3.3.30 binary)",
            pytrace=False,
        )
    return path


def run_checkov(template: Path) -> dict[str, Any]:
    """checkov's JSON report for one CloudFormation template."""
    # No network here: skip the guideline download and the BC_* id mapping it feeds.
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"}
    command = [
        str(checkov_binary()), "-f", str(template), "--framework", "cloudformation",
        "-o", "json", "--skip-download",
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, env=env, timeout=300, check=False
    )
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"checkov gave no JSON (exit {done.returncode}):\n{done.stderr[-3000:]}")
    assert isinstance(report, dict), f"expected one cloudformation report, got {len(report)}"
    return report


def assert_clean(report: dict[str, Any]) -> None:
    summary = report["summary"]
    failures = [
        f"{check['check_id']} {check['resource']}: {check['check_name']}"
        for check in report["results"].get("failed_checks", [])
    ]
    assert not failures, "checkov failed checks:\n" + "\n".join(failures)
    assert summary["failed"] == 0 and summary["parsing_errors"] == 0, summary
    # A scan that read no resources would pass vacuously.
    assert summary["resource_count"] > 0 and summary["passed"] > 0, summary


def template_skips(template: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(logical id, check id, comment) for every checkov skip in the template's metadata."""
    return [
        (name, str(skip.get("id", "")), str(skip.get("comment", "")))
        for name, body in template["Resources"].items()
        for skip in body.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]


def assert_skips_reasoned(template: dict[str, Any], report: dict[str, Any]) -> None:
    unreasoned = [
        (name, check) for name, check, comment in template_skips(template) if not comment.strip()
    ]
    assert not unreasoned, f"checkov skips without a reason: {unreasoned}"
    for check in report["results"].get("skipped_checks", []):
        assert check["check_result"].get("suppress_comment", "").strip(), check


def build(text: str, environment: str | None, directory: Path) -> tuple[Path, dict[str, Any]]:
    spec = paycompile.load_spec_text(text, "platform.yaml", environment)
    rendered = paycompile.render(paycompile.compile_spec(spec), "cfn")
    path = directory / "template.json"
    path.write_text(rendered)
    return path, json.loads(rendered)


def reference_template(environment: str | None) -> dict[str, Any]:
    spec = paycompile.load_spec(REFERENCE, environment)
    parsed: dict[str, Any] = json.loads(paycompile.render(paycompile.compile_spec(spec), "cfn"))
    return parsed


# The reference templates are judged once per run, with the other outside judges
# (tests/judging.py); checkov's verdicts on them come from there.
@pytest.mark.parametrize("label", ["dev", "prod"])
def test_reference_template_passes_checkov(judged: Judgement, label: str) -> None:
    report = judged.report(label, checkov.JUDGE)
    assert report.ran, report.note
    failures = [f"{f.check} {f.resources}: {f.title}" for f in report.failures()]
    assert not failures, "checkov failed checks:\n" + "\n".join(failures)
    assert any(finding.verdict == "pass" for finding in report.findings)
    skipped = [finding for finding in report.findings if finding.verdict == "skipped"]
    assert skipped and all(finding.waiver for finding in skipped), skipped
    template = json.loads(judged.cases[label].template.read_text())
    unreasoned = [(name, check) for name, check, why in template_skips(template) if not why.strip()]
    assert not unreasoned, f"checkov skips without a reason: {unreasoned}"


# Aurora Serverless v2 needs a maximum of at least 1 ACU (the spec refuses less), but the
# strategy can still draw 0.5; such a draw is not a valid spec, so it is no checkov case.
def _deployable(generated: GeneratedSpec) -> bool:
    return bool(generated.document["database"]["max_capacity"] >= 1)


@settings(max_examples=CHECKOV_EXAMPLES)
@given(valid_specs().filter(_deployable))
def test_generated_templates_pass_checkov(generated: GeneratedSpec) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path, template = build(generated.text, generated.environment, Path(directory))
        report = run_checkov(path)
    assert_clean(report)
    assert_skips_reasoned(template, report)


def test_security_doc_lists_every_waiver() -> None:
    in_templates = {
        check for env in (None, "prod") for _, check, _ in template_skips(reference_template(env))
    }
    in_doc = set(CHECK_ID.findall(SECURITY_DOC.read_text()))
    assert in_templates, "the reference templates carry no checkov skips at all"
    missing, stale = sorted(in_templates - in_doc), sorted(in_doc - in_templates)
    assert not missing, f"docs/security.md does not list {missing}"
    assert not stale, f"docs/security.md lists waivers no reference template carries: {stale}"
