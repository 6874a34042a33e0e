"""CloudFormation resources of the operations area: alarms, dashboard, backups, cutover, SSM."""

from __future__ import annotations

from troposphere import AWSObject, backup, cloudwatch, sns, ssm, stepfunctions

from paycompile.backends.cfn.translate import Emit, Translator, tags
from paycompile.compiler.graph import Kind, Node


def _sns_topic(node: Node, t: Translator) -> list[AWSObject]:
    return [
        sns.Topic(
            node.logical_id,
            TopicName=node.name,
            KmsMasterKeyId=t(node.props["kms_key"]),
            Tags=tags(node),
        )
    ]


def _sns_subscription(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        sns.SubscriptionResource(
            node.logical_id,
            TopicArn=t(props["topic"]),
            Protocol=props["protocol"],
            Endpoint=props["endpoint"],
        )
    ]


def _alarm(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        cloudwatch.Alarm(
            node.logical_id,
            AlarmName=node.name,
            AlarmDescription=props["description"],
            Namespace=props["namespace"],
            MetricName=props["metric"],
            Dimensions=[
                cloudwatch.MetricDimension(Name=key, Value=t(value))
                for key, value in props["dimensions"].items()
            ],
            Statistic=props["statistic"],
            Period=props["period"],
            EvaluationPeriods=props["evaluation_periods"],
            Threshold=props["threshold"],
            ComparisonOperator=props["comparison"],
            TreatMissingData=props["missing_data"],
            AlarmActions=[t(props["topic"])],
            OKActions=[t(props["topic"])],
            Tags=tags(node),
        )
    ]


def _dashboard(node: Node, t: Translator) -> list[AWSObject]:
    return [
        cloudwatch.Dashboard(
            node.logical_id,
            DashboardName=node.name,
            DashboardBody=t(node.props["body"]),
            Tags=tags(node),
        )
    ]


def _backup_vault(node: Node, t: Translator) -> list[AWSObject]:
    return [
        backup.BackupVault(
            node.logical_id,
            BackupVaultName=t(node.props["physical_name"]),
            EncryptionKeyArn=t(node.props["kms_key"]),
            BackupVaultTags=node.tags,
        )
    ]


def _backup_plan(node: Node, t: Translator) -> list[AWSObject]:
    rules = [
        backup.BackupRuleResourceType(
            RuleName=rule["name"],
            TargetBackupVault=t(rule["vault"]),
            ScheduleExpression=rule["schedule"],
            StartWindowMinutes=rule["start_window_minutes"],
            CompletionWindowMinutes=rule["completion_window_minutes"],
            Lifecycle=backup.LifecycleResourceType(DeleteAfterDays=rule["retention_days"]),
        )
        for rule in node.props["rules"]
    ]
    plan = backup.BackupPlanResourceType(BackupPlanName=node.name, BackupPlanRule=rules)
    return [backup.BackupPlan(node.logical_id, BackupPlan=plan, BackupPlanTags=node.tags)]


def _backup_selection(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    selection = backup.BackupSelectionResourceType(
        SelectionName=node.name, IamRoleArn=t(props["role"]), Resources=t(props["resources"])
    )
    return [
        backup.BackupSelection(
            node.logical_id, BackupPlanId=t(props["plan"]), BackupSelection=selection
        )
    ]


def _state_machine(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    destination = stepfunctions.LogDestination(
        CloudWatchLogsLogGroup=stepfunctions.CloudWatchLogsLogGroup(
            LogGroupArn=t(props["log_group"])
        )
    )
    return [
        stepfunctions.StateMachine(
            node.logical_id,
            StateMachineName=node.name,
            StateMachineType=props["type"],
            RoleArn=t(props["role"]),
            DefinitionString=t(props["definition"]),
            LoggingConfiguration=stepfunctions.LoggingConfiguration(
                Level=props["logging_level"],
                IncludeExecutionData=props["include_execution_data"],
                Destinations=[destination],
            ),
            TracingConfiguration=stepfunctions.TracingConfiguration(Enabled=props["tracing"]),
            Tags=tags(node),
        )
    ]


def _ssm_parameter(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    return [
        ssm.Parameter(
            node.logical_id,
            Name=props["parameter_name"],
            Type=props["type"],
            Value=t(props["value"]),
            Description=props["description"],
            Tags=node.tags,
        )
    ]


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
