"""`validate`, `schema` and `rules`: what a spec must be, without building anything."""

from __future__ import annotations

import argparse
import sys

from paycompile import list_rules
from paycompile.cli.common import (
    Commands,
    UsageError,
    env_arguments,
    load_path,
    paused_collection,
    spec_file_problem,
)
from paycompile.errors import SpecError, SpecIssue
from paycompile.reports import ISSUE_FORMATS, FileReport, issues_report, rules_table


def register(commands: Commands) -> None:
    validate = commands.add_parser("validate", help="schema and policy checks only")
    validate.add_argument("spec", nargs="+", help="path to platform.yaml (several for hooks)")
    env_arguments(validate)
    validate.add_argument("--format", choices=ISSUE_FORMATS, default="text")
    validate.set_defaults(handler=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of the spec")
    schema.set_defaults(handler=_schema)

    rules = commands.add_parser("rules", help="list the invariants")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(handler=_rules)


def _validate(args: argparse.Namespace) -> int:
    """Validate each spec; a missing file or a directory still gets a machine-readable report
    (a CI step that uploads SARIF needs a file to upload), then exits 2 as a usage error."""
    with paused_collection():
        reports = [_check(spec, args) for spec in args.spec]
    sys.stdout.write(issues_report(reports, args.format))
    problems = [report.problem for report in reports if report.problem]
    if problems:
        raise UsageError("; ".join(problems))
    return 1 if any(report.issues for report in reports) else 0


def _check(spec: str, args: argparse.Namespace) -> FileReport:
    problem = spec_file_problem(spec)
    if problem:
        return FileReport(spec, problem=problem)
    issues: list[SpecIssue] = []
    try:
        load_path(spec, args)
    except SpecError as exc:
        issues = exc.issues
    return FileReport(spec, issues)


def _schema(args: argparse.Namespace) -> int:
    from paycompile.spec.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def _rules(args: argparse.Namespace) -> int:
    sys.stdout.write(rules_table(list_rules(), args.format))
    return 0
