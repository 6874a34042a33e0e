"""The registry of evidence: for each rule, which resources carry it and which of their
properties prove it, as data read from the compiled graph.

The rules themselves (paycompile/compiler/rules/) stay as they are: this registry sits next to
them, one entry per rule id, and tests/test_report.py fails when a rule has no entry, when an
entry names a rule that does not exist, or when it names a property no node of the reference
graph has (so a renamed property cannot leave the report showing "not set").

A property is named by a path into the node's props: `a.b` reads key `b` of `a`; `*` maps over
every item of a list or every value of a mapping (keeping the keys). Structures serialised to
JSON (a dashboard body, a state machine definition) are read as the structures they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from paycompile.compiler.graph import TAGGABLE, Graph, Json, Kind, Node, Ref
from paycompile.report.values import NOT_SET

EVERY_KIND = tuple(Kind)


@dataclass(frozen=True)
class NodeEvidence:
    """The nodes of `kinds` (only those a `via` node refers to, when given) and what proves it."""

    kinds: tuple[Kind, ...]
    props: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    deletion: bool = False  # show what happens to the resource when the stack goes
    via: tuple[Kind, str] | None = None  # (kind, prop): only nodes such a node's prop names


@dataclass(frozen=True)
class OutputEvidence:
    """The stack outputs: name, value and export name."""


Evidence = NodeEvidence | OutputEvidence


def _of(*kinds: Kind, **details: Any) -> NodeEvidence:
    return NodeEvidence(kinds, **details)


EVIDENCE: dict[str, tuple[Evidence, ...]] = {
    "PAY-NET-001": (
        _of(Kind.VPC, props=("cidr",)),
        _of(Kind.SUBNET, props=("public", "zone_index", "cidr")),
    ),
    "PAY-NET-002": (
        _of(Kind.NAT_GATEWAY, props=("subnet",)),
        _of(Kind.ROUTE_TABLE, props=("subnets", "default_route")),
    ),
    "PAY-NET-003": (
        _of(Kind.VPC, props=("flow_logs",)),
        _of(Kind.FLOW_LOG, props=("vpc", "traffic", "log_group", "role")),
        _of(Kind.LOG_GROUP, props=("kms_key",), via=(Kind.FLOW_LOG, "log_group")),
    ),
    "PAY-NET-004": (
        _of(
            Kind.SECURITY_GROUP,
            props=("egress", "https_anywhere"),
            via=(Kind.ECS_SERVICE, "security_groups"),
        ),
        _of(
            Kind.VPC_ENDPOINT,
            props=(
                "service_name",
                "type",
                "private_dns",
                "subnets",
                "security_groups",
                "route_tables",
            ),
        ),
    ),
    "PAY-NET-005": (
        _of(Kind.PULL_THROUGH_CACHE_RULE, props=("prefix", "upstream_registry_url")),
        _of(Kind.TASK_DEFINITION, props=("image",)),
    ),
    "PAY-WAF-001": (
        _of(
            Kind.WEB_ACL,
            props=("scope", "default_action", "managed_rule_groups", "rate_rule", "visibility"),
        ),
        _of(Kind.WEB_ACL_ASSOCIATION, props=("web_acl", "resource")),
        _of(Kind.WAF_LOGGING, props=("web_acl", "log_group", "redacted_headers")),
        _of(Kind.LOG_GROUP, props=("kms_key",), via=(Kind.WAF_LOGGING, "log_group")),
    ),
    "PAY-TLS-001": (
        _of(Kind.LISTENER, props=("port", "protocol", "certificate_arn", "ssl_policy")),
    ),
    "PAY-TLS-002": (
        _of(Kind.LISTENER, props=("port", "protocol", "default_action")),
        _of(Kind.LISTENER_RULE, props=("listener",)),
    ),
    "PAY-DEP-001": (
        _of(Kind.ECS_SERVICE, props=("service", "color", "target_group", "desired_count")),
        _of(Kind.TARGET_GROUP, props=("service", "color"), tags=("DeploymentColor",)),
        _of(Kind.LISTENER, props=("default_action",)),
        _of(Kind.LISTENER_RULE, props=("action",)),
    ),
    "PAY-SEC-001": (
        _of(Kind.SECURITY_GROUP_INGRESS, props=("group", "peer", "port", "protocol")),
        _of(Kind.LOAD_BALANCER, props=("security_groups",)),
        _of(Kind.ECS_SERVICE, props=("security_groups", "port")),
        _of(Kind.DB_CLUSTER, props=("security_groups",)),
        _of(Kind.SECRET_ROTATION, props=("security_groups",)),
        _of(Kind.VPC_ENDPOINT, props=("security_groups",)),
    ),
    "PAY-SEC-002": (
        _of(Kind.ECS_SERVICE, props=("subnets", "assign_public_ip")),
        _of(Kind.SUBNET, props=("public",), via=(Kind.ECS_SERVICE, "subnets")),
    ),
    "PAY-SEC-005": (
        _of(
            Kind.TASK_DEFINITION,
            props=("user", "read_only_root_filesystem", "memory_limit", "memory"),
        ),
    ),
    "PAY-DB-001": (
        _of(Kind.DB_CLUSTER, props=("engine", "engine_version", "min_capacity", "max_capacity")),
        _of(Kind.DB_INSTANCE, props=("cluster", "instance_class")),
    ),
    "PAY-DB-002": (
        _of(Kind.DB_CLUSTER, props=("storage_encrypted", "kms_key")),
        _of(Kind.DB_INSTANCE, props=("publicly_accessible",)),
    ),
    "PAY-DB-003": (_of(Kind.DB_CLUSTER, props=("deletion_protection",), deletion=True),),
    "PAY-DB-004": (
        _of(Kind.DB_CLUSTER, props=("log_exports", "parameter_group")),
        _of(Kind.DB_CLUSTER_PARAMETER_GROUP, props=("parameters",)),
    ),
    "PAY-SEC-006": (_of(Kind.KMS_KEY, props=("policy.Statement",)),),
    "PAY-SEC-007": (
        _of(Kind.TASK_DEFINITION, props=("execution_role",)),
        _of(Kind.IAM_POLICY, props=("roles", "statements")),
    ),
    "PAY-SEC-003": (
        _of(Kind.DB_CLUSTER, props=("master_secret",)),
        _of(Kind.SECRET, props=("password_length", "kms_key")),
    ),
    "PAY-SEC-004": (_of(Kind.SECRET_ROTATION, props=("secret", "days", "rotation")),),
    "PAY-OPS-001": (
        _of(
            Kind.DASHBOARD,
            props=("body.widgets.*.properties.title", "body.widgets.*.properties.metrics"),
        ),
    ),
    "PAY-OPS-002": (
        _of(Kind.ALARM, props=("namespace", "metric", "dimensions", "threshold", "topic")),
        _of(Kind.SNS_TOPIC, props=("kms_key",)),
    ),
    "PAY-OPS-003": (
        _of(Kind.BACKUP_VAULT, props=("kms_key",)),
        _of(Kind.BACKUP_PLAN, props=("rules",)),
        _of(Kind.BACKUP_SELECTION, props=("plan", "resources", "role")),
    ),
    "PAY-OPS-004": (
        _of(
            Kind.STATE_MACHINE,
            props=(
                "service",
                "role",
                "definition.States.*.Type",
                "definition.States.*.Catch.*.Next",
            ),
        ),
    ),
    "PAY-OPS-005": (_of(Kind.SSM_PARAMETER, props=("parameter_name", "value")),),
    "PAY-OPS-006": (
        _of(Kind.LOG_GROUP, props=("retention_days", "kms_key")),
        _of(Kind.FLOW_LOG, Kind.TASK_DEFINITION, Kind.STATE_MACHINE, props=("log_group",)),
        _of(Kind.DB_CLUSTER, props=("log_exports",)),
    ),
    "PAY-OPS-007": (
        _of(Kind.LOAD_BALANCER, props=("access_logs_bucket",)),
        _of(
            Kind.BUCKET,
            props=("versioning", "eventbridge", "logging", "object_lock", "encryption"),
            deletion=True,
        ),
    ),
    "PAY-GOV-001": (
        _of(
            *sorted(TAGGABLE, key=EVERY_KIND.index),
            tags=("Environment", "CostCenter", "MigrationPhase", "Name"),
        ),
    ),
    "PAY-GOV-002": (
        _of(Kind.IAM_ROLE, props=("managed_policies",)),
        _of(Kind.IAM_POLICY, props=("roles", "statements")),
        _of(Kind.BUCKET_POLICY, props=("statements",)),
        _of(Kind.KMS_KEY, props=("policy.Statement",)),
    ),
    "PAY-GOV-003": (OutputEvidence(),),
    "PAY-GOV-004": (
        _of(*EVERY_KIND),
        _of(Kind.LOAD_BALANCER, Kind.TARGET_GROUP, props=("physical_name",)),
    ),
}


@dataclass(frozen=True)
class EvidenceRow:
    """One resource (or output) and the values that prove the rule on it."""

    resource: str  # logical id, or output name
    kind: str
    name: str  # physical name, or export name
    values: tuple[Any, ...]  # graph values, one per column of its group; NOT_SET where none


@dataclass(frozen=True)
class EvidenceGroup:
    """The resources one evidence source selects, with one column per property it names."""

    columns: tuple[str, ...]
    rows: tuple[EvidenceRow, ...]


def groups(graph: Graph, rule_id: str) -> list[EvidenceGroup]:
    """The evidence of `rule_id` in `graph`, source by source (empty ones left out)."""
    found = [_group(graph, source) for source in EVIDENCE.get(rule_id, ())]
    return [group for group in found if group.rows]


def _group(graph: Graph, source: Evidence) -> EvidenceGroup:
    if isinstance(source, OutputEvidence):
        rows = [
            EvidenceRow(output.name, "Output", output.export, (output.value,))
            for output in graph.outputs
        ]
        return EvidenceGroup(("value",), tuple(rows))
    columns = [*source.props, *(f"tag {tag}" for tag in source.tags)]
    if source.deletion:
        columns.append("on stack delete")
    return EvidenceGroup(
        tuple(columns), tuple(_row(node, source) for node in nodes_of(graph, source))
    )


def nodes_of(graph: Graph, source: NodeEvidence) -> list[Node]:
    chosen = [node for node in graph if node.kind in source.kinds]
    if source.via is None:
        return chosen
    kind, prop = source.via
    named = {ref.target for node in graph.of_kind(kind) for ref in _refs(node.props.get(prop))}
    return [node for node in chosen if node.logical_id in named]


def _refs(value: Any) -> list[Ref]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, list | tuple):
        return [item for item in value if isinstance(item, Ref)]
    return []


def _row(node: Node, source: NodeEvidence) -> EvidenceRow:
    values = [read(node.props, path) for path in source.props]
    values += [node.tags.get(tag, NOT_SET) for tag in source.tags]
    if source.deletion:
        values.append(node.deletion)
    return EvidenceRow(node.logical_id, str(node.kind), node.name, tuple(values))


def read(props: dict[str, Any], path: str) -> Any:
    """The value at `path` in `props` (see the module docstring), NOT_SET where there is none."""
    return _read(props, path.split("."))


def _read(value: Any, segments: list[str]) -> Any:
    if isinstance(value, Json):
        value = value.value
    if not segments:
        return value
    head, rest = segments[0], segments[1:]
    if head == "*":
        if isinstance(value, dict):
            return {
                key: item
                for key, item in ((k, _read(v, rest)) for k, v in value.items())
                if item is not NOT_SET
            }
        if isinstance(value, list | tuple):
            return [item for item in (_read(v, rest) for v in value) if item is not NOT_SET]
        return NOT_SET
    if isinstance(value, dict) and head in value:
        return _read(value[head], rest)
    if isinstance(value, list | tuple) and head.isdigit() and int(head) < len(value):
        return _read(value[int(head)], rest)
    return NOT_SET
