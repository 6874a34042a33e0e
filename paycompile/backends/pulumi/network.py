"""Pulumi resources of the network area: VPC, subnets, gateways, routes, flow logs."""

from __future__ import annotations

import pulumi

from paycompile.backends.pulumi.lifecycle import helper_options
from paycompile.backends.pulumi.sdk import aws
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Kind, Node


def _vpc(node: Node, t: Translator) -> Registered:
    vpc = aws.ec2.Vpc(
        node.logical_id,
        cidr_block=node.props["cidr"],
        enable_dns_hostnames=node.props["dns"],
        enable_dns_support=node.props["dns"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(vpc)


def _subnet(node: Node, t: Translator) -> Registered:
    props = node.props
    subnet = aws.ec2.Subnet(
        node.logical_id,
        vpc_id=t(props["vpc"]),
        cidr_block=props["cidr"],
        availability_zone=t.zone(props["zone_index"]),
        map_public_ip_on_launch=props["map_public_ip_on_launch"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(subnet)


def _internet_gateway(node: Node, t: Translator) -> Registered:
    gateway = aws.ec2.InternetGateway(
        node.logical_id, vpc_id=t(node.props["vpc"]), tags=t.tags(node), opts=options(node, t)
    )
    return Registered(gateway)


def _elastic_ip(node: Node, t: Translator) -> Registered:
    return Registered(
        aws.ec2.Eip(
            node.logical_id,
            domain=node.props["domain"],
            tags=t.tags(node),
            opts=options(node, t),
        )
    )


def _nat_gateway(node: Node, t: Translator) -> Registered:
    nat = aws.ec2.NatGateway(
        node.logical_id,
        subnet_id=t(node.props["subnet"]),
        allocation_id=t(node.props["eip"]),
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(nat)


def _route_table(node: Node, t: Translator) -> Registered:
    props = node.props
    table = aws.ec2.RouteTable(
        node.logical_id, vpc_id=t(props["vpc"]), tags=t.tags(node), opts=options(node, t)
    )
    route = props["default_route"]
    target = (
        {"gateway_id": t(route["gateway"])}
        if "gateway" in route
        else {"nat_gateway_id": t(route["nat_gateway"])}
    )
    helpers: dict[str, pulumi.CustomResource] = {
        "default": aws.ec2.Route(
            f"{node.logical_id}Default",
            route_table_id=table.id,
            destination_cidr_block=props["default_route_destination"],
            opts=helper_options(node),
            **target,
        )
    }
    for index, subnet in enumerate(props["subnets"]):
        helpers[f"subnet{index + 1}"] = aws.ec2.RouteTableAssociation(
            f"{node.logical_id}Subnet{index + 1}",
            route_table_id=table.id,
            subnet_id=t(subnet),
            opts=helper_options(node),
        )
    return Registered(table, helpers)


def _flow_log(node: Node, t: Translator) -> Registered:
    props = node.props
    flow_log = aws.ec2.FlowLog(
        node.logical_id,
        vpc_id=t(props["vpc"]),
        traffic_type=props["traffic"],
        log_destination_type=props["destination_type"],
        log_destination=t(props["log_group"]),
        iam_role_arn=t(props["role"]),
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(flow_log)


RESOURCES: dict[Kind, Emit] = {
    Kind.VPC: _vpc,
    Kind.SUBNET: _subnet,
    Kind.INTERNET_GATEWAY: _internet_gateway,
    Kind.ELASTIC_IP: _elastic_ip,
    Kind.NAT_GATEWAY: _nat_gateway,
    Kind.ROUTE_TABLE: _route_table,
    Kind.FLOW_LOG: _flow_log,
}
