"""CloudFormation backend: one troposphere resource set per graph node kind.

`RESOURCES` maps each `Kind` to a small function returning that node's resources; values
are translated by `Translator` (Ref/GetAtt for `Ref`, pseudo parameters, Fn::Join for
`Concat`, Fn::Sub for `Json`). Output is sorted JSON (or YAML), so a graph always gives
the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from troposphere import (
    AWSObject,
    Export,
    GetAtt,
    GetAZs,
    Join,
    Output,
    Select,
    Sub,
    Tags,
    Template,
    backup,
    cloudwatch,
    ec2,
    ecs,
    iam,
    kms,
    logs,
    rds,
    s3,
    secretsmanager,
    sns,
    ssm,
    stepfunctions,
)
from troposphere import Ref as CfnRef
from troposphere import elasticloadbalancingv2 as elb

from paycompile.compiler.graph import (
    Concat,
    Graph,
    Json,
    Kind,
    Node,
    Pseudo,
    Ref,
    deploy_time_values,
)

ROTATION_TRANSFORM = "AWS::SecretsManager-2020-07-23"
_PSEUDO = {
    "region": "AWS::Region",
    "account_id": "AWS::AccountId",
    "partition": "AWS::Partition",
    "url_suffix": "AWS::URLSuffix",
}

# (kind, attribute) -> the CloudFormation attribute; None means `Ref`.
_ATTRIBUTES: dict[tuple[Kind, str], str | None] = {
    (Kind.ELASTIC_IP, "allocation_id"): "AllocationId",
    (Kind.SECURITY_GROUP, "id"): "GroupId",
    (Kind.KMS_KEY, "arn"): "Arn",
    (Kind.LOG_GROUP, "arn"): "Arn",
    (Kind.IAM_ROLE, "arn"): "Arn",
    (Kind.BUCKET, "arn"): "Arn",
    (Kind.LOAD_BALANCER, "dns_name"): "DNSName",
    (Kind.LOAD_BALANCER, "full_name"): "LoadBalancerFullName",
    (Kind.TARGET_GROUP, "full_name"): "TargetGroupFullName",
    (Kind.ECS_CLUSTER, "arn"): "Arn",
    (Kind.ECS_SERVICE, "name"): "Name",
    (Kind.DB_CLUSTER, "arn"): "DBClusterArn",
    (Kind.DB_CLUSTER, "endpoint"): "Endpoint.Address",
    (Kind.DB_CLUSTER, "reader_endpoint"): "ReadEndpoint.Address",
    (Kind.BACKUP_VAULT, "arn"): "BackupVaultArn",
    (Kind.STATE_MACHINE, "name"): "Name",
}
# Attributes that `Ref` returns for these kinds (an ARN, a name or an id).
_REF_ATTRIBUTES = {"id", "arn", "name"}


class Translator:
    """Turns graph values into CloudFormation intrinsic functions."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.ref(value)
        if isinstance(value, Pseudo):
            return CfnRef(_PSEUDO[value.name])
        if isinstance(value, Concat):
            parts: list[Any] = []
            for part in (self(part) for part in value.parts):
                if isinstance(part, str) and parts and isinstance(parts[-1], str):
                    parts[-1] += part  # adjacent literals read better as one string
                else:
                    parts.append(part)
            return parts[0] if len(parts) == 1 else Join("", parts)
        if isinstance(value, Json):
            return self.sub_json(value.value)
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        return value

    def ref(self, ref: Ref) -> Any:
        kind = self.graph[ref.target].kind
        attribute = _ATTRIBUTES.get((kind, ref.attribute))
        if attribute is None:
            assert ref.attribute in _REF_ATTRIBUTES, (
                f"no CloudFormation attribute for {kind}.{ref.attribute}"
            )
            return CfnRef(ref.target)
        return GetAtt(ref.target, attribute)

    def placeholder(self, value: Any) -> str:
        """The `${...}` form of a Ref, Pseudo or Concat inside an Fn::Sub string."""
        if isinstance(value, Pseudo):
            return "${" + _PSEUDO[value.name] + "}"
        if isinstance(value, Concat):
            return "".join(
                self.placeholder(part) if not isinstance(part, str) else _escape(part)
                for part in value.parts
            )
        assert isinstance(value, Ref), f"cannot substitute {value!r}"
        attribute = _ATTRIBUTES.get((self.graph[value.target].kind, value.attribute))
        return "${" + value.target + (f".{attribute}" if attribute else "") + "}"

    def sub_json(self, value: Any) -> Sub | str:
        """JSON text with references substituted by Fn::Sub at deploy time."""
        if not any(True for _ in deploy_time_values(value)):
            return json.dumps(value, separators=(",", ":"), sort_keys=True)
        tokens: list[str] = []

        def mark(item: Any) -> Any:
            if isinstance(item, Ref | Pseudo | Concat):
                tokens.append(self.placeholder(item))
                return f"\ue000{len(tokens) - 1}\ue001"
            if isinstance(item, dict):
                return {key: mark(inner) for key, inner in item.items()}
            if isinstance(item, list | tuple):
                return [mark(inner) for inner in item]
            return _escape(item) if isinstance(item, str) else item

        # Private-use characters mark where each reference goes; spec text cannot contain them.
        text = json.dumps(mark(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        for index, token in enumerate(tokens):
            text = text.replace(f"\ue000{index}\ue001", token)
        return Sub(text)


def _escape(text: str) -> str:
    """Literal `${` must be written `${!` inside Fn::Sub."""
    return text.replace("${", "${!")


Emit = Callable[[Node, Translator], list[AWSObject]]


def _tags(node: Node) -> Tags:
    return Tags(**node.tags)


def _vpc(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.VPC(
            node.logical_id,
            CidrBlock=node.props["cidr"],
            EnableDnsHostnames=True,
            EnableDnsSupport=True,
            Tags=_tags(node),
        )
    ]


def _subnet(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.Subnet(
            node.logical_id,
            VpcId=t(node.props["vpc"]),
            CidrBlock=node.props["cidr"],
            AvailabilityZone=Select(node.props["zone_index"], GetAZs("")),
            MapPublicIpOnLaunch=False,
            Tags=_tags(node),
        )
    ]


def _internet_gateway(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.InternetGateway(node.logical_id, Tags=_tags(node)),
        ec2.VPCGatewayAttachment(
            f"{node.logical_id}Attachment",
            VpcId=t(node.props["vpc"]),
            InternetGatewayId=CfnRef(node.logical_id),
        ),
    ]


def _elastic_ip(node: Node, t: Translator) -> list[AWSObject]:
    return [ec2.EIP(node.logical_id, Domain="vpc", Tags=_tags(node))]


def _nat_gateway(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.NatGateway(
            node.logical_id,
            SubnetId=t(node.props["subnet"]),
            AllocationId=t(node.props["eip"]),
            Tags=_tags(node),
        )
    ]


def _route_table(node: Node, t: Translator) -> list[AWSObject]:
    route = node.props["default_route"]
    target = (
        {"GatewayId": t(route["gateway"])}
        if "gateway" in route
        else {"NatGatewayId": t(route["nat_gateway"])}
    )
    default = ec2.Route(
        f"{node.logical_id}Default",
        RouteTableId=CfnRef(node.logical_id),
        DestinationCidrBlock="0.0.0.0/0",
        **target,
    )
    if "gateway" in route:
        default.DependsOn = [f"{route['gateway'].target}Attachment"]
    associations = [
        ec2.SubnetRouteTableAssociation(
            f"{node.logical_id}Subnet{index + 1}",
            RouteTableId=CfnRef(node.logical_id),
            SubnetId=t(subnet),
        )
        for index, subnet in enumerate(node.props["subnets"])
    ]
    return [
        ec2.RouteTable(node.logical_id, VpcId=t(node.props["vpc"]), Tags=_tags(node)),
        default,
        *associations,
    ]


def _flow_log(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.FlowLog(
            node.logical_id,
            ResourceId=t(node.props["vpc"]),
            ResourceType="VPC",
            TrafficType=node.props["traffic"],
            LogDestinationType="cloud-watch-logs",
            LogDestination=t(node.props["log_group"]),
            DeliverLogsPermissionArn=t(node.props["role"]),
            Tags=_tags(node),
        )
    ]


def _kms_key(node: Node, t: Translator) -> list[AWSObject]:
    return [
        kms.Key(
            node.logical_id,
            Description=node.props["description"],
            EnableKeyRotation=node.props["rotation"],
            KeyPolicy=t(node.props["policy"]),
            PendingWindowInDays=node.props["pending_window_days"],
            Tags=_tags(node),
        )
    ]


def _log_group(node: Node, t: Translator) -> list[AWSObject]:
    return [
        logs.LogGroup(
            node.logical_id,
            LogGroupName=node.name,
            RetentionInDays=node.props["retention_days"],
            KmsKeyId=t(node.props["kms_key"]),
            Tags=_tags(node),
        )
    ]


def _iam_role(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    role = iam.Role(
        node.logical_id,
        AssumeRolePolicyDocument={
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": t(props["service"])},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        Tags=_tags(node),
    )
    if len(node.name) <= 64:
        role.RoleName = node.name
    if props["statements"]:
        document = {"Version": "2012-10-17", "Statement": t(props["statements"])}
        role.Policies = [iam.Policy(PolicyName="least-privilege", PolicyDocument=document)]
    if props["managed_policies"]:
        role.ManagedPolicyArns = t(props["managed_policies"])
    return [role]


def _rule(rule: dict[str, Any], t: Translator, direction: str) -> dict[str, Any]:
    peer = rule["peer"]
    where = {"CidrIp": peer} if isinstance(peer, str) else {f"{direction}SecurityGroupId": t(peer)}
    return {
        "IpProtocol": rule["protocol"],
        "FromPort": rule["port"],
        "ToPort": rule["port"],
        "Description": rule["description"],
        **where,
    }


def _security_group(node: Node, t: Translator) -> list[AWSObject]:
    egress = [_rule(rule, t, "Destination") for rule in node.props["egress"]]
    # Without an explicit rule CloudFormation adds allow-all egress; this one allows nothing.
    egress = egress or [{"IpProtocol": "-1", "CidrIp": "127.0.0.1/32", "Description": "no egress"}]
    return [
        ec2.SecurityGroup(
            node.logical_id,
            GroupName=node.name,
            GroupDescription=node.props["description"],
            VpcId=t(node.props["vpc"]),
            SecurityGroupEgress=egress,
            Tags=_tags(node),
        )
    ]


def _security_group_ingress(node: Node, t: Translator) -> list[AWSObject]:
    rule = _rule(node.props, t, "Source")
    return [ec2.SecurityGroupIngress(node.logical_id, GroupId=t(node.props["group"]), **rule)]


def _bucket(node: Node, t: Translator) -> list[AWSObject]:
    return [
        s3.Bucket(
            node.logical_id,
            BucketEncryption=s3.BucketEncryption(
                ServerSideEncryptionConfiguration=[
                    s3.ServerSideEncryptionRule(
                        ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                            SSEAlgorithm=node.props["encryption"]
                        )
                    )
                ]
            ),
            PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
                BlockPublicAcls=True,
                BlockPublicPolicy=True,
                IgnorePublicAcls=True,
                RestrictPublicBuckets=True,
            ),
            OwnershipControls=s3.OwnershipControls(
                Rules=[s3.OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
            ),
            LifecycleConfiguration=s3.LifecycleConfiguration(
                Rules=[
                    s3.LifecycleRule(
                        Id="expire-logs",
                        Status="Enabled",
                        ExpirationInDays=node.props["expire_days"],
                    )
                ]
            ),
            Tags=_tags(node),
        )
    ]


def _bucket_policy(node: Node, t: Translator) -> list[AWSObject]:
    document = {"Version": "2012-10-17", "Statement": t(node.props["statements"])}
    return [
        s3.BucketPolicy(node.logical_id, Bucket=t(node.props["bucket"]), PolicyDocument=document)
    ]


def _load_balancer(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    attributes = {
        "deletion_protection.enabled": str(props["deletion_protection"]).lower(),
        "routing.http.drop_invalid_header_fields.enabled": str(
            props["drop_invalid_headers"]
        ).lower(),
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": t(props["access_logs_bucket"]),
        "access_logs.s3.prefix": props["access_logs_prefix"],
    }
    balancer = elb.LoadBalancer(
        node.logical_id,
        Type="application",
        Scheme="internet-facing",
        Subnets=t(props["subnets"]),
        SecurityGroups=t(props["security_groups"]),
        LoadBalancerAttributes=[
            elb.LoadBalancerAttributes(Key=key, Value=value) for key, value in attributes.items()
        ],
        Tags=_tags(node),
    )
    if props["physical_name"]:
        balancer.Name = props["physical_name"]
    return [balancer]


def _target_group(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    group = elb.TargetGroup(
        node.logical_id,
        VpcId=t(props["vpc"]),
        Port=props["port"],
        Protocol=props["protocol"],
        TargetType="ip",
        HealthCheckPath=props["health_check_path"],
        HealthCheckProtocol=props["protocol"],
        Matcher=elb.Matcher(HttpCode="200-399"),
        TargetGroupAttributes=[
            elb.TargetGroupAttribute(Key="deregistration_delay.timeout_seconds", Value="30")
        ],
        Tags=_tags(node),
    )
    if props["physical_name"]:
        group.Name = props["physical_name"]
    return [group]


def _action(action: dict[str, Any], t: Translator) -> elb.Action:
    if "forward" in action:
        return elb.Action(Type="forward", TargetGroupArn=t(action["forward"]))
    if "redirect_https" in action:
        return elb.Action(
            Type="redirect",
            RedirectConfig=elb.RedirectConfig(
                Protocol="HTTPS", Port=str(action["redirect_https"]), StatusCode="HTTP_301"
            ),
        )
    return elb.Action(
        Type="fixed-response",
        FixedResponseConfig=elb.FixedResponseConfig(
            StatusCode=str(action["fixed_response"]), ContentType="text/plain"
        ),
    )


def _listener(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    listener = elb.Listener(
        node.logical_id,
        LoadBalancerArn=t(props["load_balancer"]),
        Port=props["port"],
        Protocol=props["protocol"],
        DefaultActions=[_action(props["default_action"], t)],
        Tags=_tags(node),
    )
    if props["protocol"] == "HTTPS":
        listener.Certificates = [elb.Certificate(CertificateArn=props["certificate_arn"])]
        listener.SslPolicy = props["ssl_policy"]
    return [listener]


def _listener_rule(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    kind, value = next(iter(props["condition"].items()))
    condition = (
        elb.Condition(Field="path-pattern", PathPatternConfig=elb.PathPatternConfig(Values=[value]))
        if kind == "path"
        else elb.Condition(
            Field="host-header", HostHeaderConfig=elb.HostHeaderConfig(Values=[value])
        )
    )
    return [
        elb.ListenerRule(
            node.logical_id,
            ListenerArn=t(props["listener"]),
            Priority=props["priority"],
            Conditions=[condition],
            Actions=[elb.ListenerRuleAction(Type="forward", TargetGroupArn=t(props["forward"]))],
            Tags=_tags(node),
        )
    ]


def _ecs_cluster(node: Node, t: Translator) -> list[AWSObject]:
    insights = "enabled" if node.props["container_insights"] else "disabled"
    return [
        ecs.Cluster(
            node.logical_id,
            ClusterName=node.name,
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value=insights)],
            Tags=_tags(node),
        )
    ]


def _task_definition(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    container = ecs.ContainerDefinition(
        Name=props["container_name"],
        Image=props["image"],
        Essential=True,
        PortMappings=[ecs.PortMapping(ContainerPort=props["port"], Protocol="tcp")],
        Environment=[
            ecs.Environment(Name=key, Value=value) for key, value in props["environment"].items()
        ],
        ReadonlyRootFilesystem=props["read_only_root_filesystem"],
        # A read-only root still needs somewhere to write temporary files.
        MountPoints=[ecs.MountPoint(SourceVolume="tmp", ContainerPath="/tmp", ReadOnly=False)],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": t(props["log_group"]),
                "awslogs-region": props["region"],
                "awslogs-stream-prefix": "ecs",
            },
        ),
    )
    return [
        ecs.TaskDefinition(
            node.logical_id,
            Family=props["family"],
            Cpu=str(props["cpu"]),
            Memory=str(props["memory"]),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            ExecutionRoleArn=t(props["execution_role"]),
            TaskRoleArn=t(props["task_role"]),
            ContainerDefinitions=[container],
            Volumes=[ecs.Volume(Name="tmp")],
            Tags=_tags(node),
        )
    ]


def _ecs_service(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        ecs.Service(
            node.logical_id,
            ServiceName=node.name,
            Cluster=t(props["cluster"]),
            TaskDefinition=t(props["task_definition"]),
            DesiredCount=props["desired_count"],
            LaunchType="FARGATE",
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="ENABLED" if props["assign_public_ip"] else "DISABLED",
                    Subnets=t(props["subnets"]),
                    SecurityGroups=t(props["security_groups"]),
                )
            ),
            LoadBalancers=[
                ecs.LoadBalancer(
                    ContainerName=props["container_name"],
                    ContainerPort=props["port"],
                    TargetGroupArn=t(props["target_group"]),
                )
            ],
            HealthCheckGracePeriodSeconds=60,
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                MinimumHealthyPercent=100,
                MaximumPercent=200,
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
            PropagateTags="SERVICE",
            EnableECSManagedTags=True,
            Tags=_tags(node),
        )
    ]


def _db_subnet_group(node: Node, t: Translator) -> list[AWSObject]:
    return [
        rds.DBSubnetGroup(
            node.logical_id,
            DBSubnetGroupName=node.name,
            DBSubnetGroupDescription=node.props["description"],
            SubnetIds=t(node.props["subnets"]),
            Tags=_tags(node),
        )
    ]


def _db_parameter_group(node: Node, t: Translator) -> list[AWSObject]:
    return [
        rds.DBClusterParameterGroup(
            node.logical_id,
            Description=node.props["description"],
            Family=node.props["family"],
            Parameters=node.props["parameters"],
            Tags=_tags(node),
        )
    ]


def _resolve_secret(secret: Any, key: str) -> Join:
    """A dynamic reference: CloudFormation reads the secret at deploy time; no literal written."""
    return Join("", ["{{resolve:secretsmanager:", secret, f":SecretString:{key}}}}}"])


def _db_cluster(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    secret = t(props["master_secret"])
    return [
        rds.DBCluster(
            node.logical_id,
            DBClusterIdentifier=node.name,
            Engine=props["engine"],
            EngineVersion=props["engine_version"],
            EngineMode="provisioned",
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
            MasterUserPassword=_resolve_secret(secret, "password"),
            DeletionProtection=props["deletion_protection"],
            BackupRetentionPeriod=props["backup_retention_days"],
            EnableCloudwatchLogsExports=props["log_exports"],
            EnableIAMDatabaseAuthentication=props["iam_auth"],
            CopyTagsToSnapshot=True,
            Tags=_tags(node),
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
            EnablePerformanceInsights=True,
            PerformanceInsightsKMSKeyId=t(props["performance_insights_kms_key"]),
            AutoMinorVersionUpgrade=props["auto_minor_version_upgrade"],
            MonitoringInterval=props["monitoring_interval"],
            MonitoringRoleArn=t(props["monitoring_role"]),
            Tags=_tags(node),
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
                GenerateStringKey="password",
                PasswordLength=props["password_length"],
                ExcludeCharacters=props["exclude_characters"],
            ),
            Tags=_tags(node),
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
                KmsKeyArn=t(props["kms_key"]),
                VpcSubnetIds=Join(",", t(props["subnets"])),
                VpcSecurityGroupIds=Join(",", t(props["security_groups"])),
            ),
            RotationRules=secretsmanager.RotationRules(AutomaticallyAfterDays=props["days"]),
        )
    ]


def _sns_topic(node: Node, t: Translator) -> list[AWSObject]:
    return [
        sns.Topic(
            node.logical_id,
            TopicName=node.name,
            KmsMasterKeyId=t(node.props["kms_key"]),
            Tags=_tags(node),
        )
    ]


def _sns_subscription(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        sns.SubscriptionResource(
            node.logical_id,
            TopicArn=t(props["topic"]),
            Protocol=props["protocol"],
            Endpoint=props["endpoint"],
        )
    ]


def _alarm(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        cloudwatch.Alarm(
            node.logical_id,
            AlarmName=node.name,
            AlarmDescription=props["description"],
            Namespace=props["namespace"],
            MetricName=props["metric"],
            Dimensions=[
                cloudwatch.MetricDimension(Name=key, Value=t(value))
                for key, value in props["dimensions"].items()
            ],
            Statistic=props["statistic"],
            Period=props["period"],
            EvaluationPeriods=props["evaluation_periods"],
            Threshold=props["threshold"],
            ComparisonOperator=props["comparison"],
            TreatMissingData=props["missing_data"],
            AlarmActions=[t(props["topic"])],
            OKActions=[t(props["topic"])],
            Tags=_tags(node),
        )
    ]


def _dashboard(node: Node, t: Translator) -> list[AWSObject]:
    return [
        cloudwatch.Dashboard(
            node.logical_id,
            DashboardName=node.name,
            DashboardBody=t(node.props["body"]),
            Tags=_tags(node),
        )
    ]


def _backup_vault(node: Node, t: Translator) -> list[AWSObject]:
    return [
        backup.BackupVault(
            node.logical_id,
            BackupVaultName=node.name,
            EncryptionKeyArn=t(node.props["kms_key"]),
            BackupVaultTags=node.tags,
        )
    ]


def _backup_plan(node: Node, t: Translator) -> list[AWSObject]:
    rules = [
        backup.BackupRuleResourceType(
            RuleName=rule["name"],
            TargetBackupVault=t(rule["vault"]),
            ScheduleExpression=rule["schedule"],
            StartWindowMinutes=60,
            CompletionWindowMinutes=180,
            Lifecycle=backup.LifecycleResourceType(DeleteAfterDays=rule["retention_days"]),
        )
        for rule in node.props["rules"]
    ]
    plan = backup.BackupPlanResourceType(BackupPlanName=node.name, BackupPlanRule=rules)
    return [backup.BackupPlan(node.logical_id, BackupPlan=plan, BackupPlanTags=node.tags)]


def _backup_selection(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    selection = backup.BackupSelectionResourceType(
        SelectionName=node.name, IamRoleArn=t(props["role"]), Resources=t(props["resources"])
    )
    return [
        backup.BackupSelection(
            node.logical_id, BackupPlanId=t(props["plan"]), BackupSelection=selection
        )
    ]


def _state_machine(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    destination = stepfunctions.LogDestination(
        CloudWatchLogsLogGroup=stepfunctions.CloudWatchLogsLogGroup(
            LogGroupArn=t(props["log_group"])
        )
    )
    return [
        stepfunctions.StateMachine(
            node.logical_id,
            StateMachineName=node.name,
            StateMachineType="STANDARD",
            RoleArn=t(props["role"]),
            DefinitionString=t(props["definition"]),
            LoggingConfiguration=stepfunctions.LoggingConfiguration(
                Level="ALL", IncludeExecutionData=True, Destinations=[destination]
            ),
            TracingConfiguration=stepfunctions.TracingConfiguration(Enabled=props["tracing"]),
            Tags=_tags(node),
        )
    ]


def _ssm_parameter(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        ssm.Parameter(
            node.logical_id,
            Name=props["parameter_name"],
            Type="String",
            Value=t(props["value"]),
            Description=props["description"],
            Tags=node.tags,
        )
    ]


RESOURCES: dict[Kind, Emit] = {
    Kind.VPC: _vpc,
    Kind.SUBNET: _subnet,
    Kind.INTERNET_GATEWAY: _internet_gateway,
    Kind.ELASTIC_IP: _elastic_ip,
    Kind.NAT_GATEWAY: _nat_gateway,
    Kind.ROUTE_TABLE: _route_table,
    Kind.FLOW_LOG: _flow_log,
    Kind.KMS_KEY: _kms_key,
    Kind.LOG_GROUP: _log_group,
    Kind.IAM_ROLE: _iam_role,
    Kind.SECURITY_GROUP: _security_group,
    Kind.SECURITY_GROUP_INGRESS: _security_group_ingress,
    Kind.BUCKET: _bucket,
    Kind.BUCKET_POLICY: _bucket_policy,
    Kind.LOAD_BALANCER: _load_balancer,
    Kind.TARGET_GROUP: _target_group,
    Kind.LISTENER: _listener,
    Kind.LISTENER_RULE: _listener_rule,
    Kind.ECS_CLUSTER: _ecs_cluster,
    Kind.TASK_DEFINITION: _task_definition,
    Kind.ECS_SERVICE: _ecs_service,
    Kind.DB_SUBNET_GROUP: _db_subnet_group,
    Kind.DB_CLUSTER_PARAMETER_GROUP: _db_parameter_group,
    Kind.DB_CLUSTER: _db_cluster,
    Kind.DB_INSTANCE: _db_instance,
    Kind.SECRET: _secret,
    Kind.SECRET_ATTACHMENT: _secret_attachment,
    Kind.SECRET_ROTATION: _secret_rotation,
    Kind.SNS_TOPIC: _sns_topic,
    Kind.SNS_SUBSCRIPTION: _sns_subscription,
    Kind.ALARM: _alarm,
    Kind.DASHBOARD: _dashboard,
    Kind.BACKUP_VAULT: _backup_vault,
    Kind.BACKUP_PLAN: _backup_plan,
    Kind.BACKUP_SELECTION: _backup_selection,
    Kind.STATE_MACHINE: _state_machine,
    Kind.SSM_PARAMETER: _ssm_parameter,
}

_POLICIES = {"delete": "Delete", "retain": "Retain", "snapshot": "Snapshot"}


def _apply_node_options(node: Node, resource: AWSObject) -> None:
    """Lifecycle, ordering and reasoned scanner skips, on the node's main resource."""
    if node.deletion != "delete" or node.kind is Kind.DB_CLUSTER:
        # Aurora snapshots on delete unless told otherwise, so ephemeral clusters say Delete.
        resource.DeletionPolicy = _POLICIES[node.deletion]
        resource.UpdateReplacePolicy = _POLICIES[node.deletion]
    if node.depends_on:
        resource.DependsOn = list(node.depends_on)
    if node.waivers:
        skips = [{"id": check, "comment": reason} for check, reason in sorted(node.waivers.items())]
        resource.Metadata = {"checkov": {"skip": skips}}


def build_template(graph: Graph) -> Template:
    template = Template(
        Description=f"paycompile: {graph.platform} ({graph.environment}, {graph.lifecycle})"
    )
    translate = Translator(graph)
    for node in graph:
        resources = RESOURCES[node.kind](node, translate)
        _apply_node_options(node, resources[0])
        for resource in resources:
            template.add_resource(resource)
    if graph.of_kind(Kind.SECRET_ROTATION):
        template.set_transform(ROTATION_TRANSFORM)
    for output in graph.outputs:
        template.add_output(
            Output(
                output.name,
                Description=output.description,
                Value=translate(output.value),
                Export=Export(output.export),
            )
        )
    return template


class CloudFormationBackend:
    name = "cfn"
    formats = ("json", "yaml")

    def render(self, graph: Graph, output_format: str) -> str:
        template = build_template(graph)
        if output_format == "yaml":
            yaml_text: str = template.to_yaml(clean_up=True)
            return yaml_text if yaml_text.endswith("\n") else yaml_text + "\n"
        json_text: str = template.to_json(indent=2, sort_keys=True)
        return json_text + "\n"


BACKEND = CloudFormationBackend()
