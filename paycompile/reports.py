"""Text renderings for people and CI: validation issues, rule tables, graph pictures.

Validation reports come in four formats: text (`file:line:col: key.path: message`, the form
editors and problem matchers parse), json, GitHub workflow commands (annotations) and SARIF
2.1.0 (code scanning). The SARIF rules and their help come from the rule registry.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from paycompile.errors import SpecIssue
from paycompile.spec.policy import SPEC_POLICIES

if TYPE_CHECKING:  # `validate` renders issues without loading the compiler and its rules
    from paycompile.compiler.graph import Graph
    from paycompile.compiler.rules import Rule

ISSUE_FORMATS = ("text", "json", "github", "sarif")
GRAPH_FORMATS = ("mermaid", "dot", "json")

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# SARIF base id of relative artifact URIs: the directory paycompile ran in (the repository root
# in CI), which GitHub code scanning resolves against the checkout.
SOURCE_ROOT = "%SRCROOT%"
# Issues that cite no policy rule: the spec's form (keys, types, values), and the file itself.
SPEC_RULE = "PAY-SPEC"
FILE_RULE = "PAY-FILE"
_SPEC_RULES = {
    SPEC_RULE: (
        "The spec is a well-formed platform.yaml (version 1): known keys, the right types, "
        "valid values.",
        "Fix the key or value the message names; `paycompile schema` gives editors the full "
        "format, and docs/spec.md describes every key.",
    ),
    FILE_RULE: (
        "The spec file exists and is a readable file.",
        "Check the path given to `paycompile validate` (a file, not a directory).",
    ),
}
_POLICY_ID = re.compile(r"\(policy (PAY-[A-Z]+-\d+)\)")


@dataclass(frozen=True)
class FileReport:
    """The outcome of validating one spec file: its issues, or why it could not be read."""

    source: str
    issues: list[SpecIssue] = field(default_factory=list)
    problem: str | None = None  # missing, a directory: nothing could be validated


def issues_report(reports: list[FileReport], output_format: str) -> str:
    if output_format == "json":
        rows = [_json_report(report) for report in reports]
        return json.dumps(rows[0] if len(rows) == 1 else rows, indent=2) + "\n"
    if output_format == "github":
        return "".join(_annotations(report) for report in reports)
    if output_format == "sarif":
        return sarif_log(reports)
    return "".join(_text_report(report) for report in reports)


def _text_report(report: FileReport) -> str:
    if report.problem:
        return ""  # said on stderr, as a usage error
    if report.issues:
        return "".join(f"{issue}\n" for issue in report.issues)
    return f"{report.source}: valid\n"


def _json_report(report: FileReport) -> dict[str, Any]:
    row: dict[str, Any] = {
        "file": report.source,
        "valid": not (report.issues or report.problem),
        "issues": [issue.__dict__ for issue in report.issues],
    }
    if report.problem:
        row["error"] = report.problem
    return row


# ---------------------------------------------------------------- GitHub annotations


def escape_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (`%`, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value: as a message, plus `:` and `,`."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def _annotations(report: FileReport) -> str:
    file = escape_property(_repository_path(report.source))
    if report.problem:
        return f"::error file={file},title=paycompile::{escape_data(report.problem)}\n"
    return "".join(
        f"::error file={file},line={issue.line},col={issue.column},"
        f"title={escape_property(issue.path or 'spec')} ({rule_id_of(issue)})"
        f"::{escape_data(issue.message)}\n"
        for issue in report.issues
    )


def _repository_path(source: str) -> str:
    """`source` relative to the working directory (the repository root in CI), with `/`."""
    relative = _relative(source)
    return relative if relative is not None else Path(source).resolve().as_posix()


def _relative(source: str) -> str | None:
    """`source` as a `/`-separated path below the working directory, or None if outside it."""
    absolute = Path(os.path.abspath(source))
    try:
        return absolute.relative_to(Path.cwd()).as_posix()
    except ValueError:
        return None


# ---------------------------------------------------------------- SARIF 2.1.0


def rule_id_of(issue: SpecIssue) -> str:
    """The policy rule an issue cites (`... (policy PAY-NET-001)`), else the spec-form rule."""
    found = _POLICY_ID.search(issue.message)
    return found.group(1) if found else SPEC_RULE


def sarif_log(reports: list[FileReport]) -> str:
    """A SARIF 2.1.0 log of one run: every rule paycompile knows, and a result per issue."""
    cited = [rule_id_of(issue) for report in reports for issue in report.issues]
    descriptors = _rule_descriptors(cited)
    index = {descriptor["id"]: position for position, descriptor in enumerate(descriptors)}
    results = [result for report in reports for result in _sarif_results(report, index)]
    driver = {
        "name": "paycompile",
        "version": _version(),
        "semanticVersion": _version(),
        "rules": descriptors,
    }
    run = {"tool": {"driver": driver}, "columnKind": "unicodeCodePoints", "results": results}
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"


def _version() -> str:
    from paycompile import __version__  # the package imports this module: import when used

    return __version__


def _sarif_results(report: FileReport, index: dict[str, int]) -> list[dict[str, Any]]:
    if report.problem:
        location = {"physicalLocation": {"artifactLocation": _artifact(report.source)}}
        return [_result(FILE_RULE, index, report.problem, location)]
    return [
        _result(
            rule_id_of(issue),
            index,
            f"{issue.path}: {issue.message}" if issue.path else issue.message,
            {
                "physicalLocation": {
                    "artifactLocation": _artifact(issue.file),
                    "region": {"startLine": issue.line, "startColumn": issue.column},
                }
            },
        )
        for issue in report.issues
    ]


def _result(
    rule_id: str, index: dict[str, int], message: str, location: dict[str, Any]
) -> dict[str, Any]:
    return {
        "ruleId": rule_id,
        "ruleIndex": index[rule_id],
        "level": "error",
        "message": {"text": message},
        "locations": [location],
    }


def _artifact(source: str) -> dict[str, str]:
    """A relative URI against SOURCE_ROOT, or an absolute file URI for a file outside it."""
    relative = _relative(source)
    if relative is None:
        return {"uri": Path(source).resolve().as_uri()}
    return {"uri": quote(relative, safe="/"), "uriBaseId": SOURCE_ROOT}


def _rule_descriptors(cited: list[str]) -> list[dict[str, Any]]:
    """Every registered rule, the spec-form and file rules, then any other policy id cited."""
    from paycompile.compiler.rules import RULES

    descriptors = [_registered_rule(rule) for rule in RULES.values()]
    descriptors += [_spec_policy(rule_id, *texts) for rule_id, texts in SPEC_POLICIES.items()]
    descriptors += [_spec_rule(rule_id, *texts) for rule_id, texts in _SPEC_RULES.items()]
    known = {descriptor["id"] for descriptor in descriptors}
    descriptors += [_policy_rule(rule_id) for rule_id in sorted(set(cited) - known)]
    return descriptors


def _registered_rule(rule: Rule) -> dict[str, Any]:
    pci = ", ".join(rule.pci_dss)
    failures = ", ".join(rule.seed_failures)
    prevents = f" It prevents failure {failures} (docs/failures.md)." if failures else ""
    text = (
        f"{rule.statement} PCI DSS v4.0 requirement {pci}.{prevents} "
        "Every platform paycompile compiles satisfies it; a spec that would break it is "
        "refused. `paycompile rules` lists all rules; docs/rules.md explains them."
    )
    markdown = (
        f"{rule.statement}\n\n**PCI DSS v4.0:** {pci}"
        + (f"\n\n**Prevents:** {failures} (see `docs/failures.md`)" if failures else "")
        + "\n\nSee `paycompile rules` and `docs/rules.md`."
    )
    return {
        "id": rule.id,
        "name": _rule_name(rule.id),
        "shortDescription": {"text": rule.statement},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": markdown},
        "defaultConfiguration": {"level": "error"},
        "properties": {
            "tags": ["security", "compliance", *(f"PCI-DSS-4.0/{req}" for req in rule.pci_dss)],
            "pci-dss-4.0": list(rule.pci_dss),
            "failures": list(rule.seed_failures),
        },
    }


def _spec_policy(rule_id: str, statement: str, pci: tuple[str, ...]) -> dict[str, Any]:
    """A policy `paycompile validate` checks on the spec itself (the graph does not keep it)."""
    advice = f"PCI DSS v4.0 requirement {', '.join(pci)}. docs/rules.md explains it."
    return _spec_rule(rule_id, statement, advice) | {
        "properties": {
            "tags": ["security", "compliance", *(f"PCI-DSS-4.0/{req}" for req in pci)],
            "pci-dss-4.0": list(pci),
        }
    }


def _spec_rule(rule_id: str, statement: str, advice: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": _rule_name(rule_id),
        "shortDescription": {"text": statement},
        "fullDescription": {"text": f"{statement} {advice}"},
        "help": {"text": f"{statement} {advice}", "markdown": f"{statement}\n\n{advice}"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"tags": ["correctness"]},
    }


def _policy_rule(rule_id: str) -> dict[str, Any]:
    """A policy id a spec message cites that the invariant registry does not hold."""
    statement = f"The organisation's policy rule {rule_id}, enforced when the spec is validated."
    advice = "The message names the key and the allowed values; docs/spec.md lists the policy."
    return _spec_rule(rule_id, statement, advice) | {"properties": {"tags": ["security"]}}


def _rule_name(rule_id: str) -> str:
    """A SARIF rule name (an identifier): PAY-NET-001 -> PayNet001."""
    return "".join(part.capitalize() for part in rule_id.split("-"))


def rules_table(rules: list[Rule], output_format: str) -> str:
    """The graph's invariants, then the policies only the spec can check (docs/rules.md)."""
    rows = [(r.id, list(r.seed_failures), list(r.pci_dss), r.statement) for r in rules]
    rows += [(rule_id, [], list(pci), text) for rule_id, (text, pci) in SPEC_POLICIES.items()]
    if output_format == "json":
        keys = ("id", "seed_failures", "pci_dss", "statement")
        return json.dumps([dict(zip(keys, row, strict=True)) for row in rows], indent=2) + "\n"
    lines = [f"{'ID':<12} {'FAILURES':<9} {'PCI DSS':<22} STATEMENT"]
    lines += [
        f"{rule_id:<12} {','.join(failures) or '-':<9} {','.join(pci):<22} {statement}"
        for rule_id, failures, pci, statement in rows
    ]
    return "\n".join(lines) + "\n"


