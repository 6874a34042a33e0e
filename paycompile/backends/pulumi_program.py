"""The Pulumi program of a resource graph: one small function per node kind registers its
pulumi-aws resources, mirroring the CloudFormation backend resource for resource.

`run_program(graph)` registers everything and exports one stack output per graph output. It
runs the same under the Automation API (a real deployment) and under mocks (the offline plan).
Graph values become Pulumi values in `Translator`: a `Ref` reads an output attribute of the
resource registered for its target node, a `Pseudo` comes from an invoke, `Concat` is
`Output.concat` and `Json` is `Output.json_dumps` once every reference inside is known.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_random as random

# pulumi_aws loads each submodule in full on first use, and loading ec2 and s3 warns about
# deprecated resources paycompile never uses: load the ones used here while muted.
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import pulumi_aws as aws

    _USED_MODULES = (
        aws.backup.Vault,
        aws.cloudwatch.LogGroup,
        aws.ec2.Vpc,
        aws.ecs.Cluster,
        aws.iam.Role,
        aws.kms.Key,
        aws.lb.LoadBalancer,
        aws.rds.Cluster,
        aws.s3.Bucket,
        aws.secretsmanager.Secret,
        aws.serverlessrepository.CloudFormationStack,
        aws.sfn.StateMachine,
        aws.sns.Topic,
        aws.ssm.Parameter,
        aws.vpc.SecurityGroupIngressRule,
    )

from paycompile.compiler.graph import TAGGABLE, Concat, Graph, Json, Kind, Node, Pseudo, Ref

ANYWHERE = "0.0.0.0/0"
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
IAM_NAME_LIMIT = 64
BUCKET_PREFIX_LIMIT = 37

# (kind, attribute) -> the output attribute of the node's main resource, where the graph's
# name differs from the pulumi-aws one. Anything else is read under its own name.
ATTRIBUTES: dict[tuple[Kind, str], str] = {
    (Kind.LOAD_BALANCER, "id"): "arn",
    (Kind.LOAD_BALANCER, "full_name"): "arn_suffix",
    (Kind.TARGET_GROUP, "id"): "arn",
    (Kind.TARGET_GROUP, "full_name"): "arn_suffix",
    (Kind.LISTENER, "id"): "arn",
    (Kind.LISTENER_RULE, "id"): "arn",
    (Kind.TASK_DEFINITION, "id"): "arn",
    (Kind.ECS_CLUSTER, "id"): "arn",
    (Kind.ECS_SERVICE, "id"): "arn",
    (Kind.SECRET, "id"): "arn",
    (Kind.SNS_TOPIC, "id"): "arn",
    (Kind.STATE_MACHINE, "id"): "arn",
    (Kind.BUCKET, "name"): "bucket",
    (Kind.DB_CLUSTER, "name"): "cluster_identifier",
}


@dataclass
class Registered:
    """What one node registered: its main resource and any helpers later nodes need."""

    main: pulumi.CustomResource
    extra: dict[str, pulumi.CustomResource] = field(default_factory=dict)


class Translator:
    """Turns graph values into Pulumi inputs, with the resources registered so far."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.registered: dict[str, Registered] = {}
        self._pseudo: dict[str, pulumi.Output[str]] = {}
        self._zones: pulumi.Output[list[str]] | None = None

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.ref(value)
        if isinstance(value, Pseudo):
            return self.pseudo(value.name)
        if isinstance(value, Concat):
            return pulumi.Output.concat(*(self(part) for part in value.parts))
        if isinstance(value, Json):
            return pulumi.Output.json_dumps(self(value.value))
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        return value

    def ref(self, ref: Ref) -> pulumi.Output[Any]:
        kind = self.graph[ref.target].kind
        resource = self.registered[ref.target].main
        attribute = ATTRIBUTES.get((kind, ref.attribute), ref.attribute)
        output: pulumi.Output[Any] = getattr(resource, attribute)
        return output

    def pseudo(self, name: str) -> pulumi.Output[str]:
        """Region, account, partition and DNS suffix from invokes, each asked once."""
        if name not in self._pseudo:
            if name == "region":
                self._pseudo[name] = aws.get_region_output().region
            elif name == "account_id":
                self._pseudo[name] = aws.get_caller_identity_output().account_id
            elif name == "partition":
                self._pseudo[name] = aws.get_partition_output().partition
            else:
                self._pseudo[name] = aws.get_partition_output().dns_suffix
        return self._pseudo[name]

    def zone(self, index: int) -> pulumi.Output[str]:
        """The index-th available AZ of the region, never a hard-coded name."""
        if self._zones is None:
            self._zones = aws.get_availability_zones_output(state="available").names
        return self._zones.apply(lambda names: names[index])

    def tags(self, node: Node) -> dict[str, str]:
        """The node's tags; kinds CloudFormation cannot tag still get them where pulumi-aws can."""
        if node.kind in TAGGABLE:
            return node.tags
        return {**self.graph.tags, "Name": node.name}

    def helper(self, logical_id: str, name: str) -> pulumi.CustomResource:
        return self.registered[logical_id].extra[name]


