"""AWS Control Tower's proactive controls (cfn-guard) on the templates paycompile writes.

The full verdict list (all 237 controls: pass, fail, not applicable) of the reference templates
is committed under tests/judges/; a change in what we emit that flips a verdict shows in the
diff. Every failure must be waived with a reason, in the waiver data and in docs/security.md,
and every waiver must still be needed (both directions). The judges run once per session
(tests/judging.py).
"""

from __future__ import annotations

import difflib
import json
import os
import re
from pathlib import Path

import pytest
from judging import BROKEN, BROKEN_CONTROLS, GROUP, REFERENCES, Judgement

from paycompile.errors import BackendError
from paycompile.report import control_tower
from paycompile.report.judges import JudgeReport
from paycompile.report.waivers import (
    CDK_NAG,
    CONTROL_TOWER,
    KnownFailure,
    control_tower_waivers,
)

# The session fixture `judged`: one judgement shared by every module that asks for it.
pytest_plugins = ["judges_plugin"]

ROOT = Path(__file__).resolve().parent.parent
VERDICTS = Path(__file__).resolve().parent / "judges"
SECURITY_DOC = ROOT / "docs" / "security.md"
CONTROL_TOWER_SECTION = "## AWS Control Tower proactive controls"
CDK_NAG_SECTION = "## cdk-nag PCI DSS 3.2.1 pack"
UPDATE_HINT = (
    "review the diff; if the change is intended, rewrite the verdicts with\n"
    "  PAYCOMPILE_UPDATE_VERDICTS=1 .venv/bin/python -m pytest tests/test_control_tower.py "
    "-k verdicts\nand update the waivers (paycompile/report/waivers.py, docs/security.md)"
)
WHEN = {("ephemeral", "retained"): "always", ("ephemeral",): "ephemeral", ("retained",): "retained"}

pytestmark = GROUP


def verdict_document(report: JudgeReport, label: str) -> dict[str, object]:
    guard, rules = control_tower.versions()
    controls = {
        finding.check: " ".join([finding.verdict, ", ".join(finding.resources)]).strip()
        for finding in report.findings
    }
    tally: dict[str, int] = {}
    for finding in report.findings:
        tally[finding.verdict] = tally.get(finding.verdict, 0) + 1
    return {
        "template": f"examples/platform.yaml --env {label}",
        "cfn-guard": guard,
        "rules": f"{control_tower.PACKAGE} {rules}",
        "counts": dict(sorted(tally.items())),
        "controls": controls,
    }


