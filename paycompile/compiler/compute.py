"""The ECS cluster and, per service, its task definition, roles, log group and Fargate service."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from paycompile.compiler.builder import Builder, arn, ref
from paycompile.compiler.graph import Concat, Kind, Node, Pseudo
from paycompile.compiler.network import Network
from paycompile.compiler.security import log_group_node, role, statement, unscoped
from paycompile.compiler.traffic import Traffic
from paycompile.spec import policy
from paycompile.spec.model import Service

PRIVATE_ECR = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)"
)


@dataclass(frozen=True)
class Credentials:
    """The database secret the services read at run time, and the key that encrypts it."""

    secret: Node
    key: Node


def add_compute(
    builder: Builder, network: Network, traffic: Traffic, logs_key: Node, credentials: Credentials
) -> Node:
    cluster = builder.add(Kind.ECS_CLUSTER, ("cluster",), {"container_insights": True})
    for service in builder.spec.services:
        _service(builder, cluster, network, traffic, logs_key, credentials, service)
    return cluster


def _service(
    builder: Builder,
    cluster: Node,
    network: Network,
    traffic: Traffic,
    logs_key: Node,
    credentials: Credentials,
    service: Service,
) -> Node:
    log_group = log_group_node(
        builder, (service.name,), f"/ecs/{builder.name(service.name)}", logs_key
    )
    pull = [
        statement(
            "WriteLogs",
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [Concat((ref(log_group, "arn"), ":*"))],
        )
    ]
    repository = PRIVATE_ECR.match(service.image)
    if repository:
        pull += [
            unscoped("EcrToken", ["ecr:GetAuthorizationToken"]),
            statement(
                "PullImage",
                [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                [_repository_arn(repository)],
            ),
        ]
    execution_role = role(
        builder, (service.name, "execution", "role"), "ecs-tasks.amazonaws.com", pull
    )
    task_role = role(
        builder,
        (service.name, "task", "role"),
        "ecs-tasks.amazonaws.com",
        _task_statements(builder, credentials),
    )
    task = builder.add(
        Kind.TASK_DEFINITION,
        (service.name, "task"),
        {
            "family": builder.name(service.name),
            "container_name": service.name,
            "image": service.image,
            "cpu": service.cpu,
            "memory": service.memory,
            "port": service.port,
            "environment": dict(sorted(service.environment_variables.items())),
            "log_group": ref(log_group),
            "region": builder.spec.region,
            "execution_role": ref(execution_role, "arn"),
            "task_role": ref(task_role, "arn"),
            "read_only_root_filesystem": True,
        },
    )
    wiring = traffic.services[service.name]
    active = wiring.target_groups[service.active_color]
    listener = wiring.listener_rule or wiring.listener
    return builder.add(
        Kind.ECS_SERVICE,
        (service.name, "service"),
        {
            "cluster": ref(cluster),
            "task_definition": ref(task),
            "desired_count": service.desired_count,
            "subnets": [ref(subnet) for subnet in network.private_subnets],
            "security_groups": [ref(wiring.security_group)],
            "assign_public_ip": False,
            "container_name": service.name,
            "port": service.port,
            "target_group": ref(active, "arn"),
        },
        depends_on=(listener.logical_id,),
    )


def _task_statements(builder: Builder, credentials: Credentials) -> list[dict[str, Any]]:
    """What a service's code may do: read its own configuration and the database secret."""
    via_secrets_manager = Concat(("secretsmanager.", Pseudo("region"), ".amazonaws.com"))
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


def _repository_arn(repository: re.Match[str]) -> str:
    partition = policy.REGIONS.get(repository["region"], "aws")
    account, region, name = repository["account"], repository["region"], repository["repo"]
    return f"arn:{partition}:ecr:{region}:{account}:repository/{name}"
