"""Alarms, the dashboard, AWS Backup, SSM parameters, and a cutover state machine per service."""

from __future__ import annotations

from typing import Any

from paycompile.compiler import release
from paycompile.compiler.builder import Builder, logical_id, ref
from paycompile.compiler.cutover import CutoverTargets, add_cutover
from paycompile.compiler.data import Data
from paycompile.compiler.graph import STACK_INSTANCE_LENGTH, Concat, Json, Kind, Node, Pseudo
from paycompile.compiler.release import COLORS
from paycompile.compiler.security import role
from paycompile.compiler.traffic import Traffic, edge_word
from paycompile.spec.model import Service

# A backup that cannot start within an hour of its schedule is skipped (and alarmed by AWS
# Backup); one that runs longer than three hours is stopped.
BACKUP_START_WINDOW_MINUTES = 60
BACKUP_COMPLETION_WINDOW_MINUTES = 180
# An alarm changes state after this many periods of this many seconds over its threshold.
ALARM_PERIOD_SECONDS = 300
ALARM_EVALUATION_PERIODS = 2
VAULT_NAME_LIMIT = 50  # AWS Backup vault names: 2 to 50 letters, digits, hyphens, underscores


def add_operations(
    builder: Builder, traffic: Traffic, data: Data, cluster: Node, data_key: Node, logs_key: Node
) -> None:
    topic = builder.add(Kind.SNS_TOPIC, ("alarm", "topic"), {"kms_key": ref(data_key, "arn")})
    if builder.spec.monitoring.alarm_email:
        builder.add(
            Kind.SNS_SUBSCRIPTION,
            ("alarm", "email"),
            {
                "topic": ref(topic, "arn"),
                "protocol": "email",
                "endpoint": builder.spec.monitoring.alarm_email,
            },
        )
    watched = _alarms(builder, traffic, data, cluster, topic)
    _dashboard(builder, traffic, data, cluster)
    _backup(builder, data, data_key)
    for service in builder.spec.services:
        with builder.serving(service.name):
            color_parameter = _parameter(
                builder,
                ("services", service.name, "active-color"),
                release.live_color(service),
                f"Live color of {service.name}; the cutover state machine updates it",
            )
            add_cutover(
                builder,
                CutoverTargets(
                    service,
                    traffic.services[service.name],
                    cluster,
                    {color: _ecs_service(builder, service, color) for color in COLORS},
                    {color: watched[(service.name, color)] for color in COLORS},
                    color_parameter,
                ),
                logs_key,
            )
    _parameter(builder, ("db", "secret-arn"), ref(data.secret), "ARN of the database master secret")
    _parameter(
        builder,
        ("db", "endpoint"),
        ref(data.cluster, "endpoint"),
        "Writer endpoint of the Aurora cluster",
    )
    for key, value in builder.spec.parameters.items():
        _parameter(builder, ("config", key), value, "Application configuration", path=(key,))


def _ecs_service(builder: Builder, service: Service, color: str) -> Node:
    return builder.graph[logical_id((service.name, color, "service"))]


Watched = dict[tuple[str, str], list[Node]]


