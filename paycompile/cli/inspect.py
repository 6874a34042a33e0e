"""`validate`, `schema` and `rules`: what a spec must be, without building anything."""

from __future__ import annotations

import argparse
import sys

from paycompile import list_rules
from paycompile.cli.common import Commands, load, spec_arguments
from paycompile.errors import SpecError
from paycompile.reports import ISSUE_FORMATS, issues_report, rules_table


def register(commands: Commands) -> None:
    validate = commands.add_parser("validate", help="schema and policy checks only")
    spec_arguments(validate)
    validate.add_argument("--format", choices=ISSUE_FORMATS, default="text")
    validate.set_defaults(handler=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of the spec")
    schema.set_defaults(handler=_schema)

    rules = commands.add_parser("rules", help="list the invariants")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(handler=_rules)


def _validate(args: argparse.Namespace) -> int:
    try:
        load(args)
    except SpecError as exc:
        sys.stdout.write(issues_report(exc.issues, args.format, args.spec))
        return 1
    sys.stdout.write(issues_report([], args.format, args.spec))
    return 0


def _schema(args: argparse.Namespace) -> int:
    from paycompile.spec.schema import schema_text

    sys.stdout.write(schema_text())
    return 0


def _rules(args: argparse.Namespace) -> int:
    sys.stdout.write(rules_table(list_rules(), args.format))
    return 0
