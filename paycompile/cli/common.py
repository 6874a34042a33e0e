"""What the command modules share: usage errors, the spec arguments, approval flags."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TypeAlias

from paycompile.deploy.approval import Guard, RequireApproval, terminal_ask
from paycompile.spec import load_spec
from paycompile.spec.model import PlatformSpec

USAGE_ERROR = 2
# The subcommand table each command module registers its commands in (generic only when typing).
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class UsageError(Exception):
    """A command-line mistake: exit 2."""


def spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="path to platform.yaml")
    parser.add_argument(
        "--env", help="environment to build (overrides `environment`, applies overrides.<env>)"
    )


def load(args: argparse.Namespace) -> PlatformSpec:
    path = Path(args.spec)
    if not path.is_file():
        raise UsageError(f"no such spec file: {args.spec}")
    return load_spec(path, args.env)


def approval_arguments(parser: argparse.ArgumentParser) -> None:
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


def guard(args: argparse.Namespace) -> Guard:
    return Guard(
        yes=args.yes,
        allow_data_loss=args.allow_data_loss,
        require_approval=RequireApproval(args.require_approval),
        ask=terminal_ask(),
    )
