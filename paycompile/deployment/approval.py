"""Whether a change may be applied: shown first, then approved by a person or by flags.

The rules, the same for every command that changes an account (`deploy`, `up`, `destroy`):

* a change that loses data needs `--allow-data-loss`, whatever else is said (`--yes` alone never
  approves it);
* a blocked change (one AWS would refuse half-way) is never applied;
* otherwise `--require-approval` says which changes need a person's yes: `any` (the default:
  every change), `broadening` (replacements, removals, data loss, widened IAM or network
  access, interrupted traffic) or `never`; `--yes` gives that yes in advance;
* with no terminal to ask on and no `--yes`, the command stops before doing anything (exit 4).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from paycompile.changes.model import Action, Change, Risk
from paycompile.errors import ChangeRefused

Ask = Callable[[str], bool]


class RequireApproval(StrEnum):
    NEVER = "never"
    BROADENING = "broadening"
    ANY = "any"


@dataclass(frozen=True)
class Guard:
    """What the person running the command has approved in advance, and how to ask them."""

    yes: bool = False
    allow_data_loss: bool = False
    require_approval: RequireApproval = RequireApproval.ANY
    # Asks a yes/no question; None when there is no terminal to ask on.
    ask: Ask | None = None


def authorise(changes: Sequence[Change], guard: Guard, what: str = "apply these changes") -> None:
    """Return if `changes` may be applied; raise ChangeRefused (exit 4) with the reason if not."""
    blocked = [c.logical_id for c in changes if Risk.BLOCKED in c.risks]
    if blocked:
        raise ChangeRefused(
            f"refused: AWS cannot apply the change to {', '.join(blocked)} "
            "(replacement of a resource with a fixed name); nothing was changed"
        )
    lost = [c.logical_id for c in changes if c.loses_data]
    if lost and not guard.allow_data_loss:
        raise ChangeRefused(
            f"refused: this would destroy the data of {', '.join(lost)}; "
            "pass --allow-data-loss if that is intended; nothing was changed"
        )
    if not needs_approval(changes, guard.require_approval) or guard.yes:
        return
    if guard.ask is None:
        raise ChangeRefused(
            "not confirmed: there is no terminal to ask on; pass --yes to approve "
            "(or --require-approval never); nothing was changed"
        )
    if not guard.ask(f"Do you want to {what}?"):
        raise ChangeRefused("not confirmed; nothing was changed")


def needs_approval(changes: Sequence[Change], level: RequireApproval) -> bool:
    if not changes or level is RequireApproval.NEVER:
        return False
    if level is RequireApproval.ANY:
        return True
    return any(_broadening(change) for change in changes)


def _broadening(change: Change) -> bool:
    removes = change.action is Action.REMOVE and not change.kept
    return bool(change.risks) or change.action is Action.REPLACE or removes


def terminal_ask() -> Ask | None:
    """A yes/no question on the terminal, or None when stdin or stderr is not one."""
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        return None

    def ask(question: str) -> bool:
        sys.stderr.write(f"{question} [y/N] ")
        sys.stderr.flush()
        answer = sys.stdin.readline()
        return answer.strip().lower() in ("y", "yes")

    return ask
