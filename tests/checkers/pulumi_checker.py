"""An independent check of a Pulumi resource plan: it reads only the captured registrations
(type token, name, inputs, input dependencies) and the stack outputs, never the graph or the
backend's code, and lists every invariant the registrations break.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from paycompile.spec.policy import TLS12_SSL_POLICIES

SECRET = "[secret]"
REQUIRED_TAGS = ("Environment", "CostCenter", "MigrationPhase", "Name")
ROTATION_APPLICATION = (
    "arn:aws:serverlessrepo:us-east-1:297356227824:applications/"
    "SecretsManagerRDSMySQLRotationSingleUser"
)
SUBNET = "aws:ec2/subnet:Subnet"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
ECS_SERVICE = "aws:ecs/service:Service"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
SAR_STACK = "aws:serverlessrepository/cloudFormationStack:CloudFormationStack"
ROTATION = "aws:secretsmanager/secretRotation:SecretRotation"
# Resource types whose pulumi-aws (or pulumi-random) schema has no `tags` input.
UNTAGGABLE = frozenset(
    {
        "aws:ec2/route:Route",
        "aws:ec2/routeTableAssociation:RouteTableAssociation",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:secretsmanager/secretVersion:SecretVersion",
        ROTATION,
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:backup/selection:Selection",
        RANDOM_PASSWORD,
        "random:index/randomId:RandomId",
    }
)
# Inputs that carry a physical name, by resource type (the default is `name`).
NAME_INPUTS = {
    CLUSTER: "clusterIdentifier",
    INSTANCE: "identifier",
    "aws:cloudwatch/dashboard:Dashboard": "dashboardName",
    "aws:ecs/taskDefinition:TaskDefinition": "family",
    "aws:s3/bucket:Bucket": "bucketPrefix",
}
# Inputs holding IAM policy documents (JSON text).
POLICY_INPUTS = ("policy", "assumeRolePolicy")


Plan = dict[str, Any]


def violations(
    plan: Plan, *, environment: str, rotation_days: int, output_names: list[str]
) -> list[str]:
    """Every broken invariant in `plan`, one line each; empty when the plan is compliant."""
    resources: list[dict[str, Any]] = plan["resources"]
    found: list[str] = []
    for check in (_zones, _target_groups, _listeners, _database, _password, _rotation, _tags, _iam):
        found += check(resources)
    found += _rotation_days(resources, rotation_days)
    found += _names(resources, environment)
    missing = sorted(set(output_names) - set(plan["outputs"]))
    found += [f"output {name} is missing" for name in missing]
    return found


def of_type(resources: list[dict[str, Any]], typ: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] == typ]


def _tag(resource: dict[str, Any], key: str) -> Any:
    return (resource["inputs"].get("tags") or {}).get(key)


def _zones(resources: list[dict[str, Any]]) -> list[str]:
    found = []
    for tier in ("public", "private"):
        subnets = [s for s in of_type(resources, SUBNET) if _tag(s, "Tier") == tier]
        zones = {s["inputs"].get("availabilityZone") for s in subnets}
        if len(subnets) != 3 or len(zones) != 3:
            found.append(
                f"{tier} subnets: want 3 in 3 distinct AZs, got {len(subnets)} in {len(zones)}"
            )
    return found


def _target_groups(resources: list[dict[str, Any]]) -> list[str]:
    found = []
    colors: dict[Any, Counter[Any]] = {}
    for group in of_type(resources, TARGET_GROUP):
        colors.setdefault(_tag(group, "Service"), Counter())[_tag(group, "DeploymentColor")] += 1
    services = len(of_type(resources, ECS_SERVICE))
    if len(colors) != services:
        found.append(
            f"target groups serve {len(colors)} services, but there are {services} ECS services"
        )
    for service, counted in colors.items():
        if counted != Counter({"blue": 1, "green": 1}):
            found.append(
                f"service {service}: want one blue and one green target group, got {dict(counted)}"
            )
    return found


def _listeners(resources: list[dict[str, Any]]) -> list[str]:
    found = []
    listeners = of_type(resources, LISTENER)
    https = [item["inputs"] for item in listeners if item["inputs"].get("port") == 443]
    if len(https) != 1:
        return [f"want one listener on 443, got {len(https)}"]
    listener = https[0]
    if listener.get("protocol") != "HTTPS" or listener.get("sslPolicy") not in TLS12_SSL_POLICIES:
        found.append(
            "listener 443: want HTTPS with a TLS 1.2+ policy, got "
            f"{listener.get('protocol')} {listener.get('sslPolicy')}"
        )
    if not str(listener.get("certificateArn", "")).startswith("arn:"):
        found.append("listener 443 has no certificate")
    for item in listeners:
        inputs = item["inputs"]
        if inputs.get("port") == 80 and not all(
            action.get("type") == "redirect"
            and action.get("redirect", {}).get("protocol") == "HTTPS"
            and str(action["redirect"].get("port")) == "443"
            for action in inputs.get("defaultActions", [])
        ):
            found.append("listener 80 does more than redirect to HTTPS 443")
    if any(item["inputs"].get("port") not in (80, 443) for item in listeners):
        found.append("a listener opens a port other than 80 and 443")
    return found


def _database(resources: list[dict[str, Any]]) -> list[str]:
    clusters = of_type(resources, CLUSTER)
    if len(clusters) != 1:
        return [f"want one Aurora cluster, got {len(clusters)}"]
    cluster = clusters[0]["inputs"]
    scaling = cluster.get("serverlessv2ScalingConfiguration") or {}
    found = []
    if cluster.get("engine") != "aurora-mysql" or cluster.get("engineMode") != "provisioned":
        found.append(
            f"cluster is {cluster.get('engine')} {cluster.get('engineMode')}, "
            "not aurora-mysql provisioned"
        )
    if "minCapacity" not in scaling or "maxCapacity" not in scaling:
        found.append("cluster has no Serverless v2 scaling configuration")
    if cluster.get("storageEncrypted") is not True or not cluster.get("kmsKeyId"):
        found.append("cluster storage is not encrypted with a KMS key")
    instances = of_type(resources, INSTANCE)
    if not instances or any(i["inputs"].get("instanceClass") != "db.serverless" for i in instances):
        found.append("cluster instances must all be db.serverless")
    if any(i["inputs"].get("publiclyAccessible") is not False for i in instances):
        found.append("a cluster instance may be publicly accessible")
    return found


def _password(resources: list[dict[str, Any]]) -> list[str]:
    passwords = {r["name"] for r in of_type(resources, RANDOM_PASSWORD)}
    for cluster in of_type(resources, CLUSTER):
        source = set(cluster.get("dependencies", {}).get("masterPassword", []))
        if cluster["inputs"].get("masterPassword") != SECRET or not source & passwords:
            return ["the master password is not the generated RandomPassword (a literal?)"]
    return []


def _rotation(resources: list[dict[str, Any]]) -> list[str]:
    stacks = {
        r["name"]
        for r in of_type(resources, SAR_STACK)
        if r["inputs"].get("applicationId") == ROTATION_APPLICATION
    }
    rotations = of_type(resources, ROTATION)
    if not rotations:
        return ["no SecretRotation"]
    found = []
    for rotation in rotations:
        source = set(rotation.get("dependencies", {}).get("rotationLambdaArn", []))
        if not source & stacks:
            found.append(
                f"{rotation['name']}: the rotation Lambda ARN does not come from "
                "the SAR rotation stack"
            )
    return found


def _rotation_days(resources: list[dict[str, Any]], days: int) -> list[str]:
    found = []
    for rotation in of_type(resources, ROTATION):
        after = (rotation["inputs"].get("rotationRules") or {}).get("automaticallyAfterDays")
        if not isinstance(after, int | float) or after > days:
            found.append(
                f"{rotation['name']}: rotates after {after} days, policy says at most {days}"
            )
    return found


def _tags(resources: list[dict[str, Any]]) -> list[str]:
    found = []
    for resource in resources:
        if resource["type"] in UNTAGGABLE:
            continue
        tags = resource["inputs"].get("tags") or {}
        missing = [key for key in REQUIRED_TAGS if not tags.get(key)]
        if missing:
            found.append(f"{resource['type']} {resource['name']} lacks tags {missing}")
    return found


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)


def _iam(resources: list[dict[str, Any]]) -> list[str]:
    found = []
    for resource in resources:
        for key in POLICY_INPUTS:
            text = resource["inputs"].get(key)
            if not isinstance(text, str) or text == SECRET:
                continue
            statements = json.loads(text).get("Statement", [])
            for statement in statements if isinstance(statements, list) else [statements]:
                wild = [a for a in _actions(statement) if a == "*" or a.endswith(":*")]
                if statement.get("Effect") == "Allow" and wild:
                    found.append(f"{resource['name']}.{key}: wildcard actions {wild}")
    return found


def _names(resources: list[dict[str, Any]], environment: str) -> list[str]:
    found = []
    for resource in resources:
        name = resource["inputs"].get(NAME_INPUTS.get(resource["type"], "name"))
        if resource["type"] in UNTAGGABLE - {
            "aws:cloudwatch/dashboard:Dashboard",
            "aws:backup/selection:Selection",
        }:
            continue
        tag = _tag(resource, "Name")
        for value in (name, tag):
            if isinstance(value, str) and not _names_environment(value.rstrip("-"), environment):
                found.append(
                    f"{resource['type']} {resource['name']}: name {value!r} "
                    f"lacks the environment {environment}"
                )
    return found


def _names_environment(name: str, environment: str) -> bool:
    """`<...>-<env>`, or a path with the environment as one of its segments."""
    return (
        name.endswith(f"-{environment}") or f"-{environment}/" in name or f"/{environment}/" in name
    )
