"""Data rules: Aurora Serverless v2, encryption, lifecycle, the generated secret, rotation."""

from __future__ import annotations

from typing import Any

from paycompile.compiler.graph import Concat, Graph, Kind
from paycompile.compiler.iam_policies import policies_by_role, role_statements
from paycompile.compiler.rules.helpers import (
    HOSTED_MYSQL_ROTATIONS,
    as_dict,
    as_list,
    kms_encrypted,
    leaves,
    node_at,
)
from paycompile.compiler.rules.registry import rule
from paycompile.scan import is_secret_name, secret_shape
from paycompile.spec import policy


@rule(
    "PAY-DB-001",
    "The database is Aurora MySQL Serverless v2: aurora-mysql, ACU scaling, db.serverless.",
    ("F4",),
    ("2.2.1", "12.10.1"),
)
def aurora_serverless_v2(graph: Graph) -> list[str]:
    low, high = policy.SERVERLESS_V2_CAPACITY_RANGE
    clusters = graph.of_kind(Kind.DB_CLUSTER)
    problems = [] if clusters else ["no Aurora cluster"]
    for cluster in clusters:
        props = cluster.props
        least, most = props.get("min_capacity"), props.get("max_capacity")
        if props.get("engine") != "aurora-mysql":
            problems.append(
                f"{cluster.logical_id}: engine {props.get('engine')!r}, want aurora-mysql"
            )
        if props.get("engine_mode", "provisioned") != "provisioned":
            problems.append(
                f"{cluster.logical_id}: Serverless v2 needs the provisioned engine mode"
            )
        if not (
            isinstance(least, int | float)
            and isinstance(most, int | float)
            and low <= least <= most <= high
        ):
            problems.append(f"{cluster.logical_id}: capacity {least}..{most} ACU is not v2 scaling")
    members: set[str] = set()
    for instance in graph.of_kind(Kind.DB_INSTANCE):
        cluster_node = node_at(graph, instance.props.get("cluster"), Kind.DB_CLUSTER)
        if cluster_node is None:
            problems.append(f"{instance.logical_id} is a standalone instance, not in the cluster")
        else:
            members.add(cluster_node.logical_id)
        if instance.props.get("instance_class") != "db.serverless":
            problems.append(f"{instance.logical_id}: class must be db.serverless")
    problems += [f"{c.logical_id} has no instance" for c in clusters if c.logical_id not in members]
    return problems


@rule(
    "PAY-DB-002",
    "Database storage is encrypted with a customer KMS key; no instance is publicly accessible.",
    (),
    ("3.5.1", "3.6.1", "1.4.4"),
)
def databasekms_encrypted(graph: Graph) -> list[str]:
    problems = [
        f"{cluster.logical_id} must encrypt storage with a customer KMS key of the graph"
        for cluster in graph.of_kind(Kind.DB_CLUSTER)
        if cluster.props.get("storage_encrypted") is not True or not kms_encrypted(graph, cluster)
    ]
    problems += [
        f"{instance.logical_id} must not be publicly accessible"
        for instance in graph.of_kind(Kind.DB_INSTANCE)
        if instance.props.get("publicly_accessible") is not False
    ]
    return problems


@rule(
    "PAY-DB-003",
    "Lifecycle honoured: retained keeps a final snapshot and deletion protection; "
    "ephemeral deletes cleanly.",
    ("F5",),
    ("3.2.1", "12.10.1"),
)
def database_lifecycle(graph: Graph) -> list[str]:
    retained = graph.lifecycle == "retained"
    want = {
        "deletion": "snapshot" if retained else "delete",
        "deletion_protection": retained,
    }
    problems = []
    for cluster in graph.of_kind(Kind.DB_CLUSTER):
        have = {
            "deletion": cluster.deletion,
            "deletion_protection": cluster.props.get("deletion_protection"),
        }
        problems += [
            f"{cluster.logical_id}: {key} is {have[key]!r}, {graph.lifecycle} wants {value!r}"
            for key, value in want.items()
            if have[key] != value
        ]
    return problems


