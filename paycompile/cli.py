"""The `paycompile` command: a thin layer over the library API.

Exit codes: 0 success; 1 the spec is invalid or breaks policy; 2 usage error (unknown flag,
missing file); 3 backend, deployment or output failure; 4 a change refused because it would lose
data or was not confirmed. No user error prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from paycompile import compile_spec, get_backend, list_rules, load_spec
from paycompile.backends import BACKENDS
from paycompile.deploy.approval import Guard, RequireApproval, terminal_ask
from paycompile.errors import BackendError, PaycompileError, SpecError
from paycompile.output import write_output
from paycompile.reports import (
    GRAPH_FORMATS,
    ISSUE_FORMATS,
    build_summary,
    graph_report,
    issues_report,
    rules_table,
)
from paycompile.spec.model import PlatformSpec

USAGE_ERROR = 2


class UsageError(Exception):
    """A command-line mistake: exit 2."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error or the help
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    try:
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        print(f"paycompile: error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except PaycompileError as exc:
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug in paycompile: one line unless debugging
        if os.environ.get("PAYCOMPILE_DEBUG"):
            raise
        print(
            f"paycompile: internal error: {type(exc).__name__}: {exc} "
            "(set PAYCOMPILE_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paycompile",
        description="Compile platform.yaml into a compliant AWS payment platform.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser(
        "build", help="write the CloudFormation template or the Pulumi resource plan"
    )
    _spec_arguments(build)
    build.add_argument("--backend", choices=sorted(BACKENDS), default="cfn")
    build.add_argument("-o", "--output", default="-", help="output file, or - for stdout (default)")
    build.add_argument(
        "--format", choices=("json", "yaml"), default="json", help="template format (cfn only)"
    )
    build.set_defaults(handler=_build)

    preview = commands.add_parser(
        "preview", help="show what `up` would change, with the Pulumi Automation API"
    )
    _spec_arguments(preview)
    preview.add_argument("--backend", choices=("pulumi",), default="pulumi")
    preview.add_argument("--stack", help="stack name (default: the environment)")
    preview.set_defaults(handler=_deploy, action="preview")
    for action in ("up", "destroy"):
        deploy = commands.add_parser(
            action, help=f"{action} the platform with the Pulumi Automation API, once approved"
        )
        _spec_arguments(deploy)
        # Commands that change an account name their backend: no default to fall into.
        deploy.add_argument("--backend", choices=("pulumi",), required=True)
        deploy.add_argument("--stack", help="stack name (default: the environment)")
        _approval_arguments(deploy)
        deploy.set_defaults(handler=_deploy, action=action)

    validate = commands.add_parser("validate", help="schema and policy checks only")
    _spec_arguments(validate)
    validate.add_argument("--format", choices=ISSUE_FORMATS, default="text")
    validate.set_defaults(handler=_validate)

    schema = commands.add_parser("schema", help="print the JSON Schema of the spec")
    schema.set_defaults(handler=_schema)

    rules = commands.add_parser("rules", help="list the invariants")
    rules.add_argument("--format", choices=("text", "json"), default="text")
    rules.set_defaults(handler=_rules)

    graph = commands.add_parser("graph", help="print the intermediate resource graph")
    _spec_arguments(graph)
    graph.add_argument("--format", choices=GRAPH_FORMATS, default="mermaid")
    graph.set_defaults(handler=_graph)
    return parser


def _spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="path to platform.yaml")
    parser.add_argument(
        "--env", help="environment to build (overrides `environment`, applies overrides.<env>)"
    )


def _approval_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--yes", action="store_true", help="approve without asking (never approves data loss)"
    )
    parser.add_argument(
        "--allow-data-loss",
        action="store_true",
        help="allow changes that replace or delete resources holding data",
    )
    parser.add_argument(
        "--require-approval",
        choices=[level.value for level in RequireApproval],
        default=RequireApproval.ANY.value,
        help="which changes need a yes: any (default), broadening, never",
    )


def _guard(args: argparse.Namespace) -> Guard:
    return Guard(
        yes=args.yes,
        allow_data_loss=args.allow_data_loss,
        require_approval=RequireApproval(args.require_approval),
        ask=terminal_ask(),
    )


def _load(args: argparse.Namespace) -> PlatformSpec:
    path = Path(args.spec)
    if not path.is_file():
        raise UsageError(f"no such spec file: {args.spec}")
    return load_spec(path, args.env)


def _build(args: argparse.Namespace) -> int:
    backend = get_backend(args.backend)
    if args.format not in backend.formats:
        raise UsageError(
            f"the {args.backend} backend writes {', '.join(backend.formats)}, not {args.format}"
        )
    graph = compile_spec(_load(args))
    text = backend.render(graph, args.format)
    write_output(args.output, text)
    if args.output != "-":
        print(
            build_summary(graph, list_rules(), args.backend, args.output), end="", file=sys.stderr
        )
    return 0


def _deploy(args: argparse.Namespace) -> int:
    graph = compile_spec(_load(args))
    from paycompile.backends import pulumi as pulumi_backend  # loaded only for deployments

    def show(line: str) -> None:
        print(line, flush=True)

    guard = _guard(args) if args.action != "preview" else None
    code: int = pulumi_backend.deploy(graph, args.action, args.stack, show, guard)
    return code


def _validate(args: argparse.Namespace) -> int:
    try:
        _load(args)
    except SpecError as exc:
        sys.stdout.write(issues_report(exc.issues, args.format, args.spec))
        return 1
    sys.stdout.write(issues_report([], args.format, args.spec))
    return 0


def _schema(args: argparse.Namespace) -> int:
    schema = PlatformSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "paycompile platform.yaml (version 1)"
    sys.stdout.write(json.dumps(schema, indent=2, sort_keys=True) + "\n")
    return 0


def _rules(args: argparse.Namespace) -> int:
    sys.stdout.write(rules_table(list_rules(), args.format))
    return 0


def _graph(args: argparse.Namespace) -> int:
    from paycompile.compiler.compile import build_graph

    write_output("-", graph_report(build_graph(_load(args)), args.format))
    return 0


__all__ = ["BackendError", "main"]

if __name__ == "__main__":
    sys.exit(main())
