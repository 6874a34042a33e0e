"""The rule registry: each invariant is a small registered check (like cfn-lint's rules).

Each rule has a stable id, a one-line statement, the failures (F1..F19 of
docs/failures.md) it prevents and the PCI DSS v4.0 requirements it serves. A rule's
check reads only the graph and returns one message per violation.

Checks never trust that the compiler did the right thing: they look at node props, follow
references themselves and treat a dangling or mistyped reference as a violation. A check
must not raise on a damaged graph (a missing prop, a Ref to a node that is gone), because
`compile_spec` runs them on whatever the compiler produced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from paycompile.compiler.graph import Graph

Check = Callable[[Graph], list[str]]


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    seed_failures: tuple[str, ...]
    pci_dss: tuple[str, ...]
    check: Check


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str, statement: str, seed: tuple[str, ...], pci: tuple[str, ...]
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        assert rule_id not in RULES, f"rule {rule_id} registered twice"
        RULES[rule_id] = Rule(rule_id, statement, seed, pci, check)
        return check

    return register


def violations(graph: Graph) -> list[str]:
    """Every violation of every rule, as `RULE-ID: message`, in rule order."""
    return [
        f"{rule_id}: {message}" for rule_id, found in run_rules(graph).items() for message in found
    ]


def run_rules(graph: Graph) -> dict[str, list[str]]:
    """Rule id -> its violations (empty when the rule holds), for every registered rule."""
    return {rule_id: registered.check(graph) for rule_id, registered in RULES.items()}