def _literal(value: Any) -> bool:
    """A hand-written scalar, as opposed to a reference or a resolve-at-deploy string."""
    if isinstance(value, str):
        text = value.strip()
        return bool(text) and not text.startswith(("arn:", "{{resolve:"))
    return isinstance(value, int | float) and not isinstance(value, bool)


@rule(
    "PAY-SEC-003",
    "The master password is generated into a KMS-encrypted Secret the cluster uses; "
    "no literal credential anywhere.",
    ("F3", "F6"),
    ("8.3.2", "8.6.2"),
)
def generated_secret(graph: Graph) -> list[str]:
    problems = []
    for cluster in graph.of_kind(Kind.DB_CLUSTER):
        secret = node_at(graph, cluster.props.get("master_secret"), Kind.SECRET)
        if secret is None:
            problems.append(f"{cluster.logical_id} does not take its password from a Secret")
        elif not isinstance(secret.props.get("password_length"), int):
            problems.append(f"{secret.logical_id} does not generate the password")
        elif not kms_encrypted(graph, secret):
            problems.append(f"{secret.logical_id} is not encrypted with a customer KMS key")
    for node in graph:
        values = [*leaves(node.props), *node.tags.items()]
        for key, value in values:
            if isinstance(value, str) and secret_shape(value):
                problems.append(f"{node.logical_id}.{key}: looks like a {secret_shape(value)}")
            elif key and is_secret_name(key) and _literal(value):
                problems.append(f"{node.logical_id}.{key}: literal value for a secret-looking name")
    for output in graph.outputs:
        problems += [
            f"output {output.name}: looks like a credential"
            for _, value in leaves(output.value)
            if isinstance(value, str) and secret_shape(value)
        ]
    return problems


@rule(
    "PAY-SEC-004",
    "Every secret rotates at least every 30 days by a hosted rotation function, no made-up Lambda.",
    ("F7",),
    ("8.6.3", "3.6.1"),
)
def secret_rotation(graph: Graph) -> list[str]:
    rotations = graph.of_kind(Kind.SECRET_ROTATION)
    problems = []
    for secret in graph.of_kind(Kind.SECRET):
        count = sum(
            1 for r in rotations if node_at(graph, r.props.get("secret"), Kind.SECRET) is secret
        )
        if count != 1:
            problems.append(f"{secret.logical_id} has {count} rotation schedules, want 1")
    for rotation in rotations:
        days = rotation.props.get("days")
        if not (isinstance(days, int) and 1 <= days <= policy.MAX_SECRET_ROTATION_DAYS):
            problems.append(f"{rotation.logical_id}: every {days!r} days, want 1..30")
        if rotation.props.get("rotation") not in HOSTED_MYSQL_ROTATIONS:
            problems.append(f"{rotation.logical_id}: not a hosted MySQL rotation")
        # There is no Lambda node kind: any Lambda ARN here names a function nobody deployed.
        problems += [
            f"{rotation.logical_id}.{key}: names a Lambda function the stack does not create"
            for key, value in leaves(rotation.props)
            if isinstance(value, str) and (":lambda:" in value or ":function:" in value)
        ]
    return problems


# Every log Aurora MySQL publishes, with the cluster parameter that makes it write anything.
MYSQL_LOG_SWITCHES = {
    "audit": ("server_audit_logging", "1"),
    "error": None,  # always written
    "general": ("general_log", "1"),
    "slowquery": ("slow_query_log", "1"),
}
# Advanced Auditing events that must be logged: logins, grants, schema changes and every DML
# statement, SELECT included.
REQUIRED_AUDIT_EVENTS = frozenset({"CONNECT", "QUERY_DCL", "QUERY_DDL", "QUERY_DML"})


