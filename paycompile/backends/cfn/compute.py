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
    container = ecs.ContainerDefinition(
        Name=props["container_name"],
        Image=props["image"],
        Essential=True,
        PortMappings=[ecs.PortMapping(ContainerPort=props["port"], Protocol="tcp")],
        Environment=[
            ecs.Environment(Name=key, Value=value) for key, value in props["environment"].items()
        ],
        ReadonlyRootFilesystem=props["read_only_root_filesystem"],
        # A read-only root still needs somewhere to write temporary files.
        MountPoints=[ecs.MountPoint(SourceVolume="tmp", ContainerPath="/tmp", ReadOnly=False)],
        LogConfiguration=ecs.LogConfiguration(
            LogDriver="awslogs",
            Options={
                "awslogs-group": t(props["log_group"]),
                "awslogs-region": props["region"],
                "awslogs-stream-prefix": "ecs",
            },
        ),
    )
    return [
        ecs.TaskDefinition(
            node.logical_id,
            Family=props["family"],
            Cpu=str(props["cpu"]),
            Memory=str(props["memory"]),
            NetworkMode="awsvpc",
            RequiresCompatibilities=["FARGATE"],
            ExecutionRoleArn=t(props["execution_role"]),
            TaskRoleArn=t(props["task_role"]),
            ContainerDefinitions=[container],
            Volumes=[ecs.Volume(Name="tmp")],
            Tags=tags(node),
        )
    ]


def _ecs_service(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        ecs.Service(
            node.logical_id,
            ServiceName=node.name,
            Cluster=t(props["cluster"]),
            TaskDefinition=t(props["task_definition"]),
            DesiredCount=props["desired_count"],
            LaunchType="FARGATE",
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
            HealthCheckGracePeriodSeconds=60,
            DeploymentConfiguration=ecs.DeploymentConfiguration(
                MinimumHealthyPercent=100,
                MaximumPercent=200,
                DeploymentCircuitBreaker=ecs.DeploymentCircuitBreaker(Enable=True, Rollback=True),
            ),
            PropagateTags="SERVICE",
            EnableECSManagedTags=True,
            Tags=tags(node),
        )
    ]


RESOURCES: dict[Kind, Emit] = {
    Kind.ECS_CLUSTER: _ecs_cluster,
    Kind.TASK_DEFINITION: _task_definition,
    Kind.ECS_SERVICE: _ecs_service,
}
