"""cdk-nag's PCI DSS 3.2.1 pack on the reference templates (`make nag`; not in `make test`).

Every error and warning the pack reports must be a waiver of paycompile/report/waivers.py
(and of docs/security.md, which tests/test_control_tower.py holds equal to the data), and
every waiver must still be needed. The target: only errors inherent to an internet-facing
ALB; docs/security.md lists where we are.
"""

from __future__ import annotations

import pytest
from judging import Case, build_case, reference_graph

from paycompile.report import nag
from paycompile.report.compliance import build_report
from paycompile.report.judges import JudgeReport
from paycompile.report.pci import UNMAPPED, to_v40
from paycompile.report.render import render_report
from paycompile.report.waivers import cdk_nag_waivers

ENVIRONMENTS = {"dev": None, "prod": "prod"}


@pytest.fixture(scope="module")
def judged_by_nag(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Case, JudgeReport]]:
    if not nag.python().is_file():
        pytest.fail(f"cdk-nag not found at {nag.python()}: {nag.INSTALL_HINT}", pytrace=False)
    directory = tmp_path_factory.mktemp("nag")
    found = {}
    for label, environment in ENVIRONMENTS.items():
        case = build_case(label, reference_graph(environment), directory)
        found[label] = (case, nag.judge(case.template, case.lifecycle))
    return found


@pytest.mark.parametrize("label", list(ENVIRONMENTS))
def test_findings_are_exactly_the_waived_checks(
    judged_by_nag: dict[str, tuple[Case, JudgeReport]], label: str
) -> None:
    case, report = judged_by_nag[label]
    assert report.ran and report.counts()["pass"] > 10, report.counts()
    unwaived = [f"{f.check} {f.resources}: {f.title}" for f in report.failures()]
    assert not unwaived, f"cdk-nag findings without a waiver ({case.lifecycle}): {unwaived}"
    failing = {f.check for f in report.findings if f.verdict == "fail"}
    waived = {w.check for w in cdk_nag_waivers(case.lifecycle).entries}
    assert not sorted(waived - failing), f"waivers for checks that now pass: {waived - failing}"


@pytest.mark.parametrize("label", list(ENVIRONMENTS))
def test_every_requirement_the_pack_cites_maps_to_v4(
    judged_by_nag: dict[str, tuple[Case, JudgeReport]], label: str
) -> None:
    _, report = judged_by_nag[label]
    cited = {req for finding in report.findings for req in finding.pci_dss_321}
    assert cited and UNMAPPED not in to_v40(tuple(cited))


def test_report_shows_both_pci_dss_versions(
    judged_by_nag: dict[str, tuple[Case, JudgeReport]],
) -> None:
    case, report = judged_by_nag["dev"]
    page = render_report(build_report(case.graph, [report], "test"), "md")
    section = page.split("### cdk-nag PCI DSS 3.2.1 pack", 1)[1]
    for finding in report.findings:
        if finding.verdict != "fail":
            continue
        row = next(line for line in section.splitlines() if f"`{finding.check}` | waived" in line)
        assert ", ".join(finding.pci_dss_321) in row
        assert ", ".join(to_v40(finding.pci_dss_321)) in row
