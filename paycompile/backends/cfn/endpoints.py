"""CloudFormation resources of the VPC endpoints (interface and gateway)."""

from __future__ import annotations

from troposphere import AWSObject, ec2

from paycompile.backends.cfn.translate import Emit, Translator, tags
from paycompile.compiler.graph import Kind, Node


def _vpc_endpoint(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    endpoint = ec2.VPCEndpoint(
        node.logical_id,
        VpcId=t(props["vpc"]),
        ServiceName=props["service_name"],
        VpcEndpointType=props["type"],
        Tags=tags(node),
    )
    # An interface endpoint sits behind security groups; a gateway endpoint is a route.
    if props["security_groups"]:
        endpoint.PrivateDnsEnabled = props["private_dns"]
        endpoint.SubnetIds = t(props["subnets"])
        endpoint.SecurityGroupIds = t(props["security_groups"])
    else:
        endpoint.RouteTableIds = t(props["route_tables"])
    if props["policy"]:
        endpoint.PolicyDocument = t(props["policy"])
    return [endpoint]


RESOURCES: dict[Kind, Emit] = {Kind.VPC_ENDPOINT: _vpc_endpoint}
