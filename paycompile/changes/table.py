"""Change lists for people and programs: text tables, Markdown for PR comments, JSON.

Rows are shown in the order the caller gives (`ordered` puts the risky rows first: blocked,
then data loss, disruptive, widening; then replacements, removals, additions, in-place).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from paycompile.changes.model import RISK_ORDER, Action, Change

_ORDER = (Action.ADD, Action.IN_PLACE, Action.REPLACE, Action.REMOVE)
_SHOWN_ORDER = (Action.REPLACE, Action.REMOVE, Action.ADD, Action.IN_PLACE)
_HEADER = ("ACTION", "RESOURCE", "TYPE", "FLAGS")


def ordered(changes: Sequence[Change]) -> list[Change]:
    """Risky rows first (by their worst risk, then how many), then by action and logical id."""

    def key(change: Change) -> tuple[int, int, int, str]:
        worst = min((RISK_ORDER.index(risk) for risk in change.risks), default=len(RISK_ORDER))
        return worst, -len(change.risks), _SHOWN_ORDER.index(change.action), change.logical_id

    return sorted(changes, key=key)


def flags(change: Change) -> str:
    found = [str(risk) for risk in RISK_ORDER if risk in change.risks]
    if change.kept and change.action in (Action.REMOVE, Action.REPLACE):
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
    blocked = [c.logical_id for c in changes if c.blocked]
    lost = [c.logical_id for c in changes if c.loses_data]
    kept = [c.logical_id for c in changes if c.kept]
    line = "changes: " + ", ".join(parts)
    if blocked:
        line += f"; BLOCKED: {', '.join(blocked)}"
    if kept:
        line += f"; kept in the account: {', '.join(kept)}"
    if lost:
        line += f"; DATA LOST: {', '.join(lost)}"
    return line


def markdown_table(changes: Sequence[Change]) -> str:
    """A Markdown table (for a pull-request comment) and the summary line."""
    if not changes:
        return "No changes.\n"
    lines = ["| action | resource | type | flags | why |", "|---|---|---|---|---|"]
    for change in changes:
        shown = flags(change)
        cells = (
            f"**{change.action}**" if change.risks else str(change.action),
            f"`{change.logical_id}`",
            f"`{change.resource_type}`",
            f"**{shown}**" if change.risks else shown,
            "<br>".join(_cell(reason) for reason in change.reasons) or "",
        )
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", summary(changes)]) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def change_json(change: Change) -> dict[str, Any]:
    return {
        "logical_id": change.logical_id,
        "type": change.resource_type,
        "kind": str(change.kind) if change.kind else None,
        "action": str(change.action),
        "risks": [str(risk) for risk in RISK_ORDER if risk in change.risks],
        "kept": change.kept,
        "properties": list(change.properties),
        "fixed_name": change.fixed_name,
        "reasons": list(change.reasons),
    }


def counts_json(changes: Sequence[Change]) -> dict[str, Any]:
    counts = Counter(change.action for change in changes)
    return {
        **{str(action): counts[action] for action in _ORDER},
        "blocked": [c.logical_id for c in changes if c.blocked],
        "data_loss": [c.logical_id for c in changes if c.loses_data],
        "kept": [c.logical_id for c in changes if c.kept],
    }
