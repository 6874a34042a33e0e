"""The platform as deployed, in terms neither backend owns: what the semantic checks judge and
what the cross-backend comparison compares.

A reader (read_cfn.py, read_pulumi.py) builds one `Platform` from one artifact. References are
resource names (a template's logical ids and a plan's registration names, which paycompile keeps
equal); a reference inside a string is written `<Name>`, and account, region, partition and URL
suffix as `{account}`, `{region}`, `{partition}`, `{urlsuffix}`, so that the same ARN pattern
reads the same from either artifact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

TOKEN = re.compile(r"<([A-Za-z0-9]+)>")
ALL_PORTS = (0, 65535)


def token(name: str) -> str:
    return f"<{name}>"


def names_in(value: Any) -> list[str]:
    """Every resource a normalised value refers to, in order."""
    if isinstance(value, str):
        return TOKEN.findall(value)
    if isinstance(value, dict):
        return [name for item in value.values() for name in names_in(item)]
    if isinstance(value, list | tuple):
        return [name for item in value for name in names_in(item)]
    return []


def only_name(value: Any) -> str | None:
    """The resource a value is a plain reference to (`<Name>`), else None."""
    if isinstance(value, str):
        match = TOKEN.fullmatch(value)
        return match.group(1) if match else None
    return None


@dataclass(frozen=True)
class Ports:
    """A protocol and a port range; protocol "all" covers every protocol and port."""

    protocol: str
    low: int
    high: int

    def __str__(self) -> str:
        if self.protocol == "all":
            return "all traffic"
        span = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        return f"{self.protocol} {span}"

    def meet(self, other: Ports) -> Ports | None:
        """The traffic both allow, or None."""
        if self.protocol == "all":
            return other
        if other.protocol == "all":
            return self
        if self.protocol != other.protocol:
            return None
        low, high = max(self.low, other.low), min(self.high, other.high)
        return Ports(self.protocol, low, high) if low <= high else None

    def within(self, other: Ports) -> bool:
        if other.protocol == "all":
            return True
        return self.protocol == other.protocol and other.low <= self.low <= self.high <= other.high


@dataclass(frozen=True)
class Peer:
    """The other side of a security group rule: a CIDR block or another group."""

    cidr: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class SgRule:
    group: str  # the security group the rule belongs to
    inbound: bool
    peer: Peer
    ports: Ports
    source: str  # the resource that declares it


@dataclass
class Holder:
    """Something placed in the VPC: it sits in subnets and security groups."""

    name: str
    type: str
    groups: list[str] = field(default_factory=list)
    subnets: list[str] = field(default_factory=list)
    public_ip: bool = False
    role: str = ""  # what it is in the network: alb, tasks:<service>, db, rotation, nat, ...


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...] = ()  # "service:x", "aws:<arn or *>", "*"
    conditional: bool = False
    not_action: bool = False
    sid: str = ""
    # (operator, key, value) of every condition, e.g. ("BoolIfExists", "kms:...", "false").
    conditions: tuple[tuple[str, str, str], ...] = ()


@dataclass
class Role:
    name: str
    trusted: list[Statement] = field(default_factory=list)
    statements: list[Statement] = field(default_factory=list)
    managed: list[str] = field(default_factory=list)  # managed policy ARNs (normalised)


@dataclass
class Key:
    name: str
    rotation: bool
    statements: list[Statement] = field(default_factory=list)


@dataclass(frozen=True)
class KeyUse:
    """One encrypted thing: `user` encrypts `what` with `key` (None: AWS's own key)."""

    user: str
    what: str
    key: str | None


@dataclass
class LogGroup:
    name: str
    physical: str
    retention: int | None
    key: str | None


@dataclass(frozen=True)
class Forward:
    """Where one listener action sends traffic: target group -> weight (empty if not forward)."""

    kind: str  # "forward", "redirect", "fixed-response", ...
    weights: tuple[tuple[str, int], ...] = ()
    redirect: tuple[str, str] = ("", "")  # (protocol, port)


@dataclass
class Listener:
    name: str
    port: int
    protocol: str
    ssl_policy: str | None
    certificates: list[str]
    actions: list[Forward]
    load_balancer: str | None


@dataclass
class ListenerRule:
    name: str
    listener: str | None
    priority: int
    conditions: list[tuple[str, str]]  # ("path", pattern) / ("host", name)
    actions: list[Forward]


@dataclass
class LoadBalancer:
    name: str
    internet_facing: bool
    attributes: dict[str, str]  # deletion_protection.enabled, access_logs.s3.enabled, ...
    log_bucket: str | None


@dataclass
class TargetGroup:
    name: str
    service: str | None  # the Service tag
    color: str | None  # the DeploymentColor tag
    port: int | None


@dataclass
class EcsService:
    name: str
    service: str | None  # the Service tag
    color: str | None
    desired: int | None
    target_groups: list[tuple[str, int | None]]  # (group, container port)
    task: str | None


@dataclass
class Container:
    image: str
    user: str
    log_group: str | None
    ports: list[int]
    secrets: dict[str, str] = field(default_factory=dict)  # variable -> valueFrom, normalised


@dataclass
class TaskDefinition:
    name: str
    task_role: str | None
    execution_role: str | None
    containers: list[Container]


@dataclass
class StateMachine:
    name: str
    role: str | None
    definition: dict[str, Any]  # the ASL, normalised
    logging_level: str | None
    log_group: str | None
    execution_data: bool


@dataclass
class Alarm:
    name: str
    physical: str
    actions: list[str]  # normalised targets
    enabled: bool
    namespace: str
    metric: str
    dimensions: dict[str, str]


@dataclass
class Topic:
    name: str
    key: str | None
    subscriptions: list[tuple[str, str]]  # (protocol, endpoint)


@dataclass
class BackupRule:
    plan: str
    schedule: str
    delete_after: int | None
    vault: str | None


@dataclass
class FlowLog:
    name: str
    resource: str | None
    traffic: str
    log_group: str | None
    role: str | None


@dataclass
class DbCluster:
    name: str
    identifier: str
    encrypted: bool
    key: str | None
    subnet_group: str | None
    exports: list[str]
    deletion_protection: bool


@dataclass
class WebAcl:
    """A WAF web ACL: what it runs and what it shows."""

    name: str
    scope: str
    default_action: str  # "allow" or "block"
    managed_groups: list[tuple[str, str]]  # (vendor, group) of each managed rule group it runs
    overridden: list[str]  # managed groups whose actions are overridden to count
    rate_limits: list[int]  # the limit of each rate-based rule that blocks
    metrics: bool  # metrics and sampled requests on for the ACL and every rule


@dataclass(frozen=True)
class WafLogging:
    acl: str | None
    destinations: tuple[str, ...]  # normalised log destinations
    redacted: tuple[str, ...]  # header names kept out of the logs (lower case)


@dataclass
class Bucket:
    """What protects a bucket's objects: versions, where its server access logs go, whether its
    object events reach EventBridge, and its default Object Lock retention."""

    name: str
    versioned: bool = False
    logs_to: str | None = None
    eventbridge: bool = False
    lock: tuple[str, int] | None = None  # (mode, days)


@dataclass
class Platform:
    backend: str
    region: str
    types: dict[str, str] = field(default_factory=dict)  # name -> the artifact's type
    tags: dict[str, dict[str, str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)  # resources of types no reader knows
    references: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # name -> (path, to)
    vpc_cidrs: list[str] = field(default_factory=list)
    vpcs: list[str] = field(default_factory=list)
    subnets: dict[str, str] = field(default_factory=dict)  # subnet -> its zone
    public_ip_on_launch: dict[str, bool] = field(default_factory=dict)
    default_routes: dict[str, set[str]] = field(default_factory=dict)  # route table -> gateways
    route_tables: dict[str, str] = field(default_factory=dict)  # subnet -> route table
    gateways: dict[str, str] = field(default_factory=dict)  # gateway -> "igw" or "nat"
    security_groups: list[str] = field(default_factory=list)
    sg_rules: list[SgRule] = field(default_factory=list)
    holders: dict[str, Holder] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    keys: dict[str, Key] = field(default_factory=dict)
    key_uses: list[KeyUse] = field(default_factory=list)
    log_groups: dict[str, LogGroup] = field(default_factory=dict)
    load_balancers: dict[str, LoadBalancer] = field(default_factory=dict)
    listeners: dict[str, Listener] = field(default_factory=dict)
    rules: dict[str, ListenerRule] = field(default_factory=dict)
    target_groups: dict[str, TargetGroup] = field(default_factory=dict)
    ecs_services: dict[str, EcsService] = field(default_factory=dict)
    tasks: dict[str, TaskDefinition] = field(default_factory=dict)
    machines: dict[str, StateMachine] = field(default_factory=dict)
    alarms: dict[str, Alarm] = field(default_factory=dict)
    topics: dict[str, Topic] = field(default_factory=dict)
    backup_rules: list[BackupRule] = field(default_factory=list)
    backup_selections: dict[str, list[str]] = field(default_factory=dict)  # selection -> names
    backup_selection_roles: dict[str, str | None] = field(default_factory=dict)
    flow_logs: dict[str, FlowLog] = field(default_factory=dict)
    clusters: dict[str, DbCluster] = field(default_factory=dict)
    public_instances: list[str] = field(default_factory=list)
    instance_clusters: dict[str, str | None] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)  # SSM parameter -> its name
    buckets: list[str] = field(default_factory=list)
    web_acls: dict[str, WebAcl] = field(default_factory=dict)
    # ECR pull-through cache rules: repository prefix -> the upstream registry URL.
    image_caches: dict[str, str] = field(default_factory=dict)
    # The registry's scanning: (scan type, frequency, repository filter) per rule.
    registry_scans: list[tuple[str, str, str]] = field(default_factory=list)
    waf_associations: list[tuple[str | None, str | None]] = field(default_factory=list)
    waf_logging: list[WafLogging] = field(default_factory=list)
    # Lambda functions the platform deploys by name (the rotation function): each logs to
    # /aws/lambda/<name>, which Lambda creates unencrypted and kept forever unless it exists.
    functions: list[str] = field(default_factory=list)
    # ECS clusters (by physical name) with Container Insights on: each writes performance
    # events to /aws/ecs/containerinsights/<cluster>/performance.
    insights_clusters: list[str] = field(default_factory=list)
    bucket_settings: dict[str, Bucket] = field(default_factory=dict)
    # who uses each role: role -> [(user, how)]
    role_users: dict[str, list[tuple[str, str]]] = field(default_factory=dict)

    def bucket(self, name: str) -> Bucket:
        """The settings read so far of bucket `name` (a backend may spread them over resources)."""
        return self.bucket_settings.setdefault(name, Bucket(name))

    def kind_of(self, name: str) -> str:
        return self.types.get(name, "")

    def use_role(self, role: str | None, user: str, how: str) -> None:
        if role:
            self.role_users.setdefault(role, []).append((user, how))
