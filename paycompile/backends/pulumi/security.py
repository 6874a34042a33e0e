"""Pulumi resources of the security area: KMS keys, log groups, IAM, security groups."""

from __future__ import annotations

from typing import Any

from paycompile.backends.pulumi.lifecycle import helper_options
from paycompile.backends.pulumi.sdk import aws
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Json, Kind, Node


def _kms_key(node: Node, t: Translator) -> Registered:
    props = node.props
    key = aws.kms.Key(
        node.logical_id,
        description=props["description"],
        enable_key_rotation=props["rotation"],
        policy=t(Json(props["policy"])),
        deletion_window_in_days=props["pending_window_days"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(key)


def _log_group(node: Node, t: Translator) -> Registered:
    group = aws.cloudwatch.LogGroup(
        node.logical_id,
        name=node.name,
        retention_in_days=node.props["retention_days"],
        kms_key_id=t(node.props["kms_key"]),
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(group)


def _iam_role(node: Node, t: Translator) -> Registered:
    props = node.props
    role = aws.iam.Role(
        node.logical_id,
        # Without a physical name Pulumi auto-names the role; the Name tag keeps the intended one.
        name=props["physical_name"],
        assume_role_policy=t(Json(props["trust_policy"])),
        tags=t.tags(node),
        opts=options(node, t),
    )
    for index, policy_arn in enumerate(props["managed_policies"]):
        aws.iam.RolePolicyAttachment(
            f"{node.logical_id}Managed{index + 1}",
            role=role.name,
            policy_arn=t(policy_arn),
            opts=helper_options(node),
        )
    return Registered(role)


def _iam_policy(node: Node, t: Translator) -> Registered:
    """A customer managed policy (auto-named) and its attachment to each role: a node that
    depends on the policy waits for the attachments too."""
    props = node.props
    document = {"Version": props["policy_version"], "Statement": props["statements"]}
    policy = aws.iam.Policy(
        node.logical_id,
        description=props["description"],
        policy=t(Json(document)),
        tags=t.tags(node),
        opts=options(node, t),
    )
    attachments = {
        f"{node.logical_id}Attached{index + 1}": aws.iam.RolePolicyAttachment(
            f"{node.logical_id}Attached{index + 1}",
            role=t(role),
            policy_arn=policy.arn,
            opts=helper_options(node),
        )
        for index, role in enumerate(props["roles"])
    }
    return Registered(policy, dict(attachments))


def _egress_rule(rule: dict[str, Any], t: Translator) -> Any:
    """One inline egress rule (a SecurityGroupEgressArgsDict)."""
    peer = rule["peer"]
    if isinstance(peer, str):
        where: dict[str, Any] = {"cidr_blocks": [peer]}
    elif isinstance(peer, dict):  # an AWS-managed prefix list
        where = {"prefix_list_ids": [peer["prefix_list"]]}
    else:
        where = {"security_groups": [t(peer)]}
    return {
        "protocol": rule["protocol"],
        "from_port": rule["port"],
        "to_port": rule["port"],
        "description": rule["description"],
        **where,
    }


def _security_group(node: Node, t: Translator) -> Registered:
    props = node.props
    group = aws.ec2.SecurityGroup(
        node.logical_id,
        name=props["physical_name"],
        description=props["description"],
        vpc_id=t(props["vpc"]),
        # An explicit empty list removes the default allow-all egress: no egress at all.
        egress=[_egress_rule(rule, t) for rule in props["egress"]],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(group)


def _security_group_ingress(node: Node, t: Translator) -> Registered:
    props = node.props
    peer = props["peer"]
    where = (
        {"cidr_ipv4": peer} if isinstance(peer, str) else {"referenced_security_group_id": t(peer)}
    )
    rule = aws.vpc.SecurityGroupIngressRule(
        node.logical_id,
        security_group_id=t(props["group"]),
        ip_protocol=props["protocol"],
        from_port=props["port"],
        to_port=props["port"],
        description=props["description"],
        tags=t.tags(node),
        opts=options(node, t),
        **where,
    )
    return Registered(rule)


RESOURCES: dict[Kind, Emit] = {
    Kind.KMS_KEY: _kms_key,
    Kind.LOG_GROUP: _log_group,
    Kind.IAM_ROLE: _iam_role,
    Kind.IAM_POLICY: _iam_policy,
    Kind.SECURITY_GROUP: _security_group,
    Kind.SECURITY_GROUP_INGRESS: _security_group_ingress,
}
