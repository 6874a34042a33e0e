"""Start a service's cutover and follow its execution to the end.

The cutover is the platform's own state machine (`paycompile/compiler/cutover.py`); this only
starts it, shows each state it enters, and reports how it ended: SUCCEEDED, or the error and
cause the machine failed with (an unhealthy idle colour, an alarm during the bake, a failed call)
after it restored the traffic.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from paycompile.errors import BackendError

# How often the execution is read; a cutover runs for minutes (health wait, bake).
POLL_SECONDS = 5.0
FINAL = frozenset({"SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED"})


@dataclass(frozen=True)
class CutoverResult:
    """How one service's cutover ended, and the states it went through."""

    service: str
    execution_arn: str
    status: str
    states: tuple[str, ...]
    error: str | None = None
    cause: str | None = None


def cut_over(
    sfn: Any,
    service: str,
    machine_arn: str,
    say: Callable[[str], None],
    poll_seconds: float = POLL_SECONDS,
) -> CutoverResult:
    """Run the service's cutover; BackendError (exit 3) with the machine's reason if it fails."""
    # Named, so the console shows who started it (and names must be unique for 90 days).
    name = f"paycompile-{uuid.uuid4()}"
    arn = str(sfn.start_execution(stateMachineArn=machine_arn, name=name)["executionArn"])
    say(f"{service}: cutover started ({arn})")
    states: list[str] = []
    seen = 0
    while True:
        execution = sfn.describe_execution(executionArn=arn)
        entered = _entered_states(sfn, arn)
        for state in entered[seen:]:
            say(f"{service}: {state}")
        seen = len(entered)
        states = entered
        if execution["status"] in FINAL:
            break
        time.sleep(poll_seconds)
    result = CutoverResult(
        service,
        arn,
        str(execution["status"]),
        tuple(states),
        execution.get("error"),
        execution.get("cause"),
    )
    if result.status != "SUCCEEDED":
        raise BackendError(_failure(result))
    say(f"{service}: cutover succeeded")
    return result


def _entered_states(sfn: Any, arn: str) -> list[str]:
    """The names of the states the execution has entered, oldest first."""
    pages = sfn.get_paginator("get_execution_history").paginate(executionArn=arn)
    return [
        str(event["stateEnteredEventDetails"]["name"])
        for page in pages
        for event in page["events"]
        if "stateEnteredEventDetails" in event
    ]


def _failure(result: CutoverResult) -> str:
    reason = ": ".join(part for part in (result.error, result.cause) if part)
    # The machine fails only after it restored the weights it started from; stopped from outside
    # or out of time, it may not have.
    after = (
        "the weights it started from are restored"
        if result.status == "FAILED"
        else "the traffic may be split: look at the listener before deploying again"
    )
    return (
        f"the cutover of {result.service} ended {result.status}"
        f"{': ' + reason if reason else ''}; {after} (execution {result.execution_arn})"
    )
