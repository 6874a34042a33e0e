"""The compliance report as data: rule -> PCI DSS requirements -> resources -> evidence, and
what the outside judges say about the same template.

`build_report` reads the compiled graph (the rules' own verdicts, the evidence registry) and
takes the judges' reports as they are; `to_json` is the machine-readable form the HTML and
Markdown renderings are made from. Nothing here depends on time or on where files were
written, so the same inputs and tool versions give the same report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paycompile.compiler.graph import Graph
from paycompile.compiler.rules import RULES, run_rules
from paycompile.report import evidence
from paycompile.report.judges import Finding, JudgeReport
from paycompile.report.pci import to_v40
from paycompile.report.values import describe, plain

FORMAT_VERSION = 1
# Rules whose evidence is every resource: linking judges' findings to them says nothing.
_EVERYWHERE = ("PAY-GOV-001", "PAY-GOV-004")


@dataclass(frozen=True)
class Mention:
    """A judge's failure or waiver on a resource that carries the rule."""

    judge: str
    finding: Finding


@dataclass(frozen=True)
class RuleSection:
    id: str
    statement: str
    pci_dss: tuple[str, ...]
    seed_failures: tuple[str, ...]
    violations: tuple[str, ...]
    evidence: tuple[evidence.EvidenceGroup, ...]
    mentions: tuple[Mention, ...]

    @property
    def holds(self) -> bool:
        return not self.violations


@dataclass(frozen=True)
class ComplianceReport:
    platform: str
    environment: str
    region: str
    lifecycle: str
    paycompile_version: str
    generated: str | None  # a date only when one is given (SOURCE_DATE_EPOCH)
    rules: tuple[RuleSection, ...]
    judges: tuple[JudgeReport, ...]


def build_report(
    graph: Graph, judges: list[JudgeReport], version: str, generated: str | None = None
) -> ComplianceReport:
    outcomes = run_rules(graph)
    sections = []
    for rule_id, rule in RULES.items():
        groups = tuple(evidence.groups(graph, rule_id))
        sections.append(
            RuleSection(
                id=rule_id,
                statement=rule.statement,
                pci_dss=rule.pci_dss,
                seed_failures=rule.seed_failures,
                violations=tuple(outcomes.get(rule_id, [])),
                evidence=groups,
                mentions=() if rule_id in _EVERYWHERE else _mentions(groups, judges),
            )
        )
    return ComplianceReport(
        platform=graph.platform,
        environment=graph.environment,
        region=graph.region,
        lifecycle=graph.lifecycle,
        paycompile_version=version,
        generated=generated,
        rules=tuple(sections),
        judges=tuple(judges),
    )


def _mentions(
    groups: tuple[evidence.EvidenceGroup, ...], judges: list[JudgeReport]
) -> tuple[Mention, ...]:
    resources = {row.resource for group in groups for row in group.rows}
    return tuple(
        Mention(judge.judge, finding)
        for judge in judges
        for finding in judge.findings
        if finding.status in ("fail", "waived", "skipped") and resources & set(finding.resources)
    )


def to_json(report: ComplianceReport, as_text: bool = False) -> dict[str, Any]:
    """The report as data; `as_text` gives evidence values as the text people read (the HTML
    and Markdown renderings) instead of structured values (the JSON report)."""
    value = describe if as_text else plain
    return {
        "format": FORMAT_VERSION,
        "platform": report.platform,
        "environment": report.environment,
        "region": report.region,
        "lifecycle": report.lifecycle,
        "paycompile": report.paycompile_version,
        "generated": report.generated,
        "summary": summary(report),
        "rules": [_rule_json(section, value) for section in report.rules],
        "judges": [_judge_json(judge) for judge in report.judges],
    }


def summary(report: ComplianceReport) -> dict[str, Any]:
    return {
        "rules": len(report.rules),
        "rules_holding": sum(1 for section in report.rules if section.holds),
        "judges": {
            judge.judge: (judge.counts() if judge.ran else "not run") for judge in report.judges
        },
    }


def _rule_json(section: RuleSection, value: Callable[[Any], Any]) -> dict[str, Any]:
    return {
        "id": section.id,
        "statement": section.statement,
        "pci_dss_v4": list(section.pci_dss),
        "failures_prevented": list(section.seed_failures),
        "holds": section.holds,
        "violations": list(section.violations),
        "resources": len({row.resource for group in section.evidence for row in group.rows}),
        "evidence": [
            {
                "properties": list(group.columns),
                "resources": [
                    {
                        "resource": row.resource,
                        "kind": row.kind,
                        "name": row.name,
                        "values": [value(item) for item in row.values],
                    }
                    for row in group.rows
                ],
            }
            for group in section.evidence
        ],
        "judges": [
            {
                "judge": mention.judge,
                "check": mention.finding.check,
                "status": mention.finding.status,
            }
            for mention in section.mentions
        ],
    }


def _judge_json(judge: JudgeReport) -> dict[str, Any]:
    return {
        "judge": judge.judge,
        "title": judge.title,
        "ran": judge.ran,
        "version": judge.version,
        "note": judge.note,
        "counts": judge.counts() if judge.ran else None,
        "waivers": [
            {"check": waiver.check, "resources": list(waiver.resources), "reason": waiver.reason}
            for waiver in judge.waivers
        ],
        "findings": [_finding_json(finding, judge.standard) for finding in judge.findings],
    }


def _finding_json(finding: Finding, standard: str) -> dict[str, Any]:
    found: dict[str, Any] = {
        "check": finding.check,
        "title": finding.title,
        "status": finding.status,
        "verdict": finding.verdict,
        "resources": list(finding.resources),
        "detail": finding.detail,
        "waiver": finding.waiver,
    }
    if standard:
        found["pci_dss_321"] = list(finding.pci_dss_321)
        found["pci_dss_v4"] = list(to_v40(finding.pci_dss_321))
    return found
