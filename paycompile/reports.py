"""Text renderings for people and CI: validation issues, rule tables, graph pictures."""

from __future__ import annotations

import json
from collections import Counter

from paycompile.compiler.graph import Graph, render_json
from paycompile.compiler.rules import Rule
from paycompile.errors import SpecIssue

ISSUE_FORMATS = ("text", "json", "github", "sarif")
GRAPH_FORMATS = ("mermaid", "dot", "json")


def issues_report(issues: list[SpecIssue], output_format: str, source: str) -> str:
    if output_format == "json":
        rows = [issue.__dict__ for issue in issues]
        return json.dumps({"file": source, "valid": not issues, "issues": rows}, indent=2) + "\n"
    if output_format == "github":
        return "".join(
            f"::error file={i.file},line={i.line},col={i.column},"
            f"title={i.path or 'spec'}::{i.message}\n"
            for i in issues
        )
    if output_format == "sarif":
        return _sarif(issues)
    return "".join(f"{issue}\n" for issue in issues) if issues else f"{source}: valid\n"


def _sarif(issues: list[SpecIssue]) -> str:
    results = [
        {
            "ruleId": _rule_id(issue.message),
            "level": "error",
            "message": {"text": f"{issue.path}: {issue.message}" if issue.path else issue.message},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": issue.file},
                        "region": {"startLine": issue.line, "startColumn": issue.column},
                    }
                }
            ],
        }
        for issue in issues
    ]
    run = {
        "tool": {
            "driver": {"name": "paycompile", "informationUri": "https://example.invalid/paycompile"}
        },
        "results": results,
    }
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    }
    return json.dumps(document, indent=2) + "\n"


def _rule_id(message: str) -> str:
    marker = "(policy "
    return (
        message[message.index(marker) + len(marker) : message.index(")", message.index(marker))]
        if marker in message
        else "PAY-SPEC"
    )


def rules_table(rules: list[Rule], output_format: str) -> str:
    if output_format == "json":
        rows = [
            {
                "id": r.id,
                "statement": r.statement,
                "seed_failures": list(r.seed_failures),
                "pci_dss": list(r.pci_dss),
            }
            for r in rules
        ]
        return json.dumps(rows, indent=2) + "\n"
    lines = [f"{'ID':<12} {'SEED':<9} {'PCI DSS':<22} STATEMENT"]
    lines += [
        f"{r.id:<12} {','.join(r.seed_failures) or '-':<9} {','.join(r.pci_dss):<22} {r.statement}"
        for r in rules
    ]
    return "\n".join(lines) + "\n"


def graph_report(graph: Graph, output_format: str) -> str:
    if output_format == "json":
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
