"""Pulumi resources of the VPC endpoints (interface and gateway)."""

from __future__ import annotations

from typing import Any

from paycompile.backends.pulumi.sdk import aws
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Json, Kind, Node


def _vpc_endpoint(node: Node, t: Translator) -> Registered:
    props = node.props
    placement: dict[str, Any] = (
        {
            "private_dns_enabled": props["private_dns"],
            "subnet_ids": t(props["subnets"]),
            "security_group_ids": t(props["security_groups"]),
        }
        # An interface endpoint sits behind security groups; a gateway endpoint is a route.
        if props["security_groups"]
        else {"route_table_ids": t(props["route_tables"])}
    )
    if props["policy"]:
        placement["policy"] = t(Json(props["policy"]))
    endpoint = aws.ec2.VpcEndpoint(
        node.logical_id,
        vpc_id=t(props["vpc"]),
        service_name=props["service_name"],
        vpc_endpoint_type=props["type"],
        tags=t.tags(node),
        opts=options(node, t),
        **placement,
    )
    return Registered(endpoint)


RESOURCES: dict[Kind, Emit] = {Kind.VPC_ENDPOINT: _vpc_endpoint}
