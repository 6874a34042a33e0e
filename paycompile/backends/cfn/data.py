"""CloudFormation resources of the data area: Aurora, its generated secret and its rotation."""

from __future__ import annotations

import json
from typing import Any

from troposphere import AWSObject, Join, rds, secretsmanager

from paycompile.backends.cfn.translate import Emit, Translator, tags
from paycompile.compiler.graph import Kind, Node


def _db_subnet_group(node: Node, t: Translator) -> list[AWSObject]:
    return [
        rds.DBSubnetGroup(
            node.logical_id,
            DBSubnetGroupName=node.name,
            DBSubnetGroupDescription=node.props["description"],
            SubnetIds=t(node.props["subnets"]),
            Tags=tags(node),
        )
    ]


def _db_parameter_group(node: Node, t: Translator) -> list[AWSObject]:
    return [
        rds.DBClusterParameterGroup(
            node.logical_id,
            Description=node.props["description"],
            Family=node.props["family"],
            Parameters=node.props["parameters"],
            Tags=tags(node),
        )
    ]


def _resolve_secret(secret: Any, key: str) -> Join:
    """A dynamic reference: CloudFormation reads the secret at deploy time; no literal written."""
    return Join("", ["{{resolve:secretsmanager:", secret, f":SecretString:{key}}}}}"])


def _db_cluster(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    secret = t(props["master_secret"])
    fields = t.graph.resolve(props["master_secret"]).props
    return [
        rds.DBCluster(
            node.logical_id,
            DBClusterIdentifier=node.name,
            Engine=props["engine"],
            EngineVersion=props["engine_version"],
            EngineMode=props["engine_mode"],
            ServerlessV2ScalingConfiguration=rds.ServerlessV2ScalingConfiguration(
                MinCapacity=props["min_capacity"], MaxCapacity=props["max_capacity"]
            ),
            DatabaseName=props["database_name"],
            Port=props["port"],
            DBSubnetGroupName=t(props["subnet_group"]),
            DBClusterParameterGroupName=t(props["parameter_group"]),
            VpcSecurityGroupIds=t(props["security_groups"]),
            StorageEncrypted=props["storage_encrypted"],
            KmsKeyId=t(props["kms_key"]),
            MasterUsername=_resolve_secret(secret, "username"),
            MasterUserPassword=_resolve_secret(secret, fields["password_field"]),
            DeletionProtection=props["deletion_protection"],
            BackupRetentionPeriod=props["backup_retention_days"],
            EnableCloudwatchLogsExports=props["log_exports"],
            EnableIAMDatabaseAuthentication=props["iam_auth"],
            CopyTagsToSnapshot=props["copy_tags_to_snapshot"],
            Tags=tags(node),
        )
    ]


def _db_instance(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        rds.DBInstance(
            node.logical_id,
            DBInstanceIdentifier=node.name,
            DBClusterIdentifier=t(props["cluster"]),
            DBInstanceClass=props["instance_class"],
            Engine=props["engine"],
            PubliclyAccessible=props["publicly_accessible"],
            EnablePerformanceInsights=props["performance_insights"],
            PerformanceInsightsKMSKeyId=t(props["performance_insights_kms_key"]),
            AutoMinorVersionUpgrade=props["auto_minor_version_upgrade"],
            MonitoringInterval=props["monitoring_interval"],
            MonitoringRoleArn=t(props["monitoring_role"]),
            Tags=tags(node),
        )
    ]


def _secret(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        secretsmanager.Secret(
            node.logical_id,
            Name=node.name,
            Description=props["description"],
            KmsKeyId=t(props["kms_key"]),
            GenerateSecretString=secretsmanager.GenerateSecretString(
                SecretStringTemplate=json.dumps({"username": props["username"]}),
                GenerateStringKey=props["password_field"],
                PasswordLength=props["password_length"],
                ExcludeCharacters=props["exclude_characters"],
            ),
            Tags=tags(node),
        )
    ]


def _secret_attachment(node: Node, t: Translator) -> list[AWSObject]:
    return [
        secretsmanager.SecretTargetAttachment(
            node.logical_id,
            SecretId=t(node.props["secret"]),
            TargetId=t(node.props["cluster"]),
            TargetType="AWS::RDS::DBCluster",
        )
    ]


def _secret_rotation(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        secretsmanager.RotationSchedule(
            node.logical_id,
            SecretId=t(props["secret"]),
            HostedRotationLambda=secretsmanager.HostedRotationLambda(
                RotationType=props["rotation"],
                RotationLambdaName=node.name,
                ExcludeCharacters=props["exclude_characters"],
                KmsKeyArn=t(props["kms_key"]),
                VpcSubnetIds=Join(",", t(props["subnets"])),
                VpcSecurityGroupIds=Join(",", t(props["security_groups"])),
            ),
            RotationRules=secretsmanager.RotationRules(AutomaticallyAfterDays=props["days"]),
        )
    ]


RESOURCES: dict[Kind, Emit] = {
    Kind.DB_SUBNET_GROUP: _db_subnet_group,
    Kind.DB_CLUSTER_PARAMETER_GROUP: _db_parameter_group,
    Kind.DB_CLUSTER: _db_cluster,
    Kind.DB_INSTANCE: _db_instance,
    Kind.SECRET: _secret,
    Kind.SECRET_ATTACHMENT: _secret_attachment,
    Kind.SECRET_ROTATION: _secret_rotation,
}
