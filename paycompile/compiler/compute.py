"""The ECS cluster and, per service, its task definition, roles, log group and Fargate service."""

from __future__ import annotations

import re

from paycompile.compiler.builder import Builder, arn, ref
from paycompile.compiler.graph import Concat, Kind, Node
from paycompile.compiler.network import Network
from paycompile.compiler.security import log_group_node, role, statement, unscoped
from paycompile.compiler.traffic import Traffic
from paycompile.spec.model import Service

PRIVATE_ECR = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(\.cn)?/(?P<repo>[^:@]+)"
)


def add_compute(builder: Builder, network: Network, traffic: Traffic, logs_key: Node) -> Node:
    cluster = builder.add(Kind.ECS_CLUSTER, ("cluster",), {"container_insights": True})
    for service in builder.spec.services:
        _service(builder, cluster, network, traffic, logs_key, service)
    return cluster


def _service(
    builder: Builder,
    cluster: Node,
    network: Network,
    traffic: Traffic,
    logs_key: Node,
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
                [
                    f"arn:aws:ecr:{repository['region']}:{repository['account']}:repository/{repository['repo']}"
                ],
            ),
        ]
    execution_role = role(
        builder, (service.name, "execution", "role"), "ecs-tasks.amazonaws.com", pull
    )
    task_role = role(
        builder,
        (service.name, "task", "role"),
        "ecs-tasks.amazonaws.com",
        [
            statement(
                "ReadOwnConfig",
                ["ssm:GetParameter", "ssm:GetParameters", "ssm:GetParametersByPath"],
                [arn("ssm", f"parameter/{builder.spec.name}/{builder.env}/*")],
            )
        ],
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
