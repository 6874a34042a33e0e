"""CloudFormation change sets: create one, wait for it, read it as classified rows, discard it.

A change set is how `plan` and `deploy` see what CloudFormation would do before it does
anything. Its rows carry AWS's own judgement (the action, and for a modification whether the
resource is replaced: True, False or Conditional); `classify` adds paycompile's, the same
for every backend (`paycompile.changes`): data loss, widened access.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any, Literal

from botocore.exceptions import BotoCoreError, ClientError

from paycompile.changes.cloudformation import KIND_OF_TYPE
from paycompile.changes.model import Action, Change, risks_of
from paycompile.changes.table import flags, summary
from paycompile.deployment.aws import aws_errors, error_message, one_line, refused_by_aws
from paycompile.deployment.result import PlannedChange, Replacement
from paycompile.deployment.templates import KEEPING_POLICIES, NESTED_STACK, StackTemplate
from paycompile.errors import BackendError

ChangeSetType = Literal["CREATE", "UPDATE"]
# How CloudFormation says that a change set would change nothing (the wording varies).
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
_ACTIONS = {
    "Add": Action.ADD,
    "Import": Action.ADD,
    "Modify": Action.IN_PLACE,
    "Dynamic": Action.IN_PLACE,
    "Remove": Action.REMOVE,
}
_MAY_REPLACE = (Replacement.TRUE, Replacement.CONDITIONAL, Replacement.UNKNOWN)
_HEADER = ("ACTION", "RESOURCE", "TYPE", "REPLACEMENT", "FLAGS")


@dataclass(frozen=True)
class ChangeSet:
    id: str
    stack_id: str
    change_type: ChangeSetType
    # The stack record did not exist before: a CREATE change set made it (REVIEW_IN_PROGRESS).
    made_stack: bool


@dataclass(frozen=True)
class Request:
    """Everything CreateChangeSet needs besides the stack's name and the change set's type."""

    template: dict[str, str]  # {"TemplateBody": ...} or {"TemplateURL": ...}
    parameters: list[dict[str, Any]]
    capabilities: list[str]
    tags: dict[str, str]
    description: str
    # A root with nested stacks: CloudFormation makes a change set for each child too.
    include_nested: bool = False


def create(
    cfn: Any, stack_name: str, change_type: ChangeSetType, request: Request, made_stack: bool
) -> ChangeSet | None:
    """Create a change set and wait until it is ready; None when it would change nothing."""
    name = f"paycompile-{time.strftime('%Y%m%d-%H%M%S', time.gmtime())}-{uuid.uuid4().hex[:8]}"
    nested = {"IncludeNestedStacks": True} if request.include_nested else {}
    try:
        created = cfn.create_change_set(
            StackName=stack_name,
            ChangeSetName=name,
            ChangeSetType=change_type,
            Parameters=request.parameters,
            Capabilities=request.capabilities,
            Tags=[{"Key": key, "Value": value} for key, value in sorted(request.tags.items())],
            Description=request.description[:1024],
            **request.template,
            **nested,
        )
    except ClientError as error:
        if _says_no_changes(error_message(error)):
            return None
        raise refused_by_aws(f"creating a change set for stack {stack_name}", error) from None
    change_set = ChangeSet(created["Id"], created["StackId"], change_type, made_stack)
    return _wait(cfn, change_set)


def _wait(cfn: Any, change_set: ChangeSet, poll_seconds: float = 2.0) -> ChangeSet | None:
    while True:
        with aws_errors("reading the change set"):
            described = cfn.describe_change_set(ChangeSetName=change_set.id)
        status = described["Status"]
        if status == "CREATE_COMPLETE":
            return change_set
        if status == "FAILED":
            reason = one_line(described.get("StatusReason", ""))
            discard(cfn, change_set)
            if _says_no_changes(reason):
                return None
            raise BackendError(f"CloudFormation could not plan the change: {reason}")
        time.sleep(poll_seconds)


def _says_no_changes(reason: str) -> bool:
    return any(phrase in reason for phrase in NO_CHANGES)


def rows(cfn: Any, change_set: ChangeSet) -> Iterator[dict[str, Any]]:
    """The change set's ResourceChange rows, across every page."""
    for page in _pages(cfn, change_set.id):
        yield from _resource_rows(page)


@dataclass(frozen=True)
class SetRow:
    """A row of a root's change set or of a nested change set under it."""

    # The nested stack's logical id in the root ("" for the root's own rows).
    stack: str
    stack_id: str
    row: dict[str, Any]


