"""Security groups, the ALB with its access-log bucket, listeners, and blue/green target groups."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from paycompile.compiler import release
from paycompile.compiler.builder import Builder, elb_name, ref
from paycompile.compiler.endpoints import add_endpoints, egress_rule, task_egress
from paycompile.compiler.graph import Concat, Kind, Node, Pseudo, Ref
from paycompile.compiler.log_buckets import add_log_buckets, deny_insecure_transport
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
    # Every service's tasks also carry the platform's tasks group, the one source the database
    # and the VPC endpoints admit.
    tasks_security_group: Node
    target_groups: dict[str, Node]
    listener_rule: Node | None
    listener: Node
    load_balancer: Node


@dataclass
class Edge:
    """One load balancer and what is its alone: security group and HTTPS listener. Every load
    balancer is built by the same function, so each has the same policy by construction."""

    number: int
    security_group: Node
    load_balancer: Node
    https_listener: Node


@dataclass
class Traffic:
    load_balancer: Node
    https_listener: Node
    database_security_group: Node
    rotation_security_group: Node
    # The VPC endpoints the tasks reach AWS through: they must exist before a task starts.
    endpoints: list[Node]
    services: dict[str, ServiceTraffic] = field(default_factory=dict)
    # Load balancer number -> its edge: each number some service is pinned to (1 by default).
    edges: dict[int, Edge] = field(default_factory=dict)


def edge_word(number: int) -> str:
    """`alb` for the first load balancer (its names and ids as they always were), `albN` after."""
    return "alb" if number == 1 else f"alb{number}"


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
    numbers = sorted({service.load_balancer for service in spec.services})
    served = {n: [s for s in spec.services if s.load_balancer == n] for n in numbers}
    edge_sgs = {n: _edge_security_group(builder, n, vpc, served[n]) for n in numbers}
    for service in spec.services:
        with builder.serving(service.name):
            _ingress(
                builder,
                service_sgs[service.name],
                (service.name, "from", "alb"),
                service.port,
                ref(edge_sgs[service.load_balancer]),
                "from the ALB",
            )
    # One rule each for every service, not one per service: a security group holds 60 inbound
    # rules by default, and a platform runs up to 200 services.
    tasks_sg = _security_group(
        builder,
        "tasks",
        vpc,
        "All service tasks: the group the database and the VPC endpoints admit",
        [],
    )
    _ingress(
        builder,
        database_sg,
        ("db", "from", "tasks"),
        DB_PORT,
        ref(tasks_sg),
        "MySQL from the tasks",
    )
    _ingress(
        builder,
        endpoints_sg,
        ("endpoints", "from", "tasks"),
        443,
        ref(tasks_sg),
        "HTTPS from the tasks",
    )
    _ingress(
        builder,
        database_sg,
        ("db", "from", "rotation"),
        DB_PORT,
        ref(rotation_sg),
        "MySQL from the rotation function",
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

    bucket_policy = _access_log_bucket(builder, [edge_word(n) for n in numbers])
    balancers = {
        n: _load_balancer(builder, network, edge_sgs[n], bucket_policy, n) for n in numbers
    }
    target_groups = {
        service.name: _target_groups(builder, network, service) for service in spec.services
    }
    edges = {
        n: _edge(builder, n, edge_sgs[n], balancers[n], served[n], target_groups) for n in numbers
    }
    for number, edge in edges.items():
        balancer = edge.load_balancer.logical_id
        builder.output(
            f"{balancer}Services",
            ",".join(service.name for service in served[number]),
            f"The services load balancer {number} serves, comma-separated; its DNS name is "
            f"{balancer}DnsName",
        )
    first = edges[numbers[0]]
    traffic = Traffic(
        first.load_balancer, first.https_listener, database_sg, rotation_sg, endpoints, edges=edges
    )
    for service in spec.services:
        edge = edges[service.load_balancer]
        rule = (
            _listener_rule(
                builder,
                edge.https_listener,
                service,
                target_groups[service.name],
                service.rule_priority,
            )
            if service.route
            else None
        )
        traffic.services[service.name] = ServiceTraffic(
            service_sgs[service.name],
            tasks_sg,
            target_groups[service.name],
            rule,
            edge.https_listener,
            edge.load_balancer,
        )
    return traffic


def _edge_security_group(builder: Builder, number: int, vpc: Ref, served: list[Service]) -> Node:
    word = edge_word(number)
    group = _security_group(
        builder,
        word,
        vpc,
        "Application load balancer: HTTPS (and HTTP to redirect) from the internet",
        _egress_to_services(served, builder.spec.network.cidr),
    )
    _ingress(builder, group, (word, "https"), 443, ANYWHERE, "HTTPS from the internet")
    _ingress(
        builder,
        group,
        (word, "http"),
        80,
        ANYWHERE,
        "HTTP from the internet, only redirected to HTTPS",
        waivers={"CKV_AWS_260": "port 80 only answers with a redirect to HTTPS (PAY-TLS-002)"},
    )
    return group


def _edge(
    builder: Builder,
    number: int,
    security_group: Node,
    load_balancer: Node,
    served: list[Service],
    target_groups: dict[str, dict[str, Node]],
) -> Edge:
    """A load balancer with its HTTPS listener (forwarding what no rule matches to the default
    service, if it is served here, else a 404) and its port-80 redirect."""
    prefix = () if number == 1 else (edge_word(number),)
    default = next((service for service in served if service.route is None), None)
    spec = builder.spec
    https = builder.add(
        Kind.LISTENER,
        (*prefix, "https", "listener"),
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
        (*prefix, "http", "listener"),
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
    return Edge(number, security_group, load_balancer, https)


def _tasks_security_group(
    builder: Builder, vpc: Ref, service: Service, endpoints_sg: Node, database_sg: Node
) -> Node:
    """The tasks' group: egress narrowed to the endpoints, S3, the database and the spec's
    declared destinations (PAY-NET-004); HTTPS anywhere only with the reason it carries."""
    with builder.serving(service.name):
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


def _egress_to_services(services: list[Service], vpc_cidr: str) -> list[dict[str, Any]]:
    """The load balancer may open each service port inside the VPC; each task group stays the
    gate (it admits the load balancer alone, on its service's port). Naming every task group
    here instead would make the shared stack wait for every service group's stack, which
    waits for the load balancer (a cycle between stacks), and spend one rule per service of
    the 60 a security group holds."""
    ports = sorted({service.port for service in services})
    return [_egress(port, vpc_cidr, f"to the service tasks on {port}") for port in ports]


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


def _access_log_bucket(builder: Builder, prefixes: list[str]) -> Node:
    """The access-log bucket every load balancer writes to, each under its own prefix; the
    bucket policy (which a load balancer waits for) is returned."""
    region = builder.spec.region
    account = ELB_LOG_ACCOUNTS.get(region)
    writer: dict[str, Any] = (
        {"AWS": Concat(("arn:", Pseudo("partition"), f":iam::{account}:root"))}
        if account
        else {"Service": "logdelivery.elasticloadbalancing.amazonaws.com"}
    )
    bucket = add_log_buckets(builder)
    bucket_arn = ref(bucket, "arn")
    writes = [
        Concat((bucket_arn, f"/{prefix}/AWSLogs/", Pseudo("account_id"), "/*"))
        for prefix in prefixes
    ]
    return builder.add(
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
                    "Resource": writes[0] if len(writes) == 1 else writes,
                },
                deny_insecure_transport(bucket_arn),
            ],
        },
    )


def _load_balancer(
    builder: Builder, network: Network, security_group: Node, bucket_policy: Node, number: int
) -> Node:
    retained = builder.retained
    word = edge_word(number)
    return builder.add(
        Kind.LOAD_BALANCER,
        (word,),
        {
            "physical_name": elb_name(builder.name(word)),
            "type": "application",
            "subnets": [ref(subnet) for subnet in network.public_subnets],
            "security_groups": [ref(security_group)],
            "access_logs_bucket": bucket_policy.props["bucket"],
            "access_logs_prefix": word,
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
    with builder.serving(service.name):
        return _colour_target_groups(builder, network, service)


def _colour_target_groups(builder: Builder, network: Network, service: Service) -> dict[str, Node]:
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
    with builder.serving(service.name):
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
