"""Governance rules: tags, least-privilege IAM, outputs, environment in every name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from paycompile.compiler.graph import TAGGABLE, Graph, Kind, Node, Ref
from paycompile.compiler.rules.helpers import (
    as_dict,
    as_list,
)
from paycompile.compiler.rules.registry import rule
from paycompile.compiler.security import UNSCOPABLE_ACTIONS
from paycompile.spec import policy


@rule(
    "PAY-GOV-001",
    "Every taggable resource carries Environment, CostCenter, MigrationPhase and Name.",
    ("F14", "F18"),
    ("12.5.1",),
)
def tags(graph: Graph) -> list[str]:
    problems = []
    for node in graph:
        if node.kind not in TAGGABLE:
            continue
        missing = [tag for tag in policy.REQUIRED_TAGS if not node.tags.get(tag, "").strip()]
        if missing:
            problems.append(f"{node.logical_id} lacks tag(s) {', '.join(missing)}")
        if node.tags.get("Environment") != graph.environment:
            problems.append(f"{node.logical_id}: Environment tag is not {graph.environment!r}")
        if node.tags.get("Name") != node.name:
            problems.append(f"{node.logical_id}: Name tag is not its name {node.name!r}")
    return problems


def _statements(graph: Graph) -> Iterator[tuple[Node, dict[str, Any], bool]]:
    """(owner, statement, is a key policy) for every IAM statement in the graph."""
    for node in graph:
        if node.kind is Kind.KMS_KEY:
            found, key_policy = as_dict(node.props.get("policy")).get("Statement"), True
        elif node.kind in (Kind.IAM_POLICY, Kind.BUCKET_POLICY):
            found, key_policy = node.props.get("statements"), False
        else:
            continue
        for item in as_list(found or []):
            yield node, item if isinstance(item, dict) else {}, key_policy


@rule(
    "PAY-GOV-002",
    "IAM allows no wildcard action; Resource '*' only for actions AWS cannot scope.",
    ("F15",),
    ("7.2.1", "7.2.2", "7.2.5"),
)
def least_privilege(graph: Graph) -> list[str]:
    problems = []
    for node, statement, key_policy in _statements(graph):
        if statement.get("Effect") != "Allow":
            continue  # a Deny with wildcards only narrows access
        where = f"{node.logical_id} {statement.get('Sid', '?')}"
        actions = [str(action) for action in as_list(statement.get("Action"))]
        if {"NotAction", "NotResource"} & set(statement) or statement.get("Principal") in (
            "*",
            {"AWS": "*"},
        ):
            problems.append(f"{where}: NotAction, NotResource or Principal '*' in an Allow")
        problems += [f"{where}: wildcard action {action!r}" for action in actions if "*" in action]
        # In a key policy, Resource "*" means this key only.
        if not key_policy and "*" in as_list(statement.get("Resource")):
            scopable = sorted(set(actions) - set(UNSCOPABLE_ACTIONS))
            if scopable:
                problems.append(f"{where}: Resource '*' for scopable {', '.join(scopable)}")
    return problems


# Attributes another stack may need, per kind: what PAY-GOV-003 expects among the outputs.
EXPORTED: dict[Kind, tuple[str, ...]] = {
    Kind.VPC: ("id",),
    Kind.SUBNET: ("id",),
    Kind.SECURITY_GROUP: ("id",),
    Kind.LOAD_BALANCER: ("arn", "dns_name"),
    Kind.LISTENER: ("arn",),
    Kind.TARGET_GROUP: ("arn",),
    Kind.ECS_CLUSTER: ("arn", "name"),
    Kind.ECS_SERVICE: ("arn",),
    Kind.DB_CLUSTER: ("arn", "endpoint"),
    Kind.SECRET: ("arn",),
    Kind.KMS_KEY: ("arn",),
    Kind.SNS_TOPIC: ("arn",),
    Kind.BACKUP_VAULT: ("arn",),
    Kind.STATE_MACHINE: ("arn",),
}


@rule(
    "PAY-GOV-003",
    "Outputs export every id and ARN another stack may need, as <platform>-<environment>-<name>.",
    ("F17",),
    ("12.5.1",),
)
def outputs(graph: Graph) -> list[str]:
    exported = {output.value for output in graph.outputs if isinstance(output.value, Ref)}
    problems = [
        f"no output for {node.logical_id}.{attribute}"
        for node in graph
        for attribute in EXPORTED.get(node.kind, ())
        if Ref(node.logical_id, attribute) not in exported
    ]
    prefix = f"{graph.platform}-{graph.environment}-"
    problems += [
        f"output {output.name} exports as {output.export!r}, want {prefix}{output.name}"
        for output in graph.outputs
        if output.export != f"{prefix}{output.name}"
    ]
    exports = [output.export for output in graph.outputs]
    problems += [f"export {e!r} is repeated" for e in sorted(set(exports)) if exports.count(e) > 1]
    return problems


def _named_for(name: str, kind: Kind, environment: str) -> bool:
    if name.endswith(f"-{environment}"):
        return True
    # Log groups and parameters are paths: the environment may be a segment of its own.
    segments = name.split("/")
    return kind in (Kind.LOG_GROUP, Kind.SSM_PARAMETER) and any(
        segment == environment or segment.endswith(f"-{environment}") for segment in segments
    )


@rule(
    "PAY-GOV-004",
    "The environment is in every physical name; ELB names over 32 characters go to the backend.",
    ("F19",),
    ("6.5.3",),
)
def environment_names(graph: Graph) -> list[str]:
    if not graph.environment:
        return ["the graph has no environment"]
    problems = [
        f"{node.logical_id}: name {node.name!r} does not carry {graph.environment!r}"
        for node in graph
        if not _named_for(node.name, node.kind, graph.environment)
    ]
    for node in [*graph.of_kind(Kind.LOAD_BALANCER), *graph.of_kind(Kind.TARGET_GROUP)]:
        physical = node.props.get("physical_name")
        if physical is not None and (
            physical != node.name or len(physical) > policy.ELB_NAME_LIMIT
        ):
            problems.append(f"{node.logical_id}: physical name must be its name, <= 32 characters")
    return problems
