"""The ECS cluster and, per service, its task definition, roles, log group and Fargate service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from paycompile.compiler import images, release
from paycompile.compiler.builder import Builder, arn, ref
from paycompile.compiler.endpoints import PRIVATE_ECR
from paycompile.compiler.graph import Concat, Kind, Node, Pseudo
from paycompile.compiler.network import Network
from paycompile.compiler.release import COLORS
from paycompile.compiler.security import (
    log_group_node,
    regional_endpoint,
    role,
    statement,
    unscoped,
)
from paycompile.compiler.service_secrets import container_secrets, secret_statements
from paycompile.compiler.traffic import Traffic
from paycompile.spec.model import Service

# Replace tasks one batch at a time without dropping below the desired count, and roll back a
# deployment whose tasks never become healthy (the circuit breaker).
ROLLING_DEPLOYMENT = {
    "minimum_healthy_percent": 100,
    "maximum_percent": 200,
    "circuit_breaker": True,
    "rollback": True,
}
# Fargate tasks with their own network interface (awsvpc), logging to CloudWatch Logs.
LAUNCH_TYPE = "FARGATE"
NETWORK_MODE = "awsvpc"
LOG_DRIVER = "awslogs"
# Pulling an image from a repository, and filling a pull-through cache's repository on the first
# pull of a tag (AWS ECR User Guide, "IAM permissions required to sync an upstream registry").
ECR_PULL = ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
ECR_CACHE_FILL = ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"]
# Seconds a new task has before failed load balancer health checks count against it.
HEALTH_CHECK_GRACE_SECONDS = 60


@dataclass(frozen=True)
class Credentials:
    """The database secret the services read at run time, and the key that encrypts it."""

    secret: Node
    key: Node


def add_compute(
    builder: Builder, network: Network, traffic: Traffic, logs_key: Node, credentials: Credentials
) -> Node:
    # Container Insights writes its performance events into this group, which ECS would
    # otherwise create unencrypted and kept forever: it exists, with the logs key, first.
    cluster_name = builder.name("cluster")
    insights = log_group_node(
        builder,
        ("cluster", "insights"),
        f"/aws/ecs/containerinsights/{cluster_name}/performance",
        logs_key,
    )
    cluster = builder.add(
        Kind.ECS_CLUSTER,
        ("cluster",),
        {"container_insights": True},
        name=cluster_name,
        depends_on=(insights.logical_id,),
    )
    cache = images.add_image_cache(builder)
    images.add_registry_scanning(builder)
    for service in builder.spec.services:
        with builder.serving(service.name):
            _service(builder, cluster, network, traffic, logs_key, credentials, service, cache)
    return cluster


def _service(
    builder: Builder,
    cluster: Node,
    network: Network,
    traffic: Traffic,
    logs_key: Node,
    credentials: Credentials,
    service: Service,
    cache: Node | None,
) -> None:
    """Per colour, a task definition running that colour's image and an ECS service behind that
    colour's target group; both colours share the service's log group and roles."""
    log_group = log_group_node(
        builder, (service.name,), f"/ecs/{builder.name(service.name)}", logs_key
    )
    execution_role = role(
        builder,
        (service.name, "execution", "role"),
        "ecs-tasks.amazonaws.com",
        _execution_statements(builder, log_group, service),
    )
    task_role = role(
        builder,
        (service.name, "task", "role"),
        "ecs-tasks.amazonaws.com",
        _task_statements(builder, credentials),
    )
    wiring = traffic.services[service.name]
    # The listener must forward to a target group before ECS registers tasks in it, and the
    # tasks pull their image (through the cache rule) and call AWS through the NAT gateways or
    # the VPC endpoints: all must exist first.
    pulls_through = images.pulls_through_cache(service)
    waits_for = (
        (wiring.listener_rule or wiring.listener).logical_id,
        *(table.logical_id for table in network.private_route_tables),
        *(endpoint.logical_id for endpoint in traffic.endpoints),
        *((cache.logical_id,) if cache is not None and pulls_through else ()),
    )
    for color in COLORS:
        task = builder.add(
            Kind.TASK_DEFINITION,
            (service.name, color, "task"),
            _task_props(builder, service, color, log_group, execution_role, task_role),
        )
        builder.add(
            Kind.ECS_SERVICE,
            (service.name, color, "service"),
            {
                "cluster": ref(cluster),
                "task_definition": ref(task),
                "desired_count": release.desired_count(service, color),
                "subnets": [ref(subnet) for subnet in network.private_subnets],
                "security_groups": [ref(wiring.security_group), ref(wiring.tasks_security_group)],
                "assign_public_ip": False,
                "launch_type": LAUNCH_TYPE,
                # The service's tags reach its tasks, so a task's cost lands on its service.
                "propagate_tags": "SERVICE",
                "container_name": service.name,
                "port": service.port,
                "target_group": ref(wiring.target_groups[color], "arn"),
                "service": service.name,
                "color": color,
                "deployment": ROLLING_DEPLOYMENT,
                "health_check_grace_seconds": HEALTH_CHECK_GRACE_SECONDS,
            },
            tags={"DeploymentColor": color, "Service": service.name},
            depends_on=waits_for,
        )


def _task_props(
    builder: Builder,
    service: Service,
    color: str,
    log_group: Node,
    execution_role: Node,
    task_role: Node,
) -> dict[str, Any]:
    return {
        "family": builder.name(service.name, color),
        "container_name": service.name,
        "image": (
            images.cached_image(builder, release.image(service, color))
            if images.pulls_through_cache(service)
            else release.image(service, color)
        ),
        "cpu": service.cpu,
        "memory": service.memory,
        "launch_type": LAUNCH_TYPE,
        "network_mode": NETWORK_MODE,
        "port": service.port,
        "port_protocol": "tcp",
        "log_driver": LOG_DRIVER,
        "user": service.user,
        "environment": dict(sorted(service.environment_variables.items())),
        # Name -> valueFrom of the service's own secrets, injected by ECS at start.
        "secrets": container_secrets(service),
        "log_group": ref(log_group),
        "log_stream_prefix": color,
        "region": builder.spec.region,
        "execution_role": ref(execution_role, "arn"),
        "task_role": ref(task_role, "arn"),
        "read_only_root_filesystem": True,
        # A read-only root still needs somewhere to write temporary files: volume name -> path.
        # (Fargate mounts these root-owned, mode 0755: an image whose user must write there
        # declares the path as a VOLUME owned by that user.)
        "scratch_volumes": {"tmp": "/tmp"},
        # The whole task's memory is the container's hard limit: it never takes more.
        "memory_limit": service.memory,
        "color": color,
    }


def _execution_statements(
    builder: Builder, log_group: Node, service: Service
) -> list[dict[str, Any]]:
    """What ECS needs to start a task: write its logs, from a private ECR or the platform's
    cache pull its image, and read the service's own secrets."""
    statements = [
        statement(
            "WriteLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [Concat((ref(log_group, "arn"), ":*"))],
        )
    ]
    repository = PRIVATE_ECR.match(service.image)
    if repository:
        statements += _pull_statements(_repository_arn(repository))
    elif images.pulls_through_cache(service):
        cached = images.cached_repository_arn(builder, service)
        # The first pull of a tag also needs what fills the cache: ECR creates the cached
        # repository if it is missing and imports the image from upstream. One statement, as
        # the repository is the same (a service's policy stays small: docs/security.md).
        statements += [
            unscoped("EcrToken", ["ecr:GetAuthorizationToken"]),
            statement("PullThroughCache", [*ECR_PULL, *ECR_CACHE_FILL], [cached]),
        ]
    return statements + secret_statements(service)


