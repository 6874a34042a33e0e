"""`diff BASE HEAD`: the resource changes between two specs or templates, as a PR gate."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from paycompile.cli.common import Commands, UsageError

if TYPE_CHECKING:
    from paycompile.changes.diff import Comparison
    from paycompile.changes.sources import Side


def register(commands: Commands) -> None:
    diff = commands.add_parser(
        "diff",
        help="resource changes between two specs or templates (add, in place, replace, "
        "blocked, data loss)",
        description="Each side is a spec file, git-rev:path, or a template built earlier. "
        "Exit 4 when a change is blocked, or loses data without --allow-data-loss.",
    )
    diff.add_argument("base", metavar="BASE", help="spec, template, or git-rev:path")
    diff.add_argument("head", metavar="HEAD", help="spec, template, or git-rev:path")
    diff.add_argument(
        "--env", help="compare this environment only (default: every environment HEAD declares)"
    )
    diff.add_argument("--format", choices=("text", "markdown", "json"), default="text")
    diff.add_argument("--backend", choices=("cfn", "pulumi"), default="cfn")
    diff.add_argument(
        "--allow-data-loss",
        action="store_true",
        help="exit 0 even when a change destroys data (blocked changes still exit 4)",
    )
    diff.set_defaults(handler=_diff)


def _diff(args: argparse.Namespace) -> int:
    from paycompile.changes import report
    from paycompile.changes.sources import SourceError, read_side

    try:
        base, head = read_side(args.base), read_side(args.head)
        comparison = _compare(args.backend, base, head, args.env)
    except SourceError as exc:
        raise UsageError(str(exc)) from None
    result = report.verdict(comparison, args.allow_data_loss)
    sys.stdout.write(report.render(comparison, args.format, result))
    sys.stdout.flush()
    return result.exit_code


def _compare(backend: str, base: Side, head: Side, env: str | None) -> Comparison:
    from paycompile.changes.diff import compare_templates

    if backend == "pulumi":
        # Loads Pulumi to build the offline plans; the CloudFormation diff never does.
        from paycompile.changes.pulumi_diff import compare_pulumi

        return compare_pulumi(base, head, env)
    return compare_templates(base, head, env)
