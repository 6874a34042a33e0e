"""What the outside judges said: one judge's findings on one template, tool-neutral.

An outside judge is an independent tool that reads the CloudFormation template paycompile
writes (cfn-lint, checkov, cfn-guard with AWS Control Tower's proactive controls, cdk-nag).
Each judge module runs its tool and turns the tool's own output into `Finding`s; the report
shows them next to the rules. A judge that is not installed yields a `JudgeReport` that says
so, never an empty pass.

Tools are found where `make judges` installs them (`.tools/` of the source checkout) unless an
environment variable names another path (docs/report.md lists them).
"""

from __future__ import annotations

import os
import subprocess
from collections import Counter
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Literal

from paycompile.errors import BackendError

# pass / fail: the judge evaluated the check; skipped: the template told the judge not to
# evaluate it (a waiver it honours); not_applicable: nothing in the template is in its scope.
Verdict = Literal["pass", "fail", "skipped", "not_applicable"]
VERDICTS: tuple[Verdict, ...] = ("fail", "skipped", "pass", "not_applicable")
Lifecycle = Literal["ephemeral", "retained"]

# The checkout paycompile runs from (an editable install); `.tools/` there holds the judges.
CHECKOUT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Waiver:
    """A check that a judge fails (or is told to skip) on purpose, and why."""

    check: str
    resources: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Finding:
    """One check of a judge, on the resources (logical ids) it names."""

    check: str
    title: str
    verdict: Verdict
    resources: tuple[str, ...] = ()
    detail: str = ""  # the judge's message or its fix
    waiver: str | None = None  # the reason, when a waiver covers this failure or skip
    pci_dss_321: tuple[str, ...] = ()  # the PCI DSS 3.2.1 requirements the judge cites

    @property
    def status(self) -> str:
        """What the report shows: a failure or skip with a reason is `waived`."""
        if self.verdict in ("fail", "skipped") and self.waiver:
            return "waived"
        return self.verdict


@dataclass(frozen=True)
class JudgeReport:
    """One judge's verdicts on one template; `version` is None when the judge did not run."""

    judge: str
    title: str
    version: str | None
    findings: tuple[Finding, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    note: str = ""  # why it did not run, or what its verdicts cover
    standard: str = ""  # the standard its PCI DSS references cite, when it cites any

    @property
    def ran(self) -> bool:
        return self.version is not None

    def counts(self) -> dict[str, int]:
        """Findings per status (fail, waived, skipped, pass, not_applicable), zeros included."""
        found = Counter(finding.status for finding in self.findings)
        return {status: found[status] for status in ("fail", "waived", *VERDICTS[1:])}

    def failures(self) -> list[Finding]:
        """Failures no waiver covers: what the judge holds against the template."""
        return [finding for finding in self.findings if finding.status == "fail"]


def not_installed(judge: str, title: str, hint: str) -> JudgeReport:
    return JudgeReport(judge, title, None, note=f"not installed: {hint}")


def tool_path(variable: str, *default: str) -> Path:
    """The path in environment variable `variable`, else `.tools/<default...>` of the checkout."""
    configured = os.environ.get(variable)
    return Path(configured) if configured else CHECKOUT.joinpath(".tools", *default)


def run_tool(
    command: list[str], allowed: tuple[int, ...], timeout: int, env: dict[str, str] | None = None
) -> str:
    """The tool's stdout; BackendError (exit 3) when it cannot run or exits otherwise."""
    try:
        done = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={**os.environ, **(env or {})},
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BackendError(f"cannot run {Path(command[0]).name}: {exc}") from None
    if done.returncode not in allowed:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise BackendError(f"{Path(command[0]).name} exited {done.returncode}: {last}")
    return done.stdout


def covered(resources: tuple[str, ...], patterns: tuple[str, ...]) -> bool:
    """Whether every resource matches one of the waiver's logical-id patterns (fnmatch)."""
    return bool(resources) and all(
        any(fnmatchcase(resource, pattern) for pattern in patterns) for resource in resources
    )


@dataclass(frozen=True)
class Waivers:
    """Waivers kept as data, for a judge that honours no suppression in the template."""

    entries: tuple[Waiver, ...] = ()

    def reason(self, check: str, resources: tuple[str, ...]) -> str | None:
        for waiver in self.entries:
            if waiver.check == check and covered(resources, waiver.resources):
                return waiver.reason
        return None
