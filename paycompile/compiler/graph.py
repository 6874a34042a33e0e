"""The intermediate resource graph: one typed node per cloud resource, shared by all backends.

Node properties are backend-neutral values: plain data, `Ref` (an attribute of another
node), `Pseudo` (region, account, partition), `Concat` (a string built from parts), `Json`
(a structure serialised to a JSON string once its references are known), `Input` (a value
the deployment supplies, such as the live colour) and `Choose` (a value picked by an input).
A backend maps each `Kind` to its own resource type and each of these values to its own
expression language; nothing else crosses the boundary.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Kind(StrEnum):
    VPC = "Vpc"
    SUBNET = "Subnet"
    INTERNET_GATEWAY = "InternetGateway"
    ELASTIC_IP = "ElasticIp"
    NAT_GATEWAY = "NatGateway"
    ROUTE_TABLE = "RouteTable"
    FLOW_LOG = "FlowLog"
    KMS_KEY = "KmsKey"
    LOG_GROUP = "LogGroup"
    IAM_ROLE = "IamRole"
    IAM_POLICY = "IamPolicy"
    SECURITY_GROUP = "SecurityGroup"
    SECURITY_GROUP_INGRESS = "SecurityGroupIngress"
    BUCKET = "Bucket"
    BUCKET_POLICY = "BucketPolicy"
    LOAD_BALANCER = "LoadBalancer"
    TARGET_GROUP = "TargetGroup"
    LISTENER = "Listener"
    LISTENER_RULE = "ListenerRule"
    ECS_CLUSTER = "EcsCluster"
    TASK_DEFINITION = "TaskDefinition"
    ECS_SERVICE = "EcsService"
    DB_SUBNET_GROUP = "DbSubnetGroup"
    DB_CLUSTER_PARAMETER_GROUP = "DbClusterParameterGroup"
    DB_CLUSTER = "DbCluster"
    DB_INSTANCE = "DbInstance"
    SECRET = "Secret"
    SECRET_ATTACHMENT = "SecretAttachment"
    SECRET_ROTATION = "SecretRotation"
    SNS_TOPIC = "SnsTopic"
    SNS_SUBSCRIPTION = "SnsSubscription"
    ALARM = "Alarm"
    DASHBOARD = "Dashboard"
    BACKUP_VAULT = "BackupVault"
    BACKUP_PLAN = "BackupPlan"
    BACKUP_SELECTION = "BackupSelection"
    STATE_MACHINE = "StateMachine"
    SSM_PARAMETER = "SsmParameter"
    # The edge and the network's private paths to AWS (compiler/edge.py, compiler/endpoints.py).
    WEB_ACL = "WebAcl"
    WEB_ACL_ASSOCIATION = "WebAclAssociation"
    WAF_LOGGING = "WafLogging"
    VPC_ENDPOINT = "VpcEndpoint"
    PULL_THROUGH_CACHE_RULE = "PullThroughCacheRule"
    REGISTRY_SCANNING = "RegistryScanning"


# Kinds whose CloudFormation resource accepts tags (per the provider schemas): each must
# carry the governance tags (PAY-GOV-001). A backend that can tag more (Pulumi can tag
# security group rules) uses `Graph.tags` plus the node's Name.
TAGGABLE = frozenset(Kind) - {
    Kind.IAM_POLICY,
    Kind.BUCKET_POLICY,
    Kind.SECURITY_GROUP_INGRESS,
    Kind.SECRET_ATTACHMENT,
    Kind.SECRET_ROTATION,
    Kind.SNS_SUBSCRIPTION,
    Kind.BACKUP_SELECTION,
    Kind.WEB_ACL_ASSOCIATION,
    Kind.WAF_LOGGING,
    Kind.PULL_THROUGH_CACHE_RULE,
    Kind.REGISTRY_SCANNING,
}


@dataclass(frozen=True)
class Ref:
    """An attribute of another node: `id`, `arn`, `name` or a kind-specific one."""

    target: str
    attribute: str = "id"


# `stack_instance`: hexadecimal characters unique to one instance of the stack (a stack
# deleted and created again gets new ones), for names AWS requires but that must not collide
# with what an earlier instance left behind.
STACK_INSTANCE_LENGTH = 8


@dataclass(frozen=True)
class Pseudo:
    """A value known only where the stack is deployed."""

    name: Literal["region", "account_id", "partition", "url_suffix", "stack_instance"]


@dataclass(frozen=True)
class Concat:
    """A string joined from literal strings, Refs and Pseudos."""

    parts: tuple[Any, ...]


@dataclass(frozen=True)
class Json:
    """A structure, possibly holding Refs, to be serialised to a JSON string."""

    value: Any


@dataclass(frozen=True)
class DeployInput:
    """A value the deployment supplies, not the spec: the live state of a running platform
    (which colour serves a service, which image each colour runs). The graph names it and gives
    the value a new platform starts with; CloudFormation takes it as a parameter, the Pulumi
    program as an argument, and `deploy`/`up` read the live value before they change anything.
    """

    name: str
    default: str
    allowed: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True)
class Release:
    """One service's release inputs by role, so a deployment can read and set them.

    `live_color` names the input holding the colour that serves the service; `images` the input
    holding each colour's image; `image` is the spec's image as those inputs hold it, the release
    a deployment puts on the idle colour; `cutover` is the logical id of the state machine that
    moves traffic to it. `upstream`: the registry an image pulled through the platform's cache
    comes from, which the inputs leave out ("": they hold the whole image reference).
    """

    service: str
    live_color: str
    images: tuple[tuple[str, str], ...]
    image: str
    cutover: str
    upstream: str = ""

    def image_input(self, color: str) -> str:
        return dict(self.images)[color]

    def input_value(self, image: str) -> str:
        """What the image inputs hold for a release of `image` (ValueError: the image is not
        from the registry the cache pulls from)."""
        if not self.upstream:
            return image
        if not image.startswith(f"{self.upstream}/"):
            raise ValueError(
                f"{self.service} pulls through the platform's cache of {self.upstream}: a release"
                f" must come from {self.upstream} too (change the spec's image to change registry)"
            )
        return image.removeprefix(f"{self.upstream}/")


@dataclass(frozen=True)
class Input:
    """The value of the deploy-time input `name`."""

    name: str


@dataclass(frozen=True)
class Choose:
    """The value of `cases` for the current value of the deploy-time input `input`."""

    input: str
    cases: tuple[tuple[str, Any], ...]

    def case(self, value: str) -> Any:
        return dict(self.cases)[value]


Deletion = Literal["delete", "retain", "snapshot"]


@dataclass
class Node:
    kind: Kind
    logical_id: str
    name: str
    props: dict[str, Any]
    tags: dict[str, str] = field(default_factory=dict)
    # What happens to the resource when the stack is deleted or the resource replaced.
    deletion: Deletion = "delete"
    # Checks an outside scanner would raise that this node's design answers: id -> reason.
    waivers: dict[str, str] = field(default_factory=dict)
    # Nodes that must exist first although no property refers to them. A node waits for every
    # resource the other node stands for (an internet gateway's attachment, a route table's
    # routes), not only its main one.
    depends_on: tuple[str, ...] = ()
    # The service this node exists for (its stack holds all of them); None: the platform's
    # shared resources (network, data, edge, operations).
    owner: str | None = None

    def references(self) -> list[Ref]:
        return list(_refs_in(self.props))


@dataclass(frozen=True)
class Output:
    """A stack output, exported as `<platform>-<environment>-<name>`."""

    name: str
    value: Any
    description: str
    export: str


@dataclass(frozen=True)
class Stack:
    """One stack of a partition: the nodes it holds and the services they exist for."""

    name: str
    nodes: tuple[str, ...]
    services: tuple[str, ...] = ()


@dataclass(frozen=True)
class Partition:
    """Which stack holds each node: the shared stack first, then the service groups in order.

    A backend with per-stack limits (CloudFormation) renders it when one stack would not do; a
    backend without them ignores it. `compiler/partition.py` decides it.
    """

    stacks: tuple[Stack, ...]

    @property
    def shared(self) -> Stack:
        return self.stacks[0]

    def stack_of(self) -> dict[str, str]:
        """Logical id -> the name of the stack holding it."""
        return {node: stack.name for stack in self.stacks for node in stack.nodes}


@dataclass
class Graph:
    platform: str
    environment: str
    region: str
    lifecycle: Literal["ephemeral", "retained"]
    # The tags every resource carries besides its Name: the spec's tags and Environment.
    tags: dict[str, str] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    outputs: list[Output] = field(default_factory=list)
    inputs: dict[str, DeployInput] = field(default_factory=dict)
    # Service name -> its release inputs (a subset of `inputs`, by role).
    releases: dict[str, Release] = field(default_factory=dict)
    # The stacks the nodes are split into (see `Partition`); one shared stack until decided.
    partition: Partition | None = None

    def input_defaults(self) -> dict[str, str]:
        """The value of every deploy-time input for a platform that does not exist yet."""
        return {name: each.default for name, each in self.inputs.items()}

    def add(self, node: Node) -> Node:
        if node.logical_id in self.nodes:
            raise ValueError(f"duplicate logical id {node.logical_id}")
        self.nodes[node.logical_id] = node
        return node

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    def __getitem__(self, logical_id: str) -> Node:
        return self.nodes[logical_id]

    def of_kind(self, kind: Kind) -> list[Node]:
        return [node for node in self if node.kind is kind]

    def resolve(self, value: Any) -> Node:
        """The node a Ref points at."""
        assert isinstance(value, Ref), f"expected a Ref, got {value!r}"
        return self.nodes[value.target]

    def edges(self) -> list[tuple[str, str, str]]:
        """(from, to, attribute) for every reference, in node order."""
        return [
            (node.logical_id, ref.target, ref.attribute)
            for node in self
            for ref in dict.fromkeys(node.references())
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "environment": self.environment,
            "region": self.region,
            "lifecycle": self.lifecycle,
            "tags": self.tags,
            "nodes": [
                {
                    "logical_id": node.logical_id,
                    "kind": str(node.kind),
                    "name": node.name,
                    "deletion": node.deletion,
                    "tags": node.tags,
                    "props": _plain(node.props),
                }
                for node in self
            ],
            "inputs": [
                {
                    "name": each.name,
                    "default": each.default,
                    "allowed": list(each.allowed),
                    "description": each.description,
                }
                for each in self.inputs.values()
            ],
            "outputs": [
                {
                    "name": o.name,
                    "value": _plain(o.value),
                    "export": o.export,
                    "description": o.description,
                }
                for o in self.outputs
            ],
        }


def deploy_time_values(value: Any) -> Iterator[Ref | Pseudo | Input]:
    """Every Ref, Pseudo and Input in a property value: what is only known once deployed."""
    if isinstance(value, Ref | Pseudo | Input):
        yield value
    elif isinstance(value, Choose):
        yield Input(value.input)
        for _, case in value.cases:
            yield from deploy_time_values(case)
    elif isinstance(value, dict):
        for item in value.values():
            yield from deploy_time_values(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from deploy_time_values(item)
    elif isinstance(value, Concat):
        yield from deploy_time_values(value.parts)
    elif isinstance(value, Json):
        yield from deploy_time_values(value.value)


def _refs_in(value: Any) -> Iterator[Ref]:
    return (item for item in deploy_time_values(value) if isinstance(item, Ref))


def _plain(value: Any) -> Any:
    """A JSON-ready rendering of node values, for `paycompile graph --format json`."""
    if isinstance(value, Ref):
        return {"ref": value.target, "attribute": value.attribute}
    if isinstance(value, Pseudo):
        return {"pseudo": value.name}
    if isinstance(value, Concat):
        return {"concat": [_plain(part) for part in value.parts]}
    if isinstance(value, Json):
        return {"json": _plain(value.value)}
    if isinstance(value, Input):
        return {"input": value.name}
    if isinstance(value, Choose):
        return {"choose": value.input, "cases": {case: _plain(v) for case, v in value.cases}}
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def render_json(graph: Graph) -> str:
    return json.dumps(graph.to_dict(), indent=2, sort_keys=False) + "\n"
