"""CloudFormation resources of the compute area: the ECS cluster, task definitions, services."""

from __future__ import annotations

from troposphere import AWSObject, ecs

from paycompile.backends.cfn.translate import Emit, Translator, tags
from paycompile.compiler.graph import Kind, Node


def _ecs_cluster(node: Node, t: Translator) -> list[AWSObject]:
    insights = "enabled" if node.props["container_insights"] else "disabled"
    return [
        ecs.Cluster(
            node.logical_id,
            ClusterName=node.name,
            ClusterSettings=[ecs.ClusterSetting(Name="containerInsights", Value=insights)],
            Tags=tags(node),
        )
    ]


def _task_definition(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    volumes = props["scratch_volumes"]
    container = ecs.ContainerDefinition(
        Name=props["container_name"],
        Image=t(props["image"]),
        Essential=True,
        User=props["user"],
        Memory=props["memory_limit"],
        PortMappings=[
            ecs.PortMapping(ContainerPort=props["port"], Protocol=props["port_protocol"])
        ],
        Environment=[
            ecs.Environment(Name=key, Value=value) for key, value in props["environment"].items()
        ],
        ReadonlyRootFilesystem=props["read_only_root_filesystem"],
        MountPoints=[
            ecs.MountPoint(SourceVolume=name, ContainerPath=path, ReadOnly=False)
            for name, path in volumes.items()
        ],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver=props["log_driver"],
            Options={
                "awslogs-group": t(props["log_group"]),
                "awslogs-region": props["region"],
                "awslogs-stream-prefix": props["log_stream_prefix"],
            },
        ),
    )
    if props["secrets"]:
        container.Secrets = [
            ecs.Secret(Name=name, ValueFrom=t(value)) for name, value in props["secrets"].items()
        ]
    return [
        ecs.TaskDefinition(
            node.logical_id,
            Family=props["family"],
            Cpu=str(props["cpu"]),
            Memory=str(props["memory"]),
            NetworkMode=props["network_mode"],
            RequiresCompatibilities=[props["launch_type"]],
            ExecutionRoleArn=t(props["execution_role"]),
            TaskRoleArn=t(props["task_role"]),
            ContainerDefinitions=[container],
            Volumes=[ecs.Volume(Name=name) for name in volumes],
            Tags=tags(node),
        )
    ]


def _ecs_service(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    deployment = props["deployment"]
    return [
        ecs.Service(
            node.logical_id,
            ServiceName=node.name,
            Cluster=t(props["cluster"]),
            TaskDefinition=t(props["task_definition"]),
            DesiredCount=t(props["desired_count"]),
            LaunchType=props["launch_type"],
            NetworkConfiguration=ecs.NetworkConfiguration(
                AwsvpcConfiguration=ecs.AwsvpcConfiguration(
                    AssignPublicIp="ENABLED" if props["assign_public_ip"] else "DISABLED",
                    Subnets=t(props["subnets"]),
                    SecurityGroups=t(props["security_groups"]),
                )
            ),
            LoadBalancers=[
                ecs.LoadBalancer(
                    ContainerName=props["container_name"],
                    ContainerPort=props["port"],
                    TargetGroupArn=t(props["target_group"]),
                )
            ],
            HealthCheckGracePeriodSeconds=props["health_check_grace_seconds"],
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                MinimumHealthyPercent=deployment["minimum_healthy_percent"],
                MaximumPercent=deployment["maximum_percent"],
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(
                    Enable=deployment["circuit_breaker"], Rollback=deployment["rollback"]
                ),
            ),
            PropagateTags=props["propagate_tags"],
            EnableECSManagedTags=True,
            Tags=tags(node),
        )
    ]


RESOURCES: dict[Kind, Emit] = {
    Kind.ECS_CLUSTER: _ecs_cluster,
    Kind.TASK_DEFINITION: _task_definition,
    Kind.ECS_SERVICE: _ecs_service,
}
