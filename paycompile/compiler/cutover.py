"""The blue/green cutover of one service, as a Step Functions state machine.

Both colours always sit behind the service's listener or listener rule, weighted 100/0; the
machine moves traffic by changing the weights, never by re-registering anything:

1. read the live weights from the listener (never from a record that could be stale) and keep
   them, to restore them on any failure; refuse split weights (another cutover is running);
2. scale the idle colour to the service's desired count and wait, bounded, until that many of
   its targets are healthy;
3. shift the canary share of traffic to it and bake, failing on any of its alarms;
4. send it all traffic, record the new colour in SSM, and scale the previous colour down (or
   keep it warm);
5. on a failure, an alarm or a timeout: restore the captured weights, scale the idle colour back,
   and fail the execution with the reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from paycompile.compiler import release
from paycompile.compiler.builder import Builder, arn, ref
from paycompile.compiler.graph import Concat, Json, Kind, Node, Pseudo
from paycompile.compiler.release import COLORS
from paycompile.compiler.security import log_group_node, role, statement, unscoped
from paycompile.compiler.traffic import ServiceTraffic
from paycompile.spec.model import Service

# The alarms a bake watches on the colour it moves to: cpu, memory, unhealthy targets, 5xx.
ALARMS_PER_COLOR = 4
ROLLBACK_RETRY = {
    "ErrorEquals": ["States.ALL"],
    "IntervalSeconds": 2,
    "MaxAttempts": 3,
    "BackoffRate": 2,
}
# Execution history with inputs and outputs goes to the machine's log group (PCI DSS 10.2).
LOGGING_LEVEL = "ALL"


@dataclass(frozen=True)
class CutoverTargets:
    """What one service's cutover acts on."""

    service: Service
    traffic: ServiceTraffic
    cluster: Node
    ecs_services: dict[str, Node]
    alarms: dict[str, list[Node]]
    color_parameter: Node


@dataclass(frozen=True)
class _Api:
    """The ELBv2 calls for the service's traffic: its listener rule, or the listener's default."""

    switch_target: Node
    describe: str
    modify: str
    target_key: str
    actions_key: str
    groups_path: str
    modify_permission: str
    describe_permission: str

    @classmethod
    def of(cls, traffic: ServiceTraffic) -> _Api:
        if traffic.listener_rule is not None:
            return cls(
                traffic.listener_rule,
                "describeRules",
                "modifyRule",
                "RuleArn",
                "Actions",
                "$.Rules[0].Actions[0].ForwardConfig.TargetGroups",
                "elasticloadbalancing:ModifyRule",
                "elasticloadbalancing:DescribeRules",
            )
        return cls(
            traffic.listener,
            "describeListeners",
            "modifyListener",
            "ListenerArn",
            "DefaultActions",
            "$.Listeners[0].DefaultActions[0].ForwardConfig.TargetGroups",
            "elasticloadbalancing:ModifyListener",
            "elasticloadbalancing:DescribeListeners",
        )

    def describe_parameters(self) -> dict[str, Any]:
        key = "RuleArns" if self.describe == "describeRules" else "ListenerArns"
        return {key: [ref(self.switch_target, "arn")]}


def add_cutover(builder: Builder, targets: CutoverTargets, logs_key: Node) -> Node:
    service = targets.service
    api = _Api.of(targets.traffic)
    log_group = log_group_node(
        builder,
        (service.name, "cutover"),
        f"/states/{builder.name(service.name, 'cutover')}",
        logs_key,
    )
    machine_role = role(
        builder,
        (service.name, "cutover", "role"),
        "states.amazonaws.com",
        _statements(targets, api),
    )
    return builder.add(
        Kind.STATE_MACHINE,
        (service.name, "cutover"),
        {
            "definition": Json(definition(targets, api)),
            "role": ref(machine_role, "arn"),
            "log_group": ref(log_group, "arn"),
            # Standard, not express: a cutover runs for minutes and must run exactly once.
            "type": "STANDARD",
            "logging_level": LOGGING_LEVEL,
            "include_execution_data": True,
            "service": service.name,
            "tracing": True,
        },
    )


