"""Security groups, the ALB with its access-log bucket, listeners, and blue/green target groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paycompile.compiler import release
from paycompile.compiler.builder import Builder, bucket_name_prefix, elb_name, ref
from paycompile.compiler.endpoints import add_endpoints, egress_rule, task_egress
from paycompile.compiler.graph import Concat, Kind, Node, Pseudo, Ref
from paycompile.compiler.network import Network
from paycompile.compiler.release import COLORS
from paycompile.compiler.security import IAM_POLICY_VERSION
from paycompile.spec.model import Service

ANYWHERE = "0.0.0.0/0"
DB_PORT = 3306
# Port 80 answers every request with a permanent redirect to HTTPS (PAY-TLS-002).
REDIRECT_TO_HTTPS = {"redirect": {"protocol": "HTTPS", "port": 443, "status": "HTTP_301"}}
# A listener with no default service answers what no rule matches with a plain 404.
NOT_FOUND = {"fixed_response": {"status": 404, "content_type": "text/plain"}}
# Tasks register by IP (awsvpc networking), so target groups take IP targets.
TARGET_TYPE = "ip"
# Any success or redirect counts as healthy; the health path decides what it answers.
HEALTHY_HTTP_CODES = "200-399"
# How long a deregistered task keeps its in-flight requests: short, because a cutover moves
# traffic with weights before anything deregisters.
DEREGISTRATION_DELAY_SECONDS = 30

# Regions opened before August 2022 deliver ALB access logs from a regional ELB account;
# newer regions use the log-delivery service principal.
ELB_LOG_ACCOUNTS = {
    "us-east-1": "127311923021",
    "us-east-2": "033677994240",
    "us-west-1": "027434742980",
    "us-west-2": "797873946194",
    "af-south-1": "098369216593",
    "ap-east-1": "754344448648",
    "ap-southeast-3": "589379963580",
    "ap-south-1": "718504428378",
    "ap-northeast-3": "383597477331",
    "ap-northeast-2": "600734575887",
    "ap-southeast-1": "114774131450",
    "ap-southeast-2": "783225319266",
    "ap-northeast-1": "582318560864",
    "ca-central-1": "985666609251",
    "eu-central-1": "054676820928",
    "eu-west-1": "156460612806",
    "eu-west-2": "652711504416",
    "eu-south-1": "635631232127",
    "eu-west-3": "009996457667",
    "eu-north-1": "897822967062",
    "me-south-1": "076674570225",
    "sa-east-1": "507241528517",
    "us-gov-west-1": "048591011584",
    "us-gov-east-1": "190560391635",
    "cn-north-1": "638102146993",
    "cn-northwest-1": "037604701340",
}


@dataclass
class ServiceTraffic:
    """What one service's compute needs from the traffic layer."""

    security_group: Node
    target_groups: dict[str, Node]
    listener_rule: Node | None
    listener: Node


@dataclass
class Traffic:
    load_balancer: Node
    https_listener: Node
    database_security_group: Node
    rotation_security_group: Node
    # The VPC endpoints the tasks reach AWS through: they must exist before a task starts.
    endpoints: list[Node]
    services: dict[str, ServiceTraffic] = field(default_factory=dict)


