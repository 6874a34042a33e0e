"""The `paycompile` command: a thin layer over the library API, one module per command group.

Exit codes: 0 success; 1 the spec is invalid or breaks policy; 2 usage error (unknown flag,
missing file); 3 backend, deployment or output failure; 4 a change refused because it would lose
data or was not confirmed. No user error prints a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from paycompile.cli import build, diff, inspect, pulumi
from paycompile.cli.common import USAGE_ERROR, UsageError
from paycompile.errors import PaycompileError

COMMAND_GROUPS = (build, inspect, pulumi, diff)


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
    for group in COMMAND_GROUPS:
        group.register(commands)
    return parser


__all__ = ["main"]