@rule(
    "PAY-DB-004",
    "The cluster exports its audit, error, general and slow query logs, and its parameter group "
    "switches each on; audit events include every DML statement, reads included.",
    (),
    ("10.2.1", "10.2.1.1", "10.2.1.2"),
)
def database_logs(graph: Graph) -> list[str]:
    problems = []
    for cluster in graph.of_kind(Kind.DB_CLUSTER):
        exports = set(as_list(cluster.props.get("log_exports") or []))
        problems += [
            f"{cluster.logical_id} does not export its {kind} log"
            for kind in sorted(set(MYSQL_LOG_SWITCHES) - exports)
        ]
        group = node_at(
            graph, cluster.props.get("parameter_group"), Kind.DB_CLUSTER_PARAMETER_GROUP
        )
        parameters = as_dict(group.props.get("parameters")) if group else {}
        for kind, switch in sorted(MYSQL_LOG_SWITCHES.items()):
            if switch and parameters.get(switch[0]) != switch[1]:
                problems.append(
                    f"{cluster.logical_id}: {switch[0]} is not {switch[1]} ({kind} log)"
                )
        events = {e.strip() for e in str(parameters.get("server_audit_events", "")).split(",")}
        missing = sorted(REQUIRED_AUDIT_EVENTS - events)
        if missing:
            problems.append(f"{cluster.logical_id}: audit events lack {', '.join(missing)}")
    return problems


@rule(
    "PAY-SEC-006",
    "Every KMS key policy denies kms:CreateGrant unless the grant is for an AWS resource or the "
    "caller an AWS service.",
    (),
    ("3.6.1", "7.2.1"),
)
def key_grants(graph: Graph) -> list[str]:
    return [
        f"{key.logical_id}: its policy lets any principal it allows create grants"
        for key in graph.of_kind(Kind.KMS_KEY)
        if not any(
            _limits_grants(s) for s in as_list(as_dict(key.props.get("policy")).get("Statement"))
        )
    ]


def _limits_grants(statement: Any) -> bool:
    """A Deny of kms:CreateGrant to everyone on the key unless both AWS conditions hold."""
    if not isinstance(statement, dict):
        return False
    condition = as_dict(as_dict(statement.get("Condition")).get("BoolIfExists"))
    return (
        statement.get("Effect") == "Deny"
        and as_list(statement.get("Action")) == ["kms:CreateGrant"]
        and statement.get("Principal") in ("*", {"AWS": "*"})
        and statement.get("Resource") == "*"
        and condition.get("kms:GrantIsForAWSResource") == "false"
        and condition.get("aws:PrincipalIsAWSService") == "false"
    )


@rule(
    "PAY-SEC-007",
    "A service's own secrets reach its container only through ECS secrets; its execution role "
    "reads exactly those secrets and decrypts only via Secrets Manager. Their owner creates and "
    "rotates them (paycompile rotates what it creates).",
    (),
    ("3.6.1", "7.2.1", "7.2.2", "8.3.2"),
)
def service_secrets(graph: Graph) -> list[str]:
    problems = []
    attached = policies_by_role(graph)
    for task in graph.of_kind(Kind.TASK_DEFINITION):
        injected = as_dict(task.props.get("secrets"))
        role = node_at(graph, task.props.get("execution_role"), Kind.IAM_ROLE)
        statements = [as_dict(s) for s in role_statements(graph, role, attached)] if role else []
        readable = [
            resource
            for s in statements
            if "secretsmanager:GetSecretValue" in as_list(s.get("Action"))
            for resource in as_list(s.get("Resource"))
        ]
        wanted = [_read_pattern(value) for value in injected.values()]
        if sorted(map(repr, readable)) != sorted(set(map(repr, wanted))):
            problems.append(
                f"{task.logical_id}: its execution role reads {len(readable)} secrets, "
                f"the container is given {len(set(map(repr, wanted)))}"
            )
        problems += [
            f"{task.logical_id}: {s.get('Sid')} decrypts outside Secrets Manager"
            for s in statements
            if "kms:Decrypt" in as_list(s.get("Action"))
            and "kms:ViaService" not in as_dict(as_dict(s.get("Condition")).get("StringEquals"))
        ]
    return problems


def _read_pattern(value_from: Any) -> Any:
    """The IAM resource that reads the secret a valueFrom names: the ARN without a JSON key's
    `:<key>::` tail, and a partial ARN (a name) with the `-??????` suffix wildcard."""
    if isinstance(value_from, Concat):
        *head, last = value_from.parts
        return Concat((*head, _without_key(str(last)) + "-??????"))
    return _without_key(str(value_from))


def _without_key(arn: str) -> str:
    return arn[: -len("::")].rsplit(":", 1)[0] if arn.endswith("::") else arn