def add_traffic(builder: Builder, network: Network) -> Traffic:
    spec = builder.spec
    vpc = ref(network.vpc)
    database_sg = _security_group(
        builder, "db", vpc, "Aurora cluster: MySQL from the service tasks only", []
    )
    # The VPC endpoints' group: HTTPS in from the tasks and the rotation function only.
    endpoints_sg = _security_group(
        builder, "endpoints", vpc, "VPC interface endpoints: HTTPS from the platform only", []
    )
    rotation_sg = _security_group(
        builder,
        "rotation",
        vpc,
        "Secret rotation function: Secrets Manager API and the database",
        [
            _egress(443, ref(endpoints_sg), "HTTPS to the Secrets Manager endpoint"),
            _egress(DB_PORT, ref(database_sg), "MySQL"),
        ],
    )
    service_sgs = {
        service.name: _tasks_security_group(builder, vpc, service, endpoints_sg, database_sg)
        for service in spec.services
    }
    for service in spec.services:
        _ingress(
            builder,
            endpoints_sg,
            ("endpoints", "from", service.name),
            443,
            ref(service_sgs[service.name]),
            f"HTTPS from {service.name}",
        )
    _ingress(
        builder,
        endpoints_sg,
        ("endpoints", "from", "rotation"),
        443,
        ref(rotation_sg),
        "HTTPS from the rotation function",
    )
    endpoints = add_endpoints(builder, network, endpoints_sg)
    alb_sg = _security_group(
        builder,
        "alb",
        vpc,
        "Application load balancer: HTTPS (and HTTP to redirect) from the internet",
        [_egress(s.port, ref(service_sgs[s.name]), f"to service {s.name}") for s in spec.services],
    )
    _ingress(builder, alb_sg, ("alb", "https"), 443, ANYWHERE, "HTTPS from the internet")
    _ingress(
        builder,
        alb_sg,
        ("alb", "http"),
        80,
        ANYWHERE,
        "HTTP from the internet, only redirected to HTTPS",
        waivers={"CKV_AWS_260": "port 80 only answers with a redirect to HTTPS (PAY-TLS-002)"},
    )
    for service in spec.services:
        _ingress(
            builder,
            service_sgs[service.name],
            (service.name, "from", "alb"),
            service.port,
            ref(alb_sg),
            "from the ALB",
        )
        _ingress(
            builder,
            database_sg,
            ("db", "from", service.name),
            DB_PORT,
            ref(service_sgs[service.name]),
            f"MySQL from {service.name}",
        )
    _ingress(
        builder,
        database_sg,
        ("db", "from", "rotation"),
        DB_PORT,
        ref(rotation_sg),
        "MySQL from the rotation function",
    )

    load_balancer = _load_balancer(builder, network, alb_sg)
    target_groups = {
        service.name: _target_groups(builder, network, service) for service in spec.services
    }
    default = spec.default_service
    https = builder.add(
        Kind.LISTENER,
        ("https", "listener"),
        {
            "load_balancer": ref(load_balancer),
            "port": 443,
            "protocol": "HTTPS",
            "certificate_arn": spec.tls.certificate_arn,
            "ssl_policy": spec.tls.ssl_policy,
            "default_action": (
                weighted_forward(default, target_groups[default.name]) if default else NOT_FOUND
            ),
        },
    )
    builder.add(
        Kind.LISTENER,
        ("http", "listener"),
        {
            "load_balancer": ref(load_balancer),
            "port": 80,
            "protocol": "HTTP",
            "default_action": REDIRECT_TO_HTTPS,
        },
        waivers={
            "CKV_AWS_2": "this listener only redirects to HTTPS (PAY-TLS-002)",
            "CKV_AWS_103": (
                "plain-HTTP redirect listener has no TLS; the 443 listener's policy is TLS 1.2+"
            ),
        },
    )
    traffic = Traffic(load_balancer, https, database_sg, rotation_sg, endpoints)
    routed = [service for service in spec.services if service.route]
    for service in routed:
        rule = _listener_rule(
            builder, https, service, target_groups[service.name], service.rule_priority
        )
        traffic.services[service.name] = ServiceTraffic(
            service_sgs[service.name], target_groups[service.name], rule, https
        )
    if default:
        traffic.services[default.name] = ServiceTraffic(
            service_sgs[default.name], target_groups[default.name], None, https
        )
    return traffic


def _tasks_security_group(
    builder: Builder, vpc: Ref, service: Service, endpoints_sg: Node, database_sg: Node
) -> Node:
    """The tasks' group: egress narrowed to the endpoints, S3, the database and the spec's
    declared destinations (PAY-NET-004); HTTPS anywhere only with the reason it carries."""
    egress, https_anywhere = task_egress(builder, service, endpoints_sg, database_sg, DB_PORT)
    group = _security_group(
        builder,
        f"{service.name}-tasks",
        vpc,
        f"Tasks of service {service.name}: traffic from the load balancer only",
        egress,
    )
    group.props["https_anywhere"] = https_anywhere
    return group


def _security_group(
    builder: Builder, purpose: str, vpc: Ref, description: str, egress: list[dict[str, Any]]
) -> Node:
    """A security group; its description is create-only, so it never holds a spec value (a
    port in it would replace the group on an edit), and its name is left to the backend (the
    Name tag keeps the intended one) so that a replacement is never refused."""
    return builder.add(
        Kind.SECURITY_GROUP,
        (purpose, "sg"),
        {"vpc": vpc, "description": description, "egress": egress, "physical_name": None},
    )


def _egress(port: int, peer: str | Ref, description: str) -> dict[str, Any]:
    return egress_rule(port, peer, description)


def _ingress(
    builder: Builder,
    group: Node,
    parts: tuple[str, ...],
    port: int,
    peer: str | Ref,
    description: str,
    waivers: dict[str, str] | None = None,
) -> Node:
    return builder.add(
        Kind.SECURITY_GROUP_INGRESS,
        (*parts, "ingress"),
        {
            "group": ref(group),
            "protocol": "tcp",
            "port": port,
            "peer": peer,
            "description": description,
        },
        waivers=waivers,
    )