def _statements(targets: CutoverTargets, api: _Api) -> list[dict[str, Any]]:
    """Exactly what the machine calls, on exactly its own resources."""
    alarms = [alarm for color in COLORS for alarm in targets.alarms[color]]
    return [
        statement("MoveTraffic", [api.modify_permission], [ref(api.switch_target, "arn")]),
        # Only the describe call the machine makes: a listener's default or a rule's.
        unscoped(
            "ReadTraffic",
            sorted([api.describe_permission, "elasticloadbalancing:DescribeTargetHealth"]),
        ),
        statement(
            "ScaleColors",
            ["ecs:UpdateService"],
            [ref(targets.ecs_services[color]) for color in COLORS],
        ),
        statement(
            "WatchAlarms",
            ["cloudwatch:DescribeAlarms"],
            [arn("cloudwatch", f"alarm:{alarm.name}") for alarm in alarms],
        ),
        statement(
            "RecordActiveColor",
            ["ssm:PutParameter"],
            [arn("ssm", f"parameter{targets.color_parameter.props['parameter_name']}")],
        ),
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
    ]


def _sdk(service: str, action: str) -> Concat:
    """The Step Functions AWS SDK integration for one API action, in the stack's partition."""
    return Concat(("arn:", Pseudo("partition"), f":states:::aws-sdk:{service}:{action}"))


def _task(
    service: str,
    action: str,
    parameters: dict[str, Any],
    next_state: str,
    *,
    on_error: str | None = "NoteFailedCall",
    result_path: str | None = None,
    result_selector: dict[str, str] | None = None,
) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": _sdk(service, action),
        "Parameters": parameters,
        "ResultPath": result_path,
        "Next": next_state,
    }
    if result_selector:
        state["ResultSelector"] = result_selector
    if on_error:
        state["Catch"] = [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": on_error}
        ]
    return state


def _note_failed_call(next_state: str) -> dict[str, Any]:
    return {
        "Type": "Pass",
        "Parameters": {
            "Error": "AwsCallFailed",
            "Cause.$": "States.Format('{}: {}', $.caught.Error, $.caught.Cause)",
        },
        "ResultPath": "$.failure",
        "Next": next_state,
    }


def _set_weights(api: _Api, groups: Any, next_state: str, **options: Any) -> dict[str, Any]:
    action = {"Type": "forward", "ForwardConfig": groups}
    parameters = {api.target_key: ref(api.switch_target, "arn"), api.actions_key: [action]}
    return _task("elasticloadbalancingv2", api.modify, parameters, next_state, **options)


def _weights(idle_share: int) -> dict[str, Any]:
    """The idle colour (the cutover's target) takes `idle_share`, the live one the rest."""
    return {
        "TargetGroups": [
            {"TargetGroupArn.$": "$.target.group", "Weight": idle_share},
            {"TargetGroupArn.$": "$.target.previous_group", "Weight": 100 - idle_share},
        ]
    }


def _colour_choice(targets: CutoverTargets, color: str) -> dict[str, Any]:
    """The facts about the colour traffic moves to, and the one it leaves."""
    previous = next(other for other in COLORS if other != color)
    groups = targets.traffic.target_groups
    return {
        "Type": "Pass",
        "Result": {
            "color": color,
            "group": ref(groups[color], "arn"),
            "service": ref(targets.ecs_services[color]),
            "alarms": [alarm.name for alarm in targets.alarms[color]],
            "previous_color": previous,
            "previous_group": ref(groups[previous], "arn"),
            "previous_service": ref(targets.ecs_services[previous]),
        },
        "ResultPath": "$.target",
        "Next": "ScaleUpIdleColor",
    }


