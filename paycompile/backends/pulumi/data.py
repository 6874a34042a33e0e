"""Pulumi resources of the data area: Aurora, its generated secret and its rotation.

The generated password reaches AWS exactly once: the cluster's `master_password_wo` and the
secret's `secret_string_wo` are write-only inputs that Pulumi never diffs, sent again only when
their `*_wo_version` changes. So no later `up` (a new key in the secret's JSON, a new password
policy, a replaced RandomPassword) writes over a password that rotation has since changed.
"""

from __future__ import annotations

from typing import Any, cast

import pulumi

from paycompile.backends.pulumi.lifecycle import helper_options
from paycompile.backends.pulumi.sdk import aws, random
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Kind, Node

# The version of the write-only password inputs. Raising it sends the generated password to AWS
# again, over whatever rotation has set since: never raise it on a platform that exists.
WRITE_ONCE = 1
# The key under which a secret's node registers its RandomPassword for the cluster and version.
GENERATED_PASSWORD = "generated-password"
# Bytes of randomness in the final snapshot's name suffix, created once with the cluster.
SNAPSHOT_SUFFIX_BYTES = 4


def _db_subnet_group(node: Node, t: Translator) -> Registered:
    group = aws.rds.SubnetGroup(
        node.logical_id,
        name=node.name,
        description=node.props["description"],
        subnet_ids=t(node.props["subnets"]),
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(group)


def _db_parameter_group(node: Node, t: Translator) -> Registered:
    props = node.props
    # No fixed name, as in CloudFormation: a family change replaces the group create-first while
    # the cluster still uses the old one. The Name tag keeps the intended name.
    group = aws.rds.ClusterParameterGroup(
        node.logical_id,
        family=props["family"],
        description=props["description"],
        parameters=[{"name": k, "value": v} for k, v in props["parameters"].items()],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(group)


def _password(t: Translator, secret: Node) -> random.RandomPassword:
    password = t.helper(secret.logical_id, GENERATED_PASSWORD)
    assert isinstance(password, random.RandomPassword)
    return password


def _final_snapshot(node: Node) -> pulumi.Output[str] | None:
    """`<prefix>-<8 hex>`, the suffix drawn once with the cluster: a platform deleted, created
    again and deleted again does not clash with its first final snapshot."""
    prefix = node.props["final_snapshot_prefix"]
    if prefix is None:
        return None
    suffix = random.RandomId(
        f"{node.logical_id}FinalSnapshotSuffix",
        byte_length=SNAPSHOT_SUFFIX_BYTES,
        keepers={"cluster": node.name},
        opts=helper_options(node),
    )
    return pulumi.Output.concat(prefix, "-", suffix.hex)


def _db_cluster(node: Node, t: Translator) -> Registered:
    props = node.props
    secret = t.graph.resolve(props["master_secret"])
    final_snapshot = _final_snapshot(node)
    cluster = aws.rds.Cluster(
        node.logical_id,
        cluster_identifier=node.name,
        engine=props["engine"],
        engine_version=props["engine_version"],
        engine_mode=props["engine_mode"],
        serverlessv2_scaling_configuration={
            "min_capacity": props["min_capacity"],
            "max_capacity": props["max_capacity"],
        },
        database_name=props["database_name"],
        port=props["port"],
        db_subnet_group_name=t(props["subnet_group"]),
        db_cluster_parameter_group_name=t(props["parameter_group"]),
        vpc_security_group_ids=t(props["security_groups"]),
        storage_encrypted=props["storage_encrypted"],
        kms_key_id=t(props["kms_key"]),
        # The generated password, never a literal; the secret holds the same value. Written once.
        master_username=secret.props["username"],
        master_password_wo=_password(t, secret).result,
        master_password_wo_version=WRITE_ONCE,
        deletion_protection=props["deletion_protection"],
        skip_final_snapshot=final_snapshot is None,
        final_snapshot_identifier=final_snapshot,
        apply_immediately=props["apply_immediately"],
        backup_retention_period=props["backup_retention_days"],
        enabled_cloudwatch_logs_exports=props["log_exports"],
        iam_database_authentication_enabled=props["iam_auth"],
        copy_tags_to_snapshot=props["copy_tags_to_snapshot"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(cluster)


def _db_instance(node: Node, t: Translator) -> Registered:
    props = node.props
    instance = aws.rds.ClusterInstance(
        node.logical_id,
        identifier=node.name,
        cluster_identifier=t(props["cluster"]),
        instance_class=props["instance_class"],
        engine=props["engine"],
        publicly_accessible=props["publicly_accessible"],
        performance_insights_enabled=props["performance_insights"],
        performance_insights_kms_key_id=t(props["performance_insights_kms_key"]),
        auto_minor_version_upgrade=props["auto_minor_version_upgrade"],
        monitoring_interval=props["monitoring_interval"],
        monitoring_role_arn=t(props["monitoring_role"]),
        apply_immediately=props["apply_immediately"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(instance)


def _secret(node: Node, t: Translator) -> Registered:
    props = node.props
    password = random.RandomPassword(
        f"{node.logical_id}Password",
        length=props["password_length"],
        special=True,
        override_special=props["password_punctuation"],
        opts=helper_options(node),
    )
    secret = aws.secretsmanager.Secret(
        node.logical_id,
        name=node.name,
        description=props["description"],
        kms_key_id=t(props["kms_key"]),
        recovery_window_in_days=props["recovery_window_days"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(secret, {GENERATED_PASSWORD: password})


def _secret_attachment(node: Node, t: Translator) -> Registered:
    """The secret's first value: the credentials and where to reach the database, written once,
    and again only with a new cluster (which is created with the generated password)."""
    props = node.props
    secret = t.graph.resolve(props["secret"])
    value: dict[str, Any] = {
        "username": secret.props["username"],
        secret.props["password_field"]: _password(t, secret).result,
        **t(props["connection"]),
    }
    cluster = t.registered[props["cluster"].target].main
    version = aws.secretsmanager.SecretVersion(
        node.logical_id,
        secret_id=t(props["secret"]),
        secret_string_wo=pulumi.Output.secret(cast(Any, pulumi.Output.json_dumps(value))),
        secret_string_wo_version=WRITE_ONCE,
        # A new cluster starts with the generated password: the secret must say so again too.
        opts=options(node, t, replace_with=[cluster]),
    )
    return Registered(version)


def _joined(values: list[Any]) -> pulumi.Output[str]:
    return pulumi.Output.all(*values).apply(",".join)


def _secret_rotation(node: Node, t: Translator) -> Registered:
    props = node.props
    application = props["application"]
    function = aws.serverlessrepository.CloudFormationStack(
        f"{node.logical_id}Function",
        name=node.name,
        application_id=application["id"],
        semantic_version=application["version"],
        capabilities=application["capabilities"],
        parameters={
            "endpoint": t(props["endpoint"]),
            "functionName": node.name,
            "vpcSubnetIds": _joined(t(props["subnets"])),
            "vpcSecurityGroupIds": _joined(t(props["security_groups"])),
            "kmsKeyArn": t(props["kms_key"]),
            "excludeCharacters": props["exclude_characters"],
        },
        tags={**t.graph.tags, "Name": node.name},
        opts=helper_options(node),
    )
    output = application["function_output"]
    rotation = aws.secretsmanager.SecretRotation(
        node.logical_id,
        secret_id=t(props["secret"]),
        rotation_lambda_arn=function.outputs.apply(lambda outputs: outputs[output]),
        rotation_rules={"automatically_after_days": props["days"]},
        opts=options(node, t),
    )
    return Registered(rotation, {"function": function})


RESOURCES: dict[Kind, Emit] = {
    Kind.DB_SUBNET_GROUP: _db_subnet_group,
    Kind.DB_CLUSTER_PARAMETER_GROUP: _db_parameter_group,
    Kind.DB_CLUSTER: _db_cluster,
    Kind.DB_INSTANCE: _db_instance,
    Kind.SECRET: _secret,
    Kind.SECRET_ATTACHMENT: _secret_attachment,
    Kind.SECRET_ROTATION: _secret_rotation,
}
