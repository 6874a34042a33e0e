"""Alarms, the dashboard, AWS Backup, the blue/green cutover state machines and SSM parameters."""

from __future__ import annotations

from typing import Any

from paycompile.compiler.builder import Builder, arn, logical_id, ref
from paycompile.compiler.data import Data
from paycompile.compiler.graph import STACK_INSTANCE_LENGTH, Concat, Json, Kind, Node, Pseudo
from paycompile.compiler.security import log_group_node, role, statement, unscoped
from paycompile.compiler.traffic import COLORS, Traffic
from paycompile.spec.model import Service

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
    _alarms(builder, traffic, data, cluster, topic)
    _dashboard(builder, traffic, data, cluster)
    _backup(builder, data, data_key)
    for service in builder.spec.services:
        color_parameter = _parameter(
            builder,
            ("services", service.name, "active-color"),
            service.active_color,
            f"Live color of {service.name}; the cutover state machine updates it",
        )
        _cutover(builder, traffic, service, color_parameter, logs_key)
    _parameter(builder, ("db", "secret-arn"), ref(data.secret), "ARN of the database master secret")
    _parameter(
        builder,
        ("db", "endpoint"),
        ref(data.cluster, "endpoint"),
        "Writer endpoint of the Aurora cluster",
    )
    for key, value in builder.spec.parameters.items():
        _parameter(builder, ("config", key), value, "Application configuration", path=(key,))


def _service_nodes(builder: Builder, service: Service) -> tuple[Node, list[Node]]:
    ecs_service = builder.graph[logical_id((service.name, "service"))]
    groups = [builder.graph[logical_id((service.name, color, "tg"))] for color in COLORS]
    return ecs_service, groups


def _alarms(builder: Builder, traffic: Traffic, data: Data, cluster: Node, topic: Node) -> None:
    monitoring = builder.spec.monitoring
    alb = ref(traffic.load_balancer, "full_name")

    def alarm(
        parts: tuple[str, ...],
        namespace: str,
        metric: str,
        dimensions: dict[str, Any],
        threshold: float,
        what: str,
    ) -> None:
        builder.add(
            Kind.ALARM,
            (*parts, "alarm"),
            {
                "description": what,
                "namespace": namespace,
                "metric": metric,
                "dimensions": dimensions,
                "statistic": "Sum" if metric.endswith("Count") else "Average",
                "period": 300,
                "evaluation_periods": 2,
                "threshold": threshold,
                "comparison": "GreaterThanOrEqualToThreshold"
                if metric == "UnHealthyHostCount"
                else "GreaterThanThreshold",
                "missing_data": "notBreaching",
                "topic": ref(topic, "arn"),
            },
        )

    for service in builder.spec.services:
        ecs_service, groups = _service_nodes(builder, service)
        dims = {"ClusterName": ref(cluster, "name"), "ServiceName": ref(ecs_service, "name")}
        alarm(
            (service.name, "cpu"),
            "AWS/ECS",
            "CPUUtilization",
            dims,
            monitoring.cpu_alarm_percent,
            f"{service.name} CPU above {monitoring.cpu_alarm_percent}%",
        )
        alarm(
            (service.name, "memory"),
            "AWS/ECS",
            "MemoryUtilization",
            dims,
            monitoring.memory_alarm_percent,
            f"{service.name} memory above {monitoring.memory_alarm_percent}%",
        )
        for group in groups:
            color = group.props["color"]
            alarm(
                (service.name, color, "unhealthy"),
                "AWS/ApplicationELB",
                "UnHealthyHostCount",
                {"TargetGroup": ref(group, "full_name"), "LoadBalancer": alb},
                1,
                f"{service.name} has unhealthy {color} targets",
            )
    alarm(
        ("alb", "5xx"),
        "AWS/ApplicationELB",
        "HTTPCode_ELB_5XX_Count",
        {"LoadBalancer": alb},
        monitoring.http_5xx_alarm,
        "ALB answers with 5xx",
    )
    alarm(
        ("target", "5xx"),
        "AWS/ApplicationELB",
        "HTTPCode_Target_5XX_Count",
        {"LoadBalancer": alb},
        monitoring.http_5xx_alarm,
        "Services answer with 5xx",
    )
    alarm(
        ("db", "connections"),
        "AWS/RDS",
        "DatabaseConnections",
        {"DBClusterIdentifier": ref(data.cluster)},
        monitoring.db_connections_alarm,
        f"More than {monitoring.db_connections_alarm} database connections",
    )


def _dashboard(builder: Builder, traffic: Traffic, data: Data, cluster: Node) -> None:
    region = builder.spec.region
    alb = ref(traffic.load_balancer, "full_name")
    ecs_metrics: list[list[Any]] = []
    for service in builder.spec.services:
        ecs_service, _ = _service_nodes(builder, service)
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
                    "period": 300,
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