def _pull_statements(repository: Any) -> list[dict[str, Any]]:
    return [
        unscoped("EcrToken", ["ecr:GetAuthorizationToken"]),
        statement("PullImage", ECR_PULL, [repository]),
    ]


def _task_statements(builder: Builder, credentials: Credentials) -> list[dict[str, Any]]:
    """What a service's code may do: read its own configuration and the database secret."""
    via_secrets_manager = regional_endpoint("secretsmanager")
    decrypt = statement("DecryptDatabaseSecret", ["kms:Decrypt"], [ref(credentials.key, "arn")])
    return [
        statement(
            "ReadOwnConfig",
            ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
            [arn("ssm", f"parameter/{builder.spec.name}/{builder.env}/*")],
        ),
        # Rotation changes the password under running tasks, so they read the secret when
        # they connect rather than having it injected once at start (F6, F15).
        statement(
            "ReadDatabaseSecret", ["secretsmanager:GetSecretValue"], [ref(credentials.secret)]
        ),
        {**decrypt, "Condition": {"StringEquals": {"kms:ViaService": via_secrets_manager}}},
    ]


def _repository_arn(repository: re.Match[str]) -> Concat:
    """The private repository's ARN; a registry can only serve its own partition."""
    account, region, name = repository["account"], repository["region"], repository["repo"]
    return Concat(("arn:", Pseudo("partition"), f":ecr:{region}:{account}:repository/{name}"))
