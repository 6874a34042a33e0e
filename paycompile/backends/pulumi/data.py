"""Pulumi resources of the data area: Aurora, its generated secret and its rotation."""

from __future__ import annotations

from typing import Any

import pulumi

from paycompile.backends.pulumi.sdk import aws, random
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Kind, Node

# The rotation functions AWS publishes in the Serverless Application Repository, by the
# rotation strategy the graph names. Deployed as a nested stack: never a made-up Lambda ARN.
ROTATION_APPLICATIONS = {
    "MySQLSingleUser": (
        "arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
        "SecretsManagerRDSMySQLRotationSingleUser"
    ),
    "MySQLMultiUser": (
        "arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
        "SecretsManagerRDSMySQLRotationMultiUser"
    ),
}


ROTATION_CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_RESOURCE_POLICY"]


ROTATION_OUTPUT = "RotationLambdaARN"


# random_password's default special characters; the secret's excluded ones are taken out.
RANDOM_SPECIALS = "!@#$%&*()-_=+[]{}<>:?"


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
    group = aws.rds.ClusterParameterGroup(
        node.logical_id,
        name=node.name,
        family=props["family"],
        description=props["description"],
        parameters=[{"name": k, "value": v} for k, v in props["parameters"].items()],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(group)


def _db_cluster(node: Node, t: Translator) -> Registered:
    props = node.props
    secret_node = t.graph.resolve(props["master_secret"])
    password: random.RandomPassword = t.helper(secret_node.logical_id, "password")  # type: ignore[assignment]
    snapshot = node.deletion == "snapshot"
    cluster = aws.rds.Cluster(
        node.logical_id,
        cluster_identifier=node.name,
        engine=props["engine"],
        engine_version=props["engine_version"],
        engine_mode="provisioned",
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
        # The generated password, never a literal; the secret holds the same value.
        master_username=secret_node.props["username"],
        master_password=password.result,
        deletion_protection=props["deletion_protection"],
        skip_final_snapshot=not snapshot,
        final_snapshot_identifier=f"{node.name}-final" if snapshot else None,
        backup_retention_period=props["backup_retention_days"],
        enabled_cloudwatch_logs_exports=props["log_exports"],
        iam_database_authentication_enabled=props["iam_auth"],
        copy_tags_to_snapshot=True,
        tags=t.tags(node),
        # Rotation changes the live password every few weeks; Pulumi must not write the
        # generated first password back on the next `up`.
        opts=options(node, t, ignore_changes=["masterPassword"]),
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
        performance_insights_enabled=True,
        performance_insights_kms_key_id=t(props["performance_insights_kms_key"]),
        auto_minor_version_upgrade=props["auto_minor_version_upgrade"],
        monitoring_interval=props["monitoring_interval"],
        monitoring_role_arn=t(props["monitoring_role"]),
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(instance)


def _secret(node: Node, t: Translator) -> Registered:
    props = node.props
    excluded = set(props["exclude_characters"])
    password = random.RandomPassword(
        f"{node.logical_id}Password",
        length=props["password_length"],
        special=True,
        override_special="".join(c for c in RANDOM_SPECIALS if c not in excluded),
    )
    secret = aws.secretsmanager.Secret(
        node.logical_id,
        name=node.name,
        description=props["description"],
        kms_key_id=t(props["kms_key"]),
        # A deleted ephemeral secret goes at once, so the next stack can reuse its name.
        recovery_window_in_days=0 if node.deletion == "delete" else 30,
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(secret, {"password": password})


def _json_text(value: Any) -> Any:
    return pulumi.Output.json_dumps(value)


def _secret_attachment(node: Node, t: Translator) -> Registered:
    """The secret's value: the credentials and, once the cluster exists, where to reach it."""
    secret_node = t.graph.resolve(node.props["secret"])
    cluster: aws.rds.Cluster = t.registered[node.props["cluster"].target].main  # type: ignore[assignment]
    password: random.RandomPassword = t.helper(secret_node.logical_id, "password")  # type: ignore[assignment]
    value: Any = {
        "engine": "mysql",
        "host": cluster.endpoint,
        "port": cluster.port,
        "username": secret_node.props["username"],
        "password": password.result,
        "dbname": cluster.database_name,
        "dbClusterIdentifier": cluster.cluster_identifier,
    }
    version = aws.secretsmanager.SecretVersion(
        node.logical_id,
        secret_id=t(node.props["secret"]),
        secret_string=pulumi.Output.secret(_json_text(value)),
        opts=options(node, t),
    )
    return Registered(version)


def _secret_rotation(node: Node, t: Translator) -> Registered:
    props = node.props
    function = aws.serverlessrepository.CloudFormationStack(
        f"{node.logical_id}Function",
        name=node.name,
        application_id=ROTATION_APPLICATIONS[props["rotation"]],
        capabilities=ROTATION_CAPABILITIES,
        parameters={
            "endpoint": pulumi.Output.concat(
                "https://secretsmanager.", t.pseudo("region"), ".", t.pseudo("url_suffix")
            ),
            "functionName": node.name,
            "vpcSubnetIds": pulumi.Output.all(*t(props["subnets"])).apply(",".join),
            "vpcSecurityGroupIds": pulumi.Output.all(*t(props["security_groups"])).apply(",".join),
            "kmsKeyArn": t(props["kms_key"]),
        },
        tags={**t.graph.tags, "Name": node.name},
    )
    rotation = aws.secretsmanager.SecretRotation(
        node.logical_id,
        secret_id=t(props["secret"]),
        rotation_lambda_arn=function.outputs.apply(lambda outputs: outputs[ROTATION_OUTPUT]),
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
