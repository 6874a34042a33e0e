"""CloudFormation resources of the security area: KMS keys, log groups, IAM, security groups."""

from __future__ import annotations

from typing import Any

from troposphere import AWSObject, ec2, iam, kms, logs

from paycompile.backends.cfn.translate import Emit, Translator, tags
from paycompile.compiler.graph import Kind, Node


def _kms_key(node: Node, t: Translator) -> list[AWSObject]:
    return [
        kms.Key(
            node.logical_id,
            Description=node.props["description"],
            EnableKeyRotation=node.props["rotation"],
            KeyPolicy=t(node.props["policy"]),
            PendingWindowInDays=node.props["pending_window_days"],
            Tags=tags(node),
        )
    ]


def _log_group(node: Node, t: Translator) -> list[AWSObject]:
    return [
        logs.LogGroup(
            node.logical_id,
            LogGroupName=node.name,
            RetentionInDays=node.props["retention_days"],
            KmsKeyId=t(node.props["kms_key"]),
            Tags=tags(node),
        )
    ]


def _iam_role(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    role = iam.Role(
        node.logical_id, AssumeRolePolicyDocument=t(props["trust_policy"]), Tags=tags(node)
    )
    if props["physical_name"]:
        role.RoleName = props["physical_name"]
    if props["managed_policies"]:
        role.ManagedPolicyArns = t(props["managed_policies"])
    return [role]


def _iam_policy(node: Node, t: Translator) -> list[AWSObject]:
    """A customer managed policy attached through its `Roles`: CloudFormation attaches it when it
    creates the policy, so whatever waits for the policy finds the role's permissions. No
    `ManagedPolicyName`: a fixed name would make every create-only change a failed replacement
    and collide across stacks. (The type takes no Tags.)"""
    props = node.props
    document = {"Version": props["policy_version"], "Statement": t(props["statements"])}
    return [
        iam.ManagedPolicy(
            node.logical_id,
            Description=props["description"],
            PolicyDocument=document,
            Roles=t(props["roles"]),
        )
    ]


def _rule(rule: dict[str, Any], t: Translator, direction: str) -> dict[str, Any]:
    peer = rule["peer"]
    if isinstance(peer, str):
        where = {"CidrIp": peer}
    elif isinstance(peer, dict):  # an AWS-managed prefix list (egress only)
        where = {f"{direction}PrefixListId": peer["prefix_list"]}
    else:
        where = {f"{direction}SecurityGroupId": t(peer)}
    return {
        "IpProtocol": rule["protocol"],
        "FromPort": rule["port"],
        "ToPort": rule["port"],
        "Description": rule["description"],
        **where,
    }


def _security_group(node: Node, t: Translator) -> list[AWSObject]:
    egress = [_rule(rule, t, "Destination") for rule in node.props["egress"]]
    # Without an explicit rule CloudFormation adds allow-all egress; this one allows nothing.
    egress = egress or [{"IpProtocol": "-1", "CidrIp": "127.0.0.1/32", "Description": "no egress"}]
    group = ec2.SecurityGroup(
        node.logical_id,
        GroupDescription=node.props["description"],
        VpcId=t(node.props["vpc"]),
        SecurityGroupEgress=egress,
        Tags=tags(node),
    )
    if node.props["physical_name"]:
        group.GroupName = node.props["physical_name"]
    return [group]


def _security_group_ingress(node: Node, t: Translator) -> list[AWSObject]:
    rule = _rule(node.props, t, "Source")
    return [ec2.SecurityGroupIngress(node.logical_id, GroupId=t(node.props["group"]), **rule)]


RESOURCES: dict[Kind, Emit] = {
    Kind.KMS_KEY: _kms_key,
    Kind.LOG_GROUP: _log_group,
    Kind.IAM_ROLE: _iam_role,
    Kind.IAM_POLICY: _iam_policy,
    Kind.SECURITY_GROUP: _security_group,
    Kind.SECURITY_GROUP_INGRESS: _security_group_ingress,
}
