"""What a CloudFormation `plan`, `deploy` or `destroy` did, as typed values (no AWS imports)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from paycompile.changes.model import Change
from paycompile.deployment.cutover import CutoverResult
from paycompile.deployment.release import ServiceRelease

StackAction = Literal["plan", "deploy", "destroy"]


class Replacement(StrEnum):
    """What the change set says about replacing a modified resource."""

    TRUE = "True"
    CONDITIONAL = "Conditional"
    FALSE = "False"
    # Adds and removes: replacement does not apply.
    NOT_APPLICABLE = "-"
    # A modification the change set did not qualify (AWS always does; local stand-ins may not).
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PlannedChange:
    """One row of a change set: our classification and AWS's word on replacement."""

    change: Change
    replacement: Replacement


@dataclass(frozen=True)
class StackResult:
    """The outcome of one CloudFormation command.

    `status` is the stack's status when the command ended (None: there is no stack);
    `executed` says whether anything was applied; `template_url` is where the template was
    staged in S3 (None: sent inline, or not needed); `outputs` are the stack's outputs after a
    deploy; `releases` what each service runs on which colour; `cutovers` how the cutovers a
    deploy ran ended.
    """

    action: StackAction
    stack_name: str
    region: str
    stack_id: str | None
    status: str | None
    changes: tuple[PlannedChange, ...] = ()
    executed: bool = False
    template_url: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    releases: tuple[ServiceRelease, ...] = ()
    cutovers: tuple[CutoverResult, ...] = ()
