"""A stack's events while an operation runs: read as they come, and the failure that mattered.

CloudFormation reports an operation as events (newest first, paged). `EventReader` remembers
the newest event it has seen, so each poll yields only the events written since, oldest first;
`follow` polls until the stack leaves its *_IN_PROGRESS status. When the operation fails, the
stack's last status (`UPDATE_ROLLBACK_COMPLETE`) says little: `first_failure` finds the event
that started it, skipping the cancellations that follow a first failure.
"""

from __future__ import annotations

import datetime
import itertools
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from paycompile.deployment.aws import aws_errors, one_line
from paycompile.errors import BackendError

STACK_TYPE = "AWS::CloudFormation::Stack"
# What CloudFormation writes on resources it gave up on because another one failed first.
CASCADED = (
    "Resource creation cancelled",
    "Resource update cancelled",
    "Resource deletion cancelled",
)
# Resource statuses that end that resource's part of the operation successfully.
RESOURCE_DONE = frozenset(
    {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "DELETE_SKIPPED", "IMPORT_COMPLETE"}
)


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    timestamp: datetime.datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str

    @classmethod
    def of(cls, raw: Mapping[str, Any], stack: str = "") -> StackEvent:
        """`stack`: the nested stack's logical id in the root, which prefixes its resources."""
        logical_id = str(raw.get("LogicalResourceId", ""))
        return cls(
            event_id=str(raw["EventId"]),
            timestamp=raw["Timestamp"],
            logical_id=f"{stack}/{logical_id}" if stack else logical_id,
            resource_type=str(raw.get("ResourceType", "")),
            status=str(raw.get("ResourceStatus", "")),
            reason=one_line(str(raw.get("ResourceStatusReason") or "")),
        )

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")

    @property
    def finishes_resource(self) -> bool:
        return self.resource_type != STACK_TYPE and self.status in RESOURCE_DONE

    def line(self) -> str:
        """One line for a person: time, status, resource, type, and AWS's reason if any."""
        when = self.timestamp.astimezone(datetime.UTC).strftime("%H:%M:%S")
        text = f"{when}  {self.status:<35}  {self.logical_id}  {self.resource_type}"
        return f"{text}  {self.reason}" if self.reason else text


class EventReader:
    """The events of one stack written after a given moment, oldest first.

    `stack` names a nested stack by its logical id in the root (empty for the root itself).
    """

    def __init__(self, cfn: Any, stack_id: str, stack: str = "") -> None:
        self._cfn = cfn
        self._stack_id = stack_id
        self._stack = stack
        self._newest: str | None = None

    def skip_existing(self) -> None:
        """From now on, only events newer than the newest one there is count as new."""
        newest = next(self._newest_first(), None)
        self._newest = None if newest is None else str(newest["EventId"])

    def new_events(self) -> list[StackEvent]:
        fresh = list(itertools.takewhile(self._is_new, self._newest_first()))
        if fresh:
            self._newest = str(fresh[0]["EventId"])
        return [StackEvent.of(raw, self._stack) for raw in reversed(fresh)]

    def _is_new(self, raw: Mapping[str, Any]) -> bool:
        return str(raw["EventId"]) != self._newest

    def _newest_first(self) -> Iterator[Mapping[str, Any]]:
        pages = self._cfn.get_paginator("describe_stack_events").paginate(StackName=self._stack_id)
        with aws_errors("reading the stack's events"):
            for page in pages:
                yield from page.get("StackEvents", [])


class SetReader:
    """The events of a root stack and of every stack nested in it, oldest first.

    The nested stacks are found among the root's resources on every poll, so a child the
    operation creates is read from its first event; a child that existed before is read from
    the moment `skip_existing` was called, like the root.
    """

    def __init__(self, cfn: Any, stack_id: str) -> None:
        self._cfn = cfn
        self._stack_id = stack_id
        self._root = EventReader(cfn, stack_id)
        self._children: dict[str, EventReader] = {}

    def skip_existing(self) -> None:
        self._root.skip_existing()
        for reader in self._discover():
            reader.skip_existing()

    def new_events(self) -> list[StackEvent]:
        events = self._root.new_events()
        self._discover()
        for reader in self._children.values():
            # A deleted child's events may no longer be readable: the root's say it went.
            with suppress(BackendError):
                events += reader.new_events()
        return sorted(events, key=lambda event: event.timestamp)

    def _discover(self) -> list[EventReader]:
        """Readers for the nested stacks not seen before."""
        found: list[EventReader] = []
        listed: dict[str, str] = {}
        # A listing that fails finds no new child this time; the root's events still say all.
        with suppress(BackendError):
            listed = nested_stacks(self._cfn, self._stack_id)
        for logical_id, stack_id in listed.items():
            if stack_id not in self._children:
                self._children[stack_id] = EventReader(self._cfn, stack_id, logical_id)
                found.append(self._children[stack_id])
        return found


def nested_stacks(cfn: Any, stack_id: str) -> dict[str, str]:
    """Logical id -> stack id of each nested stack of a stack (those created so far)."""
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=stack_id)
    with aws_errors("listing the nested stacks"):
        return {
            str(summary["LogicalResourceId"]): str(summary["PhysicalResourceId"])
            for page in pages
            for summary in page.get("StackResourceSummaries", [])
            if summary.get("ResourceType") == STACK_TYPE and summary.get("PhysicalResourceId")
        }


def follow(
    cfn: Any,
    stack_id: str,
    reader: EventReader | SetReader,
    on_event: Callable[[StackEvent], None],
    poll_seconds: float,
) -> tuple[str, list[StackEvent]]:
    """Poll until the stack's status is final; returns it and every event seen meanwhile."""
    seen: list[StackEvent] = []
    while True:
        with aws_errors("reading the stack's status"):
            status = str(cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"])
        for event in reader.new_events():  # read after the status: none written before is missed
            seen.append(event)
            on_event(event)
        if not status.endswith("_IN_PROGRESS"):
            return status, seen
        time.sleep(poll_seconds)


def first_failure(events: Sequence[StackEvent]) -> StackEvent | None:
    """The failure that started it all: the first *_FAILED event that is not a cancellation."""
    failed = [event for event in events if event.failed and event.reason]
    causes = [event for event in failed if not event.reason.startswith(CASCADED)]
    found = causes or failed
    return found[0] if found else None
