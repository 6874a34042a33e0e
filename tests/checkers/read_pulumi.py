"""A mocked Pulumi plan read as a `Platform`.

Reads only the plan (docs/pulumi.md): each registration's type token, name, inputs, input
dependencies and the ID and ARN the mocks answered. References are followed by value: an input
holding another registration's answered ID, ARN or physical name refers to it. A type token the
reader does not know is listed in `Platform.unknown` and still placed by what it refers to.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any

from tests.checkers import read_common as common
from tests.checkers.model import (
    Alarm,
    BackupRule,
    Bucket,
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
from tests.checkers.normalise import Normaliser, unique_index
from tests.checkers.read_common import as_list, encrypted, statements

Inputs = dict[str, Any]
PROTOCOLS = {"-1": "all", "6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}
# The input that carries a type's physical name (default: `name`), which others may quote.
NAME_INPUTS = {
    "aws:rds/cluster:Cluster": "clusterIdentifier",
    "aws:rds/clusterInstance:ClusterInstance": "identifier",
    "aws:ecs/taskDefinition:TaskDefinition": "family",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
}
# Inputs that hold JSON text.
JSON_INPUTS = ("policy", "assumeRolePolicy", "definition", "containerDefinitions", "dashboardBody")
ALB_ATTRIBUTES = {
    "enableDeletionProtection": "deletion_protection.enabled",
    "dropInvalidHeaderFields": "routing.http.drop_invalid_header_fields.enabled",
}


def _identities(resource: dict[str, Any]) -> Iterator[tuple[str, int]]:
    """(value, rank) for every value that identifies this registration: its answered ARN
    (rank 0), its answered ID (1), its physical name (2). A value two registrations share goes
    to the lower rank (a rotation's ID is its secret's ARN)."""
    answered = resource.get("answered", {})
    own = NAME_INPUTS.get(resource["type"], "name")
    # A registration that configures another (a bucket's policy, a secret's rotation) answers
    # with the other's ID, which it also holds as an input: that ID is not its own.
    borrowed = {v for k, v in resource["inputs"].items() if isinstance(v, str) and k != own}
    for rank, value in enumerate((answered.get("arn"), answered.get("id"))):
        if isinstance(value, str) and value and value not in borrowed:
            yield value, rank
    name = resource["inputs"].get(own)
    if isinstance(name, str) and name and name != "[secret]":
        yield name, 2
    arn = str(answered.get("arn", ""))
    # CloudWatch dimensions name load balancers and target groups by the end of their ARN.
    if ":loadbalancer/" in arn:
        yield arn.split(":loadbalancer/", 1)[1], 2
    if ":targetgroup/" in arn:
        yield "targetgroup/" + arn.split(":targetgroup/", 1)[1], 2


class Reader:
    def __init__(self, plan: dict[str, Any]):
        self.plan = plan
        self.registrations: list[dict[str, Any]] = plan["resources"]
        self.platform = Platform("pulumi", str(plan.get("region", "")))
        claims = [
            (value, rank, resource["name"])
            for resource in self.registrations
            for value, rank in _identities(resource)
        ]
        index = unique_index([(v, n) for v, _, n in claims], [rank for _, rank, _ in claims])
        arns = {value: name for value, name in index.items() if value.startswith("arn:")}
        names = {value: name for value, name in index.items() if value not in arns}
        self.normalise = Normaliser(self.platform.region, names, arns)
        self.documents: dict[str, list[Any]] = {}
        self.attachments: list[tuple[str | None, str]] = []  # (role, policy ARN)
        self.subscriptions: list[tuple[str | None, str, str]] = []
        self.inline_rules: list[tuple[str, Inputs]] = []
        # A rotation function's stack is known by the rotation that uses it.
        self.aliases: dict[str, str] = {}

    def inputs(self, resource: dict[str, Any]) -> Inputs:
        raw = dict(resource["inputs"])
        for key in JSON_INPUTS:
            if isinstance(raw.get(key), str) and raw[key] != "[secret]":
                with contextlib.suppress(ValueError):
                    raw[key] = json.loads(raw[key])
        normalised: Inputs = self.normalise(raw)
        return normalised

    def read(self) -> Platform:
        platform = self.platform
        for resource in self.registrations:
            if resource["type"] == ROTATION:
                for stack in resource.get("dependencies", {}).get("rotationLambdaArn", []):
                    self.aliases[stack] = resource["name"]
        categories: dict[str, str] = {}
        labels: dict[str, str] = {}
        for resource in self.registrations:
            type_token, name = (
                resource["type"],
                self.aliases.get(resource["name"], resource["name"]),
            )
            p = self.inputs(resource)
            platform.types.setdefault(name, type_token)
            platform.tags.setdefault(
                name, {str(k): str(v) for k, v in (resource["inputs"].get("tags") or {}).items()}
            )
            platform.references.setdefault(name, []).extend(common.references(p))
            categories.setdefault(name, CATEGORIES.get(type_token, "resource"))
            labels.setdefault(name, LABELS.get(type_token, type_token))
            handler = HANDLERS.get(type_token)
            if handler is None:
                platform.unknown.append(f"{name} ({type_token})")
            else:
                handler(self, name, p, resource)
        self._finish()
        common.place_by_reference(platform, categories, labels, ROLES)
        return platform

    def _finish(self) -> None:
        roles = self.platform.roles
        for role, arn in self.attachments:
            if role in roles:
                # A policy of the plan's own (customer managed) gives its statements; any other
                # ARN is an AWS managed policy, judged by name.
                policy = only_name(arn)
                if policy in self.documents:
                    roles[role].statements += self.documents[policy]
                else:
                    roles[role].managed.append(arn)
        for topic, protocol, endpoint in self.subscriptions:
            if topic in self.platform.topics:
                self.platform.topics[topic].subscriptions.append((protocol, endpoint))


# ---------------------------------------------------------------- network


def _vpc(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.vpcs.append(name)
    r.platform.vpc_cidrs.append(str(raw["inputs"].get("cidrBlock", "")))


def _subnet(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.subnets[name] = str(p.get("availabilityZone", ""))
    r.platform.public_ip_on_launch[name] = p.get("mapPublicIpOnLaunch") is True


def _gateway(kind: str) -> Callable[[Reader, str, Inputs, dict[str, Any]], None]:
    def read(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
        r.platform.gateways[name] = kind
        if kind == "nat":
            r.platform.holders[name] = Holder(
                name, "nat", [], [only_name(p.get("subnetId")) or "?"], role="nat"
            )

    return read


def _default_route(r: Reader, table: str, route: Inputs) -> None:
    if route.get("destinationCidrBlock", route.get("cidrBlock")) != "0.0.0.0/0":
        return
    via = [route.get(key) for key in ("gatewayId", "natGatewayId") if key in route]
    gateway = only_name(via[0]) if via else None
    r.platform.default_routes.setdefault(table, set()).add(gateway or f"?{via}")


def _route(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    _default_route(r, only_name(p.get("routeTableId")) or "?", p)


def _route_table(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    for route in as_list(p.get("routes")):
        _default_route(r, name, route)


def _association(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    subnet = only_name(p.get("subnetId"))
    if subnet:
        r.platform.route_tables[subnet] = only_name(p.get("routeTableId")) or "?"


def ports(protocol: Any, low: Any, high: Any) -> Ports:
    text = str(protocol if protocol is not None else "-1").lower()
    text = PROTOCOLS.get(text, text)
    if text == "all":
        return Ports("all", 0, 65535)
    return Ports(text, int(low if low is not None else 0), int(high if high is not None else 65535))


def _inline_rules(r: Reader, group: str, rules: list[Inputs], inbound: bool) -> None:
    for rule in rules:
        span = ports(rule.get("protocol"), rule.get("fromPort"), rule.get("toPort"))
        peers = [
            Peer(cidr=str(c))
            for c in as_list(rule.get("cidrBlocks")) + as_list(rule.get("ipv6CidrBlocks"))
        ]
        peers += [Peer(group=only_name(g) or f"?{g}") for g in as_list(rule.get("securityGroups"))]
        peers += [Peer(cidr=f"prefix-list:{p}") for p in as_list(rule.get("prefixListIds"))]
        if rule.get("self"):
            peers.append(Peer(group=group))
        for peer in peers:
            r.platform.sg_rules.append(SgRule(group, inbound, peer, span, group))


def _security_group(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.security_groups.append(name)
    # The provider removes AWS's default allow-all egress: no `egress` means none.
    _inline_rules(r, name, as_list(p.get("ingress")), True)
    _inline_rules(r, name, as_list(p.get("egress")), False)


def _vpc_rule(inbound: bool) -> Callable[[Reader, str, Inputs, dict[str, Any]], None]:
    def read(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
        group = only_name(p.get("securityGroupId")) or f"?{p.get('securityGroupId')}"
        span = ports(p.get("ipProtocol"), p.get("fromPort"), p.get("toPort"))
        if "referencedSecurityGroupId" in p:
            peer = Peer(group=only_name(p["referencedSecurityGroupId"]) or "?")
        elif "prefixListId" in p:
            peer = Peer(cidr=f"prefix-list:{p['prefixListId']}")
        else:
            peer = Peer(cidr=str(p.get("cidrIpv4", p.get("cidrIpv6", "?"))))
        r.platform.sg_rules.append(SgRule(group, inbound, peer, span, name))

    return read


def _ec2_rule(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    group = only_name(p.get("securityGroupId")) or "?"
    rule = dict(p)
    if "sourceSecurityGroupId" in p:
        rule["securityGroups"] = [p["sourceSecurityGroupId"]]
    _inline_rules(r, group, [rule], p.get("type") == "ingress")


def _flow_log(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    destination = p.get("logDestination") or p.get("logGroupName")
    kind = p.get("logDestinationType", "cloud-watch-logs")
    role = only_name(p.get("iamRoleArn"))
    r.platform.flow_logs[name] = FlowLog(
        name,
        only_name(p.get("vpcId") or p.get("subnetId") or p.get("eniId")),
        str(p.get("trafficType", "")),
        only_name(str(destination).removesuffix(":*")) if kind == "cloud-watch-logs" else None,
        role,
    )
    r.platform.use_role(role, name, "flow-logs")


# ---------------------------------------------------------------- identity and keys


def _role(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    inline = [
        s
        for policy in as_list(p.get("inlinePolicies"))
        for s in statements(_json(policy.get("policy")))
    ]
    r.platform.roles[name] = Role(
        name,
        trusted=statements(p.get("assumeRolePolicy")),
        statements=inline,
        managed=[str(arn) for arn in as_list(p.get("managedPolicyArns"))],
    )


def _role_policy(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    role = only_name(p.get("role"))
    if role in r.platform.roles:
        r.platform.roles[role].statements += statements(p.get("policy"))
    else:
        r.platform.unknown.append(
            f"{name}: a policy for a role the plan does not hold ({p.get('role')})"
        )


def _attachment(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.attachments.append((only_name(p.get("role")), str(p.get("policyArn"))))


def _policy(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.documents[name] = statements(p.get("policy"))


def _key(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.keys[name] = Key(
        name, p.get("enableKeyRotation") is True, statements(p.get("policy"))
    )


def _log_group(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    key = only_name(p.get("kmsKeyId"))
    retention = p.get("retentionInDays")
    r.platform.log_groups[name] = LogGroup(
        name, str(raw["inputs"].get("name", "")), int(retention) if retention else None, key
    )
    encrypted(r.platform, name, "log group", key)


# ---------------------------------------------------------------- traffic


def _actions(actions: Any) -> list[Forward]:
    found = []
    for action in as_list(actions):
        kind = str(action.get("type", ""))
        if kind == "redirect":
            config = action.get("redirect", {})
            found.append(
                Forward(kind, redirect=(str(config.get("protocol")), str(config.get("port"))))
            )
            continue
        weights: list[tuple[str, int]] = []
        if "targetGroupArn" in action:
            weights.append((only_name(action["targetGroupArn"]) or "?", 1))
        for group in action.get("forward", {}).get("targetGroups", []):
            weights.append((only_name(group.get("arn")) or "?", int(group.get("weight", 1))))
        found.append(Forward(kind, tuple(weights)))
    return found


def _load_balancer(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    attributes = {key: str(p.get(prop) is True).lower() for prop, key in ALB_ATTRIBUTES.items()}
    logs = p.get("accessLogs") or {}
    attributes["access_logs.s3.enabled"] = str(logs.get("enabled") is True).lower()
    r.platform.load_balancers[name] = LoadBalancer(
        name,
        p.get("internal") is not True,
        attributes,
        only_name(logs.get("bucket")),
    )


def _listener(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.listeners[name] = Listener(
        name,
        int(p.get("port", 0)),
        str(p.get("protocol", "")),
        p.get("sslPolicy"),
        [str(p["certificateArn"])] if "certificateArn" in p else [],
        _actions(p.get("defaultActions")),
        only_name(p.get("loadBalancerArn")),
    )


CONDITIONS = {"pathPattern": "path", "hostHeader": "host"}


def _listener_rule(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    conditions = [
        (CONDITIONS.get(kind, kind), str(value))
        for condition in as_list(p.get("conditions"))
        for kind, config in condition.items()
        for value in as_list(config.get("values") if isinstance(config, dict) else config)
    ]
    r.platform.rules[name] = ListenerRule(
        name,
        only_name(p.get("listenerArn")),
        int(p.get("priority", 0)),
        conditions,
        _actions(p.get("actions")),
    )


def _target_group(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    tags = r.platform.tags[name]
    r.platform.target_groups[name] = TargetGroup(
        name, tags.get("Service"), tags.get("DeploymentColor"), p.get("port")
    )


def _ecs_service(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    tags = r.platform.tags[name]
    network = p.get("networkConfiguration") or {}
    r.platform.ecs_services[name] = EcsService(
        name,
        tags.get("Service"),
        tags.get("DeploymentColor"),
        p.get("desiredCount"),
        [
            (only_name(lb.get("targetGroupArn")) or "?", lb.get("containerPort"))
            for lb in as_list(p.get("loadBalancers"))
        ],
        only_name(p.get("taskDefinition")),
    )
    r.platform.holders[name] = Holder(
        name,
        "ecs-service",
        [g for g in (only_name(x) for x in as_list(network.get("securityGroups"))) if g],
        [s for s in (only_name(x) for x in as_list(network.get("subnets"))) if s],
        network.get("assignPublicIp") is True,
        role=f"tasks:{tags.get('Service') or name}",
    )


def _task_definition(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    containers = [
        Container(
            str(c.get("image", "")),
            str(c.get("user", "")),
            only_name((c.get("logConfiguration") or {}).get("options", {}).get("awslogs-group")),
            [int(m.get("containerPort", 0)) for m in as_list(c.get("portMappings"))],
            {str(s.get("name")): str(s.get("valueFrom")) for s in as_list(c.get("secrets"))},
        )
        for c in as_list(p.get("containerDefinitions"))
    ]
    task, execution = only_name(p.get("taskRoleArn")), only_name(p.get("executionRoleArn"))
    r.platform.tasks[name] = TaskDefinition(name, task, execution, containers)
    r.platform.use_role(task, name, "task")
    r.platform.use_role(execution, name, "execution")


def _state_machine(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    logging = p.get("loggingConfiguration") or {}
    role = only_name(p.get("roleArn"))
    definition = p.get("definition")
    r.platform.machines[name] = StateMachine(
        name,
        role,
        definition if isinstance(definition, dict) else {},
        logging.get("level"),
        only_name(str(logging.get("logDestination", "")).removesuffix(":*")),
        logging.get("includeExecutionData") is True,
    )
    r.platform.use_role(role, name, "state-machine")


# ---------------------------------------------------------------- data and operations


def _cluster(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    key = only_name(p.get("kmsKeyId"))
    cluster = DbCluster(
        name,
        str(raw["inputs"].get("clusterIdentifier", "")),
        p.get("storageEncrypted") is True,
        key,
        only_name(p.get("dbSubnetGroupName")),
        [str(e) for e in as_list(p.get("enabledCloudwatchLogsExports"))],
        p.get("deletionProtection") is True,
    )
    r.platform.clusters[name] = cluster
    encrypted(r.platform, name, "database storage", key if cluster.encrypted else None)


def _instance(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    if p.get("publiclyAccessible") is not False:
        r.platform.public_instances.append(name)
    r.platform.instance_clusters[name] = only_name(p.get("clusterIdentifier"))
    r.platform.use_role(only_name(p.get("monitoringRoleArn")), name, "monitoring")


def _secret(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    encrypted(r.platform, name, "secret", only_name(p.get("kmsKeyId")))


def _topic(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    key = only_name(p.get("kmsMasterKeyId"))
    r.platform.topics[name] = Topic(name, key, [])
    encrypted(r.platform, name, "topic", key)


def _subscription(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.subscriptions.append(
        (only_name(p.get("topic")), str(p.get("protocol")), str(p.get("endpoint")))
    )


def _alarm(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    metric = p
    for query in as_list(p.get("metricQueries")):
        if query.get("metric"):
            metric = query["metric"]
            break
    r.platform.alarms[name] = Alarm(
        name,
        str(raw["inputs"].get("name", "")),
        [str(a) for a in as_list(p.get("alarmActions"))],
        p.get("actionsEnabled") is not False,
        str(metric.get("namespace", "")),
        str(metric.get("metricName", "")),
        {str(k): str(v) for k, v in (metric.get("dimensions") or {}).items()},
    )


def _vault(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    encrypted(r.platform, name, "backup vault", only_name(p.get("kmsKeyArn")))


def _backup_plan(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    for rule in as_list(p.get("rules")):
        days = (rule.get("lifecycle") or {}).get("deleteAfter")
        r.platform.backup_rules.append(
            BackupRule(
                name, str(rule.get("schedule", "")), days, only_name(rule.get("targetVaultName"))
            )
        )


def _backup_selection(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.backup_selections[name] = [
        only_name(x) or str(x) for x in as_list(p.get("resources"))
    ]
    role = only_name(p.get("iamRoleArn"))
    r.platform.backup_selection_roles[name] = role
    r.platform.use_role(role, name, "backup")


def _parameter(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.parameters[name] = str(raw["inputs"].get("name", ""))


def _bucket(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.buckets.append(name)


def _visible(config: Any) -> bool:
    config = config if isinstance(config, dict) else {}
    return (
        config.get("cloudwatchMetricsEnabled") is True
        and config.get("sampledRequestsEnabled") is True
    )


def _web_acl(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    managed, overridden, limits, metrics = [], [], [], _visible(p.get("visibilityConfig"))
    for rule in as_list(p.get("rules")):
        statement = rule.get("statement", {})
        metrics = metrics and _visible(rule.get("visibilityConfig"))
        group = statement.get("managedRuleGroupStatement")
        if group:
            managed.append((str(group.get("vendorName")), str(group.get("name"))))
            if "count" in (rule.get("overrideAction") or {}):
                overridden.append(str(group.get("name")))
        rate = statement.get("rateBasedStatement")
        if rate and "block" in (rule.get("action") or {}):
            limits.append(int(rate.get("limit", 0)))
    r.platform.web_acls[name] = WebAcl(
        name,
        str(p.get("scope", "")),
        "allow" if "allow" in (p.get("defaultAction") or {}) else "block",
        managed,
        overridden,
        limits,
        metrics,
    )


def _waf_association(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.waf_associations.append(
        (only_name(p.get("webAclArn")), only_name(p.get("resourceArn")))
    )


def _waf_logging(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    redacted = [
        str((field.get("singleHeader") or {}).get("name", "")).lower()
        for field in as_list(p.get("redactedFields"))
    ]
    r.platform.waf_logging.append(
        WafLogging(
            only_name(p.get("resourceArn")),
            tuple(str(d) for d in as_list(p.get("logDestinationConfigs"))),
            tuple(redacted),
        )
    )


def _of_bucket(r: Reader, p: Inputs) -> Bucket | None:
    """The bucket a bucket-configuration resource configures."""
    owner = only_name(p.get("bucket"))
    return r.platform.bucket(owner) if owner else None


def _bucket_versioning(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    bucket = _of_bucket(r, p)
    if bucket:
        bucket.versioned = p.get("versioningConfiguration", {}).get("status") == "Enabled"


def _bucket_logging(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    bucket = _of_bucket(r, p)
    if bucket:
        bucket.logs_to = only_name(p.get("targetBucket")) or bucket.name


def _bucket_notification(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    bucket = _of_bucket(r, p)
    if bucket:
        bucket.eventbridge = p.get("eventbridge") is True


def _bucket_lock(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    bucket = _of_bucket(r, p)
    retention = p.get("rule", {}).get("defaultRetention", {})
    if bucket and p.get("objectLockEnabled") == "Enabled" and retention.get("mode"):
        bucket.lock = (str(retention["mode"]), int(retention.get("days") or 0))


def _ecs_cluster(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    settings = {s.get("name"): s.get("value") for s in as_list(p.get("settings"))}
    if settings.get("containerInsights") in ("enabled", "enhanced"):
        named = raw["inputs"].get("name")
        r.platform.insights_clusters.append(str(named or f"<unnamed:{name}>"))


def _sar_stack(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    # The raw input: normalising would read the name as a reference to the stack itself.
    parameters = raw["inputs"].get("parameters") or {}
    r.platform.functions.append(str(parameters.get("functionName") or f"<unnamed:{name}>"))


def _image_cache(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.image_caches[str(p.get("ecrRepositoryPrefix"))] = str(p.get("upstreamRegistryUrl"))


def _registry_scanning(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    r.platform.registry_scans += [
        (str(p.get("scanType")), str(rule.get("scanFrequency")), str(each.get("filter")))
        for rule in p.get("rules", [])
        for each in rule.get("repositoryFilters", [])
    ]


def _nothing(r: Reader, name: str, p: Inputs, raw: dict[str, Any]) -> None:
    """A type known to carry no meaning the semantic checks judge beyond its references."""


def _json(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
SAR_STACK = "aws:serverlessrepository/cloudFormationStack:CloudFormationStack"
Handler = Callable[[Reader, str, Inputs, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {
    "aws:ec2/vpc:Vpc": _vpc,
    "aws:ec2/subnet:Subnet": _subnet,
    "aws:ec2/internetGateway:InternetGateway": _gateway("igw"),
    "aws:ec2/natGateway:NatGateway": _gateway("nat"),
    "aws:ec2/eip:Eip": _nothing,
    "aws:ec2/routeTable:RouteTable": _route_table,
    "aws:ec2/route:Route": _route,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": _association,
    "aws:ec2/securityGroup:SecurityGroup": _security_group,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": _vpc_rule(True),
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": _vpc_rule(False),
    "aws:ec2/securityGroupRule:SecurityGroupRule": _ec2_rule,
    "aws:ec2/flowLog:FlowLog": _flow_log,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _nothing,  # placed and keyed by its references
    "aws:wafv2/webAcl:WebAcl": _web_acl,
    "aws:wafv2/webAclAssociation:WebAclAssociation": _waf_association,
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": _waf_logging,
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": _image_cache,
    "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration": _registry_scanning,
    "aws:kms/key:Key": _key,
    "aws:kms/alias:Alias": _nothing,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _attachment,
    "aws:iam/policy:Policy": _policy,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketV2:BucketV2": _bucket,
    "aws:s3/bucketPolicy:BucketPolicy": _nothing,
    "aws:s3/bucketServerSideEncryptionConfiguration:"
    "BucketServerSideEncryptionConfiguration": _nothing,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _nothing,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _nothing,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _nothing,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_versioning,
    "aws:s3/bucketLogging:BucketLogging": _bucket_logging,
    "aws:s3/bucketNotification:BucketNotification": _bucket_notification,
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration": _bucket_lock,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:lb/targetGroup:TargetGroup": _target_group,
    "aws:lb/listener:Listener": _listener,
    "aws:lb/listenerRule:ListenerRule": _listener_rule,
    "aws:ecs/cluster:Cluster": _ecs_cluster,
    "aws:ecs/taskDefinition:TaskDefinition": _task_definition,
    "aws:ecs/service:Service": _ecs_service,
    "aws:rds/subnetGroup:SubnetGroup": _nothing,  # placed by its subnets
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": _nothing,
    "aws:rds/cluster:Cluster": _cluster,
    "aws:rds/clusterInstance:ClusterInstance": _instance,
    "aws:secretsmanager/secret:Secret": _secret,
    "aws:secretsmanager/secretVersion:SecretVersion": _nothing,
    ROTATION: _nothing,
    SAR_STACK: _sar_stack,  # the rotation function: placed and keyed by its parameters
    "random:index/randomPassword:RandomPassword": _nothing,
    "random:index/randomId:RandomId": _nothing,
    "aws:sns/topic:Topic": _topic,
    "aws:sns/topicSubscription:TopicSubscription": _subscription,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _alarm,
    "aws:cloudwatch/dashboard:Dashboard": _nothing,
    "aws:backup/vault:Vault": _vault,
    "aws:backup/plan:Plan": _backup_plan,
    "aws:backup/selection:Selection": _backup_selection,
    "aws:sfn/stateMachine:StateMachine": _state_machine,
    "aws:ssm/parameter:Parameter": _parameter,
}
CATEGORIES = {
    "aws:ec2/securityGroup:SecurityGroup": common.SECURITY_GROUP,
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": common.SG_RULE,
    "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": common.SG_RULE,
    "aws:ec2/securityGroupRule:SecurityGroupRule": common.SG_RULE,
    "aws:ec2/subnet:Subnet": common.SUBNET,
    "aws:kms/key:Key": common.KEY,
    "aws:kms/alias:Alias": "alias",
    "aws:iam/role:Role": common.ROLE,
    "aws:iam/rolePolicy:RolePolicy": common.POLICY,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": common.POLICY,
    "aws:iam/policy:Policy": common.POLICY,
    "aws:ec2/vpc:Vpc": "vpc",
    "aws:ec2/routeTable:RouteTable": "route",
    "aws:ec2/route:Route": "route",
    "aws:ec2/routeTableAssociation:RouteTableAssociation": "route",
    "aws:ssm/parameter:Parameter": "parameter",
    # The rotation: its stack's parameters say where the function runs and which key it uses.
    ROTATION: "rotation",
}
LABELS = {
    "aws:rds/clusterInstance:ClusterInstance": "performance insights",
    SAR_STACK: "rotation function",
    ROTATION: "rotation function",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "vpc endpoint",
}


def read_plan(plan: dict[str, Any]) -> Platform:
    """The platform a mocked Pulumi plan registers."""
    return Reader(plan).read()


# What a holder of each type is in the network (read_common.place_by_reference).
ROLES = {
    "aws:lb/loadBalancer:LoadBalancer": "alb",
    "aws:rds/cluster:Cluster": "db",
    ROTATION: "rotation",
    "aws:rds/subnetGroup:SubnetGroup": "db-subnets",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "endpoint",
}
