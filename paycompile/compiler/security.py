"""KMS keys and IAM roles: the encryption and least-privilege building blocks."""

from __future__ import annotations

import copy
from typing import Any

from paycompile.compiler.builder import Builder, arn, ref
from paycompile.compiler.graph import Concat, Kind, Node, Pseudo
from paycompile.compiler.iam_policies import attach_policies
from paycompile.spec import policy

# The IAM policy language version every document paycompile writes uses.
IAM_POLICY_VERSION = "2012-10-17"

# The key administrator's actions, listed rather than `kms:*` so that no policy paycompile
# writes holds a wildcard action (PAY-GOV-002).
KEY_ADMIN_ACTIONS = [
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:CreateGrant",
    "kms:Decrypt",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:DisableKeyRotation",
    "kms:EnableKey",
    "kms:EnableKeyRotation",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyWithoutPlaintext",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListAliases",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:RetireGrant",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
]
KEY_USE_ACTIONS = [
    "kms:Decrypt",
    "kms:DescribeKey",
    "kms:Encrypt",
    "kms:GenerateDataKey",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
]

# A grant lets its grantee use the key outside the key policy, so only grants an integrated AWS
# service creates for a resource of its own (RDS, Secrets Manager, ECS, Logs, Backup create their
# grants that way) or a service principal itself may be created (AWS Control Tower CT.KMS.PR.3).
# Two keys in one condition operator must both match: the deny applies when neither holds.
GRANTS_ONLY_FOR_AWS_RESOURCES: dict[str, Any] = {
    "Sid": "GrantsOnlyForAwsResources",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "kms:CreateGrant",
    "Resource": "*",
    "Condition": {
        "BoolIfExists": {
            "kms:GrantIsForAWSResource": "false",
            "aws:PrincipalIsAWSService": "false",
        }
    },
}

# Actions AWS cannot scope to a resource, and why each needs `Resource: "*"` (PAY-GOV-002).
UNSCOPABLE_ACTIONS = {
    "ecr:GetAuthorizationToken": "ECR issues registry tokens per account, not per repository",
    "logs:CreateLogDelivery": "Step Functions log delivery is configured account-wide",
    "logs:GetLogDelivery": "Step Functions log delivery is configured account-wide",
    "logs:UpdateLogDelivery": "Step Functions log delivery is configured account-wide",
    "logs:DeleteLogDelivery": "Step Functions log delivery is configured account-wide",
    "logs:ListLogDeliveries": "Step Functions log delivery is configured account-wide",
    "logs:PutResourcePolicy": "Step Functions log delivery is configured account-wide",
    "logs:DescribeResourcePolicies": "Step Functions log delivery is configured account-wide",
    "logs:DescribeLogGroups": "Step Functions log delivery lists log groups account-wide",
    "elasticloadbalancing:DescribeTargetHealth": "Describe calls take no resource permissions",
    "elasticloadbalancing:DescribeRules": "Describe calls take no resource permissions",
    "elasticloadbalancing:DescribeListeners": "Describe calls take no resource permissions",
    "xray:PutTraceSegments": "X-Ray accepts trace data per account",
    "xray:PutTelemetryRecords": "X-Ray accepts trace data per account",
    "xray:GetSamplingRules": "X-Ray sampling rules are read per account",
    "xray:GetSamplingTargets": "X-Ray sampling targets are read per account",
}


def kms_key(
    builder: Builder, purpose: str, description: str, service_statements: list[dict[str, Any]]
) -> Node:
    """A customer managed key with rotation; the account administers it, named services use it."""
    root = arn("iam", "root", region=False)
    policy = {
        "Version": IAM_POLICY_VERSION,
        "Statement": [
            {
                "Sid": "AccountAdministers",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": KEY_ADMIN_ACTIONS,
                "Resource": "*",
            },
            *service_statements,
            copy.deepcopy(GRANTS_ONLY_FOR_AWS_RESOURCES),
        ],
    }
    return builder.add(
        Kind.KMS_KEY,
        (purpose, "key"),
        {
            "description": description,
            "policy": policy,
            "rotation": True,
            # Scheduled deletion waits this long; an ephemeral stack's keys go after a week.
            "pending_window_days": 30 if builder.retained else 7,
        },
        deletion=builder.keep_data(),
    )


def service_may_use_key(
    sid: str, principal: Any, condition: dict[str, Any] | None = None
) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": principal},
        "Action": KEY_USE_ACTIONS,
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    return statement


def regional_endpoint(service: str) -> Concat:
    """`<service>.<region>.<DNS suffix>`: a service's regional name, which ends in
    `amazonaws.com.cn` in the China regions. (Global service principals such as
    `ecs-tasks.amazonaws.com` keep `amazonaws.com` in every partition.)"""
    return Concat((f"{service}.", Pseudo("region"), ".", Pseudo("url_suffix")))


def logs_principal() -> Concat:
    """CloudWatch Logs' regional service principal, named with the partition's DNS suffix
    (`logs.cn-north-1.amazonaws.com.cn` in China)."""
    return regional_endpoint("logs")


def statement(sid: str, actions: list[str], resources: list[Any]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources}


def unscoped(sid: str, actions: list[str]) -> dict[str, Any]:
    """A statement on `*` for actions AWS cannot scope; each must be listed with its reason."""
    unknown = [action for action in actions if action not in UNSCOPABLE_ACTIONS]
    assert not unknown, f"{unknown} can be scoped to a resource"
    return statement(sid, actions, ["*"])


def role(
    builder: Builder,
    parts: tuple[str | int, ...],
    service: Any,
    statements: list[dict[str, Any]],
    managed_policies: tuple[str, ...] = (),
) -> Node:
    """An IAM role one AWS service assumes, its least-privilege statements in customer managed
    policies attached to it (see `iam_policies`), and the AWS managed policies named.

    Role names are global to the account: the backend names the role (unique per stack, so the
    same platform deploys to a second region) and the Name tag keeps the intended name.
    """
    trust = {
        "Version": IAM_POLICY_VERSION,
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
        ],
    }
    node = builder.add(
        Kind.IAM_ROLE,
        parts,
        {
            "physical_name": None,
            "service": service,
            "trust_policy": trust,
            "managed_policies": [
                Concat(("arn:", Pseudo("partition"), f":iam::aws:policy/{policy}"))
                for policy in managed_policies
            ],
        },
    )
    attach_policies(
        builder,
        node,
        parts,
        statements,
        version=IAM_POLICY_VERSION,
        aws_managed=len(managed_policies),
    )
    return node


def log_group_node(builder: Builder, parts: tuple[str, ...], name: str, key: Node) -> Node:
    """A log group encrypted with `key`, keeping a year of logs (PCI DSS 10.5.1)."""
    return builder.add(
        Kind.LOG_GROUP,
        (*parts, "log", "group"),
        {"retention_days": policy.LOG_RETENTION_DAYS, "kms_key": ref(key, "arn")},
        name=name,
        deletion=builder.keep_data(),
    )
