"""Listener-rule conflicts between services: shared routes, equal priorities, overlapping patterns.

An ALB evaluates a listener's rules in priority order and forwards to the first whose condition
matches. Two rules of the same kind (path or host) whose patterns can match one request are
ordered only by their priorities, so paycompile asks for explicit priorities on both: a default
priority is stable but arbitrary. Whether two patterns can match one request is decided exactly,
by intersecting them as small automata (ALB wildcards: `*` any run of characters, `?` one).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from itertools import combinations
from typing import TYPE_CHECKING

from paycompile.spec.base import Problem, policy_error

if TYPE_CHECKING:
    from paycompile.spec.service import Service

WILDCARDS = "*?"


def patterns_overlap(first: str, second: str) -> bool:
    """Whether some string matches both wildcard patterns.

    A search over pairs of positions (i, j), one per pattern: a `*` may match nothing more
    (advance its side alone) or one more character (stay), and two positions may consume one
    character together when some character matches both.
    """
    start = (0, 0)
    seen, pending = {start}, [start]
    while pending:
        i, j = pending.pop()
        if i == len(first) and j == len(second):
            return True
        for step in _steps(first, second, i, j):
            if step not in seen:
                seen.add(step)
                pending.append(step)
    return False


def _steps(first: str, second: str, i: int, j: int) -> Iterator[tuple[int, int]]:
    here = first[i] if i < len(first) else None
    there = second[j] if j < len(second) else None
    if here == "*":
        yield i + 1, j
    if there == "*":
        yield i, j + 1
    if here is not None and there is not None and _one_char_matches_both(here, there):
        yield (i if here == "*" else i + 1), (j if there == "*" else j + 1)


def _overlap(kind: str, pattern: str, other: str) -> bool:
    # ALB matches host names case-insensitively and paths case-sensitively.
    if kind == "host":
        return patterns_overlap(pattern.lower(), other.lower())
    return patterns_overlap(pattern, other)


def _one_char_matches_both(here: str, there: str) -> bool:
    return here in WILDCARDS or there in WILDCARDS or here == there


def route_conflicts(services: Sequence[Service]) -> list[Problem]:
    """Every pair of routed services the listener could not keep apart (PAY-SPEC-001)."""
    routed = [(index, service) for index, service in enumerate(services) if service.route]
    conflicts: list[Problem] = []
    for (_, first), (index, second) in combinations(routed, 2):
        conflict = _conflict(first, second)
        if conflict:
            error = policy_error("PAY-SPEC-001", conflict)
            conflicts.append(((index, "route"), error, second.route))
    return conflicts


def _conflict(first: Service, second: Service) -> str | None:
    assert first.route is not None and second.route is not None
    names = f"services {first.name!r} and {second.name!r}"
    if first.rule_priority == second.rule_priority:
        return (
            f"{names} both have listener-rule priority {first.rule_priority}; "
            "set route.priority on one of them to a free value"
        )
    (kind, pattern), (other_kind, other) = first.route.key, second.route.key
    if kind != other_kind or not _overlap(kind, pattern, other):
        return None
    if first.route.priority is not None and second.route.priority is not None:
        return None
    return (
        f"the {kind} patterns {pattern!r} of {first.name!r} and {other!r} of {second.name!r} "
        "can match the same request; set route.priority on both to say which wins"
    )
