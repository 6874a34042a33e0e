"""CloudFormation resources of the network area: VPC, subnets, gateways, routes, flow logs."""

from __future__ import annotations

from troposphere import AWSObject, GetAZs, Select, ec2
from troposphere import Ref as CfnRef

from paycompile.backends.cfn.translate import Emit, Translator, tags
from paycompile.compiler.graph import Kind, Node


def _vpc(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.VPC(
            node.logical_id,
            CidrBlock=node.props["cidr"],
            EnableDnsHostnames=node.props["dns"],
            EnableDnsSupport=node.props["dns"],
            Tags=tags(node),
        )
    ]


def _subnet(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.Subnet(
            node.logical_id,
            VpcId=t(node.props["vpc"]),
            CidrBlock=node.props["cidr"],
            AvailabilityZone=Select(node.props["zone_index"], GetAZs("")),
            MapPublicIpOnLaunch=node.props["map_public_ip_on_launch"],
            Tags=tags(node),
        )
    ]


def _internet_gateway(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.InternetGateway(node.logical_id, Tags=tags(node)),
        ec2.VPCGatewayAttachment(
            f"{node.logical_id}Attachment",
            VpcId=t(node.props["vpc"]),
            InternetGatewayId=CfnRef(node.logical_id),
        ),
    ]


def _elastic_ip(node: Node, t: Translator) -> list[AWSObject]:
    return [ec2.EIP(node.logical_id, Domain=node.props["domain"], Tags=tags(node))]


def _nat_gateway(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.NatGateway(
            node.logical_id,
            SubnetId=t(node.props["subnet"]),
            AllocationId=t(node.props["eip"]),
            Tags=tags(node),
        )
    ]


def _route_table(node: Node, t: Translator) -> list[AWSObject]:
    route = node.props["default_route"]
    target = (
        {"GatewayId": t(route["gateway"])}
        if "gateway" in route
        else {"NatGatewayId": t(route["nat_gateway"])}
    )
    default = ec2.Route(
        f"{node.logical_id}Default",
        RouteTableId=CfnRef(node.logical_id),
        DestinationCidrBlock=node.props["default_route_destination"],
        **target,
    )
    associations = [
        ec2.SubnetRouteTableAssociation(
            f"{node.logical_id}Subnet{index + 1}",
            RouteTableId=CfnRef(node.logical_id),
            SubnetId=t(subnet),
        )
        for index, subnet in enumerate(node.props["subnets"])
    ]
    return [
        ec2.RouteTable(node.logical_id, VpcId=t(node.props["vpc"]), Tags=tags(node)),
        default,
        *associations,
    ]


def _flow_log(node: Node, t: Translator) -> list[AWSObject]:
    return [
        ec2.FlowLog(
            node.logical_id,
            ResourceId=t(node.props["vpc"]),
            ResourceType="VPC",
            TrafficType=node.props["traffic"],
            LogDestinationType=node.props["destination_type"],
            LogDestination=t(node.props["log_group"]),
            DeliverLogsPermissionArn=t(node.props["role"]),
            Tags=tags(node),
        )
    ]


RESOURCES: dict[Kind, Emit] = {
    Kind.VPC: _vpc,
    Kind.SUBNET: _subnet,
    Kind.INTERNET_GATEWAY: _internet_gateway,
    Kind.ELASTIC_IP: _elastic_ip,
    Kind.NAT_GATEWAY: _nat_gateway,
    Kind.ROUTE_TABLE: _route_table,
    Kind.FLOW_LOG: _flow_log,
}