def _cutover(
    builder: Builder, traffic: Traffic, service: Service, color_parameter: Node, logs_key: Node
) -> None:
    """A state machine that moves one service's traffic to its other color, or rolls back."""
    wiring = traffic.services[service.name]
    groups = {color: ref(group, "arn") for color, group in wiring.target_groups.items()}
    switch_target: Node = wiring.listener_rule or wiring.listener
    modify, target_key, actions_key = (
        ("modifyRule", "RuleArn", "Actions")
        if wiring.listener_rule
        else ("modifyListener", "ListenerArn", "DefaultActions")
    )
    parameter_name = color_parameter.props["parameter_name"]

    def switch(target_path: str, next_state: str, catch: bool) -> dict[str, Any]:
        state: dict[str, Any] = {
            "Type": "Task",
            "Resource": f"arn:aws:states:::aws-sdk:elasticloadbalancingv2:{modify}",
            "Parameters": {
                target_key: ref(switch_target, "arn"),
                actions_key: [{"Type": "forward", "TargetGroupArn.$": target_path}],
            },
            "ResultPath": None,
            "Next": next_state,
        }
        if catch:
            state["Catch"] = [
                {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RollBack"}
            ]
        return state

    def target(color: str, previous: str) -> dict[str, Any]:
        return {
            "Type": "Pass",
            "Result": {
                "color": color,
                "target_group": groups[color],
                "previous_group": groups[previous],
            },
            "ResultPath": "$.target",
            "Next": "ValidateTargetHealth",
        }

    definition = {
        "Comment": (
            f"Blue/green cutover of {service.name}: check, validate, switch, roll back on failure"
        ),
        "StartAt": "CheckCurrentDeployment",
        "States": {
            "CheckCurrentDeployment": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:ssm:getParameter",
                "Parameters": {"Name": parameter_name},
                "ResultSelector": {"color.$": "$.Parameter.Value"},
                "ResultPath": "$.current",
                "Next": "ChooseTarget",
            },
            "ChooseTarget": {
                "Type": "Choice",
                "Choices": [
                    {"Variable": "$.current.color", "StringEquals": "blue", "Next": "TargetGreen"}
                ],
                "Default": "TargetBlue",
            },
            "TargetGreen": target("green", "blue"),
            "TargetBlue": target("blue", "green"),
            "ValidateTargetHealth": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:elasticloadbalancingv2:describeTargetHealth",
                "Parameters": {"TargetGroupArn.$": "$.target.target_group"},
                "ResultSelector": {
                    "healthy.$": "$.TargetHealthDescriptions[?(@.TargetHealth.State == 'healthy')]"
                },
                "ResultPath": "$.health",
                "Next": "TargetsHealthy",
            },
            "TargetsHealthy": {
                "Type": "Choice",
                "Choices": [
                    {
                        "Variable": "$.health.healthy[0]",
                        "IsPresent": True,
                        "Next": "PerformTrafficSwitch",
                    }
                ],
                "Default": "TargetUnhealthy",
            },
            "TargetUnhealthy": {
                "Type": "Fail",
                "Error": "TargetUnhealthy",
                "Cause": "no healthy target in the new color; traffic not switched",
            },
            "PerformTrafficSwitch": switch(
                "$.target.target_group", "RecordActiveColor", catch=True
            ),
            "RecordActiveColor": {
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:ssm:putParameter",
                "Parameters": {
                    "Name": parameter_name,
                    "Value.$": "$.target.color",
                    "Type": "String",
                    "Overwrite": True,
                },
                "ResultPath": None,
                "Catch": [
                    {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": "RollBack"}
                ],
                "Next": "CutoverComplete",
            },
            "CutoverComplete": {"Type": "Succeed"},
            "RollBack": switch("$.target.previous_group", "CutoverRolledBack", catch=False),
            "CutoverRolledBack": {
                "Type": "Fail",
                "Error": "CutoverRolledBack",
                "Cause": "the switch failed; the previous color serves traffic again",
            },
        },
    }
    log_group = log_group_node(
        builder,
        (service.name, "cutover"),
        f"/states/{builder.name(service.name, 'cutover')}",
        logs_key,
    )
    parameter_arn = arn("ssm", f"parameter{parameter_name}")
    machine_role = role(
        builder,
        (service.name, "cutover", "role"),
        "states.amazonaws.com",
        [
            statement(
                "ReadWriteActiveColor", ["ssm:GetParameter", "ssm:PutParameter"], [parameter_arn]
            ),
            statement(
                "SwitchTraffic",
                [
                    "elasticloadbalancing:ModifyRule"
                    if wiring.listener_rule
                    else "elasticloadbalancing:ModifyListener"
                ],
                [ref(switch_target, "arn")],
            ),
            unscoped("ReadTargetHealth", ["elasticloadbalancing:DescribeTargetHealth"]),
            unscoped(
                "DeliverLogs",
                [
                    "logs:CreateLogDelivery",
                    "logs:DeleteLogDelivery",
                    "logs:DescribeLogGroups",
                    "logs:DescribeResourcePolicies",
                    "logs:GetLogDelivery",
                    "logs:ListLogDeliveries",
                    "logs:PutResourcePolicy",
                    "logs:UpdateLogDelivery",
                ],
            ),
            unscoped(
                "Tracing",
                [
                    "xray:GetSamplingRules",
                    "xray:GetSamplingTargets",
                    "xray:PutTelemetryRecords",
                    "xray:PutTraceSegments",
                ],
            ),
        ],
    )
    builder.add(
        Kind.STATE_MACHINE,
        (service.name, "cutover"),
        {
            "definition": Json(definition),
            "role": ref(machine_role, "arn"),
            "log_group": ref(log_group, "arn"),
            "service": service.name,
            "tracing": True,
        },
    )


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
        {"parameter_name": name, "value": value, "description": description},
        name=name,
    )
