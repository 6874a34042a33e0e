"""`preview`, `up` and `destroy` with the Pulumi Automation API."""

from __future__ import annotations

import argparse

from paycompile import compile_spec
from paycompile.cli.common import Commands, approval_arguments, guard, load, spec_arguments


def register(commands: Commands) -> None:
    preview = commands.add_parser(
        "preview", help="show what `up` would change, with the Pulumi Automation API"
    )
    spec_arguments(preview)
    preview.add_argument("--backend", choices=("pulumi",), default="pulumi")
    preview.add_argument("--stack", help="stack name (default: the environment)")
    preview.set_defaults(handler=run, action="preview")
    # `destroy` is shared with CloudFormation: paycompile.cli.cloudformation hands it here.
    for action in ("up",):
        command = commands.add_parser(
            action, help=f"{action} the platform with the Pulumi Automation API, once approved"
        )
        spec_arguments(command)
        # Commands that change an account name their backend: no default to fall into.
        command.add_argument("--backend", choices=("pulumi",), required=True)
        command.add_argument("--stack", help="stack name (default: the environment)")
        approval_arguments(command)
        command.set_defaults(handler=run, action=action)


def run(args: argparse.Namespace) -> int:
    graph = compile_spec(load(args))
    from paycompile.backends import pulumi as pulumi_backend  # loaded only for deployments

    def show(line: str) -> None:
        print(line, flush=True)

    approved = guard(args) if args.action != "preview" else None
    code: int = pulumi_backend.deploy(graph, args.action, args.stack, show, approved)
    return code
