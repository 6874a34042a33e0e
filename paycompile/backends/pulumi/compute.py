"""Pulumi resources of the compute area: the ECS cluster, task definitions, services."""

from __future__ import annotations

from typing import Any

from paycompile.backends.pulumi.sdk import aws
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Json, Kind, Node


def _ecs_cluster(node: Node, t: Translator) -> Registered:
    insights = "enabled" if node.props["container_insights"] else "disabled"
    cluster = aws.ecs.Cluster(
        node.logical_id,
        name=node.name,
        settings=[{"name": "containerInsights", "value": insights}],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(cluster)


def _container(props: dict[str, Any]) -> dict[str, Any]:
    """The ECS container definition, in the API's own (camelCase) JSON."""
    container = _container_base(props)
    if props["secrets"]:
        container["secrets"] = [{"name": k, "valueFrom": v} for k, v in props["secrets"].items()]
    return container


def _container_base(props: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": props["container_name"],
        "image": props["image"],
        "essential": True,
        "user": props["user"],
        "memory": props["memory_limit"],
        "portMappings": [{"containerPort": props["port"], "protocol": props["port_protocol"]}],
        "environment": [{"name": k, "value": v} for k, v in props["environment"].items()],
        "readonlyRootFilesystem": props["read_only_root_filesystem"],
        "mountPoints": [
            {"sourceVolume": name, "containerPath": path, "readOnly": False}
            for name, path in props["scratch_volumes"].items()
        ],
        "logConfiguration": {
            "logDriver": props["log_driver"],
            "options": {
                "awslogs-group": props["log_group"],
                "awslogs-region": props["region"],
                "awslogs-stream-prefix": props["log_stream_prefix"],
            },
        },
    }


def _task_definition(node: Node, t: Translator) -> Registered:
    props = node.props
    task = aws.ecs.TaskDefinition(
        node.logical_id,
        family=props["family"],
        cpu=str(props["cpu"]),
        memory=str(props["memory"]),
        network_mode=props["network_mode"],
        requires_compatibilities=[props["launch_type"]],
        execution_role_arn=t(props["execution_role"]),
        task_role_arn=t(props["task_role"]),
        container_definitions=t(Json([_container(props)])),
        volumes=[{"name": name} for name in props["scratch_volumes"]],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(task)


def _ecs_service(node: Node, t: Translator) -> Registered:
    props = node.props
    deployment = props["deployment"]
    service = aws.ecs.Service(
        node.logical_id,
        name=node.name,
        cluster=t(props["cluster"]),
        task_definition=t(props["task_definition"]),
        desired_count=t(props["desired_count"]),
        launch_type=props["launch_type"],
        network_configuration={
            "subnets": t(props["subnets"]),
            "security_groups": t(props["security_groups"]),
            "assign_public_ip": props["assign_public_ip"],
        },
        load_balancers=[
            {
                "target_group_arn": t(props["target_group"]),
                "container_name": props["container_name"],
                "container_port": props["port"],
            }
        ],
        health_check_grace_period_seconds=props["health_check_grace_seconds"],
        deployment_minimum_healthy_percent=deployment["minimum_healthy_percent"],
        deployment_maximum_percent=deployment["maximum_percent"],
        deployment_circuit_breaker={
            "enable": deployment["circuit_breaker"],
            "rollback": deployment["rollback"],
        },
        propagate_tags=props["propagate_tags"],
        enable_ecs_managed_tags=True,
        # `up` succeeds only once the tasks are healthy, not while the circuit breaker rolls back.
        wait_for_steady_state=True,
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(service)


RESOURCES: dict[Kind, Emit] = {
    Kind.ECS_CLUSTER: _ecs_cluster,
    Kind.TASK_DEFINITION: _task_definition,
    Kind.ECS_SERVICE: _ecs_service,
}