def set_rows(cfn: Any, change_set_id: str, stack: str = "") -> Iterator[SetRow]:
    """The rows of a change set made with IncludeNestedStacks, each nested stack's row followed
    by the rows of its own change set (which the row names by `ChangeSetId`)."""
    for page in _pages(cfn, change_set_id):
        for row in _resource_rows(page):
            yield SetRow(stack, str(page.get("StackId", "")), row)
            nested = row.get("ChangeSetId")
            if row.get("ResourceType") == NESTED_STACK and nested:
                child = str(row["LogicalResourceId"])
                yield from set_rows(cfn, str(nested), f"{stack}/{child}" if stack else child)


def _pages(cfn: Any, change_set_id: str) -> Iterator[dict[str, Any]]:
    token: dict[str, str] = {}
    while True:
        with aws_errors("reading the change set"):
            page: dict[str, Any] = cfn.describe_change_set(ChangeSetName=change_set_id, **token)
        yield page
        if not page.get("NextToken"):
            return
        token = {"NextToken": page["NextToken"]}


def _resource_rows(page: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        row["ResourceChange"]
        for row in page.get("Changes", [])
        if row.get("Type", "Resource") == "Resource"
    ]


def discard(cfn: Any, change_set: ChangeSet) -> None:
    """Delete the change set, and the empty stack record it made; best effort."""
    with suppress(ClientError, BotoCoreError):
        cfn.delete_change_set(ChangeSetName=change_set.id)
    if change_set.made_stack:
        with suppress(ClientError, BotoCoreError):
            cfn.delete_stack(StackName=change_set.stack_id)


def classify(row: Mapping[str, Any], deployed: StackTemplate | None) -> PlannedChange:
    """paycompile's judgement of one change-set row: the one place CloudFormation risks are set.

    `deployed` is the stack's current template: for a removal, its DeletionPolicy says whether
    the resource stays in the account when the change set does not say so itself.
    """
    replacement = _replacement(row)
    action = _ACTIONS.get(str(row.get("Action")), Action.IN_PLACE)
    if action is Action.IN_PLACE and replacement in _MAY_REPLACE:
        action = Action.REPLACE
    logical_id, resource_type = str(row["LogicalResourceId"]), str(row["ResourceType"])
    kind = KIND_OF_TYPE.get(resource_type)
    policy = _deletion_policy(row, deployed) if action is Action.REMOVE else "Delete"
    kept = policy in KEEPING_POLICIES
    reasons = _reasons(replacement, policy)
    change = Change(
        logical_id, resource_type, action, kind, kept, risks_of(kind, action, kept), reasons
    )
    return PlannedChange(change, replacement)


def _replacement(row: Mapping[str, Any]) -> Replacement:
    if row.get("Action") not in ("Modify", "Dynamic"):
        return Replacement.NOT_APPLICABLE
    said = row.get("Replacement")
    return Replacement(said) if said in tuple(Replacement) else Replacement.UNKNOWN


def _deletion_policy(row: Mapping[str, Any], deployed: StackTemplate | None) -> str:
    said = row.get("PolicyAction")
    if isinstance(said, str) and said in ("Delete", "Retain", "Snapshot"):
        return said
    return deployed.deletion_policy(str(row["LogicalResourceId"])) if deployed else "Delete"


def _reasons(replacement: Replacement, policy: str) -> tuple[str, ...]:
    if replacement is Replacement.CONDITIONAL:
        return ("AWS may replace it (Replacement: Conditional): judged as a replacement",)
    if replacement is Replacement.UNKNOWN:
        return ("the change set does not say whether it is replaced: judged as a replacement",)
    if policy == "Snapshot":
        return ("deleted after a final snapshot (DeletionPolicy: Snapshot)",)
    return ()


def change_table(planned: list[PlannedChange]) -> str:
    """One aligned row per resource with AWS's replacement and our flags, then the counts."""
    if not planned:
        return "no changes\n"
    table = [_HEADER] + [
        (
            str(row.change.action),
            row.change.logical_id,
            row.change.resource_type,
            str(row.replacement),
            flags(row.change),
        )
        for row in planned
    ]
    widths = [max(len(line[column]) for line in table) for column in range(len(_HEADER) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        + "  "
        + line[-1]
        for line in table
    ]
    changes = [row.change for row in planned]
    reasons = [f"  {c.logical_id}: {reason}" for c in changes for reason in c.reasons]
    return "\n".join([*lines, *reasons, summary(changes)]) + "\n"
