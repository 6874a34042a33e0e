"""The outside judges' verdicts on the templates the suite judges, computed once per session.

cfn-guard evaluates its 237 Control Tower rule files against each template (about 4.5 s of
CPU per template), so each template is judged once, in one run that reads every template:
the reference platform for dev and prod, a prod template broken on purpose (the checks must
catch it), and a few generated platforms.
cfn-lint and checkov judge the reference templates, for the report. Test modules load the
`judged` fixture with `pytest_plugins = ["judges_plugin"]`, which computes this once per run,
even under `pytest -n` (tests/judges_plugin.py).

A judge that is not installed fails the suite and says how to install it; it never skips.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from strategies import GeneratedSpec, valid_specs

import paycompile
from paycompile.compiler.graph import Graph
from paycompile.report import cfn_lint, checkov, control_tower
from paycompile.report.judges import JudgeReport, Lifecycle

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
REFERENCES = {"dev": None, "prod": "prod"}  # case label -> --env
BROKEN = "prod-broken"
# Controls the broken template must fail, unwaived: what the mutation in `_broken` breaks.
BROKEN_CONTROLS = {"CT.RDS.PR.16": ("DbCluster",), "CT.ECS.PR.9": ("ApiBlueService",)}
GENERATED = min(3, settings.default.max_examples)
GROUP = pytest.mark.xdist_group("judges")


@dataclass
class Case:
    """One judged template: the graph it was rendered from and where it is on disk."""

    label: str
    graph: Graph
    template: Path
    spec_text: str = ""  # for a generated case: the spec, to reproduce a failure

    @property
    def lifecycle(self) -> Lifecycle:
        return self.graph.lifecycle


@dataclass
class Judgement:
    cases: dict[str, Case] = field(default_factory=dict)
    reports: dict[str, dict[str, JudgeReport]] = field(default_factory=dict)  # label -> judge ->

    def report(self, label: str, judge: str) -> JudgeReport:
        return self.reports[label][judge]

    def generated(self) -> list[Case]:
        return [case for label, case in self.cases.items() if label.startswith("generated")]


def require_installed() -> None:
    if not control_tower.installed():
        pytest.fail(
            f"cfn-guard or the Control Tower rules not found ({control_tower.binary()}, "
            f"{control_tower.rules_root()}): {control_tower.INSTALL_HINT}",
            pytrace=False,
        )
    if not checkov.binary().is_file():
        pytest.fail(
            f"checkov not found at {checkov.binary()}: {checkov.INSTALL_HINT}", pytrace=False
        )


def build_case(label: str, graph: Graph, directory: Path, spec_text: str = "") -> Case:
    path = directory / f"{label}.template.json"
    path.write_text(paycompile.render(graph, "cfn"), encoding="utf-8")
    return Case(label, graph, path, spec_text)


def reference_graph(environment: str | None) -> Graph:
    return paycompile.compile_spec(paycompile.load_spec(REFERENCE, environment))


def _broken(case: Case, directory: Path) -> Case:
    """The prod template with an unencrypted cluster and a task service given public IPs."""
    template: dict[str, Any] = json.loads(case.template.read_text())
    broken = copy.deepcopy(template)
    resources = broken["Resources"]
    resources["DbCluster"]["Properties"]["StorageEncrypted"] = False
    resources["DbCluster"]["Properties"].pop("KmsKeyId", None)
    network = resources["ApiBlueService"]["Properties"]["NetworkConfiguration"]
    network["AwsvpcConfiguration"]["AssignPublicIp"] = "ENABLED"
    path = directory / f"{BROKEN}.template.json"
    path.write_text(json.dumps(broken, indent=2), encoding="utf-8")
    return Case(BROKEN, case.graph, path)


def generated_specs() -> list[GeneratedSpec]:
    """A few generated specs, drawn the way the property tests draw them (same profile)."""
    drawn: list[GeneratedSpec] = []

    @settings(
        max_examples=GENERATED,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(valid_specs())
    def draw(generated: GeneratedSpec) -> None:
        drawn.append(generated)

    draw()
    return drawn[:GENERATED]


def judge_everything(directory: Path) -> Judgement:
    require_installed()
    judgement = Judgement()
    for label, environment in REFERENCES.items():
        judgement.cases[label] = build_case(label, reference_graph(environment), directory)
    judgement.cases[BROKEN] = _broken(judgement.cases["prod"], directory)
    for index, generated in enumerate(generated_specs(), start=1):
        spec = paycompile.load_spec_text(generated.text, "platform.yaml", generated.environment)
        label = f"generated-{index}"
        judgement.cases[label] = build_case(
            label, paycompile.compile_spec(spec), directory, generated.text
        )
    guard = control_tower.judge_templates(
        {case.template: case.lifecycle for case in judgement.cases.values()}
    )
    for label, case in judgement.cases.items():
        judgement.reports[label] = {control_tower.JUDGE: guard[case.template]}
    for label in REFERENCES:
        case = judgement.cases[label]
        judgement.reports[label][cfn_lint.JUDGE] = cfn_lint.judge(case.template, case.graph.region)
        judgement.reports[label][checkov.JUDGE] = checkov.judge(case.template)
    return judgement
