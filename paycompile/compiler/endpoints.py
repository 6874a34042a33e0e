"""The VPC's private paths to the AWS APIs the platform itself calls, and the tasks' egress that
keeps them to those paths (PAY-NET-004, PCI DSS v4.0 1.3.2).

Interface endpoints (private DNS on, in the three private subnets) sit behind their own
security group, which admits HTTPS from the tasks and the rotation function only; S3 (where ECR
keeps image layers) is a gateway endpoint on the private route tables, reached through its
AWS-managed prefix list. The tasks' egress then names these, the database, and what the spec
declares, instead of 443 to anywhere.
"""

from __future__ import annotations

import re
from typing import Any

from paycompile.compiler.builder import Builder, ref
from paycompile.compiler.graph import Concat, Kind, Node, Pseudo, Ref
from paycompile.compiler.images import pulls_through_cache
from paycompile.compiler.network import Network
from paycompile.compiler.security import IAM_POLICY_VERSION
from paycompile.spec import policy
from paycompile.spec.model import Service, s3_prefix_list

HTTPS = 443
ANYWHERE = "0.0.0.0/0"
# A private ECR repository: `<account>.dkr.ecr.<region>.<suffix>/<repository>`.
PRIVATE_ECR = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)"
)
# The AWS APIs called from inside the VPC, and by whom: ECR (api: the registry; dkr: the image
# manifests) and Logs by ECS when it starts a task and ships its output (Fargate makes these
# calls from the task's own network interface), Secrets Manager and SSM by the service's code
# and Secrets Manager by the rotation function. Not needed: KMS (Secrets Manager decrypts on
# the caller's behalf), STS (task credentials come from the ECS agent's endpoint), Step
# Functions (the cutover runs in the service, not in the VPC).
INTERFACE_SERVICES = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm")
GATEWAY_SERVICE = "s3"


def endpoint_service_name(region: str, service: str) -> str:
    """`com.amazonaws.<region>.<service>` (`cn.com.amazonaws...` in the China partition)."""
    prefix = "cn.com.amazonaws" if policy.REGIONS.get(region) == "aws-cn" else "com.amazonaws"
    return f"{prefix}.{region}.{service}"


def pulls_privately(service: Service, region: str) -> bool:
    """Whether the service's image comes from ECR in the platform's own region, which the tasks
    reach through the endpoints: a private repository of the region, or ECR Public through the
    platform's pull-through cache (`images`); any other registry is on the internet."""
    if pulls_through_cache(service):
        return True
    repository = PRIVATE_ECR.match(service.image)
    return repository is not None and repository["region"] == region


def task_egress(
    builder: Builder, service: Service, endpoints_sg: Node, database_sg: Node, db_port: int
) -> tuple[list[dict[str, Any]], str | None]:
    """The tasks' egress rules, and why they may open HTTPS anywhere (None: they may not)."""
    spec = builder.spec
    rules = [
        egress_rule(HTTPS, ref(endpoints_sg), "HTTPS to the VPC endpoints (AWS APIs)"),
        egress_rule(db_port, ref(database_sg), "MySQL"),
    ]
    prefix_list = s3_prefix_list(spec)
    if prefix_list:
        rules.append(
            egress_rule(
                HTTPS, {"prefix_list": prefix_list}, "HTTPS to S3 (ECR image layers), gateway"
            )
        )
    rules += [
        egress_rule(each.port, each.cidr, "a destination the spec declares")
        for each in service.egress
    ]
    reason = _https_anywhere_reason(builder, service, prefix_list)
    if reason:
        rules.append(egress_rule(HTTPS, ANYWHERE, f"HTTPS anywhere: {reason}"))
    return rules, reason


def _https_anywhere_reason(builder: Builder, service: Service, prefix_list: str | None) -> str:
    if builder.spec.network.https_egress_anywhere:
        return "the spec opts in (network.https_egress_anywhere)"
    if not pulls_privately(service, builder.spec.region):
        return "the image comes from a registry outside the region's ECR and its cache"
    return "" if prefix_list else "the S3 prefix list is not known"


def egress_rule(port: int, peer: str | Ref | dict[str, str], description: str) -> dict[str, Any]:
    """One egress rule: to a CIDR, a security group (Ref) or a prefix list ({prefix_list})."""
    return {"protocol": "tcp", "port": port, "peer": peer, "description": description}


def add_endpoints(builder: Builder, network: Network, security_group: Node) -> list[Node]:
    """One interface endpoint per AWS API the platform calls, and the S3 gateway endpoint."""
    region = builder.spec.region
    interface = [
        builder.add(
            Kind.VPC_ENDPOINT,
            ("endpoint", service),
            {
                "vpc": ref(network.vpc),
                "service_name": endpoint_service_name(region, service),
                "type": "Interface",
                "private_dns": True,
                "subnets": [ref(subnet) for subnet in network.private_subnets],
                "security_groups": [ref(security_group)],
                "route_tables": [],
                "policy": None,
            },
        )
        for service in INTERFACE_SERVICES
    ]
    gateway = builder.add(
        Kind.VPC_ENDPOINT,
        ("endpoint", GATEWAY_SERVICE),
        {
            "vpc": ref(network.vpc),
            "service_name": endpoint_service_name(region, GATEWAY_SERVICE),
            "type": "Gateway",
            "private_dns": False,
            "subnets": [],
            "security_groups": [],
            "route_tables": [ref(table) for table in network.private_route_tables],
            "policy": _layer_bucket_policy(),
        },
    )
    return [*interface, gateway]


def _layer_bucket_policy() -> dict[str, Any]:
    """The gateway endpoint lets the VPC read only the bucket ECR serves image layers from."""
    bucket = Concat(
        ("arn:", Pseudo("partition"), ":s3:::prod-", Pseudo("region"), "-starport-layer-bucket/*")
    )
    return {
        "Version": IAM_POLICY_VERSION,
        "Statement": [
            {
                "Sid": "EcrImageLayers",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": bucket,
            }
        ],
    }