def _load_balancer(builder: Builder, network: Network, security_group: Node) -> Node:
    region = builder.spec.region
    account = ELB_LOG_ACCOUNTS.get(region)
    writer: dict[str, Any] = (
        {"AWS": Concat(("arn:", Pseudo("partition"), f":iam::{account}:root"))}
        if account
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    bucket = builder.add(
        Kind.BUCKET,
        ("alb", "logs", "bucket"),
        # ALB log delivery writes only to SSE-S3 buckets, never SSE-KMS.
        {
            "purpose": "ALB access logs",
            "encryption": "AES256",
            "expire_days": 365,
            "expiry_rule_id": "expire-logs",
            # The bucket owns every object, whoever writes it: no ACLs to audit.
            "object_ownership": "BucketOwnerEnforced",
            "name_prefix": bucket_name_prefix(builder.name("alb", "logs", "bucket")),
        },
        deletion="retain",
        waivers={
            "CKV_AWS_145": "ALB access logs can only be delivered to an SSE-S3 (AES256) bucket",
            "CKV_AWS_18": "the access-log destination; logging it to itself would loop",
            "CKV_AWS_21": "log objects are written once and expire; versioning adds nothing",
        },
    )
    bucket_arn = ref(bucket, "arn")
    bucket_policy = builder.add(
        Kind.BUCKET_POLICY,
        ("alb", "logs", "bucket", "policy"),
        {
            "bucket": ref(bucket),
            "policy_version": IAM_POLICY_VERSION,
            "statements": [
                {
                    "Sid": "AlbLogDelivery",
                    "Effect": "Allow",
                    "Principal": writer,
                    "Action": "s3:PutObject",
                    "Resource": Concat((bucket_arn, "/alb/AWSLogs/", Pseudo("account_id"), "/*")),
                },
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, Concat((bucket_arn, "/*"))],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
            ],
        },
    )
    retained = builder.retained
    return builder.add(
        Kind.LOAD_BALANCER,
        ("alb",),
        {
            "physical_name": elb_name(builder.name("alb")),
            "type": "application",
            "subnets": [ref(subnet) for subnet in network.public_subnets],
            "security_groups": [ref(security_group)],
            "access_logs_bucket": ref(bucket),
            "access_logs_prefix": "alb",
            "deletion_protection": retained,
            "drop_invalid_headers": True,
        },
        depends_on=(bucket_policy.logical_id,),
        waivers={}
        if retained
        else {"CKV_AWS_150": "ephemeral lifecycle: the stack must delete cleanly"},
    )


def weighted_forward(service: Service, groups: dict[str, Node]) -> dict[str, Any]:
    """Forward to both colours, weighted by the live colour: it takes everything, the idle colour
    nothing. Both groups stay attached to the listener, as ECS needs for the idle colour's service,
    and the cutover only changes the weights."""
    return {
        "forward": [
            {"target_group": ref(groups[color], "arn"), "weight": release.weight(service, color)}
            for color in COLORS
        ]
    }


def _target_groups(builder: Builder, network: Network, service: Service) -> dict[str, Node]:
    return {
        color: builder.add(
            Kind.TARGET_GROUP,
            (service.name, color, "tg"),
            {
                # A port change replaces a target group, which a fixed name would forbid: the
                # name is left to AWS and kept in the Name tag.
                "physical_name": None,
                "vpc": ref(network.vpc),
                "port": service.port,
                # TLS ends at the ALB; inside the VPC traffic to the tasks is plain HTTP.
                "protocol": "HTTP",
                "target_type": TARGET_TYPE,
                "health_check_path": service.health_check_path,
                "health_check_matcher": HEALTHY_HTTP_CODES,
                "deregistration_delay_seconds": DEREGISTRATION_DELAY_SECONDS,
                "service": service.name,
                "color": color,
            },
            name=builder.name(service.name, color),
            tags={"DeploymentColor": color, "Service": service.name},
            waivers={
                "CKV_AWS_378": "TLS terminates at the ALB; targets are private tasks in the VPC"
            },
        )
        for color in COLORS
    }


def _listener_rule(
    builder: Builder, listener: Node, service: Service, groups: dict[str, Node], priority: int
) -> Node:
    assert service.route is not None
    kind, value = service.route.key
    return builder.add(
        Kind.LISTENER_RULE,
        (service.name, "rule"),
        {
            "listener": ref(listener),
            "priority": priority,
            "condition": {kind: value},
            "action": weighted_forward(service, groups),
            "service": service.name,
        },
    )
