"""A whole comparison as text, Markdown or JSON, and the verdict a PR gate acts on.

The verdict: exit 4 when a change is blocked (AWS would refuse it half-way: nothing to allow)
or loses data without `--allow-data-loss`; 0 otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from paycompile.changes.diff import Comparison, EnvironmentChanges
from paycompile.changes.table import (
    change_json,
    change_table,
    counts_json,
    markdown_table,
    ordered,
)

FORMATS = ("text", "markdown", "json")
REFUSED = 4


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    message: str


def verdict(comparison: Comparison, allow_data_loss: bool) -> Verdict:
    blocked = _where(comparison, lambda env: [c.logical_id for c in env.changes if c.blocked])
    lost = _where(comparison, lambda env: [c.logical_id for c in env.changes if c.loses_data])
    parts = [f"blocked: AWS would refuse the change to {', '.join(blocked)}"] if blocked else []
    if lost:
        allowed = " (allowed by --allow-data-loss)" if allow_data_loss else ""
        parts.append(f"data loss: {', '.join(lost)} would be destroyed{allowed}")
    if lost and not allow_data_loss and not blocked:
        parts[-1] += "; pass --allow-data-loss if that is intended"
    refused = bool(blocked) or (bool(lost) and not allow_data_loss)
    message = "; ".join(parts) or "no blocked change and no data loss"
    return Verdict(REFUSED if refused else 0, message)


def _where(comparison: Comparison, pick: Any) -> list[str]:
    return [
        f"{env.environment}/{logical_id}" if env.environment else logical_id
        for env in comparison.environments
        for logical_id in pick(env)
    ]


def render(comparison: Comparison, output_format: str, result: Verdict) -> str:
    if output_format == "json":
        return _json(comparison, result)
    if output_format == "markdown":
        return _markdown(comparison, result)
    return _text(comparison, result)


def _title(env: EnvironmentChanges) -> str:
    name = env.environment or "templates"
    return f"{name} ({env.note})" if env.note else name


def _text(comparison: Comparison, result: Verdict) -> str:
    parts = [
        f"paycompile diff ({comparison.backend}): {comparison.base.label} -> "
        f"{comparison.head.label}"
    ]
    for env in comparison.environments:
        parts += ["", f"== {_title(env)} ==", change_table(ordered(env.changes)).rstrip("\n")]
    parts += ["", *(f"note: {note}" for note in comparison.notes)]
    parts.append(f"result: {result.message}" + (" (exit 4)" if result.exit_code else ""))
    return "\n".join(part for part in parts if part is not None) + "\n"


def _markdown(comparison: Comparison, result: Verdict) -> str:
    status = "**refused**" if result.exit_code else "ok"
    parts = [
        f"## paycompile diff ({comparison.backend})",
        "",
        f"`{comparison.base.label}` → `{comparison.head.label}`: {status}, {result.message}",
    ]
    for env in comparison.environments:
        parts += ["", f"### {_title(env)}", "", markdown_table(ordered(env.changes)).rstrip("\n")]
    parts += [f"\n> {note}" for note in comparison.notes]
    return "\n".join(parts) + "\n"


def _json(comparison: Comparison, result: Verdict) -> str:
    document = {
        "backend": comparison.backend,
        "base": {"source": comparison.base.label, "form": comparison.base.form},
        "head": {"source": comparison.head.label, "form": comparison.head.form},
        "environments": [
            {
                "environment": env.environment,
                "note": env.note or None,
                "summary": counts_json(env.changes),
                "changes": [change_json(change) for change in ordered(env.changes)],
            }
            for env in comparison.environments
        ],
        "notes": list(comparison.notes),
        "exit_code": result.exit_code,
        "result": result.message,
    }
    return json.dumps(document, indent=2) + "\n"