def _alarms(builder: Builder, traffic: Traffic, data: Data, cluster: Node, topic: Node) -> Watched:
    """Every alarm, and per service colour the ones a cutover to that colour watches."""
    monitoring = builder.spec.monitoring

    def alarm(
        parts: tuple[str, ...],
        namespace: str,
        metric: str,
        dimensions: dict[str, Any],
        threshold: float,
        what: str,
    ) -> Node:
        return builder.add(
            Kind.ALARM,
            (*parts, "alarm"),
            {
                "description": what,
                "namespace": namespace,
                "metric": metric,
                "dimensions": dimensions,
                "statistic": "Sum" if metric.endswith("Count") else "Average",
                "period": ALARM_PERIOD_SECONDS,
                "evaluation_periods": ALARM_EVALUATION_PERIODS,
                "threshold": threshold,
                "comparison": "GreaterThanOrEqualToThreshold"
                if metric == "UnHealthyHostCount"
                else "GreaterThanThreshold",
                "missing_data": "notBreaching",
                "topic": ref(topic, "arn"),
            },
        )

    watched: Watched = {}
    for service in builder.spec.services:
        with builder.serving(service.name):
            groups = traffic.services[service.name].target_groups
            for color in COLORS:
                ecs_service = _ecs_service(builder, service, color)
                dims = {
                    "ClusterName": ref(cluster, "name"),
                    "ServiceName": ref(ecs_service, "name"),
                }
                group = {
                    "TargetGroup": ref(groups[color], "full_name"),
                    "LoadBalancer": ref(traffic.services[service.name].load_balancer, "full_name"),
                }
                who = f"{service.name} ({color})"
                watched[(service.name, color)] = [
                    alarm(
                        (service.name, color, "cpu"),
                        "AWS/ECS",
                        "CPUUtilization",
                        dims,
                        monitoring.cpu_alarm_percent,
                        f"{who} CPU above {monitoring.cpu_alarm_percent}%",
                    ),
                    alarm(
                        (service.name, color, "memory"),
                        "AWS/ECS",
                        "MemoryUtilization",
                        dims,
                        monitoring.memory_alarm_percent,
                        f"{who} memory above {monitoring.memory_alarm_percent}%",
                    ),
                    alarm(
                        (service.name, color, "unhealthy"),
                        "AWS/ApplicationELB",
                        "UnHealthyHostCount",
                        group,
                        1,
                        f"{who} has unhealthy targets",
                    ),
                    alarm(
                        (service.name, color, "5xx"),
                        "AWS/ApplicationELB",
                        "HTTPCode_Target_5XX_Count",
                        group,
                        monitoring.http_5xx_alarm,
                        f"{who} answers with 5xx",
                    ),
                ]
    for number, edge in traffic.edges.items():
        alb = ref(edge.load_balancer, "full_name")
        word = edge_word(number)
        which = "ALB" if number == 1 else f"ALB {number}"
        alarm(
            (word, "5xx"),
            "AWS/ApplicationELB",
            "HTTPCode_ELB_5XX_Count",
            {"LoadBalancer": alb},
            monitoring.http_5xx_alarm,
            f"{which} answers with 5xx",
        )
        alarm(
            ("target", "5xx") if number == 1 else (word, "target", "5xx"),
            "AWS/ApplicationELB",
            "HTTPCode_Target_5XX_Count",
            {"LoadBalancer": alb},
            monitoring.http_5xx_alarm,
            "Services answer with 5xx"
            if number == 1
            else f"Services behind {which} answer with 5xx",
        )
    alarm(
        ("db", "connections"),
        "AWS/RDS",
        "DatabaseConnections",
        {"DBClusterIdentifier": ref(data.cluster)},
        monitoring.db_connections_alarm,
        f"More than {monitoring.db_connections_alarm} database connections",
    )
    return watched