@pytest.mark.parametrize("label", list(REFERENCES))
def test_reference_verdicts_match_the_committed_list(judged: Judgement, label: str) -> None:
    report = judged.report(label, control_tower.JUDGE)
    found = verdict_document(report, label)
    path = VERDICTS / f"control-tower.{label}.json"
    text = json.dumps(found, indent=2) + "\n"
    if os.environ.get("PAYCOMPILE_UPDATE_VERDICTS"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    committed = path.read_text()
    diff = "".join(
        difflib.unified_diff(committed.splitlines(True), text.splitlines(True), str(path), "now")
    )
    assert text == committed, f"Control Tower verdicts changed:\n{diff}\n{UPDATE_HINT}"


@pytest.mark.parametrize("label", list(REFERENCES))
def test_every_control_has_a_verdict(judged: Judgement, label: str) -> None:
    report = judged.report(label, control_tower.JUDGE)
    rule_files = sorted((control_tower.rules_root() / "cfn-guard").glob("*/*.guard"))
    assert len(rule_files) == 237
    assert len({finding.check for finding in report.findings}) == len(rule_files)
    counts = report.counts()
    # The platform is in scope of dozens of controls: a run that judged nothing would pass.
    assert counts["pass"] >= 40 and counts["not_applicable"] < len(rule_files), counts


@pytest.mark.parametrize("label", list(REFERENCES))
def test_failures_are_exactly_the_waived_controls(judged: Judgement, label: str) -> None:
    case = judged.cases[label]
    report = judged.report(label, control_tower.JUDGE)
    failing = {f.check for f in report.findings if f.verdict == "fail"}
    waived = {w.check for w in control_tower_waivers(case.lifecycle).entries}
    unwaived = [f"{f.check} {f.resources}: {f.title}" for f in report.failures()]
    assert not unwaived, f"controls failing without a waiver ({case.lifecycle}): {unwaived}"
    stale = sorted(waived - failing)
    assert not stale, f"waivers for controls that now pass ({case.lifecycle}): drop {stale}"
    assert failing == waived


def test_generated_platforms_fail_only_waived_controls(judged: Judgement) -> None:
    cases = judged.generated()
    assert cases, "no generated platform was judged"
    for case in cases:
        report = judged.report(case.label, control_tower.JUDGE)
        unwaived = [f"{f.check} {f.resources}" for f in report.failures()]
        assert not unwaived, f"{case.label} ({case.lifecycle}) fails {unwaived}:\n{case.spec_text}"
        assert report.counts()["pass"] >= 30, report.counts()


def test_a_broken_template_fails_the_controls_it_breaks(judged: Judgement) -> None:
    report = judged.report(BROKEN, control_tower.JUDGE)
    failures = {finding.check: finding.resources for finding in report.failures()}
    assert failures == BROKEN_CONTROLS
    waived = {f.check for f in report.findings if f.status == "waived"}
    assert waived == {w.check for w in control_tower_waivers("retained").entries}


def _doc_rows(heading: str, check: str) -> dict[tuple[str, str], str]:
    """(check, when) -> `standing: reason` for every waiver row of a docs/security.md section."""
    text = SECURITY_DOC.read_text()
    assert heading in text, f"docs/security.md has no section {heading!r}"
    section = text.split(heading, 1)[1].split("\n## ", 1)[0]
    rows: dict[tuple[str, str], str] = {}
    for name, rest in re.findall(rf"^\| `?({check})`? \|(.*)\|\s*$", section, re.MULTILINE):
        cells = [cell.strip() for cell in rest.split("|")]
        assert len(cells) == 4, f"docs/security.md row for {name}: want 5 cells, got {cells}"
        _resources, when, standing, reason = cells
        rows[(name, when)] = f"{standing}: {reason}".replace("`", "")
    return rows


def _data_rows(known: tuple[KnownFailure, ...]) -> dict[tuple[str, str], str]:
    return {(each.check, WHEN[each.lifecycles]): each.waiver().reason for each in known}


@pytest.mark.parametrize(
    ("heading", "check", "known"),
    [
        (CONTROL_TOWER_SECTION, r"CT\.[A-Z0-9]+\.PR\.\d+", CONTROL_TOWER),
        (CDK_NAG_SECTION, r"PCI\.DSS\.321-[A-Za-z0-9]+", CDK_NAG),
    ],
    ids=["control-tower", "cdk-nag"],
)
def test_security_doc_lists_every_waiver_with_its_reason(
    heading: str, check: str, known: tuple[KnownFailure, ...]
) -> None:
    in_doc, in_data = _doc_rows(heading, check), _data_rows(known)
    missing = sorted(set(in_data) - set(in_doc))
    stale = sorted(set(in_doc) - set(in_data))
    assert not missing, f"docs/security.md does not list the waivers {missing}"
    assert not stale, f"docs/security.md lists waivers that are not in waivers.py: {stale}"
    differ = [key for key in in_data if in_doc[key] != in_data[key]]
    assert not differ, f"reasons differ between docs/security.md and waivers.py for {differ}"


# ---------------------------------------------------------------- reading cfn-guard's output

KNOWN = {
    "s3_check": control_tower.Control(
        "CT.S3.PR.2", "s3_check", "S3", "MEDIUM", "fix it", ("10.1",)
    ),
    "rds_check": control_tower.Control("CT.RDS.PR.3", "rds_check", "RDS", "LOW", "", ()),
    "ecs_check": control_tower.Control("CT.ECS.PR.9", "ecs_check", "ECS", "LOW", "", ()),
}


def _failed(rule: str, *paths: str) -> dict[str, object]:
    clauses = [
        {"Clause": {"Binary": {"check": {"Resolved": {"from": {"path": p}}}}}} for p in paths
    ]
    return {"Rule": {"name": rule, "checks": [{"Rule": {"name": "check", "checks": clauses}}]}}


def test_verdicts_read_from_structured_output() -> None:
    result = {
        "not_compliant": [
            _failed("rds_check", "/Resources/DbCluster/Properties/X", "/Resources/B")
        ],
        "compliant": ["s3_check"],
        # Each control's hook variant is always skipped on a template: not a verdict.
        "not_applicable": ["s3_check", "rds_check", "ecs_check"],
    }
    found = {f.check: f for f in control_tower.findings(result, KNOWN, "retained")}
    assert {check: f.verdict for check, f in found.items()} == {
        "CT.S3.PR.2": "pass",
        "CT.RDS.PR.3": "fail",
        "CT.ECS.PR.9": "not_applicable",
    }
    assert found["CT.RDS.PR.3"].resources == ("B", "DbCluster")
    # CT.RDS.PR.3 is waived only when ephemeral.
    assert found["CT.RDS.PR.3"].status == "fail"
    ephemeral = {f.check: f for f in control_tower.findings(result, KNOWN, "ephemeral")}
    assert ephemeral["CT.RDS.PR.3"].status == "fail"  # the waiver names DbCluster only
    only_cluster = {**result, "not_compliant": [_failed("rds_check", "/Resources/DbCluster/P")]}
    ephemeral = {f.check: f for f in control_tower.findings(only_cluster, KNOWN, "ephemeral")}
    assert ephemeral["CT.RDS.PR.3"].status == "waived"


def test_a_rule_no_control_defines_is_an_error() -> None:
    with pytest.raises(BackendError, match="no control defines: mystery_check"):
        control_tower.findings({"compliant": ["mystery_check"]}, KNOWN, "retained")