def graph_report(graph: Graph, output_format: str) -> str:
    if output_format == "json":
        from paycompile.compiler.graph import render_json

        return render_json(graph)
    if output_format == "dot":
        lines = ["digraph paycompile {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
        lines += [
            f'  "{node.logical_id}" [label="{node.logical_id}\\n{node.kind}"];' for node in graph
        ]
        lines += [
            f'  "{source}" -> "{target}" [label="{attribute}"];'
            for source, target, attribute in graph.edges()
        ]
        return "\n".join([*lines, "}"]) + "\n"
    lines = ["flowchart LR"]
    lines += [f'  {node.logical_id}["{node.logical_id}<br/>{node.kind}"]' for node in graph]
    lines += [
        f"  {source} -->|{attribute}| {target}" for source, target, attribute in graph.edges()
    ]
    return "\n".join(lines) + "\n"


def build_summary(graph: Graph, rules: list[Rule], backend: str, destination: str) -> str:
    counts = Counter(str(node.kind) for node in graph)
    kinds = ", ".join(f"{kind} {count}" for kind, count in sorted(counts.items()))
    return (
        f"paycompile: {graph.platform}-{graph.environment} ({graph.lifecycle}, {graph.region})"
        f" -> {destination} [{backend}]\n"
        f"  {len(graph.nodes)} graph resources: {kinds}\n"
        f"  {len(rules)} rules passed: {', '.join(rule.id for rule in rules)}\n"
    )
