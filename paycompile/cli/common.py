"""What the command modules share: the parser, usage errors, the spec arguments, approval flags."""

from __future__ import annotations

import argparse
import gc
import io
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TextIO, TypeAlias

if TYPE_CHECKING:  # imported where used: `init` and `rules` need neither, `build` no approval
    from paycompile.deployment.approval import Guard
    from paycompile.spec.model import PlatformSpec

USAGE_ERROR = 2
# Every line paycompile prints that is not a spec issue (`file:line:col: ...`) starts so.
PREFIX = "paycompile: "
# The subcommand table each command module registers its commands in (generic only when typing).
Commands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class UsageError(Exception):
    """A command-line mistake: exit 2."""


class Parser(argparse.ArgumentParser):
    """argparse with one-line usage errors that start with `paycompile:` like every message."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"{PREFIX}error: {message} (see `{self.prog} --help`)\n")
        raise SystemExit(USAGE_ERROR)


class ClosedStdout(Exception):
    """Standard output cannot be written (closed, a broken pipe, a full disk): exit 3."""


class StdoutGuard(io.TextIOBase):
    """Standard output that turns a failed write into ClosedStdout, so that main can report it
    in one line instead of a traceback (or Python's own complaint at exit)."""

    def __init__(self, stream: TextIO | None) -> None:
        super().__init__()
        self.stream = stream

    def write(self, text: str) -> int:
        written: int = self._do(lambda stream: stream.write(text))
        return written

    def flush(self) -> None:
        self._do(lambda stream: stream.flush())

    def isatty(self) -> bool:
        return self.stream is not None and self.stream.isatty()

    def _do(self, operation: Callable[[TextIO], Any]) -> Any:
        if self.stream is None:  # started with descriptor 1 closed
            raise ClosedStdout("stdout is closed")
        try:
            return operation(self.stream)
        except (OSError, ValueError) as exc:  # ValueError: "I/O operation on closed file"
            raise ClosedStdout(getattr(exc, "strerror", None) or str(exc)) from None


def silence_stdout(stream: TextIO | None) -> None:
    """Point the process's descriptor 1 at /dev/null, so that flushing what is still buffered
    at exit cannot fail a second time (only for the real stdout, never a test's capture)."""
    if stream is None or sys.__stdout__ is None or stream is not sys.__stdout__:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, stream.fileno())
        os.close(devnull)
    except (OSError, ValueError):
        pass


def spec_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("spec", help="path to platform.yaml")
    env_arguments(parser)


def env_arguments(parser: argparse.ArgumentParser) -> None:
    """`--env` (a declared environment) and `--new-env`, for every command that takes `--env`."""
    parser.add_argument(
        "--env",
        help="environment to use: the spec's `environment` or a key of `overrides` "
        "(applies overrides.<env>)",
    )
    parser.add_argument(
        "--new-env",
        action="store_true",
        help="--env names a new environment the spec does not declare (a per-PR stack)",
    )


def spec_file_problem(spec: str) -> str | None:
    """Why `spec` cannot be a spec file (missing, a directory), or None when it can be read."""
    path = Path(spec)
    if path.is_dir():
        return f"{spec} is a directory, not a spec file: give the path of the platform.yaml in it"
    if not path.exists():
        return f"no such spec file: {spec}"
    return None


def load(args: argparse.Namespace) -> PlatformSpec:
    return load_path(args.spec, args)


def load_path(spec: str, args: argparse.Namespace) -> PlatformSpec:
    """Load `spec` for the environment `args` ask for (`--env`, `--new-env`)."""
    problem = spec_file_problem(spec)
    if problem:
        raise UsageError(problem)
    if args.new_env and args.env is None:
        raise UsageError("--new-env needs --env NAME: the new environment to build")
    from paycompile.spec import load_spec

    return load_spec(spec, args.env, new_environment=args.new_env)


def approval_arguments(parser: argparse.ArgumentParser) -> None:
    from paycompile.deployment.approval import RequireApproval

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
    from paycompile.deployment.approval import Guard, RequireApproval, terminal_ask

    return Guard(
        yes=args.yes,
        allow_data_loss=args.allow_data_loss,
        require_approval=RequireApproval(args.require_approval),
        ask=terminal_ask(),
    )


@contextmanager
def paused_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector for one bounded command (build, graph, validate).

    Compiling makes few reference cycles (about 5,000 objects, 2 MB, at 200 services), while
    each collector pass walks every live object: a tenth of a build's CPU. Commands that talk to
    a cloud for minutes keep collecting (docs/performance.md)."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
