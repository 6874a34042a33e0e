"""Network rules: zones, subnets, NAT routing, flow logs."""

from __future__ import annotations

import ipaddress
from typing import Any

from paycompile.compiler.graph import Concat, Graph, Input, Kind, Node, Ref
from paycompile.compiler.images import PREFIX_MAX_LENGTH, PREFIX_PATTERN, cache_prefix
from paycompile.compiler.rules.helpers import (
    DB_PORT,
    as_dict,
    as_list,
    ipv4_network,
    kms_encrypted,
    node_at,
    nodes_at,
)
from paycompile.compiler.rules.registry import rule
from paycompile.spec import policy


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
    networks = [ipv4_network(node) for node in subnets]
    vpcs = [vpc for vpc in map(ipv4_network, graph.of_kind(Kind.VPC)) if vpc is not None]
    problems += [
        f"{node.logical_id}: no valid CIDR"
        for node in [*graph.of_kind(Kind.VPC), *subnets]
        if ipv4_network(node) is None
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
        subnets = nodes_at(graph, table.props.get("subnets"), Kind.SUBNET)
        public = {subnet.props.get("public") is True for subnet in subnets if subnet}
        route = as_dict(table.props.get("default_route"))
        if None in subnets or len(public) != 1:
            problems.append(f"{table.logical_id} must serve subnets of one tier, all in the graph")
            continue
        routed |= {subnet.logical_id for subnet in subnets if subnet}
        if public == {True}:
            if node_at(graph, route.get("gateway"), Kind.INTERNET_GATEWAY) is None:
                problems.append(f"{table.logical_id}: public default route must use the IGW")
        else:
            nat = node_at(graph, route.get("nat_gateway"), Kind.NAT_GATEWAY)
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
        subnet = node_at(graph, nat.props.get("subnet"), Kind.SUBNET)
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
        group = node_at(graph, flow.props.get("log_group"), Kind.LOG_GROUP)
        if node_at(graph, flow.props.get("vpc"), Kind.VPC) is None:
            problems.append(f"{flow.logical_id} watches no VPC of the graph")
        if flow.props.get("traffic") != "ALL":
            problems.append(f"{flow.logical_id} captures {flow.props.get('traffic')!r}, want ALL")
        if group is None or not kms_encrypted(graph, group):
            problems.append(f"{flow.logical_id} must write to a KMS-encrypted log group")
        if node_at(graph, flow.props.get("role"), Kind.IAM_ROLE) is None:
            problems.append(f"{flow.logical_id} has no delivery role in the graph")
    return problems


# AWS APIs the tasks reach through interface endpoints (the rest need no call from the VPC).
_ENDPOINT_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm")
_HTTPS = 443
_ANYWHERE = ("0.0.0.0/0", "::/0")


@rule(
    "PAY-NET-004",
    "Tasks open connections only to the VPC endpoints and S3's prefix list on 443, the database "
    "on 3306 and public destinations the spec declares; HTTPS anywhere only with its reason. "
    "Interface endpoints for ECR, Logs, Secrets Manager and SSM sit in the private subnets with "
    "private DNS, and S3's gateway endpoint on the private route tables.",
    (),
    ("1.3.2", "1.4.2"),
)
def narrow_task_egress(graph: Graph) -> list[str]:
    endpoints = graph.of_kind(Kind.VPC_ENDPOINT)
    problems = _endpoint_problems(graph, endpoints)
    endpoint_groups = {
        group.logical_id
        for endpoint in endpoints
        for group in nodes_at(graph, endpoint.props.get("security_groups"), Kind.SECURITY_GROUP)
        if group is not None
    }
    database_groups = {
        group.logical_id
        for cluster in graph.of_kind(Kind.DB_CLUSTER)
        for group in nodes_at(graph, cluster.props.get("security_groups"), Kind.SECURITY_GROUP)
        if group is not None
    }
    task_groups = {
        group.logical_id: group
        for service in graph.of_kind(Kind.ECS_SERVICE)
        for group in nodes_at(graph, service.props.get("security_groups"), Kind.SECURITY_GROUP)
        if group is not None
    }
    for group in task_groups.values():
        for egress in as_list(group.props.get("egress")):
            problem = _egress_problem(
                graph, group, as_dict(egress), endpoint_groups, database_groups
            )
            if problem:
                problems.append(f"{group.logical_id}: {problem}")
    return problems


def _egress_problem(
    graph: Graph, group: Node, egress: dict[str, Any], endpoints: set[str], databases: set[str]
) -> str | None:
    port, peer = egress.get("port"), egress.get("peer")
    target = node_at(graph, peer, Kind.SECURITY_GROUP)
    if egress.get("protocol") != "tcp":
        return f"egress over {egress.get('protocol')!r}, not tcp"
    if target is not None:
        if (target.logical_id in endpoints and port == _HTTPS) or (
            target.logical_id in databases and port == DB_PORT
        ):
            return None
        return f"egress to {target.logical_id} on {port} is outside the chain"
    if isinstance(peer, dict):
        known = isinstance(peer.get("prefix_list"), str) and port == _HTTPS
        return None if known else f"egress to prefix list {peer} on {port}"
    if peer in _ANYWHERE:
        if port == _HTTPS and group.props.get("https_anywhere"):
            return None
        return f"egress to {peer} on {port} without a reason (network.https_egress_anywhere)"
    network = _public_network(peer)
    if network is None or network.prefixlen < policy.EGRESS_MIN_PREFIX:
        return f"egress to {peer!r} on {port} is not a declared public destination"
    return None


def _public_network(peer: object) -> ipaddress.IPv4Network | None:
    try:
        network = ipaddress.IPv4Network(str(peer))
    except ValueError:
        return None
    return network if network.is_global else None


def _endpoint_problems(graph: Graph, endpoints: list[Node]) -> list[str]:
    if not graph.of_kind(Kind.ECS_SERVICE):
        return []
    # `com.amazonaws.<region>.<service>` -> `<service>`
    named = {
        str(e.props.get("service_name", "")).split(f".{graph.region}.", 1)[-1]: e for e in endpoints
    }
    problems = []
    private = {s.logical_id for s in graph.of_kind(Kind.SUBNET) if s.props.get("public") is False}
    for service in _ENDPOINT_SERVICES:
        endpoint = named.get(service)
        if endpoint is None:
            problems.append(f"no interface endpoint for {service}")
            continue
        placed = nodes_at(graph, endpoint.props.get("subnets"), Kind.SUBNET)
        subnets = {subnet.logical_id for subnet in placed if subnet}
        interface = endpoint.props.get("type") == "Interface"
        if not interface or endpoint.props.get("private_dns") is not True:
            problems.append(f"{endpoint.logical_id} must be an interface endpoint with private DNS")
        if subnets != private:
            problems.append(f"{endpoint.logical_id} must sit in the private subnets")
    gateway = named.get("s3")
    # The route tables of the private subnets, whatever their default route says.
    private_tables = {
        table.logical_id
        for table in graph.of_kind(Kind.ROUTE_TABLE)
        if {s.logical_id for s in nodes_at(graph, table.props.get("subnets"), Kind.SUBNET) if s}
        & private
    }
    if gateway is None or gateway.props.get("type") != "Gateway":
        problems.append("no S3 gateway endpoint")
    else:
        tables = {
            t.logical_id
            for t in nodes_at(graph, gateway.props.get("route_tables"), Kind.ROUTE_TABLE)
            if t
        }
        if tables != private_tables:
            problems.append(f"{gateway.logical_id} must be on the private route tables")
    return problems


_ECR_PUBLIC = "public.ecr.aws"


@rule(
    "PAY-NET-005",
    "A task whose image is on ECR Public pulls it through the platform's one ECR pull-through "
    "cache rule (upstream public.ecr.aws, a repository prefix of the platform and environment): "
    "ECR makes the first pull, so no task needs the internet for its image.",
    (),
    ("1.3.2",),
)
def images_through_cache(graph: Graph) -> list[str]:
    rules = graph.of_kind(Kind.PULL_THROUGH_CACHE_RULE)
    problems = [f"{len(rules)} pull-through cache rules, want at most 1"] if len(rules) > 1 else []
    want = cache_prefix(graph.platform, graph.environment)
    prefixes = set()
    for each in rules:
        prefix, upstream = each.props.get("prefix"), each.props.get("upstream_registry_url")
        if not PREFIX_PATTERN.match(str(prefix)) or len(str(prefix)) > PREFIX_MAX_LENGTH:
            problems.append(f"{each.logical_id}: {prefix!r} is not a repository prefix ECR takes")
        if prefix != want or upstream != _ECR_PUBLIC:
            problems.append(
                f"{each.logical_id} caches {upstream!r} under {prefix!r}, want {_ECR_PUBLIC!r} "
                f"under {want!r}"
            )
        prefixes.add(str(prefix))
    for task in graph.of_kind(Kind.TASK_DEFINITION):
        image = task.props.get("image")
        direct = graph.inputs.get(image.name) if isinstance(image, Input) else None
        if direct is not None and direct.default.startswith(f"{_ECR_PUBLIC}/"):
            problems.append(f"{task.logical_id} pulls {direct.default} from ECR Public directly")
        parts = image.parts if isinstance(image, Concat) else ()
        for part in parts:
            named = part.strip("/") if isinstance(part, str) and part.endswith("/") else None
            if named and part.startswith("/") and named not in prefixes:
                problems.append(
                    f"{task.logical_id} pulls from the cache prefix {named!r}, which no "
                    "pull-through cache rule serves"
                )
    return problems
