"""The `paycompile` command: a thin layer over the library API, one module per command group.

Exit codes: 0 success; 1 the spec is invalid or breaks policy; 2 usage error (unknown flag,
missing file, an undeclared `--env`); 3 backend, deployment or output failure (a closed or full
stdout too); 4 a change refused because it would lose data or was not confirmed. No user error
prints a traceback. Spec issues print as `file:line:col: key.path: message`; every other message
starts with `paycompile:`.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from paycompile import __version__
from paycompile.cli.common import (
    PREFIX,
    USAGE_ERROR,
    ClosedStdout,
    Parser,
    StdoutGuard,
    UsageError,
    silence_stdout,
)
from paycompile.errors import ChangeRefused, PaycompileError, SpecError

# Each command -> the module of its group (paycompile.cli.<group>), in the order `--help` lists
# them. Only the group of the command being run is imported (docs/performance.md).
COMMANDS: dict[str, str] = {
    "build": "build",
    "graph": "build",
    "validate": "inspect",
    "schema": "inspect",
    "rules": "inspect",
    "preview": "pulumi",
    "up": "pulumi",
    "plan": "cloudformation",
    "deploy": "cloudformation",
    "destroy": "cloudformation",
    "diff": "diff",
    "init": "init",
    "report": "report",
}
OUTPUT_FAILURE = 3


def main(argv: Sequence[str] | None = None) -> int:
    original = sys.stdout
    sys.stdout = StdoutGuard(original)
    try:
        code = _run(argv)
        sys.stdout.flush()  # a full or closed stdout fails here, not at interpreter exit
        return code
    except ClosedStdout as exc:
        silence_stdout(original)
        print(f"{PREFIX}error: cannot write to stdout: {exc}", file=sys.stderr)
        return OUTPUT_FAILURE
    finally:
        sys.stdout = original


def _run(argv: Sequence[str] | None) -> int:
    parser = _parser(sys.argv[1:] if argv is None else argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed the usage error or the help
        return exc.code if isinstance(exc.code, int) else USAGE_ERROR
    try:
        code: int = args.handler(args)
        return code
    except UsageError as exc:
        print(f"{PREFIX}error: {exc}", file=sys.stderr)
        return USAGE_ERROR
    except SpecError as exc:  # `file:line:col: key.path: message`, for editors and matchers
        print(str(exc), file=sys.stderr)
        return exc.exit_code
    except PaycompileError as exc:
        kind = "" if isinstance(exc, ChangeRefused) else "error: "
        print("\n".join(f"{PREFIX}{kind}{line}" for line in str(exc).splitlines()), file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except ClosedStdout:
        raise  # main reports it
    except Exception as exc:  # a bug in paycompile: one line unless debugging
        if os.environ.get("PAYCOMPILE_DEBUG"):
            raise
        print(
            f"{PREFIX}internal error: {type(exc).__name__}: {exc} "
            "(set PAYCOMPILE_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return 3


def _parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser, with only the command group `argv` runs registered (every group for
    `--help`, no command or an unknown one, so help and "invalid choice" list them all)."""
    parser = Parser(
        prog="paycompile",
        description="Compile platform.yaml into a compliant AWS payment platform.",
    )
    parser.add_argument("--version", action="version", version=f"paycompile {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in _groups(argv):
        importlib.import_module(f"paycompile.cli.{group}").register(commands)
    return parser


def _groups(argv: Sequence[str]) -> list[str]:
    """The command group the first word of `argv` names (the top-level parser takes no option
    with a value, so that word is the command), or every group."""
    command = next((word for word in argv if not word.startswith("-")), None)
    if command in COMMANDS:
        return [COMMANDS[command]]
    return list(dict.fromkeys(COMMANDS.values()))


__all__ = ["main"]
