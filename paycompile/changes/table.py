"""Change lists as text for people: one row per resource, flagged where it needs a look."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from paycompile.changes.model import Action, Change

_ORDER = (Action.ADD, Action.IN_PLACE, Action.REPLACE, Action.REMOVE)
_HEADER = ("ACTION", "RESOURCE", "TYPE", "FLAGS")


def flags(change: Change) -> str:
    found = sorted(str(risk) for risk in change.risks)
    if change.action is Action.REMOVE and change.kept:
        found.insert(0, "kept")
    return ", ".join(found) or "-"


def change_table(changes: Sequence[Change]) -> str:
    """An aligned text table and a one-line count; 'no changes' when there are none."""
    if not changes:
        return "no changes\n"
    rows = [_HEADER] + [(str(c.action), c.logical_id, c.resource_type, flags(c)) for c in changes]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_HEADER) - 1)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
        + "  "
        + row[-1]
        for row in rows
    ]
    reasons = [f"  {c.logical_id}: {reason}" for c in changes for reason in c.reasons]
    return "\n".join([*lines, *reasons, summary(changes)]) + "\n"


def summary(changes: Sequence[Change]) -> str:
    counts = Counter(change.action for change in changes)
    parts = [f"{counts[action]} {action}" for action in _ORDER]
    lost = [c.logical_id for c in changes if c.loses_data]
    kept = [c.logical_id for c in changes if c.action is Action.REMOVE and c.kept]
    line = "changes: " + ", ".join(parts)
    if kept:
        line += f"; kept in the account: {', '.join(kept)}"
    if lost:
        line += f"; DATA LOST: {', '.join(lost)}"
    return line
