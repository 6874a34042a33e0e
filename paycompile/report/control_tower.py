"""AWS Control Tower's proactive controls, run by cfn-guard on our templates.

The npm package `@cdklabs/cdk-validator-cfnguard` ships the controls Control Tower enforces as
CloudFormation hooks (one `.guard` file per control under `cfn-guard/<service>/`, its metadata
under `metadata/<service>/`) and the cfn-guard binary; `make judges` unpacks it into
`.tools/cfn-guard`. One cfn-guard run reads every template given, with `--structured` JSON
output; it costs about 4.5 s of CPU per template (every control file is evaluated against
each template), so callers judge each template once and share the result.

Each control file defines its main rule twice, once for templates and once for hooks; on a
template the hook variant is always skipped. So a control fails when its rule is in
`not_compliant`, passes when it is in `compliant`, and is otherwise not applicable.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from paycompile.errors import BackendError
from paycompile.report.judges import (
    Finding,
    JudgeReport,
    Lifecycle,
    Verdict,
    not_installed,
    run_tool,
    tool_path,
)
from paycompile.report.waivers import control_tower_waivers

JUDGE = "cfn-guard"
TITLE = "AWS Control Tower proactive controls (cfn-guard)"
INSTALL_HINT = "run `make judges` (or set PAYCOMPILE_CFN_GUARD and PAYCOMPILE_CONTROL_TOWER_RULES)"
STANDARD = "PCI DSS 3.2.1"
PACKAGE = "@cdklabs/cdk-validator-cfnguard"
# cfn-guard exits 19 when a rule fails; 0 when none does.
_EXIT_CODES = (0, 19)
_TEMPLATE_RULE = re.compile(r"^rule\s+(\w+)\s+when\s+is_cfn_template\b", re.MULTILINE)
_RESOURCE_PATH = re.compile(r"^/Resources/([^/]+)")


@dataclass(frozen=True)
class Control:
    """One proactive control: its id (CT.S3.PR.2), the rule that implements it, its metadata."""

    id: str
    rule: str
    title: str
    severity: str
    fix: str
    pci_dss_321: tuple[str, ...]


def binary() -> Path:
    return tool_path("PAYCOMPILE_CFN_GUARD", "cfn-guard", "bin", "cfn-guard")


def rules_root() -> Path:
    """The directory holding `cfn-guard/` (the rules) and `metadata/` (their metadata)."""
    return tool_path(
        "PAYCOMPILE_CONTROL_TOWER_RULES", "cfn-guard", "package", "rules", "control-tower"
    )


def installed() -> bool:
    return binary().is_file() and (rules_root() / "cfn-guard").is_dir()


def controls(root: Path) -> dict[str, Control]:
    """Every control under `root`, keyed by the name of its rule."""
    found: dict[str, Control] = {}
    for guard in sorted((root / "cfn-guard").glob("*/*.guard")):
        match = _TEMPLATE_RULE.search(guard.read_text(encoding="utf-8"))
        metadata_file = root / "metadata" / guard.parent.name / f"{guard.stem}.metadata.json"
        if match is None or not metadata_file.is_file():
            raise BackendError(f"cannot read the Control Tower control {guard.name}")
        found[match.group(1)] = _control(match.group(1), json.loads(metadata_file.read_text()))
    return found


def _control(rule: str, metadata: dict[str, Any]) -> Control:
    pci = [
        mapping.get("Ids", [])
        for mapping in metadata.get("ComplianceFrameworkMappings", [])
        if mapping.get("ComplianceFramework") == "PCI DSS version 3.2.1"
    ]
    return Control(
        id=str(metadata["Id"]),
        rule=rule,
        title=str(metadata.get("DisplayName", "")),
        severity=str(metadata.get("Severity", "")),
        fix=str(metadata.get("RemediationMessage", "")),
        pci_dss_321=tuple(sorted({str(each) for ids in pci for each in ids}, key=_numeric)),
    )


def _numeric(requirement: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", requirement))


def versions() -> tuple[str, str]:
    """(cfn-guard's version, the rules package's version)."""
    said = run_tool([str(binary()), "--version"], (0,), timeout=60).split()
    package = rules_root().parents[1] / "package.json"
    rules = json.loads(package.read_text()).get("version", "?") if package.is_file() else "?"
    return (said[-1] if said else "?"), str(rules)


def judge_templates(templates: dict[Path, Lifecycle]) -> dict[Path, JudgeReport]:
    """One cfn-guard run over every template; its report for each (not installed: says so)."""
    if not installed():
        return {path: not_installed(JUDGE, TITLE, INSTALL_HINT) for path in templates}
    known = controls(rules_root())
    guard_version, rules_version = versions()
    command = [str(binary()), "validate", "--rules", str(rules_root() / "cfn-guard")]
    for path in templates:
        command += ["--data", str(path)]
    command += ["--structured", "--show-summary", "none", "--output-format", "json"]
    results = _by_template(json.loads(run_tool(command, _EXIT_CODES, timeout=900)), templates)
    note = f"{len(known)} controls of {PACKAGE} {rules_version}"
    return {
        path: JudgeReport(
            JUDGE,
            TITLE,
            guard_version,
            findings=tuple(findings(results[path], known, lifecycle)),
            waivers=control_tower_waivers(lifecycle).entries,
            note=note,
            standard=STANDARD,
        )
        for path, lifecycle in templates.items()
    }


def judge(template: Path, lifecycle: Lifecycle) -> JudgeReport:
    return judge_templates({template: lifecycle})[template]


def _by_template(output: Any, templates: dict[Path, Lifecycle]) -> dict[Path, dict[str, Any]]:
    """cfn-guard's result for each template it was given (it names them by their path)."""
    results = {str(entry.get("name")): entry for entry in output if isinstance(entry, dict)}
    missing = [str(path) for path in templates if str(path) not in results]
    if missing:
        raise BackendError(f"cfn-guard reported nothing on {', '.join(missing)}")
    return {path: results[str(path)] for path in templates}


