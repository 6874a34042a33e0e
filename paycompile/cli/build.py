"""`build` (template or plan) and `graph` (the intermediate resource graph)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from paycompile import compile_spec, get_backend, list_rules
from paycompile.backends import BACKENDS
from paycompile.cli.common import Commands, UsageError, load, paused_collection, spec_arguments
from paycompile.compiler.graph import Graph
from paycompile.output import write_directory, write_output
from paycompile.reports import GRAPH_FORMATS, build_summary, graph_report


def register(commands: Commands) -> None:
    build = commands.add_parser(
        "build", help="write the CloudFormation template or the Pulumi resource plan"
    )
    spec_arguments(build)
    build.add_argument("--backend", choices=sorted(BACKENDS), default="cfn")
    build.add_argument(
        "-o",
        "--output",
        default="-",
        help="output file, or - for stdout (default); a directory when the platform needs several "
        "CloudFormation stacks (root.json and one file per nested stack)",
    )
    build.add_argument(
        "--format", choices=("json", "yaml"), default="json", help="template format (cfn only)"
    )
    build.set_defaults(handler=_build)

    graph = commands.add_parser("graph", help="print the intermediate resource graph")
    spec_arguments(graph)
    graph.add_argument("--format", choices=GRAPH_FORMATS, default="mermaid")
    graph.set_defaults(handler=_graph)


def _build(args: argparse.Namespace) -> int:
    with paused_collection():
        spec = load(args)  # a spec refused never loads a backend
    backend = get_backend(args.backend)
    if args.format not in backend.formats:
        raise UsageError(
            f"the {args.backend} backend writes {', '.join(backend.formats)}, not {args.format}"
        )
    with paused_collection():
        graph = compile_spec(spec)
        if args.backend == "cfn":
            _write_templates(graph, args.format, args.output)
    if args.backend != "cfn":
        # Not paused: Pulumi's runtime leaves reference cycles behind every resource it
        # registers, and the plan's memory stays bounded only while they are collected.
        write_output(args.output, backend.render(graph, args.format))
    if args.output != "-":
        print(
            build_summary(graph, list_rules(), args.backend, args.output), end="", file=sys.stderr
        )
    return 0


def _write_templates(graph: Graph, output_format: str, destination: str) -> None:
    """One template to a file or stdout; a nested set (root and children) to a directory."""
    from paycompile.backends.cfn import stacks
    from paycompile.backends.cfn.template import BACKEND

    files = BACKEND.render_set(graph, output_format)
    if len(files) == 1:
        write_output(destination, next(iter(files.values())))
        return
    if destination == "-" or Path(destination).is_file() or Path(destination).suffix:
        raise UsageError(
            f"the platform needs {len(files)} CloudFormation stacks (a root and "
            f"{len(files) - 1} nested), which do not fit one file: give -o a directory"
        )
    write_directory(destination, files, stacks.is_set_file)


def _graph(args: argparse.Namespace) -> int:
    from paycompile.compiler.compile import build_graph

    with paused_collection():
        write_output("-", graph_report(build_graph(load(args)), args.format))
    return 0
