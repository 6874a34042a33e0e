"""VPC, three public and three private subnets, gateways, routes and flow logs."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from paycompile.compiler.builder import Builder, ref
from paycompile.compiler.graph import Concat, Kind, Node
from paycompile.compiler.security import log_group_node, role, statement
from paycompile.spec import policy

# The destination of every subnet's default route.
DEFAULT_ROUTE = "0.0.0.0/0"
# Flow logs go to CloudWatch Logs (an encrypted log group with retention), not to S3.
FLOW_LOG_DESTINATION = "cloud-watch-logs"


@dataclass(frozen=True)
class Network:
    vpc: Node
    public_subnets: list[Node]
    private_subnets: list[Node]
    # The private subnets' routes to the internet through NAT: whatever pulls images or calls
    # AWS APIs from a private subnet must wait for them.
    private_route_tables: list[Node]


def subnet_cidrs(cidr: str) -> list[str]:
    """Six equal, non-overlapping subnets: public 0..2, then private 0..2 (two of eight spare)."""
    network = ipaddress.IPv4Network(cidr)
    return [str(subnet) for subnet in network.subnets(prefixlen_diff=3)][:6]


def add_network(builder: Builder, logs_key: Node) -> Network:
    spec = builder.spec.network
    zones = policy.REQUIRED_AVAILABILITY_ZONES
    vpc = builder.add(
        Kind.VPC, ("vpc",), {"cidr": spec.cidr, "dns": True, "flow_logs": spec.flow_logs}
    )
    cidrs = subnet_cidrs(spec.cidr)
    public = [_subnet(builder, vpc, "public", zone, cidrs[zone]) for zone in range(zones)]
    private = [_subnet(builder, vpc, "private", zone, cidrs[zones + zone]) for zone in range(zones)]

    gateway = builder.add(Kind.INTERNET_GATEWAY, ("igw",), {"vpc": ref(vpc)})
    builder.add(
        Kind.ROUTE_TABLE,
        ("public", "routes"),
        {
            "vpc": ref(vpc),
            "default_route": {"gateway": ref(gateway)},
            "default_route_destination": DEFAULT_ROUTE,
            "subnets": [ref(s) for s in public],
        },
        depends_on=(gateway.logical_id,),
    )
    nats = [_nat_gateway(builder, public[zone], zone, gateway) for zone in range(spec.nat_gateways)]
    private_routes = [
        builder.add(
            Kind.ROUTE_TABLE,
            ("private", "routes", zone + 1),
            {
                "vpc": ref(vpc),
                "default_route": {"nat_gateway": ref(nats[zone % len(nats)])},
                "default_route_destination": DEFAULT_ROUTE,
                "subnets": [ref(subnet)],
            },
        )
        for zone, subnet in enumerate(private)
    ]
    if spec.flow_logs:
        _flow_logs(builder, vpc, logs_key)
    return Network(vpc, public, private, private_routes)


def _subnet(builder: Builder, vpc: Node, tier: str, zone: int, cidr: str) -> Node:
    return builder.add(
        Kind.SUBNET,
        (tier, "subnet", zone + 1),
        {
            "vpc": ref(vpc),
            "cidr": cidr,
            "zone_index": zone,
            "public": tier == "public",
            # Nothing gets a public IP by default, in either tier: the ALB and NAT have their own.
            "map_public_ip_on_launch": False,
        },
        tags={"Tier": tier},
    )


def _nat_gateway(builder: Builder, subnet: Node, zone: int, gateway: Node) -> Node:
    # A public NAT gateway and its address need the VPC attached to the internet gateway first
    # (EC2 answers Gateway.NotAttached otherwise); depending on the gateway's node waits for its
    # attachment too.
    eip = builder.add(
        Kind.ELASTIC_IP,
        ("nat", "eip", zone + 1),
        {"domain": "vpc"},
        depends_on=(gateway.logical_id,),
    )
    return builder.add(
        Kind.NAT_GATEWAY,
        ("nat", zone + 1),
        {"subnet": ref(subnet), "eip": ref(eip, "allocation_id")},
        depends_on=(gateway.logical_id,),
    )


def _flow_logs(builder: Builder, vpc: Node, logs_key: Node) -> None:
    log_group = log_group_node(
        builder, ("flow", "logs"), f"/vpc/{builder.name('flow-logs')}", logs_key
    )
    writer = role(
        builder,
        ("flow", "logs", "role"),
        "vpc-flow-logs.amazonaws.com",
        [
            statement(
                "WriteFlowLogs",
                ["logs:CreateLogStream", "logs:DescribeLogStreams", "logs:PutLogEvents"],
                [ref(log_group, "arn"), Concat((ref(log_group, "arn"), ":*"))],
            )
        ],
    )
    builder.add(
        Kind.FLOW_LOG,
        ("vpc", "flow", "log"),
        {
            "vpc": ref(vpc),
            "log_group": ref(log_group, "arn"),
            "role": ref(writer, "arn"),
            "traffic": "ALL",
            "destination_type": FLOW_LOG_DESTINATION,
        },
    )


__all__ = ["Network", "add_network", "subnet_cidrs"]
