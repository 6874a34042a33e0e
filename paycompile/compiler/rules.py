"""The invariants of a compiled platform, as small registered rules (like cfn-lint's).

Each rule has a stable id, a one-line statement, the seed failures (F1..F19 of
seed/model-failures.md) it prevents and the PCI DSS v4.0 requirements it serves. A rule's
check reads only the graph and returns one message per violation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from paycompile.compiler.graph import Graph, Kind
from paycompile.spec import policy

Check = Callable[[Graph], list[str]]


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    seed_failures: tuple[str, ...]
    pci_dss: tuple[str, ...]
    check: Check


RULES: dict[str, Rule] = {}


def rule(rule_id: str, statement: str, seed: tuple[str, ...], pci: tuple[str, ...]) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        assert rule_id not in RULES, f"rule {rule_id} registered twice"
        RULES[rule_id] = Rule(rule_id, statement, seed, pci, check)
        return check

    return register


def violations(graph: Graph) -> list[str]:
    """Every violation of every rule, as `RULE-ID: message`, in rule order."""
    return [f"{rule_id}: {message}" for rule_id, found in run_rules(graph).items() for message in found]


def run_rules(graph: Graph) -> dict[str, list[str]]:
    """Rule id -> its violations (empty when the rule holds), for every registered rule."""
    return {rule_id: registered.check(graph) for rule_id, registered in RULES.items()}


@rule(
    "PAY-NET-001",
    "Exactly 3 availability zones, each with one public and one private subnet; no CIDRs overlap.",
    ("F1",),
    ("12.10.1", "1.4.1"),
)
def three_zones(graph: Graph) -> list[str]:
    import ipaddress

    subnets = graph.of_kind(Kind.SUBNET)
    problems = []
    for public in (True, False):
        zones = sorted(node.props["zone_index"] for node in subnets if node.props["public"] is public)
        if zones != list(range(policy.REQUIRED_AVAILABILITY_ZONES)):
            problems.append(f"{'public' if public else 'private'} subnets cover zones {zones}, want 0..2 once each")
    networks = [ipaddress.IPv4Network(node.props["cidr"]) for node in subnets]
    vpcs = [ipaddress.IPv4Network(node.props["cidr"]) for node in graph.of_kind(Kind.VPC)]
    for index, first in enumerate(networks):
        problems += [f"subnets {first} and {other} overlap" for other in networks[index + 1 :] if first.overlaps(other)]
        problems += [f"subnet {first} lies outside the VPC" for vpc in vpcs if not first.subnet_of(vpc)]
    return problems
