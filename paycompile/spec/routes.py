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
    """Every pair of routed services the listener could not keep apart (PAY-SPEC-001), in the
    order of the pairs (first, second) by position."""
    routed = [(index, service) for index, service in enumerate(services) if service.route]
    conflicts: list[Problem] = []
    for first, second in sorted(_candidate_pairs(routed)):
        conflict = _conflict(services[first], services[second])
        if conflict:
            error = policy_error("PAY-SPEC-001", conflict)
            conflicts.append(((second, "route"), error, services[second].route))
    return conflicts


def _candidate_pairs(routed: Sequence[tuple[int, Service]]) -> set[tuple[int, int]]:
    """The pairs of positions that can conflict: those sharing a priority, and those of one
    kind whose literal prefixes (the text before the first wildcard) are compatible.

    Two patterns that match one request both match it from its first character, so the
    literal prefix of one is a prefix of the other's; every other pair is apart without
    running the automaton. Sorting the prefixes finds the compatible pairs without looking at
    all of them, so 200 services on distinct paths cost 200 steps, not 19,900 intersections.
    """
    pairs: set[tuple[int, int]] = set()
    by_priority: dict[int, list[int]] = {}
    by_kind: dict[str, list[tuple[str, int]]] = {}
    for index, service in routed:
        assert service.route is not None
        by_priority.setdefault(service.rule_priority, []).append(index)
        kind, pattern = service.route.key
        by_kind.setdefault(kind, []).append((_literal_prefix(kind, pattern), index))
    for same in by_priority.values():
        pairs.update(combinations(same, 2))
    for prefixes in by_kind.values():
        prefixes.sort()
        for position, (prefix, index) in enumerate(prefixes):
            # Sorted, every prefix that starts with `prefix` follows it, one after another.
            for longer, other in prefixes[position + 1 :]:
                if not longer.startswith(prefix):
                    break
                pairs.add((min(index, other), max(index, other)))
    return pairs


def _literal_prefix(kind: str, pattern: str) -> str:
    text = pattern.lower() if kind == "host" else pattern  # as _overlap compares them
    cut = min((at for at in map(text.find, WILDCARDS) if at >= 0), default=len(text))
    return text[:cut]


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