def _dashboard(builder: Builder, traffic: Traffic, data: Data, cluster: Node) -> None:
    region = builder.spec.region
    albs = [ref(edge.load_balancer, "full_name") for edge in traffic.edges.values()]
    ecs_metrics: list[list[Any]] = []
    for service in builder.spec.services:
        for color in COLORS:
            ecs_service = _ecs_service(builder, service, color)
            for metric in ("CPUUtilization", "MemoryUtilization"):
                ecs_metrics.append(
                    [
                        "AWS/ECS",
                        metric,
                        "ClusterName",
                        ref(cluster, "name"),
                        "ServiceName",
                        ref(ecs_service, "name"),
                    ]
                )
    rds = ref(data.cluster)
    widgets = [
        ("ECS services", ecs_metrics),
        (
            "Aurora cluster",
            [
                ["AWS/RDS", m, "DBClusterIdentifier", rds]
                for m in (
                    "CPUUtilization",
                    "DatabaseConnections",
                    "ServerlessDatabaseCapacity",
                    "FreeableMemory",
                )
            ],
        ),
        (
            "Load balancer",
            [
                ["AWS/ApplicationELB", m, "LoadBalancer", alb]
                for alb in albs
                for m in (
                    "RequestCount",
                    "TargetResponseTime",
                    "HTTPCode_ELB_5XX_Count",
                    "HTTPCode_Target_5XX_Count",
                )
            ],
        ),
    ]
    body = {
        "widgets": [
            {
                "type": "metric",
                "x": 0,
                "y": index * 6,
                "width": 24,
                "height": 6,
                "properties": {
                    "title": title,
                    "region": region,
                    "metrics": metrics,
                    "stat": "Average",
                    "period": ALARM_PERIOD_SECONDS,
                    "view": "timeSeries",
                },
            }
            for index, (title, metrics) in enumerate(widgets)
        ]
    }
    builder.add(Kind.DASHBOARD, ("dashboard",), {"body": Json(body)})


def _backup(builder: Builder, data: Data, data_key: Node) -> None:
    spec = builder.spec.backup
    # A vault holding recovery points cannot be deleted, so it outlives even an ephemeral stack.
    vault = builder.add(
        Kind.BACKUP_VAULT,
        ("backup", "vault"),
        {"kms_key": ref(data_key, "arn"), "physical_name": _vault_name(builder)},
        name=builder.name("vault"),
        deletion="retain",
    )
    plan = builder.add(
        Kind.BACKUP_PLAN,
        ("backup", "plan"),
        name=builder.name("backup"),
        props={
            "rules": [
                {
                    "name": "daily",
                    "schedule": spec.schedule,
                    "retention_days": spec.retention_days,
                    "vault": ref(vault, "name"),
                    "start_window_minutes": BACKUP_START_WINDOW_MINUTES,
                    "completion_window_minutes": BACKUP_COMPLETION_WINDOW_MINUTES,
                }
            ]
        },
    )
    backup_role = role(
        builder,
        ("backup", "role"),
        "backup.amazonaws.com",
        [],
        managed_policies=(
            "service-role/AWSBackupServiceRolePolicyForBackup",
            "service-role/AWSBackupServiceRolePolicyForRestores",
        ),
    )
    builder.add(
        Kind.BACKUP_SELECTION,
        ("backup", "selection"),
        name=builder.name("backup-db"),
        props={
            "plan": ref(plan),
            "role": ref(backup_role, "arn"),
            "resources": [ref(data.cluster, "arn")],
        },
    )


def _vault_name(builder: Builder) -> Concat:
    """`<name>-vault-<stack instance>-<environment>`: a vault left behind by a deleted stack
    never blocks the next one of the same name. "vault-" goes where 50 characters are short."""
    platform, env = builder.spec.name, builder.env
    fixed = len(platform) + len(env) + STACK_INSTANCE_LENGTH + 2
    word = "vault-" if fixed + len("vault-") <= VAULT_NAME_LIMIT else ""
    return Concat((f"{platform}-{word}", Pseudo("stack_instance"), f"-{env}"))


def _parameter(
    builder: Builder,
    parts: tuple[str, ...],
    value: Any,
    description: str,
    path: tuple[str, ...] | None = None,
) -> Node:
    """An SSM String parameter `/<name>/<environment>/<path>`; its logical id comes from its
    key, so adding or removing another parameter never renames (and so replaces) this one."""
    name = "/".join(("", builder.spec.name, builder.env, *(path or parts)))
    return builder.add(
        Kind.SSM_PARAMETER,
        ("param", *parts),
        {
            "parameter_name": name,
            # Plain configuration: a secret never goes into SSM (PAY-SEC-003).
            "type": "String",
            "value": value,
            "description": description,
        },
        name=name,
    )
