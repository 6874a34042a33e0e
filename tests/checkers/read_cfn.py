"""A CloudFormation template read as a `Platform`, for given parameter values (the live colours).

Reads only the template: parameters and conditions are resolved first (cfn_eval), then each
resource type the reader knows is read by what it means; a type it does not know is listed in
`Platform.unknown` and still placed by what it refers to (read_common.place_by_reference).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from tests.checkers import read_common as common
from tests.checkers.cfn_eval import evaluate
from tests.checkers.model import (
    Alarm,
    BackupRule,
    Container,
    DbCluster,
    EcsService,
    FlowLog,
    Forward,
    Holder,
    Key,
    Listener,
    ListenerRule,
    LoadBalancer,
    LogGroup,
    Peer,
    Platform,
    Ports,
    Role,
    SgRule,
    StateMachine,
    TargetGroup,
    TaskDefinition,
    Topic,
    WafLogging,
    WebAcl,
    only_name,
)
from tests.checkers.normalise import CfnNormaliser, generalise, unique_index
from tests.checkers.read_common import as_list, encrypted, statements

Props = dict[str, Any]
PROTOCOLS = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
# Top-level properties that carry a physical name another resource may quote.
NAME_SUFFIXES = ("Name", "Identifier", "Family")
NOT_NAMES = {"DatabaseName", "MetricName", "PolicyName"}
# The documented ARN formats of resources with a literal physical name, so that an ARN a
# template builds with Fn::Join reads as the reference it is (a plan holds the answered ARN).
ARN_FORMATS = {
    "AWS::CloudWatch::Alarm": (
        "AlarmName",
        "arn:{{partition}}:cloudwatch:{{region}}:{{account}}:alarm:{}",
    ),
    "AWS::SSM::Parameter": ("Name", "arn:{{partition}}:ssm:{{region}}:{{account}}:parameter{}"),
    "AWS::Logs::LogGroup": (
        "LogGroupName",
        "arn:{{partition}}:logs:{{region}}:{{account}}:log-group:{}",
    ),
    "AWS::SNS::Topic": ("TopicName", "arn:{{partition}}:sns:{{region}}:{{account}}:{}"),
    "AWS::StepFunctions::StateMachine": (
        "StateMachineName",
        "arn:{{partition}}:states:{{region}}:{{account}}:stateMachine:{}",
    ),
    "AWS::RDS::DBCluster": (
        "DBClusterIdentifier",
        "arn:{{partition}}:rds:{{region}}:{{account}}:cluster:{}",
    ),
    "AWS::RDS::DBInstance": (
        "DBInstanceIdentifier",
        "arn:{{partition}}:rds:{{region}}:{{account}}:db:{}",
    ),
    "AWS::ECS::Cluster": ("ClusterName", "arn:{{partition}}:ecs:{{region}}:{{account}}:cluster/{}"),
    "AWS::IAM::Role": ("RoleName", "arn:{{partition}}:iam::{{account}}:role/{}"),
    "AWS::S3::Bucket": ("BucketName", "arn:{{partition}}:s3:::{}"),
}


class Reader:
    def __init__(self, template: dict[str, Any], region: str, given: dict[str, str] | None):
        self.resources: dict[str, Any] = evaluate(template, given).get("Resources", {})
        self.platform = Platform("cfn", region)
        self.normalise = CfnNormaliser(
            region, self._physical_names(), self.resources, self._arns(region)
        )
        self.documents: dict[str, tuple[list[Any], list[str]]] = {}  # policy -> (statements, roles)
        self.subscriptions: list[tuple[str | None, str, str]] = []

    def _physical_names(self) -> dict[str, str]:
        pairs = [
            (value, logical)
            for logical, resource in self.resources.items()
            for key, value in resource.get("Properties", {}).items()
            if key.endswith(NAME_SUFFIXES) and key not in NOT_NAMES and isinstance(value, str)
        ]
        return unique_index(pairs)

    def _arns(self, region: str) -> dict[str, str]:
        pairs = []
        for logical, resource in self.resources.items():
            key, shape = ARN_FORMATS.get(resource.get("Type", ""), ("", ""))
            name = resource.get("Properties", {}).get(key)
            if isinstance(name, str):
                if resource["Type"] == "AWS::SSM::Parameter" and not name.startswith("/"):
                    name = "/" + name
                pairs.append((generalise(shape.format(name), region), logical))
        return unique_index(pairs)

    def read(self) -> Platform:
        platform = self.platform
        categories: dict[str, str] = {}
        labels: dict[str, str] = {}
        for logical, resource in self.resources.items():
            type_name = resource.get("Type", "")
            raw = resource.get("Properties", {})
            p = self.normalise(raw)
            platform.types[logical] = type_name
            platform.tags[logical] = _tags(raw)
            platform.references[logical] = list(common.references(p))
            categories[logical] = CATEGORIES.get(type_name, "resource")
            labels[logical] = LABELS.get(type_name, type_name)
            handler = HANDLERS.get(type_name)
            if handler is None:
                platform.unknown.append(f"{logical} ({type_name})")
            else:
                handler(self, logical, p, raw)
        self._finish()
        common.place_by_reference(platform, categories, labels, ROLES)
        return platform

    def _finish(self) -> None:
        for name, (found, roles) in self.documents.items():
            for attached in roles:
                if attached in self.platform.roles:
                    self.platform.roles[attached].statements += found
            for role in self.platform.roles.values():
                if f"<{name}>" in role.managed:
                    role.statements += found
        for topic, protocol, endpoint in self.subscriptions:
            if topic in self.platform.topics:
                self.platform.topics[topic].subscriptions.append((protocol, endpoint))


# ---------------------------------------------------------------- network


def _vpc(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.vpcs.append(name)
    r.platform.vpc_cidrs.append(str(raw.get("CidrBlock", "")))


def _subnet(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.subnets[name] = str(p.get("AvailabilityZone", ""))
    r.platform.public_ip_on_launch[name] = p.get("MapPublicIpOnLaunch") is True


def _gateway(kind: str) -> Callable[[Reader, str, Props, Props], None]:
    def read(r: Reader, name: str, p: Props, raw: Props) -> None:
        r.platform.gateways[name] = kind
        if kind == "nat":
            r.platform.holders[name] = Holder(
                name, "nat", [], [only_name(p.get("SubnetId")) or "?"], role="nat"
            )

    return read


def _route(r: Reader, name: str, p: Props, raw: Props) -> None:
    if p.get("DestinationCidrBlock") != "0.0.0.0/0":
        return
    table = only_name(p.get("RouteTableId")) or "?"
    via = [p.get(key) for key in ("GatewayId", "NatGatewayId") if key in p]
    gateway = only_name(via[0]) if via else None
    r.platform.default_routes.setdefault(table, set()).add(gateway or f"?{via}")


def _association(r: Reader, name: str, p: Props, raw: Props) -> None:
    subnet = only_name(p.get("SubnetId"))
    if subnet:
        r.platform.route_tables[subnet] = only_name(p.get("RouteTableId")) or "?"


def ports(rule: Props) -> Ports:
    protocol = str(rule.get("IpProtocol", "-1")).lower()
    protocol = PROTOCOLS.get(protocol, protocol)
    if protocol == "all":
        return Ports("all", 0, 65535)
    low, high = rule.get("FromPort", 0), rule.get("ToPort", 65535)
    return Ports(protocol, int(low), int(high))


def _peer(rule: Props, inbound: bool) -> Peer:
    group_key = "SourceSecurityGroupId" if inbound else "DestinationSecurityGroupId"
    if group_key in rule:
        return Peer(group=only_name(rule[group_key]) or f"?{rule[group_key]}")
    for key in ("CidrIp", "CidrIpv6"):
        if key in rule:
            return Peer(cidr=str(rule[key]))
    prefix = "SourcePrefixListId" if inbound else "DestinationPrefixListId"
    return Peer(cidr=f"prefix-list:{rule.get(prefix, '?')}")


def _rules(r: Reader, group: str, rules: list[Props], inbound: bool, source: str) -> None:
    for rule in rules:
        r.platform.sg_rules.append(
            SgRule(group, inbound, _peer(rule, inbound), ports(rule), source)
        )


def _security_group(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.security_groups.append(name)
    _rules(r, name, as_list(p.get("SecurityGroupIngress")), True, name)
    # Without SecurityGroupEgress, AWS gives a new group an allow-all egress rule.
    egress = p.get("SecurityGroupEgress", [{"CidrIp": "0.0.0.0/0", "IpProtocol": "-1"}])
    _rules(r, name, as_list(egress), False, name)


def _standalone(inbound: bool) -> Callable[[Reader, str, Props, Props], None]:
    def read(r: Reader, name: str, p: Props, raw: Props) -> None:
        group = only_name(p.get("GroupId")) or f"?{p.get('GroupId')}"
        _rules(r, group, [p], inbound, name)

    return read


def _flow_log(r: Reader, name: str, p: Props, raw: Props) -> None:
    destination = p.get("LogDestination") or p.get("LogGroupName")
    r.platform.flow_logs[name] = FlowLog(
        name,
        only_name(p.get("ResourceId")),
        str(p.get("TrafficType", "")),
        only_name(destination)
        if p.get("LogDestinationType", "cloud-watch-logs") == "cloud-watch-logs"
        else None,
        only_name(p.get("DeliverLogsPermissionArn")),
    )
    r.platform.use_role(only_name(p.get("DeliverLogsPermissionArn")), name, "flow-logs")


# ---------------------------------------------------------------- identity and keys


def _role(r: Reader, name: str, p: Props, raw: Props) -> None:
    inline = [
        s for policy in as_list(p.get("Policies")) for s in statements(policy.get("PolicyDocument"))
    ]
    r.platform.roles[name] = Role(
        name,
        trusted=statements(p.get("AssumeRolePolicyDocument")),
        statements=inline,
        managed=[str(arn) for arn in as_list(p.get("ManagedPolicyArns"))],
    )


def _policy(r: Reader, name: str, p: Props, raw: Props) -> None:
    roles = [only_name(role) or str(role) for role in as_list(p.get("Roles"))]
    r.documents[name] = (statements(p.get("PolicyDocument")), roles)


def _key(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.keys[name] = Key(
        name, p.get("EnableKeyRotation") is True, statements(p.get("KeyPolicy"))
    )


def _log_group(r: Reader, name: str, p: Props, raw: Props) -> None:
    key = only_name(p.get("KmsKeyId"))
    retention = p.get("RetentionInDays")
    r.platform.log_groups[name] = LogGroup(
        name,
        str(raw.get("LogGroupName", "")),
        int(retention) if retention is not None else None,
        key,
    )
    encrypted(r.platform, name, "log group", key)


# ---------------------------------------------------------------- traffic


def _actions(actions: Any) -> list[Forward]:
    found = []
    for action in as_list(actions):
        kind = str(action.get("Type", ""))
        if kind == "redirect":
            config = action.get("RedirectConfig", {})
            found.append(
                Forward(kind, redirect=(str(config.get("Protocol")), str(config.get("Port"))))
            )
            continue
        weights: list[tuple[str, int]] = []
        if "TargetGroupArn" in action:
            weights.append((only_name(action["TargetGroupArn"]) or "?", 1))
        for group in action.get("ForwardConfig", {}).get("TargetGroups", []):
            weights.append(
                (only_name(group.get("TargetGroupArn")) or "?", int(group.get("Weight", 1)))
            )
        found.append(Forward(kind, tuple(weights)))
    return found


def _load_balancer(r: Reader, name: str, p: Props, raw: Props) -> None:
    attributes = {str(a["Key"]): str(a["Value"]) for a in as_list(p.get("LoadBalancerAttributes"))}
    r.platform.load_balancers[name] = LoadBalancer(
        name,
        p.get("Scheme", "internet-facing") != "internal",
        {
            key: value.lower()
            for key, value in attributes.items()
            if value in ("true", "false", "True", "False")
        },
        only_name(attributes.get("access_logs.s3.bucket")),
    )


def _listener(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.listeners[name] = Listener(
        name,
        int(p.get("Port", 0)),
        str(p.get("Protocol", "")),
        p.get("SslPolicy"),
        [str(c.get("CertificateArn")) for c in as_list(p.get("Certificates"))],
        _actions(p.get("DefaultActions")),
        only_name(p.get("LoadBalancerArn")),
    )


CONDITIONS = {
    "path-pattern": ("path", "PathPatternConfig"),
    "host-header": ("host", "HostHeaderConfig"),
}


def _listener_rule(r: Reader, name: str, p: Props, raw: Props) -> None:
    conditions = []
    for condition in as_list(p.get("Conditions")):
        field, config = CONDITIONS.get(
            str(condition.get("Field")), (str(condition.get("Field")), "")
        )
        values = condition.get(config, {}).get("Values", condition.get("Values", []))
        conditions += [(field, str(value)) for value in values]
    r.platform.rules[name] = ListenerRule(
        name,
        only_name(p.get("ListenerArn")),
        int(p.get("Priority", 0)),
        conditions,
        _actions(p.get("Actions")),
    )


def _target_group(r: Reader, name: str, p: Props, raw: Props) -> None:
    tags = r.platform.tags[name]
    r.platform.target_groups[name] = TargetGroup(
        name, tags.get("Service"), tags.get("DeploymentColor"), p.get("Port")
    )


def _ecs_service(r: Reader, name: str, p: Props, raw: Props) -> None:
    tags = r.platform.tags[name]
    network = p.get("NetworkConfiguration", {}).get("AwsvpcConfiguration", {})
    r.platform.ecs_services[name] = EcsService(
        name,
        tags.get("Service"),
        tags.get("DeploymentColor"),
        p.get("DesiredCount"),
        [
            (only_name(lb.get("TargetGroupArn")) or "?", lb.get("ContainerPort"))
            for lb in as_list(p.get("LoadBalancers"))
        ],
        only_name(p.get("TaskDefinition")),
    )
    r.platform.holders[name] = Holder(
        name,
        "ecs-service",
        [g for g in (only_name(x) for x in as_list(network.get("SecurityGroups"))) if g],
        [s for s in (only_name(x) for x in as_list(network.get("Subnets"))) if s],
        network.get("AssignPublicIp") == "ENABLED",
        role=f"tasks:{tags.get('Service') or name}",
    )


def _task_definition(r: Reader, name: str, p: Props, raw: Props) -> None:
    containers = [
        Container(
            str(c.get("Image", "")),
            str(c.get("User", "")),
            only_name(c.get("LogConfiguration", {}).get("Options", {}).get("awslogs-group")),
            [int(m.get("ContainerPort", 0)) for m in as_list(c.get("PortMappings"))],
            {str(s.get("Name")): str(s.get("ValueFrom")) for s in as_list(c.get("Secrets"))},
        )
        for c in as_list(p.get("ContainerDefinitions"))
    ]
    task, execution = only_name(p.get("TaskRoleArn")), only_name(p.get("ExecutionRoleArn"))
    r.platform.tasks[name] = TaskDefinition(name, task, execution, containers)
    r.platform.use_role(task, name, "task")
    r.platform.use_role(execution, name, "execution")


def _state_machine(r: Reader, name: str, p: Props, raw: Props) -> None:
    text = p.get("DefinitionString")
    definition = p.get("Definition") or (json.loads(text) if isinstance(text, str) else {})
    logging = p.get("LoggingConfiguration", {})
    destinations = as_list(logging.get("Destinations"))
    log_group = (
        destinations[0].get("CloudWatchLogsLogGroup", {}).get("LogGroupArn")
        if destinations
        else None
    )
    role = only_name(p.get("RoleArn"))
    r.platform.machines[name] = StateMachine(
        name,
        role,
        r.normalise(definition),
        logging.get("Level"),
        only_name(log_group),
        logging.get("IncludeExecutionData") is True,
    )
    r.platform.use_role(role, name, "state-machine")


# ---------------------------------------------------------------- data and operations


def _cluster(r: Reader, name: str, p: Props, raw: Props) -> None:
    key = only_name(p.get("KmsKeyId"))
    cluster = DbCluster(
        name,
        str(raw.get("DBClusterIdentifier", "")),
        p.get("StorageEncrypted") is True,
        key,
        only_name(p.get("DBSubnetGroupName")),
        [str(e) for e in as_list(p.get("EnableCloudwatchLogsExports"))],
        p.get("DeletionProtection") is True,
    )
    r.platform.clusters[name] = cluster
    encrypted(r.platform, name, "database storage", key if cluster.encrypted else None)


def _instance(r: Reader, name: str, p: Props, raw: Props) -> None:
    if p.get("PubliclyAccessible") is not False:
        r.platform.public_instances.append(name)
    r.platform.instance_clusters[name] = only_name(p.get("DBClusterIdentifier"))
    r.platform.use_role(only_name(p.get("MonitoringRoleArn")), name, "monitoring")


def _secret(r: Reader, name: str, p: Props, raw: Props) -> None:
    encrypted(r.platform, name, "secret", only_name(p.get("KmsKeyId")))


def _topic(r: Reader, name: str, p: Props, raw: Props) -> None:
    key = only_name(p.get("KmsMasterKeyId"))
    subscriptions = [
        (str(s.get("Protocol")), str(s.get("Endpoint"))) for s in as_list(p.get("Subscription"))
    ]
    r.platform.topics[name] = Topic(name, key, subscriptions)
    encrypted(r.platform, name, "topic", key)


def _subscription(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.subscriptions.append(
        (only_name(p.get("TopicArn")), str(p.get("Protocol")), str(p.get("Endpoint")))
    )


def _alarm(r: Reader, name: str, p: Props, raw: Props) -> None:
    metric = p
    for query in as_list(p.get("Metrics")):
        if "MetricStat" in query:
            metric = query["MetricStat"].get("Metric", {})
            break
    r.platform.alarms[name] = Alarm(
        name,
        str(raw.get("AlarmName", "")),
        [str(a) for a in as_list(p.get("AlarmActions"))],
        p.get("ActionsEnabled") is not False,
        str(metric.get("Namespace", "")),
        str(metric.get("MetricName", "")),
        {str(d.get("Name")): str(d.get("Value")) for d in as_list(metric.get("Dimensions"))},
    )


def _vault(r: Reader, name: str, p: Props, raw: Props) -> None:
    encrypted(r.platform, name, "backup vault", only_name(p.get("EncryptionKeyArn")))


def _backup_plan(r: Reader, name: str, p: Props, raw: Props) -> None:
    for rule in as_list(p.get("BackupPlan", {}).get("BackupPlanRule")):
        days = rule.get("Lifecycle", {}).get("DeleteAfterDays")
        r.platform.backup_rules.append(
            BackupRule(
                name,
                str(rule.get("ScheduleExpression", "")),
                days,
                only_name(rule.get("TargetBackupVault")),
            )
        )


def _backup_selection(r: Reader, name: str, p: Props, raw: Props) -> None:
    selection = p.get("BackupSelection", {})
    r.platform.backup_selections[name] = [
        only_name(x) or str(x) for x in as_list(selection.get("Resources"))
    ]
    role = only_name(selection.get("IamRoleArn"))
    r.platform.backup_selection_roles[name] = role
    r.platform.use_role(role, name, "backup")


def _parameter(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.parameters[name] = str(raw.get("Name", ""))


def _bucket(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.buckets.append(name)
    bucket = r.platform.bucket(name)
    bucket.versioned = p.get("VersioningConfiguration", {}).get("Status") == "Enabled"
    logging = p.get("LoggingConfiguration")
    if isinstance(logging, dict):
        bucket.logs_to = only_name(logging.get("DestinationBucketName")) or name
    events = p.get("NotificationConfiguration", {}).get("EventBridgeConfiguration", {})
    bucket.eventbridge = events.get("EventBridgeEnabled") is True
    retention = p.get("ObjectLockConfiguration", {}).get("Rule", {}).get("DefaultRetention", {})
    if p.get("ObjectLockEnabled") is True and retention.get("Mode"):
        bucket.lock = (str(retention["Mode"]), int(retention.get("Days") or 0))


def _ecs_cluster(r: Reader, name: str, p: Props, raw: Props) -> None:
    settings = {s.get("Name"): s.get("Value") for s in as_list(p.get("ClusterSettings"))}
    if settings.get("containerInsights") in ("enabled", "enhanced"):
        r.platform.insights_clusters.append(str(raw.get("ClusterName") or f"<unnamed:{name}>"))


def _rotation(r: Reader, name: str, p: Props, raw: Props) -> None:
    hosted = p.get("HostedRotationLambda")
    if isinstance(hosted, dict):
        # Without a name the transform names the function itself, unknown to the template.
        r.platform.functions.append(str(hosted.get("RotationLambdaName") or f"<unnamed:{name}>"))


def _visible(config: Any) -> bool:
    config = config if isinstance(config, dict) else {}
    return (
        config.get("CloudWatchMetricsEnabled") is True
        and config.get("SampledRequestsEnabled") is True
    )


def _web_acl(r: Reader, name: str, p: Props, raw: Props) -> None:
    managed, overridden, limits, metrics = [], [], [], _visible(p.get("VisibilityConfig"))
    for rule in as_list(p.get("Rules")):
        statement = rule.get("Statement", {})
        metrics = metrics and _visible(rule.get("VisibilityConfig"))
        group = statement.get("ManagedRuleGroupStatement")
        if group:
            managed.append((str(group.get("VendorName")), str(group.get("Name"))))
            if "Count" in rule.get("OverrideAction", {}):
                overridden.append(str(group.get("Name")))
        rate = statement.get("RateBasedStatement")
        if rate and "Block" in rule.get("Action", {}):
            limits.append(int(rate.get("Limit", 0)))
    r.platform.web_acls[name] = WebAcl(
        name,
        str(p.get("Scope", "")),
        "allow" if "Allow" in p.get("DefaultAction", {}) else "block",
        managed,
        overridden,
        limits,
        metrics,
    )


def _waf_association(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.waf_associations.append(
        (only_name(p.get("WebACLArn")), only_name(p.get("ResourceArn")))
    )


def _waf_logging(r: Reader, name: str, p: Props, raw: Props) -> None:
    redacted = [
        str(field.get("SingleHeader", {}).get("Name", "")).lower()
        for field in as_list(p.get("RedactedFields"))
    ]
    r.platform.waf_logging.append(
        WafLogging(
            only_name(p.get("ResourceArn")),
            tuple(str(d) for d in as_list(p.get("LogDestinationConfigs"))),
            tuple(redacted),
        )
    )


def _image_cache(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.image_caches[str(p.get("EcrRepositoryPrefix"))] = str(p.get("UpstreamRegistryUrl"))


def _registry_scanning(r: Reader, name: str, p: Props, raw: Props) -> None:
    r.platform.registry_scans += [
        (str(p.get("ScanType")), str(rule.get("ScanFrequency")), str(each.get("Filter")))
        for rule in p.get("Rules", [])
        for each in rule.get("RepositoryFilters", [])
    ]


def _nothing(r: Reader, name: str, p: Props, raw: Props) -> None:
    """A type known to carry no meaning the semantic checks judge beyond its references."""


def _tags(raw: Props) -> dict[str, str]:
    # AWS Backup names its tag properties after the resource (a map, not a list).
    tags = raw.get("Tags", raw.get("BackupVaultTags", raw.get("BackupPlanTags")))
    if isinstance(tags, dict):
        return {str(k): str(v) for k, v in tags.items()}
    return {str(t.get("Key")): str(t.get("Value")) for t in as_list(tags) if isinstance(t, dict)}


Handler = Callable[[Reader, str, Props, Props], None]
HANDLERS: dict[str, Handler] = {
    "AWS::EC2::VPC": _vpc,
    "AWS::EC2::Subnet": _subnet,
    "AWS::EC2::InternetGateway": _gateway("igw"),
    "AWS::EC2::NatGateway": _gateway("nat"),
    "AWS::EC2::EIP": _nothing,
    "AWS::EC2::VPCGatewayAttachment": _nothing,
    "AWS::EC2::RouteTable": _nothing,
    "AWS::EC2::Route": _route,
    "AWS::EC2::SubnetRouteTableAssociation": _association,
    "AWS::EC2::SecurityGroup": _security_group,
    "AWS::EC2::SecurityGroupIngress": _standalone(True),
    "AWS::EC2::SecurityGroupEgress": _standalone(False),
    "AWS::EC2::FlowLog": _flow_log,
    "AWS::EC2::VPCEndpoint": _nothing,  # placed and keyed by its references
    "AWS::KMS::Key": _key,
    "AWS::KMS::Alias": _nothing,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::IAM::Role": _role,
    "AWS::IAM::Policy": _policy,
    "AWS::IAM::ManagedPolicy": _policy,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _nothing,
    "AWS::ElasticLoadBalancingV2::LoadBalancer": _load_balancer,
    "AWS::ElasticLoadBalancingV2::TargetGroup": _target_group,
    "AWS::ElasticLoadBalancingV2::Listener": _listener,
    "AWS::ElasticLoadBalancingV2::ListenerRule": _listener_rule,
    "AWS::ECS::Cluster": _ecs_cluster,
    "AWS::ECS::TaskDefinition": _task_definition,
    "AWS::ECS::Service": _ecs_service,
    "AWS::RDS::DBSubnetGroup": _nothing,  # placed by its subnets
    "AWS::RDS::DBClusterParameterGroup": _nothing,
    "AWS::RDS::DBCluster": _cluster,
    "AWS::RDS::DBInstance": _instance,
    "AWS::SecretsManager::Secret": _secret,
    "AWS::SecretsManager::SecretTargetAttachment": _nothing,
    "AWS::SecretsManager::RotationSchedule": _rotation,  # placed and keyed by its references
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::Subscription": _subscription,
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::CloudWatch::Dashboard": _nothing,
    "AWS::Backup::BackupVault": _vault,
    "AWS::Backup::BackupPlan": _backup_plan,
    "AWS::Backup::BackupSelection": _backup_selection,
    "AWS::StepFunctions::StateMachine": _state_machine,
    "AWS::SSM::Parameter": _parameter,
    "AWS::WAFv2::WebACL": _web_acl,
    "AWS::WAFv2::WebACLAssociation": _waf_association,
    "AWS::WAFv2::LoggingConfiguration": _waf_logging,
    "AWS::ECR::PullThroughCacheRule": _image_cache,
    "AWS::ECR::RegistryScanningConfiguration": _registry_scanning,
}
CATEGORIES = {
    "AWS::EC2::SecurityGroup": common.SECURITY_GROUP,
    "AWS::EC2::SecurityGroupIngress": common.SG_RULE,
    "AWS::EC2::SecurityGroupEgress": common.SG_RULE,
    "AWS::EC2::Subnet": common.SUBNET,
    "AWS::KMS::Key": common.KEY,
    "AWS::KMS::Alias": "alias",
    "AWS::IAM::Role": common.ROLE,
    "AWS::IAM::Policy": common.POLICY,
    "AWS::IAM::ManagedPolicy": common.POLICY,
    "AWS::EC2::VPC": "vpc",
    "AWS::EC2::RouteTable": "route",
    "AWS::EC2::Route": "route",
    "AWS::EC2::SubnetRouteTableAssociation": "route",
    "AWS::EC2::VPCGatewayAttachment": "route",
    "AWS::SSM::Parameter": "parameter",
}
# What an encrypted resource of each type holds, for key uses found by reference.
LABELS = {
    "AWS::RDS::DBInstance": "performance insights",
    "AWS::SecretsManager::RotationSchedule": "rotation function",
    "AWS::EC2::VPCEndpoint": "vpc endpoint",
}


def read_template(
    template: dict[str, Any], region: str, given: dict[str, str] | None = None
) -> Platform:
    """The platform `template` deploys with parameters `given` (else their defaults)."""
    return Reader(template, region, given).read()


# What a holder of each type is in the network (read_common.place_by_reference).
ROLES = {
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "alb",
    "AWS::RDS::DBCluster": "db",
    "AWS::SecretsManager::RotationSchedule": "rotation",
    "AWS::RDS::DBSubnetGroup": "db-subnets",
    "AWS::EC2::VPCEndpoint": "endpoint",
}
