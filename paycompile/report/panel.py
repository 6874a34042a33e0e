"""The panel: every outside judge on every template, each tool run once.

cfn-guard parses its 237 rule files on every run, so it reads all templates in one run; the
other judges take one template at a time. A judge that is not installed reports so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from paycompile.report import cfn_lint, checkov, control_tower, nag
from paycompile.report.judges import JudgeReport, Lifecycle

# The judges in the order every report lists them.
JUDGES = (cfn_lint, control_tower, checkov, nag)


@dataclass(frozen=True)
class Judged:
    """A template to judge: where it is, and what the judges need to know about its stack."""

    template: Path
    lifecycle: Lifecycle
    region: str


def judge_all(templates: list[Judged]) -> dict[Path, list[JudgeReport]]:
    """Each template's reports, in the order of JUDGES: cfn-lint, cfn-guard, checkov, cdk-nag."""
    guard = control_tower.judge_templates({each.template: each.lifecycle for each in templates})
    return {
        each.template: [
            cfn_lint.judge(each.template, each.region),
            guard[each.template],
            checkov.judge(each.template),
            nag.judge(each.template, each.lifecycle),
        ]
        for each in templates
    }


def left_out(reason: str) -> list[JudgeReport]:
    """A report for each judge that says why it did not run."""
    return [JudgeReport(judge.JUDGE, judge.TITLE, None, note=reason) for judge in JUDGES]
