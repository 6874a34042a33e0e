"""Pulumi resources of the operations area: alarms, dashboard, backups, cutover, SSM."""

from __future__ import annotations

from typing import Any

import pulumi

from paycompile.backends.pulumi.sdk import aws
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Kind, Node


def _sns_topic(node: Node, t: Translator) -> Registered:
    topic = aws.sns.Topic(
        node.logical_id,
        name=node.name,
        kms_master_key_id=t(node.props["kms_key"]),
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(topic)


def _sns_subscription(node: Node, t: Translator) -> Registered:
    props = node.props
    subscription = aws.sns.TopicSubscription(
        node.logical_id,
        topic=t(props["topic"]),
        protocol=props["protocol"],
        endpoint=props["endpoint"],
        opts=options(node, t),
    )
    return Registered(subscription)


def _alarm(node: Node, t: Translator) -> Registered:
    props = node.props
    topic = t(props["topic"])
    alarm = aws.cloudwatch.MetricAlarm(
        node.logical_id,
        name=node.name,
        alarm_description=props["description"],
        namespace=props["namespace"],
        metric_name=props["metric"],
        dimensions=t(props["dimensions"]),
        statistic=props["statistic"],
        period=props["period"],
        evaluation_periods=props["evaluation_periods"],
        threshold=props["threshold"],
        comparison_operator=props["comparison"],
        treat_missing_data=props["missing_data"],
        alarm_actions=[topic],
        ok_actions=[topic],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(alarm)


def _dashboard(node: Node, t: Translator) -> Registered:
    dashboard = aws.cloudwatch.Dashboard(
        node.logical_id,
        dashboard_name=node.name,
        dashboard_body=t(node.props["body"]),
        opts=options(node, t),
    )
    return Registered(dashboard)


def _backup_vault(node: Node, t: Translator) -> Registered:
    vault = aws.backup.Vault(
        node.logical_id,
        name=t(node.props["physical_name"]),
        kms_key_arn=t(node.props["kms_key"]),
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(vault)


def _backup_plan(node: Node, t: Translator) -> Registered:
    rules: list[Any] = [
        {
            "rule_name": rule["name"],
            "target_vault_name": t(rule["vault"]),
            "schedule": rule["schedule"],
            "start_window": rule["start_window_minutes"],
            "completion_window": rule["completion_window_minutes"],
            "lifecycle": {"delete_after": rule["retention_days"]},
        }
        for rule in node.props["rules"]
    ]
    plan = aws.backup.Plan(
        node.logical_id, name=node.name, rules=rules, tags=t.tags(node), opts=options(node, t)
    )
    return Registered(plan)


def _backup_selection(node: Node, t: Translator) -> Registered:
    props = node.props
    selection = aws.backup.Selection(
        node.logical_id,
        name=node.name,
        plan_id=t(props["plan"]),
        iam_role_arn=t(props["role"]),
        resources=t(props["resources"]),
        opts=options(node, t),
    )
    return Registered(selection)


def _state_machine(node: Node, t: Translator) -> Registered:
    props = node.props
    machine = aws.sfn.StateMachine(
        node.logical_id,
        name=node.name,
        type=props["type"],
        role_arn=t(props["role"]),
        definition=t(props["definition"]),
        logging_configuration={
            "level": props["logging_level"],
            "include_execution_data": props["include_execution_data"],
            # Step Functions wants the log group ARN with its `:*` stream suffix.
            "log_destination": pulumi.Output.concat(t(props["log_group"]), ":*"),
        },
        tracing_configuration={"enabled": props["tracing"]},
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(machine)


def _ssm_parameter(node: Node, t: Translator) -> Registered:
    props = node.props
    parameter = aws.ssm.Parameter(
        node.logical_id,
        name=props["parameter_name"],
        type=props["type"],
        value=t(props["value"]),
        description=props["description"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(parameter)


RESOURCES: dict[Kind, Emit] = {
    Kind.SNS_TOPIC: _sns_topic,
    Kind.SNS_SUBSCRIPTION: _sns_subscription,
    Kind.ALARM: _alarm,
    Kind.DASHBOARD: _dashboard,
    Kind.BACKUP_VAULT: _backup_vault,
    Kind.BACKUP_PLAN: _backup_plan,
    Kind.BACKUP_SELECTION: _backup_selection,
    Kind.STATE_MACHINE: _state_machine,
    Kind.SSM_PARAMETER: _ssm_parameter,
}
