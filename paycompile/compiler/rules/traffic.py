"""Traffic rules: HTTPS and TLS, the port-80 redirect, blue/green, security groups, tasks."""

from __future__ import annotations

from paycompile.compiler.graph import Graph, Kind, Node, Ref
from paycompile.compiler.rules.helpers import (
    ANYWHERE,
    COLORS,
    DB_PORT,
    as_int,
    node_at,
    nodes_at,
)
from paycompile.compiler.rules.registry import rule
from paycompile.spec import policy


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
        if node_at(graph, listener.props.get("load_balancer"), Kind.LOAD_BALANCER) is None:
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
        parent = node_at(graph, listener_rule.props.get("listener"), Kind.LISTENER)
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
        for group in [node_at(graph, action.get("forward"), Kind.TARGET_GROUP)]
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
        active = node_at(graph, service.props.get("target_group"), Kind.TARGET_GROUP)
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
            for group in nodes_at(graph, node.props.get("security_groups"), Kind.SECURITY_GROUP)
            if group is not None
        }

    alb, database, rotation = (
        groups(Kind.LOAD_BALANCER),
        groups(Kind.DB_CLUSTER),
        groups(Kind.SECRET_ROTATION),
    )
    task_ports = {
        group.logical_id: as_int(service.props.get("port"))
        for service in graph.of_kind(Kind.ECS_SERVICE)
        for group in nodes_at(graph, service.props.get("security_groups"), Kind.SECURITY_GROUP)
        if group is not None
    }
    problems = [
        f"{group.logical_id} declares inline ingress; use SecurityGroupIngress nodes"
        for group in graph.of_kind(Kind.SECURITY_GROUP)
        if group.props.get("ingress")
    ]
    opened: set[tuple[str, object, object]] = set()
    for ingress in graph.of_kind(Kind.SECURITY_GROUP_INGRESS):
        group = node_at(graph, ingress.props.get("group"), Kind.SECURITY_GROUP)
        peer = node_at(graph, ingress.props.get("peer"), Kind.SECURITY_GROUP)
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
        subnets = nodes_at(graph, service.props.get("subnets"), Kind.SUBNET)
        if not subnets or any(s is None or s.props.get("public") is not False for s in subnets):
            problems.append(f"{service.logical_id} must run in private subnets only")
        if service.props.get("assign_public_ip") is not False:
            problems.append(f"{service.logical_id} must not assign public IPs")
    return problems