def findings(
    result: dict[str, Any], known: dict[str, Control], lifecycle: Lifecycle
) -> list[Finding]:
    """One finding per control, in control id order, from cfn-guard's structured result."""
    failed = {_rule_name(entry): _resources(entry) for entry in result.get("not_compliant", [])}
    passed = {str(name) for name in result.get("compliant", [])}
    unknown = sorted((set(failed) | passed) - set(known))
    if unknown:
        raise BackendError(f"cfn-guard reported rules no control defines: {', '.join(unknown)}")
    waivers = control_tower_waivers(lifecycle)
    found = []
    for rule, control in known.items():
        verdict: Verdict = (
            "fail" if rule in failed else "pass" if rule in passed else "not_applicable"
        )
        resources = failed.get(rule, ())
        found.append(
            Finding(
                check=control.id,
                title=control.title,
                verdict=verdict,
                resources=resources,
                detail=control.fix if verdict == "fail" else "",
                waiver=waivers.reason(control.id, resources) if verdict == "fail" else None,
                pci_dss_321=control.pci_dss_321,
            )
        )
    return sorted(found, key=lambda finding: _control_key(finding.check))


def _control_key(control: str) -> tuple[str, int]:
    """CT.S3.PR.2 before CT.S3.PR.10."""
    head, _, number = control.rpartition(".")
    return head, int(number) if number.isdigit() else 0


def _rule_name(entry: Any) -> str:
    return str(entry.get("Rule", {}).get("name", "")) if isinstance(entry, dict) else ""


def _resources(entry: Any) -> tuple[str, ...]:
    """The logical ids of every resource a failed rule's clauses point at."""
    found: set[str] = set()
    stack = [entry]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            path = item.get("path")
            if isinstance(path, str) and (match := _RESOURCE_PATH.match(path)):
                found.add(match.group(1))
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return tuple(sorted(found))
