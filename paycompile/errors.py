"""The errors paycompile reports to users: each one prints as a single line."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class SpecIssue:
    """One problem in a spec, located as precisely as the source allows."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        # Line 0: the issue has no position (a spec edited in memory through the library).
        where = f"{self.file}:{self.line}:{self.column}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class PaycompileError(Exception):
    """Base class; `exit_code` is what the CLI returns for it."""

    exit_code = 1


class SpecError(PaycompileError):
    """The spec is invalid or breaks policy (exit 1)."""

    def __init__(self, issues: list[SpecIssue]) -> None:
        self.issues = sorted(set(issues))
        super().__init__("\n".join(str(issue) for issue in self.issues))


class UndeclaredEnvironment(PaycompileError):
    """An environment asked for (`--env`) is not a valid name, or one the spec does not declare.

    A usage error (exit 2): the flag is wrong, not the spec.
    """

    exit_code = 2


class RuleViolation(PaycompileError):
    """A compiled graph breaks one or more invariants (exit 1)."""

    def __init__(self, failures: list[str]) -> None:
        self.failures = failures
        super().__init__("\n".join(failures))


class BackendError(PaycompileError):
    """A backend, the deployment engine or the file system failed (exit 3)."""

    exit_code = 3


class ChangeRefused(PaycompileError):
    """A change was not applied: it would lose data, is blocked, or was not confirmed (exit 4)."""

    exit_code = 4
