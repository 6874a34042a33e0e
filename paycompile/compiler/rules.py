"""The invariants of a compiled platform, as small registered rules (like cfn-lint's).

Each rule has a stable id, a one-line statement, the seed failures (F1..F19 of
seed/model-failures.md) it prevents and the PCI DSS v4.0 requirements it serves. A rule's
check reads only the graph and returns one message per violation.

Checks never trust that the compiler did the right thing: they look at node props, follow
references themselves and treat a dangling or mistyped reference as a violation. A check
must not raise on a damaged graph (a missing prop, a Ref to a node that is gone), because
`compile_spec` runs them on whatever the compiler produced.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from paycompile.compiler.graph import TAGGABLE, Concat, Graph, Json, Kind, Node, Ref
from paycompile.compiler.security import UNSCOPABLE_ACTIONS
from paycompile.scan import is_secret_name, secret_shape
from paycompile.spec import policy

Check = Callable[[Graph], list[str]]


@dataclass(frozen=True)
class Rule:
    id: str
    statement: str
    seed_failures: tuple[str, ...]
    pci_dss: tuple[str, ...]
    check: Check


RULES: dict[str, Rule] = {}


def rule(
    rule_id: str, statement: str, seed: tuple[str, ...], pci: tuple[str, ...]
) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        assert rule_id not in RULES, f"rule {rule_id} registered twice"
        RULES[rule_id] = Rule(rule_id, statement, seed, pci, check)
        return check

    return register


def violations(graph: Graph) -> list[str]:
    """Every violation of every rule, as `RULE-ID: message`, in rule order."""
    return [
        f"{rule_id}: {message}" for rule_id, found in run_rules(graph).items() for message in found
    ]


def run_rules(graph: Graph) -> dict[str, list[str]]:
    """Rule id -> its violations (empty when the rule holds), for every registered rule."""
    return {rule_id: registered.check(graph) for rule_id, registered in RULES.items()}


# --- shared helpers ------------------------------------------------------------------------

ANYWHERE = ("0.0.0.0/0", "::/0")
COLORS = ("blue", "green")
DB_PORT = 3306
# Secrets Manager's hosted rotation functions for Aurora MySQL: AWS deploys and owns them, so
# nothing in the stack names a Lambda ARN that might not exist (F7).
HOSTED_MYSQL_ROTATIONS = ("MySQLSingleUser", "MySQLMultiUser")
# The cutover states the contract names (F12); the state machine may have more.
CUTOVER_STATES = ("CheckCurrentDeployment", "ValidateTargetHealth", "PerformTrafficSwitch")
ROLLBACK_STATE = "RollBack"


def _target(graph: Graph, value: Any, kind: Kind) -> Node | None:
    """The node of `kind` that `value` refers to; None if it is no Ref or points elsewhere."""
    if not isinstance(value, Ref):
        return None
    node = graph.nodes.get(value.target)
    return node if node is not None and node.kind is kind else None


def _targets(graph: Graph, values: Any, kind: Kind) -> list[Node | None]:
    """`_target` of each item of a list prop (an absent or non-list prop is empty)."""
    return [_target(graph, value, kind) for value in values] if isinstance(values, list) else []


def _encrypted(graph: Graph, node: Node) -> bool:
    """Whether the node's `kms_key` refers to a customer managed key of this graph."""
    return _target(graph, node.props.get("kms_key"), Kind.KMS_KEY) is not None


def _service_name(service: Node) -> str:
    # The compiler names the container after the service; the rules key services on it.
    return str(service.props.get("container_name"))