def _opts(node: Node, t: Translator, **extra: Any) -> pulumi.ResourceOptions:
    """Lifecycle and ordering of a node's main resource."""
    depends = [t.registered[target].main for target in node.depends_on]
    return pulumi.ResourceOptions(
        retain_on_delete=node.deletion == "retain" or None,
        depends_on=depends or None,
        **extra,
    )


Emit = Callable[[Node, Translator], Registered]


def _vpc(node: Node, t: Translator) -> Registered:
    vpc = aws.ec2.Vpc(
        node.logical_id,
        cidr_block=node.props["cidr"],
        enable_dns_hostnames=node.props["dns"],
        enable_dns_support=node.props["dns"],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(vpc)


def _subnet(node: Node, t: Translator) -> Registered:
    props = node.props
    subnet = aws.ec2.Subnet(
        node.logical_id,
        vpc_id=t(props["vpc"]),
        cidr_block=props["cidr"],
        availability_zone=t.zone(props["zone_index"]),
        map_public_ip_on_launch=False,
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(subnet)


def _internet_gateway(node: Node, t: Translator) -> Registered:
    gateway = aws.ec2.InternetGateway(
        node.logical_id, vpc_id=t(node.props["vpc"]), tags=t.tags(node), opts=_opts(node, t)
    )
    return Registered(gateway)


def _elastic_ip(node: Node, t: Translator) -> Registered:
    return Registered(
        aws.ec2.Eip(node.logical_id, domain="vpc", tags=t.tags(node), opts=_opts(node, t))
    )


def _nat_gateway(node: Node, t: Translator) -> Registered:
    nat = aws.ec2.NatGateway(
        node.logical_id,
        subnet_id=t(node.props["subnet"]),
        allocation_id=t(node.props["eip"]),
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(nat)


def _route_table(node: Node, t: Translator) -> Registered:
    props = node.props
    table = aws.ec2.RouteTable(
        node.logical_id, vpc_id=t(props["vpc"]), tags=t.tags(node), opts=_opts(node, t)
    )
    route = props["default_route"]
    target = (
        {"gateway_id": t(route["gateway"])}
        if "gateway" in route
        else {"nat_gateway_id": t(route["nat_gateway"])}
    )
    aws.ec2.Route(
        f"{node.logical_id}Default",
        route_table_id=table.id,
        destination_cidr_block=ANYWHERE,
        **target,
    )
    for index, subnet in enumerate(props["subnets"]):
        aws.ec2.RouteTableAssociation(
            f"{node.logical_id}Subnet{index + 1}", route_table_id=table.id, subnet_id=t(subnet)
        )
    return Registered(table)


def _flow_log(node: Node, t: Translator) -> Registered:
    props = node.props
    flow_log = aws.ec2.FlowLog(
        node.logical_id,
        vpc_id=t(props["vpc"]),
        traffic_type=props["traffic"],
        log_destination_type="cloud-watch-logs",
        log_destination=t(props["log_group"]),
        iam_role_arn=t(props["role"]),
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(flow_log)


def _kms_key(node: Node, t: Translator) -> Registered:
    props = node.props
    key = aws.kms.Key(
        node.logical_id,
        description=props["description"],
        enable_key_rotation=props["rotation"],
        policy=t(Json(props["policy"])),
        deletion_window_in_days=props["pending_window_days"],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(key)


def _log_group(node: Node, t: Translator) -> Registered:
    group = aws.cloudwatch.LogGroup(
        node.logical_id,
        name=node.name,
        retention_in_days=node.props["retention_days"],
        kms_key_id=t(node.props["kms_key"]),
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(group)


def _iam_role(node: Node, t: Translator) -> Registered:
    props = node.props
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": props["service"]},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = aws.iam.Role(
        node.logical_id,
        # Longer names are left to Pulumi's auto-naming; the Name tag keeps the full one.
        name=node.name if len(node.name) <= IAM_NAME_LIMIT else None,
        assume_role_policy=t(Json(trust)),
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    if props["statements"]:
        document = {"Version": "2012-10-17", "Statement": props["statements"]}
        aws.iam.RolePolicy(
            f"{node.logical_id}Policy",
            name="least-privilege",
            role=role.id,
            policy=t(Json(document)),
        )
    for index, policy_arn in enumerate(props["managed_policies"]):
        aws.iam.RolePolicyAttachment(
            f"{node.logical_id}Managed{index + 1}", role=role.name, policy_arn=t(policy_arn)
        )
    return Registered(role)


def _egress_rule(rule: dict[str, Any], t: Translator) -> Any:
    """One inline egress rule (a SecurityGroupEgressArgsDict)."""
    peer = rule["peer"]
    where = {"cidr_blocks": [peer]} if isinstance(peer, str) else {"security_groups": [t(peer)]}
    return {
        "protocol": rule["protocol"],
        "from_port": rule["port"],
        "to_port": rule["port"],
        "description": rule["description"],
        **where,
    }


def _security_group(node: Node, t: Translator) -> Registered:
    props = node.props
    group = aws.ec2.SecurityGroup(
        node.logical_id,
        name=node.name,
        description=props["description"],
        vpc_id=t(props["vpc"]),
        # An explicit empty list removes the default allow-all egress: no egress at all.
        egress=[_egress_rule(rule, t) for rule in props["egress"]],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(group)


def _security_group_ingress(node: Node, t: Translator) -> Registered:
    props = node.props
    peer = props["peer"]
    where = (
        {"cidr_ipv4": peer} if isinstance(peer, str) else {"referenced_security_group_id": t(peer)}
    )
    rule = aws.vpc.SecurityGroupIngressRule(
        node.logical_id,
        security_group_id=t(props["group"]),
        ip_protocol=props["protocol"],
        from_port=props["port"],
        to_port=props["port"],
        description=props["description"],
        tags=t.tags(node),
        opts=_opts(node, t),
        **where,
    )
    return Registered(rule)


def _bucket(node: Node, t: Translator) -> Registered:
    prefix = f"{node.name}-"
    bucket = aws.s3.Bucket(
        node.logical_id,
        # Bucket names are global: a prefix keeps the environment in it, AWS adds the rest.
        bucket_prefix=prefix if len(prefix) <= BUCKET_PREFIX_LIMIT else None,
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    lid, props = node.logical_id, node.props
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{lid}Encryption",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": props["encryption"]}}],
    )
    aws.s3.BucketPublicAccessBlock(
        f"{lid}PublicAccessBlock",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    aws.s3.BucketOwnershipControls(
        f"{lid}Ownership", bucket=bucket.id, rule={"object_ownership": "BucketOwnerEnforced"}
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{lid}Lifecycle",
        bucket=bucket.id,
        rules=[
            {
                "id": "expire-logs",
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": props["expire_days"]},
            }
        ],
    )
    return Registered(bucket)


def _bucket_policy(node: Node, t: Translator) -> Registered:
    document = {"Version": "2012-10-17", "Statement": node.props["statements"]}
    policy = aws.s3.BucketPolicy(
        node.logical_id,
        bucket=t(node.props["bucket"]),
        policy=t(Json(document)),
        opts=_opts(node, t),
    )
    return Registered(policy)


def _load_balancer(node: Node, t: Translator) -> Registered:
    props = node.props
    balancer = aws.lb.LoadBalancer(
        node.logical_id,
        name=props["physical_name"],
        load_balancer_type="application",
        internal=False,
        subnets=t(props["subnets"]),
        security_groups=t(props["security_groups"]),
        access_logs={
            "bucket": t(props["access_logs_bucket"]),
            "prefix": props["access_logs_prefix"],
            "enabled": True,
        },
        enable_deletion_protection=props["deletion_protection"],
        drop_invalid_header_fields=props["drop_invalid_headers"],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(balancer)


def _target_group(node: Node, t: Translator) -> Registered:
    props = node.props
    group = aws.lb.TargetGroup(
        node.logical_id,
        name=props["physical_name"],
        vpc_id=t(props["vpc"]),
        port=props["port"],
        protocol=props["protocol"],
        target_type="ip",
        deregistration_delay=30,
        health_check={
            "path": props["health_check_path"],
            "protocol": props["protocol"],
            "matcher": "200-399",
        },
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(group)


def _action(action: dict[str, Any], t: Translator) -> Any:
    """One listener default action (a ListenerDefaultActionArgsDict)."""
    if "forward" in action:
        return {"type": "forward", "target_group_arn": t(action["forward"])}
    if "redirect_https" in action:
        redirect = {
            "protocol": "HTTPS",
            "port": str(action["redirect_https"]),
            "status_code": "HTTP_301",
        }
        return {"type": "redirect", "redirect": redirect}
    fixed = {"status_code": str(action["fixed_response"]), "content_type": "text/plain"}
    return {"type": "fixed-response", "fixed_response": fixed}


def _listener(node: Node, t: Translator) -> Registered:
    props = node.props
    tls: dict[str, Any] = {}
    if props["protocol"] == "HTTPS":
        tls = {"certificate_arn": props["certificate_arn"], "ssl_policy": props["ssl_policy"]}
    listener = aws.lb.Listener(
        node.logical_id,
        load_balancer_arn=t(props["load_balancer"]),
        port=props["port"],
        protocol=props["protocol"],
        default_actions=[_action(props["default_action"], t)],
        tags=t.tags(node),
        opts=_opts(node, t),
        **tls,
    )
    return Registered(listener)


def _condition(field_name: str, value: str) -> Any:
    """One listener rule condition (a ListenerRuleConditionArgsDict)."""
    return {field_name: {"values": [value]}}


def _json_text(value: Any) -> Any:
    return pulumi.Output.json_dumps(value)


def _listener_rule(node: Node, t: Translator) -> Registered:
    props = node.props
    kind, value = next(iter(props["condition"].items()))
    field_name = "path_pattern" if kind == "path" else "host_header"
    rule = aws.lb.ListenerRule(
        node.logical_id,
        listener_arn=t(props["listener"]),
        priority=props["priority"],
        conditions=[_condition(field_name, value)],
        actions=[{"type": "forward", "target_group_arn": t(props["forward"])}],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(rule)


def _ecs_cluster(node: Node, t: Translator) -> Registered:
    insights = "enabled" if node.props["container_insights"] else "disabled"
    cluster = aws.ecs.Cluster(
        node.logical_id,
        name=node.name,
        settings=[{"name": "containerInsights", "value": insights}],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(cluster)


def _container(props: dict[str, Any]) -> dict[str, Any]:
    """The ECS container definition, in the API's own (camelCase) JSON."""
    return {
        "name": props["container_name"],
        "image": props["image"],
        "essential": True,
        "portMappings": [{"containerPort": props["port"], "protocol": "tcp"}],
        "environment": [{"name": k, "value": v} for k, v in props["environment"].items()],
        "readonlyRootFilesystem": props["read_only_root_filesystem"],
        # A read-only root still needs somewhere to write temporary files.
        "mountPoints": [{"sourceVolume": "tmp", "containerPath": "/tmp", "readOnly": False}],
        "logConfiguration": {
            "logDriver": "awslogs",
            "options": {
                "awslogs-group": props["log_group"],
                "awslogs-region": props["region"],
                "awslogs-stream-prefix": "ecs",
            },
        },
    }


def _task_definition(node: Node, t: Translator) -> Registered:
    props = node.props
    task = aws.ecs.TaskDefinition(
        node.logical_id,
        family=props["family"],
        cpu=str(props["cpu"]),
        memory=str(props["memory"]),
        network_mode="awsvpc",
        requires_compatibilities=["FARGATE"],
        execution_role_arn=t(props["execution_role"]),
        task_role_arn=t(props["task_role"]),
        container_definitions=t(Json([_container(props)])),
        volumes=[{"name": "tmp"}],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(task)


def _ecs_service(node: Node, t: Translator) -> Registered:
    props = node.props
    service = aws.ecs.Service(
        node.logical_id,
        name=node.name,
        cluster=t(props["cluster"]),
        task_definition=t(props["task_definition"]),
        desired_count=props["desired_count"],
        launch_type="FARGATE",
        network_configuration={
            "subnets": t(props["subnets"]),
            "security_groups": t(props["security_groups"]),
            "assign_public_ip": props["assign_public_ip"],
        },
        load_balancers=[
            {
                "target_group_arn": t(props["target_group"]),
                "container_name": props["container_name"],
                "container_port": props["port"],
            }
        ],
        health_check_grace_period_seconds=60,
        deployment_minimum_healthy_percent=100,
        deployment_maximum_percent=200,
        deployment_circuit_breaker={"enable": True, "rollback": True},
        propagate_tags="SERVICE",
        enable_ecs_managed_tags=True,
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(service)


def _db_subnet_group(node: Node, t: Translator) -> Registered:
    group = aws.rds.SubnetGroup(
        node.logical_id,
        name=node.name,
        description=node.props["description"],
        subnet_ids=t(node.props["subnets"]),
        tags=t.tags(node),
        opts=_opts(node, t),
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
        opts=_opts(node, t),
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
        opts=_opts(node, t, ignore_changes=["masterPassword"]),
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
        opts=_opts(node, t),
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
        opts=_opts(node, t),
    )
    return Registered(secret, {"password": password})


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
        opts=_opts(node, t),
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
        opts=_opts(node, t),
    )
    return Registered(rotation, {"function": function})


def _sns_topic(node: Node, t: Translator) -> Registered:
    topic = aws.sns.Topic(
        node.logical_id,
        name=node.name,
        kms_master_key_id=t(node.props["kms_key"]),
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(topic)


def _sns_subscription(node: Node, t: Translator) -> Registered:
    props = node.props
    subscription = aws.sns.TopicSubscription(
        node.logical_id,
        topic=t(props["topic"]),
        protocol=props["protocol"],
        endpoint=props["endpoint"],
        opts=_opts(node, t),
    )
    return Registered(subscription)


def _alarm(node: Node, t: Translator) -> Registered:
    props = node.props
    topic = t(props["topic"])
    alarm = aws.cloudwatch.MetricAlarm(
        node.logical_id,
        name=node.name,
        alarm_description=props["description"],
        namespace=props["namespace"],
        metric_name=props["metric"],
        dimensions=t(props["dimensions"]),
        statistic=props["statistic"],
        period=props["period"],
        evaluation_periods=props["evaluation_periods"],
        threshold=props["threshold"],
        comparison_operator=props["comparison"],
        treat_missing_data=props["missing_data"],
        alarm_actions=[topic],
        ok_actions=[topic],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(alarm)


def _dashboard(node: Node, t: Translator) -> Registered:
    dashboard = aws.cloudwatch.Dashboard(
        node.logical_id,
        dashboard_name=node.name,
        dashboard_body=t(node.props["body"]),
        opts=_opts(node, t),
    )
    return Registered(dashboard)


def _backup_vault(node: Node, t: Translator) -> Registered:
    vault = aws.backup.Vault(
        node.logical_id,
        name=node.name,
        kms_key_arn=t(node.props["kms_key"]),
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(vault)


def _backup_plan(node: Node, t: Translator) -> Registered:
    rules: list[Any] = [
        {
            "rule_name": rule["name"],
            "target_vault_name": t(rule["vault"]),
            "schedule": rule["schedule"],
            "start_window": 60,
            "completion_window": 180,
            "lifecycle": {"delete_after": rule["retention_days"]},
        }
        for rule in node.props["rules"]
    ]
    plan = aws.backup.Plan(
        node.logical_id, name=node.name, rules=rules, tags=t.tags(node), opts=_opts(node, t)
    )
    return Registered(plan)


def _backup_selection(node: Node, t: Translator) -> Registered:
    props = node.props
    selection = aws.backup.Selection(
        node.logical_id,
        name=node.name,
        plan_id=t(props["plan"]),
        iam_role_arn=t(props["role"]),
        resources=t(props["resources"]),
        opts=_opts(node, t),
    )
    return Registered(selection)


def _state_machine(node: Node, t: Translator) -> Registered:
    props = node.props
    machine = aws.sfn.StateMachine(
        node.logical_id,
        name=node.name,
        type="STANDARD",
        role_arn=t(props["role"]),
        definition=t(props["definition"]),
        logging_configuration={
            "level": "ALL",
            "include_execution_data": True,
            # Step Functions wants the log group ARN with its `:*` stream suffix.
            "log_destination": pulumi.Output.concat(t(props["log_group"]), ":*"),
        },
        tracing_configuration={"enabled": props["tracing"]},
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(machine)


def _ssm_parameter(node: Node, t: Translator) -> Registered:
    props = node.props
    parameter = aws.ssm.Parameter(
        node.logical_id,
        name=props["parameter_name"],
        type="String",
        value=t(props["value"]),
        description=props["description"],
        tags=t.tags(node),
        opts=_opts(node, t),
    )
    return Registered(parameter)


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


def run_program(graph: Graph) -> dict[str, pulumi.Output[Any]]:
    """Registers every node's resources in graph order and exports the graph's outputs."""
    translate = Translator(graph)
    for node in graph:
        translate.registered[node.logical_id] = RESOURCES[node.kind](node, translate)
    outputs: dict[str, pulumi.Output[Any]] = {}
    for output in graph.outputs:
        outputs[output.name] = pulumi.Output.from_input(translate(output.value))
        pulumi.export(output.name, outputs[output.name])
    return outputs