def definition(targets: CutoverTargets, api: _Api) -> dict[str, Any]:
    service = targets.service
    settings = service.cutover
    cluster = ref(targets.cluster, "arn")
    health_polls = math.ceil(settings.healthy_timeout_seconds / settings.poll_seconds)
    bake_polls = max(1, math.ceil(settings.bake_seconds / settings.poll_seconds))
    blue_weight = Concat(
        (
            "$.captured.groups[?(@.TargetGroupArn == '",
            ref(targets.traffic.target_groups["blue"], "arn"),
            "')].Weight",
        )
    )
    states: dict[str, Any] = {
        "CheckCurrentDeployment": _task(
            "elasticloadbalancingv2",
            api.describe,
            api.describe_parameters(),
            "FindLiveColor",
            on_error="NoteFailedRead",
            result_path="$.captured",
            result_selector={"groups.$": api.groups_path},
        ),
        "FindLiveColor": {
            "Type": "Pass",
            "Parameters": {"blue.$": blue_weight},
            "ResultPath": "$.live",
            "Next": "ChooseIdleColor",
        },
        "ChooseIdleColor": {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.live.blue[0]", "IsPresent": False, "Next": "TrafficNotManaged"},
                {"Variable": "$.live.blue[0]", "NumericEquals": 100, "Next": "TargetGreen"},
                {"Variable": "$.live.blue[0]", "NumericEquals": 0, "Next": "TargetBlue"},
            ],
            "Default": "TrafficAlreadySplit",
        },
        "TrafficNotManaged": {
            "Type": "Fail",
            "Error": "TrafficNotManaged",
            "Cause": f"the listener no longer forwards {service.name} to its blue target group; "
            "nothing was changed",
        },
        "TrafficAlreadySplit": {
            "Type": "Fail",
            "Error": "TrafficSplit",
            "Cause": "traffic is split between the colours (a cutover is running or stopped "
            "half-way); nothing was changed",
        },
        "TargetGreen": _colour_choice(targets, "green"),
        "TargetBlue": _colour_choice(targets, "blue"),
        "ScaleUpIdleColor": _task(
            "ecs",
            "updateService",
            {
                "Cluster": cluster,
                "Service.$": "$.target.service",
                "DesiredCount": service.desired_count,
            },
            "StartHealthWait",
        ),
        "StartHealthWait": {
            "Type": "Pass",
            "Result": {"polls": 0, "registered": 0},
            "ResultPath": "$.wait",
            "Next": "WaitForTargets",
        },
        "WaitForTargets": {
            "Type": "Wait",
            "Seconds": settings.poll_seconds,
            "Next": "ValidateTargetHealth",
        },
        "ValidateTargetHealth": _task(
            "elasticloadbalancingv2",
            "describeTargetHealth",
            {"TargetGroupArn.$": "$.target.group"},
            "CountTargets",
            result_path="$.health",
            result_selector={"targets.$": "$.TargetHealthDescriptions"},
        ),
        # Counted before their states are read: a path into an empty list is an error.
        "CountTargets": {
            "Type": "Pass",
            "Parameters": {
                "registered.$": "States.ArrayLength($.health.targets)",
                "polls.$": "States.MathAdd($.wait.polls, 1)",
            },
            "ResultPath": "$.wait",
            "Next": "EnoughTargets",
        },
        "EnoughTargets": {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.wait.registered",
                    "NumericGreaterThanEquals": service.desired_count,
                    "Next": "ReadTargetStates",
                },
                {
                    "Variable": "$.wait.polls",
                    "NumericGreaterThanEquals": health_polls,
                    "Next": "IdleColorUnhealthy",
                },
            ],
            "Default": "WaitForTargets",
        },
        "ReadTargetStates": {
            "Type": "Pass",
            "Parameters": {
                "kinds.$": "States.ArrayLength("
                "States.ArrayUnique($.health.targets[*].TargetHealth.State))",
                "healthy.$": "States.ArrayContains("
                "$.health.targets[*].TargetHealth.State, 'healthy')",
            },
            "ResultPath": "$.states",
            "Next": "TargetsHealthy",
        },
        # Every registered target healthy (none still initial, unhealthy or draining).
        "TargetsHealthy": {
            "Type": "Choice",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.states.kinds", "NumericEquals": 1},
                        {"Variable": "$.states.healthy", "BooleanEquals": True},
                    ],
                    "Next": "ShiftCanaryTraffic",
                },
                {
                    "Variable": "$.wait.polls",
                    "NumericGreaterThanEquals": health_polls,
                    "Next": "IdleColorUnhealthy",
                },
            ],
            "Default": "WaitForTargets",
        },
        "IdleColorUnhealthy": {
            "Type": "Pass",
            "Result": {
                "Error": "IdleColorUnhealthy",
                "Cause": f"the idle colour did not report {service.desired_count} healthy "
                f"targets within {settings.healthy_timeout_seconds} s; traffic was not moved",
            },
            "ResultPath": "$.failure",
            "Next": "RollBack",
        },
        "ShiftCanaryTraffic": _set_weights(api, _weights(settings.canary_percent), "StartBake"),
        "StartBake": {
            "Type": "Pass",
            "Result": {"polls": 0},
            "ResultPath": "$.bake",
            "Next": "CountWatchedAlarms",
        },
        "CountWatchedAlarms": _task(
            "cloudwatch",
            "describeAlarms",
            {"AlarmNames.$": "$.target.alarms"},
            "AlarmsPresent",
            result_path="$.watched",
            result_selector={"found.$": "States.ArrayLength($.MetricAlarms)"},
        ),
        # A missing alarm is a bake that watches nothing: that is a failure, not a pass.
        "AlarmsPresent": {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.watched.found",
                    "NumericLessThan": ALARMS_PER_COLOR,
                    "Next": "AlarmsMissing",
                }
            ],
            "Default": "Bake",
        },
        "AlarmsMissing": {
            "Type": "Pass",
            "Result": {
                "Error": "AlarmsMissing",
                "Cause": "some of the alarms the bake watches do not exist; traffic restored",
            },
            "ResultPath": "$.failure",
            "Next": "RollBack",
        },
        "Bake": {"Type": "Wait", "Seconds": settings.poll_seconds, "Next": "CheckAlarms"},
        "CheckAlarms": _task(
            "cloudwatch",
            "describeAlarms",
            {"AlarmNames.$": "$.target.alarms", "StateValue": "ALARM"},
            "CountBakePolls",
            result_path="$.alarms",
            result_selector={"firing.$": "States.ArrayLength($.MetricAlarms)"},
        ),
        "CountBakePolls": {
            "Type": "Pass",
            "Parameters": {"polls.$": "States.MathAdd($.bake.polls, 1)"},
            "ResultPath": "$.bake",
            "Next": "BakeVerdict",
        },
        "BakeVerdict": {
            "Type": "Choice",
            "Choices": [
                {
                    "Variable": "$.alarms.firing",
                    "NumericGreaterThan": 0,
                    "Next": "NameFiringAlarms",
                },
                {
                    "Variable": "$.bake.polls",
                    "NumericGreaterThanEquals": bake_polls,
                    "Next": "PerformTrafficSwitch",
                },
            ],
            "Default": "Bake",
        },
        "NameFiringAlarms": _task(
            "cloudwatch",
            "describeAlarms",
            {"AlarmNames.$": "$.target.alarms", "StateValue": "ALARM"},
            "AlarmDuringBake",
            result_path="$.alarms",
            result_selector={"names.$": "$.MetricAlarms[*].AlarmName"},
        ),
        "AlarmDuringBake": {
            "Type": "Pass",
            "Parameters": {
                "Error": "AlarmDuringBake",
                "Cause.$": "States.Format('alarm in ALARM during the bake: {}; traffic restored',"
                " States.JsonToString($.alarms.names))",
            },
            "ResultPath": "$.failure",
            "Next": "RollBack",
        },
        "PerformTrafficSwitch": _set_weights(api, _weights(100), "RecordActiveColor"),
        "RecordActiveColor": _task(
            "ssm",
            "putParameter",
            {
                "Name": targets.color_parameter.props["parameter_name"],
                "Value.$": "$.target.color",
                "Type": "String",
                "Overwrite": True,
            },
            "CutoverComplete" if settings.keep_idle_warm else "RetirePreviousColor",
        ),
        "CutoverComplete": {"Type": "Succeed"},
        "RollBack": _set_weights(
            api,
            {"TargetGroups.$": "$.captured.groups"},
            "ScaleIdleColorBack",
            on_error="RollBackFailed",
        ),
        "ScaleIdleColorBack": _task(
            "ecs",
            "updateService",
            {
                "Cluster": cluster,
                "Service.$": "$.target.service",
                "DesiredCount": release.idle_count(service),
            },
            "CutoverFailed",
            on_error=None,
        ),
        "RollBackFailed": {
            "Type": "Fail",
            "Error": "RollBackFailed",
            "Cause": "restoring the captured weights failed: set the listener's weights by hand",
        },
        # An AWS call that fails names its error `States.*` or after its service; the execution
        # fails with an error name of its own and that error in the cause.
        "NoteFailedRead": _note_failed_call("CutoverFailed"),
        "NoteFailedCall": _note_failed_call("RollBack"),
        "CutoverFailed": {
            "Type": "Fail",
            "ErrorPath": "$.failure.Error",
            "CausePath": "$.failure.Cause",
        },
    }
    states["RollBack"]["Retry"] = [ROLLBACK_RETRY]
    # A failed scale-down of the idle colour must not hide why the cutover failed.
    states["ScaleIdleColorBack"]["Catch"] = [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.caught", "Next": "CutoverFailed"}
    ]
    if not settings.keep_idle_warm:
        states["RetirePreviousColor"] = _task(
            "ecs",
            "updateService",
            {
                "Cluster": cluster,
                "Service.$": "$.target.previous_service",
                "DesiredCount": release.idle_count(service),
            },
            "CutoverComplete",
            on_error="PreviousColorStillRunning",
        )
        states["PreviousColorStillRunning"] = {
            "Type": "Fail",
            "Error": "PreviousColorStillRunning",
            "Cause": "traffic moved to the new colour, but scaling the previous colour down failed",
        }
    return {
        "Comment": f"Blue/green cutover of {service.name}: read the live colour, bring the idle "
        "colour up, canary and bake, switch, record; restore the weights on any failure",
        "StartAt": "CheckCurrentDeployment",
        "States": states,
    }
