"""`report`: the compliance report (rule -> PCI DSS -> resources -> evidence, and the judges).

The report package (the judges' runners, jinja2) is imported when the command runs, so that
`build` and the other commands never load it.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from paycompile import __version__, compile_spec, render
from paycompile.cli.common import Commands, UsageError, load, spec_arguments
from paycompile.output import write_output

if TYPE_CHECKING:
    from paycompile.report.judges import JudgeReport

FORMATS = ("html", "md", "json")


def register(commands: Commands) -> None:
    report = commands.add_parser(
        "report", help="the compliance report: rules, PCI DSS requirements, evidence, judges"
    )
    spec_arguments(report)
    report.add_argument("--format", choices=FORMATS, required=True, help="html, md or json")
    report.add_argument(
        "-o", "--output", default="-", help="output file, or - for stdout (default)"
    )
    report.add_argument(
        "--no-judges",
        action="store_true",
        help="leave out the outside judges (cfn-lint, cfn-guard, checkov, cdk-nag)",
    )
    report.set_defaults(handler=_report)


def _report(args: argparse.Namespace) -> int:
    from paycompile.report.compliance import build_report
    from paycompile.report.render import render_report

    generated = generated_at(os.environ.get("SOURCE_DATE_EPOCH"))
    graph = compile_spec(load(args))
    if args.no_judges:
        from paycompile.report.panel import left_out

        judges = left_out("left out (--no-judges)")
    else:
        judges = _judge(render(graph, "cfn"), graph.lifecycle, graph.region)
    report = build_report(graph, judges, __version__, generated)
    write_output(args.output, render_report(report, args.format))
    return 0


def _judge(template: str, lifecycle: str, region: str) -> list[JudgeReport]:
    from paycompile.report.panel import Judged, judge_all

    with tempfile.TemporaryDirectory(prefix="paycompile-report-") as directory:
        path = Path(directory) / "template.json"
        path.write_text(template, encoding="utf-8")
        judged = Judged(path, "retained" if lifecycle == "retained" else "ephemeral", region)
        return list(judge_all([judged])[path])


def generated_at(epoch: str | None) -> str | None:
    """The report's date: only when SOURCE_DATE_EPOCH gives one (reproducible builds)."""
    if epoch is None or not epoch.strip():
        return None
    try:
        moment = datetime.fromtimestamp(int(epoch), tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise UsageError(
            f"SOURCE_DATE_EPOCH must be whole seconds since 1970, got {epoch!r}"
        ) from None
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
