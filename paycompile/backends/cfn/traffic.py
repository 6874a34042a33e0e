"""CloudFormation resources of the traffic area: log bucket, load balancer, target groups, rules."""

from __future__ import annotations

from typing import Any

from troposphere import AWSObject, s3
from troposphere import elasticloadbalancingv2 as elb

from paycompile.backends.cfn.translate import Emit, Translator, tags
from paycompile.compiler.graph import Kind, Node


def _bucket(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    bucket = s3.Bucket(
        node.logical_id,
        BucketEncryption=s3.BucketEncryption(
            ServerSideEncryptionConfiguration=[
                s3.ServerSideEncryptionRule(
                    ServerSideEncryptionByDefault=s3.ServerSideEncryptionByDefault(
                        SSEAlgorithm=props["encryption"]
                    )
                )
            ]
        ),
        PublicAccessBlockConfiguration=s3.PublicAccessBlockConfiguration(
            BlockPublicAcls=True,
            BlockPublicPolicy=True,
            IgnorePublicAcls=True,
            RestrictPublicBuckets=True,
        ),
        OwnershipControls=s3.OwnershipControls(
            Rules=[s3.OwnershipControlsRule(ObjectOwnership=props["object_ownership"])]
        ),
        LifecycleConfiguration=s3.LifecycleConfiguration(
            Rules=[
                s3.LifecycleRule(
                    Id=props["expiry_rule_id"],
                    Status="Enabled",
                    ExpirationInDays=props["expire_days"],
                    NoncurrentVersionExpiration=s3.NoncurrentVersionExpiration(
                        NoncurrentDays=props["noncurrent_expire_days"]
                    ),
                )
            ]
        ),
        VersioningConfiguration=s3.VersioningConfiguration(Status=props["versioning"]),
        NotificationConfiguration=s3.NotificationConfiguration(
            EventBridgeConfiguration=s3.EventBridgeConfiguration(
                EventBridgeEnabled=props["eventbridge"]
            )
        ),
        Tags=tags(node),
    )
    if props["logging"]:
        bucket.LoggingConfiguration = s3.LoggingConfiguration(
            DestinationBucketName=t(props["logging"]["bucket"]),
            LogFilePrefix=props["logging"]["prefix"],
        )
    if props["object_lock"]:
        bucket.ObjectLockEnabled = True
        bucket.ObjectLockConfiguration = s3.ObjectLockConfiguration(
            ObjectLockEnabled="Enabled",
            Rule=s3.ObjectLockRule(
                DefaultRetention=s3.DefaultRetention(
                    Mode=props["object_lock"]["mode"], Days=props["object_lock"]["days"]
                )
            ),
        )
    return [bucket]


def _bucket_policy(node: Node, t: Translator) -> list[AWSObject]:
    document = {"Version": node.props["policy_version"], "Statement": t(node.props["statements"])}
    return [
        s3.BucketPolicy(node.logical_id, Bucket=t(node.props["bucket"]), PolicyDocument=document)
    ]


def _load_balancer(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    attributes = {
        "deletion_protection.enabled": str(props["deletion_protection"]).lower(),
        "routing.http.drop_invalid_header_fields.enabled": str(
            props["drop_invalid_headers"]
        ).lower(),
        "access_logs.s3.enabled": "true",
        "access_logs.s3.bucket": t(props["access_logs_bucket"]),
        "access_logs.s3.prefix": props["access_logs_prefix"],
    }
    balancer = elb.LoadBalancer(
        node.logical_id,
        Type=props["type"],
        Scheme="internet-facing",
        Subnets=t(props["subnets"]),
        SecurityGroups=t(props["security_groups"]),
        LoadBalancerAttributes=[
            elb.LoadBalancerAttributes(Key=key, Value=value) for key, value in attributes.items()
        ],
        Tags=tags(node),
    )
    if props["physical_name"]:
        balancer.Name = props["physical_name"]
    return [balancer]


def _target_group(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    group = elb.TargetGroup(
        node.logical_id,
        VpcId=t(props["vpc"]),
        Port=props["port"],
        Protocol=props["protocol"],
        TargetType=props["target_type"],
        HealthCheckPath=props["health_check_path"],
        HealthCheckProtocol=props["protocol"],
        Matcher=elb.Matcher(HttpCode=props["health_check_matcher"]),
        TargetGroupAttributes=[
            elb.TargetGroupAttribute(
                Key="deregistration_delay.timeout_seconds",
                Value=str(props["deregistration_delay_seconds"]),
            )
        ],
        Tags=tags(node),
    )
    if props["physical_name"]:
        group.Name = props["physical_name"]
    return [group]


def _forward_config(groups: list[dict[str, Any]], t: Translator) -> elb.ForwardConfig:
    return elb.ForwardConfig(
        TargetGroups=[
            elb.TargetGroupTuple(TargetGroupArn=t(group["target_group"]), Weight=t(group["weight"]))
            for group in groups
        ]
    )


def _action(action: dict[str, Any], t: Translator) -> elb.Action:
    if "forward" in action:
        return elb.Action(Type="forward", ForwardConfig=_forward_config(action["forward"], t))
    if "redirect" in action:
        redirect = action["redirect"]
        return elb.Action(
            Type="redirect",
            RedirectConfig=elb.RedirectConfig(
                Protocol=redirect["protocol"],
                Port=str(redirect["port"]),
                StatusCode=redirect["status"],
            ),
        )
    fixed = action["fixed_response"]
    return elb.Action(
        Type="fixed-response",
        FixedResponseConfig=elb.FixedResponseConfig(
            StatusCode=str(fixed["status"]), ContentType=fixed["content_type"]
        ),
    )


def _listener(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    listener = elb.Listener(
        node.logical_id,
        LoadBalancerArn=t(props["load_balancer"]),
        Port=props["port"],
        Protocol=props["protocol"],
        DefaultActions=[_action(props["default_action"], t)],
        Tags=tags(node),
    )
    if "certificate_arn" in props:
        listener.Certificates = [elb.Certificate(CertificateArn=props["certificate_arn"])]
        listener.SslPolicy = props["ssl_policy"]
    return [listener]


def _listener_rule(node: Node, t: Translator) -> list[AWSObject]:
    props = node.props
    kind, value = next(iter(props["condition"].items()))
    condition = (
        elb.Condition(Field="path-pattern", PathPatternConfig=elb.PathPatternConfig(Values=[value]))
        if kind == "path"
        else elb.Condition(
            Field="host-header", HostHeaderConfig=elb.HostHeaderConfig(Values=[value])
        )
    )
    return [
        elb.ListenerRule(
            node.logical_id,
            ListenerArn=t(props["listener"]),
            Priority=props["priority"],
            Conditions=[condition],
            Actions=[
                elb.ListenerRuleAction(
                    Type="forward", ForwardConfig=_forward_config(props["action"]["forward"], t)
                )
            ],
            Tags=tags(node),
        )
    ]


RESOURCES: dict[Kind, Emit] = {
    Kind.BUCKET: _bucket,
    Kind.BUCKET_POLICY: _bucket_policy,
    Kind.LOAD_BALANCER: _load_balancer,
    Kind.TARGET_GROUP: _target_group,
    Kind.LISTENER: _listener,
    Kind.LISTENER_RULE: _listener_rule,
}