def _leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """(nearest key, scalar) for every scalar inside a prop value, through Concat and Json.

    A `{"Name": n, "Value": v}` pair (ECS environments, SSM parameters) counts as `n: v`, so
    a secret-named variable is caught whichever shape it is written in.
    """
    if isinstance(value, dict):
        name = next((value[k] for k in ("Name", "name", "parameter_name") if k in value), None)
        for item_key, item in value.items():
            paired = isinstance(name, str) and item_key in ("Value", "value")
            yield from _leaves(item, str(name) if paired else str(item_key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _leaves(item, key)
    elif isinstance(value, Concat):
        yield from _leaves(value.parts, key)
    elif isinstance(value, Json):
        yield from _leaves(value.value, key)
    else:
        yield key, value


def _network(node: Node) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(str(node.props.get("cidr")))
    except ValueError:
        return None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


# --- network -------------------------------------------------------------------------------


@rule(
    "PAY-NET-001",
    "Exactly 3 availability zones, each with one public and one private subnet; no CIDRs overlap.",
    ("F1",),
    ("1.4.1", "12.10.1"),
)
def three_zones(graph: Graph) -> list[str]:
    subnets = graph.of_kind(Kind.SUBNET)
    problems = []
    for public in (True, False):
        zones = sorted(
            str(node.props.get("zone_index"))  # str: a damaged zone must not break the sort
            for node in subnets
            if node.props.get("public") is public
        )
        if zones != [str(zone) for zone in range(policy.REQUIRED_AVAILABILITY_ZONES)]:
            tier = "public" if public else "private"
            problems.append(f"{tier} subnets cover zones {zones}, want 0..2 once each")
    networks = [_network(node) for node in subnets]
    vpcs = [vpc for vpc in map(_network, graph.of_kind(Kind.VPC)) if vpc is not None]
    problems += [
        f"{node.logical_id}: no valid CIDR"
        for node in [*graph.of_kind(Kind.VPC), *subnets]
        if _network(node) is None
    ]
    for index, first in enumerate(networks):
        if first is None:
            continue
        problems += [
            f"subnets {first} and {other} overlap"
            for other in networks[index + 1 :]
            if other and first.overlaps(other)
        ]
        problems += [
            f"subnet {first} lies outside the VPC" for vpc in vpcs if not first.subnet_of(vpc)
        ]
    return problems


@rule(
    "PAY-NET-002",
    "1 or 3 NAT gateways, each used; private subnets route through one, public ones via the IGW.",
    ("F16",),
    ("1.3.2", "1.4.1"),
)
def nat_routes(graph: Graph) -> list[str]:
    nats = graph.of_kind(Kind.NAT_GATEWAY)
    problems = []
    if len(nats) not in policy.ALLOWED_NAT_GATEWAY_COUNTS:
        problems.append(f"{len(nats)} NAT gateways, want 1 (shared) or 3 (one per zone)")
    used: set[str] = set()
    routed: set[str] = set()
    for table in graph.of_kind(Kind.ROUTE_TABLE):
        subnets = _targets(graph, table.props.get("subnets"), Kind.SUBNET)
        public = {subnet.props.get("public") is True for subnet in subnets if subnet}
        route = _dict(table.props.get("default_route"))
        if None in subnets or len(public) != 1:
            problems.append(f"{table.logical_id} must serve subnets of one tier, all in the graph")
            continue
        routed |= {subnet.logical_id for subnet in subnets if subnet}
        if public == {True}:
            if _target(graph, route.get("gateway"), Kind.INTERNET_GATEWAY) is None:
                problems.append(f"{table.logical_id}: public default route must use the IGW")
        else:
            nat = _target(graph, route.get("nat_gateway"), Kind.NAT_GATEWAY)
            if nat is None or set(route) != {"nat_gateway"}:
                problems.append(f"{table.logical_id}: private default route must use a NAT gateway")
            else:
                used.add(nat.logical_id)
    problems += [
        f"{s.logical_id} has no route table"
        for s in graph.of_kind(Kind.SUBNET)
        if s.logical_id not in routed
    ]
    problems += [
        f"{nat.logical_id} routes no subnet (cost, F16)"
        for nat in nats
        if nat.logical_id not in used
    ]
    for nat in nats:
        subnet = _target(graph, nat.props.get("subnet"), Kind.SUBNET)
        if subnet is None or subnet.props.get("public") is not True:
            problems.append(f"{nat.logical_id} must sit in a public subnet")
    return problems


@rule(
    "PAY-NET-003",
    "VPC flow logs, where requested (the default), capture ALL traffic into a KMS-encrypted "
    "log group of the graph.",
    (),
    ("10.2.1", "10.3.3"),
)
def flow_logs(graph: Graph) -> list[str]:
    flows = graph.of_kind(Kind.FLOW_LOG)
    watched = [flow.props.get("vpc") for flow in flows]
    problems = [
        f"{vpc.logical_id} asks for flow logs but no flow log watches it"
        for vpc in graph.of_kind(Kind.VPC)
        if vpc.props.get("flow_logs") is not False and Ref(vpc.logical_id) not in watched
    ]
    for flow in flows:
        group = _target(graph, flow.props.get("log_group"), Kind.LOG_GROUP)
        if _target(graph, flow.props.get("vpc"), Kind.VPC) is None:
            problems.append(f"{flow.logical_id} watches no VPC of the graph")
        if flow.props.get("traffic") != "ALL":
            problems.append(f"{flow.logical_id} captures {flow.props.get('traffic')!r}, want ALL")
        if group is None or not _encrypted(graph, group):
            problems.append(f"{flow.logical_id} must write to a KMS-encrypted log group")
        if _target(graph, flow.props.get("role"), Kind.IAM_ROLE) is None:
            problems.append(f"{flow.logical_id} has no delivery role in the graph")
    return problems


# --- traffic -------------------------------------------------------------------------------


def _is_https(listener: Node) -> bool:
    return listener.props.get("port") == 443 and listener.props.get("protocol") == "HTTPS"


@rule(
    "PAY-TLS-001",
    "An HTTPS listener on 443 with an ACM certificate and a TLS 1.2+ security policy.",
    ("F8",),
    ("4.2.1",),
)
def https_listener(graph: Graph) -> list[str]:
    listeners = [node for node in graph.of_kind(Kind.LISTENER) if _is_https(node)]
    problems = [] if listeners else ["no HTTPS listener on port 443"]
    for listener in listeners:
        certificate = listener.props.get("certificate_arn")
        if not (isinstance(certificate, str) and ":acm:" in certificate) and not isinstance(
            certificate, Ref
        ):
            problems.append(f"{listener.logical_id} has no ACM certificate")
        if listener.props.get("ssl_policy") not in policy.TLS12_SSL_POLICIES:
            problems.append(
                f"{listener.logical_id}: {listener.props.get('ssl_policy')!r} is not TLS 1.2+"
            )
        if _target(graph, listener.props.get("load_balancer"), Kind.LOAD_BALANCER) is None:
            problems.append(f"{listener.logical_id} is on no load balancer of the graph")
    return problems


@rule(
    "PAY-TLS-002",
    "Port 80 only redirects to HTTPS 443; no other plain listener, no rule on a plain listener.",
    ("F8",),
    ("4.2.1",),
)
def http_redirects(graph: Graph) -> list[str]:
    problems = []
    for listener in graph.of_kind(Kind.LISTENER):
        if _is_https(listener):
            continue
        port, action = listener.props.get("port"), listener.props.get("default_action")
        if port != 80 or listener.props.get("protocol") != "HTTP":
            problems.append(f"{listener.logical_id}: {port} is neither HTTPS 443 nor HTTP 80")
        elif action != {"redirect_https": 443}:
            problems.append(f"{listener.logical_id} on port 80 must only redirect to 443")
    for listener_rule in graph.of_kind(Kind.LISTENER_RULE):
        parent = _target(graph, listener_rule.props.get("listener"), Kind.LISTENER)
        if parent is None or not _is_https(parent):
            problems.append(f"{listener_rule.logical_id} must belong to the HTTPS listener")
    return problems


def _forwarded(graph: Graph) -> set[str]:
    """Logical ids of the target groups some listener or listener rule sends traffic to."""
    actions = [node.props.get("default_action") for node in graph.of_kind(Kind.LISTENER)]
    actions += [node.props for node in graph.of_kind(Kind.LISTENER_RULE)]
    return {
        group.logical_id
        for action in actions
        if isinstance(action, dict)
        for group in [_target(graph, action.get("forward"), Kind.TARGET_GROUP)]
        if group is not None
    }


@rule(
    "PAY-DEP-001",
    "Each service has a blue and a green target group (DeploymentColor tag); "
    "listeners forward only to the active one.",
    ("F2",),
    ("6.5.1", "6.5.2"),
)
def blue_green(graph: Graph) -> list[str]:
    problems = []
    forwarded = _forwarded(graph)
    groups = graph.of_kind(Kind.TARGET_GROUP)
    for service in graph.of_kind(Kind.ECS_SERVICE):
        active = _target(graph, service.props.get("target_group"), Kind.TARGET_GROUP)
        if active is None:
            problems.append(f"{service.logical_id} is behind no target group of the graph")
            continue
        pair = [
            group for group in groups if group.props.get("service") == active.props.get("service")
        ]
        colors = sorted(group.tags.get("DeploymentColor", "") for group in pair)
        if colors != sorted(COLORS):
            problems.append(f"{service.logical_id}: target group colors {colors}, want blue+green")
        if active.logical_id not in forwarded:
            problems.append(f"{service.logical_id}: no listener forwards to {active.logical_id}")
        problems += [
            f"{service.logical_id}: idle color {group.logical_id} receives traffic"
            for group in pair
            if group is not active and group.logical_id in forwarded
        ]
    return problems


@rule(
    "PAY-SEC-001",
    "Security groups chain: internet to ALB on 80/443, ALB to tasks on their port, "
    "tasks and rotation to DB on 3306; nothing else.",
    (),
    ("1.3.1", "1.3.2", "1.4.1"),
)
def security_group_chain(graph: Graph) -> list[str]:
    def groups(kind: Kind) -> set[str]:
        return {
            group.logical_id
            for node in graph.of_kind(kind)
            for group in _targets(graph, node.props.get("security_groups"), Kind.SECURITY_GROUP)
            if group is not None
        }

    alb, database, rotation = (
        groups(Kind.LOAD_BALANCER),
        groups(Kind.DB_CLUSTER),
        groups(Kind.SECRET_ROTATION),
    )
    task_ports = {
        group.logical_id: _int(service.props.get("port"))
        for service in graph.of_kind(Kind.ECS_SERVICE)
        for group in _targets(graph, service.props.get("security_groups"), Kind.SECURITY_GROUP)
        if group is not None
    }
    problems = [
        f"{group.logical_id} declares inline ingress; use SecurityGroupIngress nodes"
        for group in graph.of_kind(Kind.SECURITY_GROUP)
        if group.props.get("ingress")
    ]
    opened: set[tuple[str, object, object]] = set()
    for ingress in graph.of_kind(Kind.SECURITY_GROUP_INGRESS):
        group = _target(graph, ingress.props.get("group"), Kind.SECURITY_GROUP)
        peer = _target(graph, ingress.props.get("peer"), Kind.SECURITY_GROUP)
        port, raw_peer = ingress.props.get("port"), ingress.props.get("peer")
        peer_id = peer.logical_id if peer else None
        if group is None or ingress.props.get("protocol") != "tcp":
            allowed = False
        elif group.logical_id in alb:
            allowed = port in (80, 443) and raw_peer in ANYWHERE
        elif group.logical_id in task_ports:
            allowed = port == task_ports[group.logical_id] and peer_id in alb
        elif group.logical_id in database:
            allowed = port == DB_PORT and peer_id in set(task_ports) | rotation
        else:
            allowed = False
        if not allowed:
            problems.append(
                f"{ingress.logical_id}: ingress on {port} from {raw_peer!r} not allowed"
            )
        elif group is not None:
            opened.add((group.logical_id, port, peer_id or raw_peer))
    # The chain must also be complete, or the platform serves nothing.
    required: list[tuple[str, object, object]] = [(group, 443, ANYWHERE[0]) for group in alb]
    required += [(task, port, group) for task, port in task_ports.items() for group in alb]
    required += [(group, DB_PORT, peer) for group in database for peer in [*task_ports, *rotation]]
    problems += [
        f"{g} lacks ingress on {p} from {s}" for g, p, s in required if (g, p, s) not in opened
    ]
    return problems


@rule(
    "PAY-SEC-002",
    "ECS services run only in private subnets without public IPs.",
    (),
    ("1.3.1", "1.4.4"),
)
def private_tasks(graph: Graph) -> list[str]:
    problems = []
    for service in graph.of_kind(Kind.ECS_SERVICE):
        subnets = _targets(graph, service.props.get("subnets"), Kind.SUBNET)
        if not subnets or any(s is None or s.props.get("public") is not False for s in subnets):
            problems.append(f"{service.logical_id} must run in private subnets only")
        if service.props.get("assign_public_ip") is not False:
            problems.append(f"{service.logical_id} must not assign public IPs")
    return problems


# --- data ----------------------------------------------------------------------------------


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
        cluster_node = _target(graph, instance.props.get("cluster"), Kind.DB_CLUSTER)
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
def database_encrypted(graph: Graph) -> list[str]:
    problems = [
        f"{cluster.logical_id} must encrypt storage with a customer KMS key of the graph"
        for cluster in graph.of_kind(Kind.DB_CLUSTER)
        if cluster.props.get("storage_encrypted") is not True or not _encrypted(graph, cluster)
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
        secret = _target(graph, cluster.props.get("master_secret"), Kind.SECRET)
        if secret is None:
            problems.append(f"{cluster.logical_id} does not take its password from a Secret")
        elif not isinstance(secret.props.get("password_length"), int):
            problems.append(f"{secret.logical_id} does not generate the password")
        elif not _encrypted(graph, secret):
            problems.append(f"{secret.logical_id} is not encrypted with a customer KMS key")
    for node in graph:
        values = [*_leaves(node.props), *node.tags.items()]
        for key, value in values:
            if isinstance(value, str) and secret_shape(value):
                problems.append(f"{node.logical_id}.{key}: looks like a {secret_shape(value)}")
            elif key and is_secret_name(key) and _literal(value):
                problems.append(f"{node.logical_id}.{key}: literal value for a secret-looking name")
    for output in graph.outputs:
        problems += [
            f"output {output.name}: looks like a credential"
            for _, value in _leaves(output.value)
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
            1 for r in rotations if _target(graph, r.props.get("secret"), Kind.SECRET) is secret
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
            for key, value in _leaves(rotation.props)
            if isinstance(value, str) and (":lambda:" in value or ":function:" in value)
        ]
    return problems


# --- operations ----------------------------------------------------------------------------


def _metrics(body: Any) -> list[list[Any]]:
    widgets = body.get("widgets") if isinstance(body, dict) else None
    return [
        metric
        for widget in widgets or []
        if isinstance(widget, dict)
        for metric in (widget.get("properties") or {}).get("metrics") or []
        if isinstance(metric, list) and metric
    ]


@rule(
    "PAY-OPS-001",
    "A dashboard shows ECS (every service), RDS (the cluster) and ALB metrics.",
    ("F9",),
    ("10.4.1", "10.7.2"),
)
def dashboard(graph: Graph) -> list[str]:
    dashboards = graph.of_kind(Kind.DASHBOARD)
    if not dashboards:
        return ["no CloudWatch dashboard"]
    body = dashboards[0].props.get("body")
    metrics = _metrics(body.value if isinstance(body, Json) else None)
    shown = {ref.target for metric in metrics for ref in metric if isinstance(ref, Ref)}
    namespaces = {metric[0] for metric in metrics}
    problems = [
        f"dashboard has no {namespace} widget"
        for namespace in ("AWS/ECS", "AWS/RDS", "AWS/ApplicationELB")
        if namespace not in namespaces
    ]
    watched = [*graph.of_kind(Kind.ECS_SERVICE), *graph.of_kind(Kind.DB_CLUSTER)]
    problems += [
        f"dashboard does not show {n.logical_id}" for n in watched if n.logical_id not in shown
    ]
    return problems


def _alarmed(graph: Graph, namespace: str, metric: str, dimension: str, node: Node) -> bool:
    return any(
        alarm.props.get("namespace") == namespace
        and alarm.props.get("metric") == metric
        and isinstance(ref := _dict(alarm.props.get("dimensions")).get(dimension), Ref)
        and ref.target == node.logical_id
        for alarm in graph.of_kind(Kind.ALARM)
    )


@rule(
    "PAY-OPS-002",
    "Alarms on ECS CPU and memory per service, DB connections, ALB 5xx and unhealthy targets, "
    "to an encrypted SNS topic.",
    ("F10",),
    ("10.4.1", "10.7.2"),
)
def alarms(graph: Graph) -> list[str]:
    wanted = [
        (node, "AWS/ECS", metric, "ServiceName")
        for node in graph.of_kind(Kind.ECS_SERVICE)
        for metric in ("CPUUtilization", "MemoryUtilization")
    ]
    wanted += [
        (node, "AWS/RDS", "DatabaseConnections", "DBClusterIdentifier")
        for node in graph.of_kind(Kind.DB_CLUSTER)
    ]
    wanted += [
        (node, "AWS/ApplicationELB", "HTTPCode_ELB_5XX_Count", "LoadBalancer")
        for node in graph.of_kind(Kind.LOAD_BALANCER)
    ]
    wanted += [
        (node, "AWS/ApplicationELB", "UnHealthyHostCount", "TargetGroup")
        for node in graph.of_kind(Kind.TARGET_GROUP)
    ]
    problems = [
        f"no {metric} alarm on {node.logical_id}"
        for node, namespace, metric, dimension in wanted
        if not _alarmed(graph, namespace, metric, dimension, node)
    ]
    for alarm in graph.of_kind(Kind.ALARM):
        topic = _target(graph, alarm.props.get("topic"), Kind.SNS_TOPIC)
        if topic is None:
            problems.append(f"{alarm.logical_id} notifies no SNS topic of the graph")
        elif not _encrypted(graph, topic):
            problems.append(f"{alarm.logical_id}: topic {topic.logical_id} is not KMS-encrypted")
    return problems


@rule(
    "PAY-OPS-003",
    "AWS Backup: KMS-encrypted vault, scheduled plan keeping 30+ days, selection of the cluster.",
    ("F11",),
    ("12.10.1", "3.5.1"),
)
def backups(graph: Graph) -> list[str]:
    problems = [
        f"{vault.logical_id} is not KMS-encrypted"
        for vault in graph.of_kind(Kind.BACKUP_VAULT)
        if not _encrypted(graph, vault)
    ]
    good_plans: set[str] = set()
    for plan in graph.of_kind(Kind.BACKUP_PLAN):
        rules = plan.props.get("rules")
        valid = bool(rules) and all(
            isinstance(r, dict)
            and str(r.get("schedule")).startswith("cron(")
            and isinstance(r.get("retention_days"), int)
            and r["retention_days"] >= policy.MIN_BACKUP_RETENTION_DAYS
            and _target(graph, r.get("vault"), Kind.BACKUP_VAULT) is not None
            for r in _as_list(rules)
        )
        if valid:
            good_plans.add(plan.logical_id)
        else:
            problems.append(f"{plan.logical_id} needs a cron schedule, >= 30 days and a vault")
    selected: set[str] = set()
    for selection in graph.of_kind(Kind.BACKUP_SELECTION):
        chosen = _target(graph, selection.props.get("plan"), Kind.BACKUP_PLAN)
        if chosen is None or chosen.logical_id not in good_plans:
            continue
        if _target(graph, selection.props.get("role"), Kind.IAM_ROLE) is not None:
            resources = _as_list(selection.props.get("resources"))
            selected |= {ref.target for ref in resources if isinstance(ref, Ref)}
    problems += [
        f"{cluster.logical_id} is in no backup selection of a valid plan"
        for cluster in graph.of_kind(Kind.DB_CLUSTER)
        if cluster.logical_id not in selected
    ]
    return problems


def _cutover_problems(graph: Graph, machine: Node) -> list[str]:
    definition = machine.props.get("definition")
    states = definition.value.get("States") if isinstance(definition, Json) else None
    if not isinstance(states, dict):
        return [f"{machine.logical_id} has no state definitions"]
    problems = [
        f"{machine.logical_id} lacks state {name}"
        for name in (*CUTOVER_STATES, ROLLBACK_STATE)
        if name not in states
    ]
    catches = (states.get("PerformTrafficSwitch") or {}).get("Catch") or []
    if not any(isinstance(c, dict) and c.get("Next") == ROLLBACK_STATE for c in catches):
        problems.append(f"{machine.logical_id}: a failed traffic switch must roll back")
    if _target(graph, machine.props.get("role"), Kind.IAM_ROLE) is None:
        problems.append(f"{machine.logical_id} has no execution role in the graph")
    return problems


@rule(
    "PAY-OPS-004",
    "Per service, a cutover state machine: check deployment, validate target health, switch "
    "traffic, roll back on failure.",
    ("F12",),
    ("6.5.1", "12.10.1"),
)
def cutover_machines(graph: Graph) -> list[str]:
    machines = {str(m.props.get("service")): m for m in graph.of_kind(Kind.STATE_MACHINE)}
    problems = []
    for service in graph.of_kind(Kind.ECS_SERVICE):
        machine = machines.get(_service_name(service))
        if machine is None:
            problems.append(f"{service.logical_id} has no cutover state machine")
        else:
            problems += _cutover_problems(graph, machine)
    return problems


@rule(
    "PAY-OPS-005",
    "SSM parameters under /<name>/<environment>/ for the secret ARN, the cluster endpoint and "
    "each service's active color.",
    ("F13",),
    ("2.2.1", "6.5.3"),
)
def parameters(graph: Graph) -> list[str]:
    prefix = f"/{graph.platform}/{graph.environment}/"
    params = graph.of_kind(Kind.SSM_PARAMETER)
    problems = [
        f"{p.logical_id}: {p.name!r} is not under {prefix}"
        for p in params
        if not p.name.startswith(prefix) or p.props.get("parameter_name") != p.name
    ]
    values = {p.name: p.props.get("value") for p in params}
    refs = [value for value in values.values() if isinstance(value, Ref)]
    for kind, attribute in ((Kind.SECRET, "id"), (Kind.DB_CLUSTER, "endpoint")):
        problems += [
            f"no parameter holds {node.logical_id}.{attribute}"
            for node in graph.of_kind(kind)
            if Ref(node.logical_id, attribute) not in refs
        ]
    for service in graph.of_kind(Kind.ECS_SERVICE):
        group = _target(graph, service.props.get("target_group"), Kind.TARGET_GROUP)
        active = group.tags.get("DeploymentColor") if group else None
        name = f"{prefix}services/{_service_name(service)}/active-color"
        if values.get(name) not in COLORS or values.get(name) != active:
            problems.append(f"{name} must hold {service.logical_id}'s active color {active!r}")
    return problems


@rule(
    "PAY-OPS-006",
    "Every log goes to a log group of the graph that keeps a year and uses a customer KMS key.",
    (),
    ("10.3.3", "10.5.1"),
)
def log_groups(graph: Graph) -> list[str]:
    problems = []
    for group in graph.of_kind(Kind.LOG_GROUP):
        days = group.props.get("retention_days")
        if not (isinstance(days, int) and days >= policy.LOG_RETENTION_DAYS):
            problems.append(f"{group.logical_id}: retention {days!r} days, want >= 365")
        if not _encrypted(graph, group):
            problems.append(f"{group.logical_id} is not KMS-encrypted")
    # A log destination missing from the graph would be created by AWS on first write, with
    # no retention and no customer key: every writer must name a log group of the graph.
    problems += [
        f"{node.logical_id} logs to no log group of the graph"
        for node in graph
        if "log_group" in node.props
        and _target(graph, node.props["log_group"], Kind.LOG_GROUP) is None
    ]
    names = {group.name for group in graph.of_kind(Kind.LOG_GROUP)}
    problems += [
        f"{cluster.logical_id}: export {kind!r} has no log group of the graph"
        for cluster in graph.of_kind(Kind.DB_CLUSTER)
        for kind in _as_list(cluster.props.get("log_exports") or [])
        if f"/aws/rds/cluster/{cluster.name}/{kind}" not in names
    ]
    return problems


# --- governance ----------------------------------------------------------------------------


@rule(
    "PAY-GOV-001",
    "Every taggable resource carries Environment, CostCenter, MigrationPhase and Name.",
    ("F14", "F18"),
    ("12.5.1",),
)
def tags(graph: Graph) -> list[str]:
    problems = []
    for node in graph:
        if node.kind not in TAGGABLE:
            continue
        missing = [tag for tag in policy.REQUIRED_TAGS if not node.tags.get(tag, "").strip()]
        if missing:
            problems.append(f"{node.logical_id} lacks tag(s) {', '.join(missing)}")
        if node.tags.get("Environment") != graph.environment:
            problems.append(f"{node.logical_id}: Environment tag is not {graph.environment!r}")
        if node.tags.get("Name") != node.name:
            problems.append(f"{node.logical_id}: Name tag is not its name {node.name!r}")
    return problems


def _statements(graph: Graph) -> Iterator[tuple[Node, dict[str, Any], bool]]:
    """(owner, statement, is a key policy) for every IAM statement in the graph."""
    for node in graph:
        if node.kind is Kind.KMS_KEY:
            found, key_policy = _dict(node.props.get("policy")).get("Statement"), True
        elif node.kind in (Kind.IAM_ROLE, Kind.BUCKET_POLICY):
            found, key_policy = node.props.get("statements"), False
        else:
            continue
        for item in _as_list(found or []):
            yield node, item if isinstance(item, dict) else {}, key_policy


@rule(
    "PAY-GOV-002",
    "IAM allows no wildcard action; Resource '*' only for actions AWS cannot scope.",
    ("F15",),
    ("7.2.1", "7.2.2", "7.2.5"),
)
def least_privilege(graph: Graph) -> list[str]:
    problems = []
    for node, statement, key_policy in _statements(graph):
        if statement.get("Effect") != "Allow":
            continue  # a Deny with wildcards only narrows access
        where = f"{node.logical_id} {statement.get('Sid', '?')}"
        actions = [str(action) for action in _as_list(statement.get("Action"))]
        if {"NotAction", "NotResource"} & set(statement) or statement.get("Principal") in (
            "*",
            {"AWS": "*"},
        ):
            problems.append(f"{where}: NotAction, NotResource or Principal '*' in an Allow")
        problems += [f"{where}: wildcard action {action!r}" for action in actions if "*" in action]
        # In a key policy, Resource "*" means this key only.
        if not key_policy and "*" in _as_list(statement.get("Resource")):
            scopable = sorted(set(actions) - set(UNSCOPABLE_ACTIONS))
            if scopable:
                problems.append(f"{where}: Resource '*' for scopable {', '.join(scopable)}")
    return problems


# Attributes another stack may need, per kind: what PAY-GOV-003 expects among the outputs.
EXPORTED: dict[Kind, tuple[str, ...]] = {
    Kind.VPC: ("id",),
    Kind.SUBNET: ("id",),
    Kind.SECURITY_GROUP: ("id",),
    Kind.LOAD_BALANCER: ("arn", "dns_name"),
    Kind.LISTENER: ("arn",),
    Kind.TARGET_GROUP: ("arn",),
    Kind.ECS_CLUSTER: ("arn", "name"),
    Kind.ECS_SERVICE: ("arn",),
    Kind.DB_CLUSTER: ("arn", "endpoint"),
    Kind.SECRET: ("arn",),
    Kind.KMS_KEY: ("arn",),
    Kind.SNS_TOPIC: ("arn",),
    Kind.BACKUP_VAULT: ("arn",),
    Kind.STATE_MACHINE: ("arn",),
}


@rule(
    "PAY-GOV-003",
    "Outputs export every id and ARN another stack may need, as <platform>-<environment>-<name>.",
    ("F17",),
    ("12.5.1",),
)
def outputs(graph: Graph) -> list[str]:
    exported = {output.value for output in graph.outputs if isinstance(output.value, Ref)}
    problems = [
        f"no output for {node.logical_id}.{attribute}"
        for node in graph
        for attribute in EXPORTED.get(node.kind, ())
        if Ref(node.logical_id, attribute) not in exported
    ]
    prefix = f"{graph.platform}-{graph.environment}-"
    problems += [
        f"output {output.name} exports as {output.export!r}, want {prefix}{output.name}"
        for output in graph.outputs
        if output.export != f"{prefix}{output.name}"
    ]
    exports = [output.export for output in graph.outputs]
    problems += [f"export {e!r} is repeated" for e in sorted(set(exports)) if exports.count(e) > 1]
    return problems


def _named_for(name: str, kind: Kind, environment: str) -> bool:
    if name.endswith(f"-{environment}"):
        return True
    # Log groups and parameters are paths: the environment may be a segment of its own.
    segments = name.split("/")
    return kind in (Kind.LOG_GROUP, Kind.SSM_PARAMETER) and any(
        segment == environment or segment.endswith(f"-{environment}") for segment in segments
    )


@rule(
    "PAY-GOV-004",
    "The environment is in every physical name; ELB names over 32 characters go to the backend.",
    ("F19",),
    ("6.5.3",),
)
def environment_names(graph: Graph) -> list[str]:
    if not graph.environment:
        return ["the graph has no environment"]
    problems = [
        f"{node.logical_id}: name {node.name!r} does not carry {graph.environment!r}"
        for node in graph
        if not _named_for(node.name, node.kind, graph.environment)
    ]
    for node in [*graph.of_kind(Kind.LOAD_BALANCER), *graph.of_kind(Kind.TARGET_GROUP)]:
        physical = node.props.get("physical_name")
        if physical is not None and (
            physical != node.name or len(physical) > policy.ELB_NAME_LIMIT
        ):
            problems.append(f"{node.logical_id}: physical name must be its name, <= 32 characters")
    return problems
