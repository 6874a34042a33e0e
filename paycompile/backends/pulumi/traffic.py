"""Pulumi resources of the traffic area: log bucket, load balancer, target groups, rules."""

from __future__ import annotations

from typing import Any

from paycompile.backends.pulumi.lifecycle import helper_options
from paycompile.backends.pulumi.sdk import aws
from paycompile.backends.pulumi.translate import Emit, Registered, Translator, options
from paycompile.compiler.graph import Json, Kind, Node


def _bucket(node: Node, t: Translator) -> Registered:
    bucket = aws.s3.Bucket(
        node.logical_id,
        # Bucket names are global: a prefix keeps the environment in it, AWS adds the rest.
        bucket_prefix=node.props["name_prefix"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    lid, props = node.logical_id, node.props
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{lid}Encryption",
        bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": props["encryption"]}}],
        # Kept with a retained bucket, so that an orphaned bucket stays encrypted and private
        # and still expires its logs.
        opts=helper_options(node),
    )
    aws.s3.BucketPublicAccessBlock(
        f"{lid}PublicAccessBlock",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=helper_options(node),
    )
    aws.s3.BucketOwnershipControls(
        f"{lid}Ownership",
        bucket=bucket.id,
        rule={"object_ownership": props["object_ownership"]},
        opts=helper_options(node),
    )
    aws.s3.BucketLifecycleConfiguration(
        f"{lid}Lifecycle",
        bucket=bucket.id,
        rules=[
            {
                "id": props["expiry_rule_id"],
                "status": "Enabled",
                "filter": {"prefix": ""},
                "expiration": {"days": props["expire_days"]},
                "noncurrent_version_expiration": {
                    "noncurrent_days": props["noncurrent_expire_days"]
                },
            }
        ],
        opts=helper_options(node),
    )
    _bucket_protection(node, t, bucket)
    return Registered(bucket)


def _bucket_protection(node: Node, t: Translator, bucket: aws.s3.Bucket) -> None:
    """Versions, event notifications, server access logging and Object Lock: separate resources
    in pulumi-aws, kept with a retained bucket like its other parts."""
    lid, props = node.logical_id, node.props
    versioning = aws.s3.BucketVersioning(
        f"{lid}Versioning",
        bucket=bucket.id,
        versioning_configuration={"status": props["versioning"]},
        opts=helper_options(node),
    )
    aws.s3.BucketNotification(
        f"{lid}Notification",
        bucket=bucket.id,
        eventbridge=props["eventbridge"],
        opts=helper_options(node),
    )
    if props["logging"]:
        aws.s3.BucketLogging(
            f"{lid}Logging",
            bucket=bucket.id,
            target_bucket=t(props["logging"]["bucket"]),
            target_prefix=props["logging"]["prefix"],
            opts=helper_options(node),
        )
    if props["object_lock"]:
        # This resource turns Object Lock on for a new or an existing versioned bucket, where
        # the bucket's own object_lock_enabled would replace an existing bucket.
        aws.s3.BucketObjectLockConfiguration(
            f"{lid}ObjectLock",
            bucket=bucket.id,
            object_lock_enabled="Enabled",
            rule={
                "default_retention": {
                    "mode": props["object_lock"]["mode"],
                    "days": props["object_lock"]["days"],
                }
            },
            opts=helper_options(node, depends_on=[versioning]),
        )


def _bucket_policy(node: Node, t: Translator) -> Registered:
    document = {"Version": node.props["policy_version"], "Statement": node.props["statements"]}
    policy = aws.s3.BucketPolicy(
        node.logical_id,
        bucket=t(node.props["bucket"]),
        policy=t(Json(document)),
        opts=options(node, t),
    )
    return Registered(policy)


def _load_balancer(node: Node, t: Translator) -> Registered:
    props = node.props
    balancer = aws.lb.LoadBalancer(
        node.logical_id,
        name=props["physical_name"],
        load_balancer_type=props["type"],
        internal=False,
        subnets=t(props["subnets"]),
        security_groups=t(props["security_groups"]),
        access_logs={
            "bucket": t(props["access_logs_bucket"]),
            "prefix": props["access_logs_prefix"],
            "enabled": True,
        },
        enable_deletion_protection=props["deletion_protection"],
        drop_invalid_header_fields=props["drop_invalid_headers"],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(balancer)


def _target_group(node: Node, t: Translator) -> Registered:
    props = node.props
    group = aws.lb.TargetGroup(
        node.logical_id,
        name=props["physical_name"],
        vpc_id=t(props["vpc"]),
        port=props["port"],
        protocol=props["protocol"],
        target_type=props["target_type"],
        deregistration_delay=props["deregistration_delay_seconds"],
        health_check={
            "path": props["health_check_path"],
            "protocol": props["protocol"],
            "matcher": props["health_check_matcher"],
        },
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(group)


def _forward(groups: list[dict[str, Any]], t: Translator) -> Any:
    """A weighted forward (a ListenerDefaultActionArgsDict; rules take the same shape)."""
    weighted = [{"arn": t(group["target_group"]), "weight": t(group["weight"])} for group in groups]
    return {"type": "forward", "forward": {"target_groups": weighted}}


def _action(action: dict[str, Any], t: Translator) -> Any:
    """One listener default action (a ListenerDefaultActionArgsDict)."""
    if "forward" in action:
        return _forward(action["forward"], t)
    if "redirect" in action:
        redirect = action["redirect"]
        target = {
            "protocol": redirect["protocol"],
            "port": str(redirect["port"]),
            "status_code": redirect["status"],
        }
        return {"type": "redirect", "redirect": target}
    fixed = action["fixed_response"]
    response = {"status_code": str(fixed["status"]), "content_type": fixed["content_type"]}
    return {"type": "fixed-response", "fixed_response": response}


def _listener(node: Node, t: Translator) -> Registered:
    props = node.props
    tls: dict[str, Any] = {}
    if "certificate_arn" in props:
        tls = {"certificate_arn": props["certificate_arn"], "ssl_policy": props["ssl_policy"]}
    listener = aws.lb.Listener(
        node.logical_id,
        load_balancer_arn=t(props["load_balancer"]),
        port=props["port"],
        protocol=props["protocol"],
        default_actions=[_action(props["default_action"], t)],
        tags=t.tags(node),
        opts=options(node, t),
        **tls,
    )
    return Registered(listener)


def _condition(field_name: str, value: str) -> Any:
    """One listener rule condition (a ListenerRuleConditionArgsDict)."""
    return {field_name: {"values": [value]}}


def _listener_rule(node: Node, t: Translator) -> Registered:
    props = node.props
    kind, value = next(iter(props["condition"].items()))
    field_name = "path_pattern" if kind == "path" else "host_header"
    rule = aws.lb.ListenerRule(
        node.logical_id,
        listener_arn=t(props["listener"]),
        priority=props["priority"],
        conditions=[_condition(field_name, value)],
        actions=[_forward(props["action"]["forward"], t)],
        tags=t.tags(node),
        opts=options(node, t),
    )
    return Registered(rule)


RESOURCES: dict[Kind, Emit] = {
    Kind.BUCKET: _bucket,
    Kind.BUCKET_POLICY: _bucket_policy,
    Kind.LOAD_BALANCER: _load_balancer,
    Kind.TARGET_GROUP: _target_group,
    Kind.LISTENER: _listener,
    Kind.LISTENER_RULE: _listener_rule,
}
