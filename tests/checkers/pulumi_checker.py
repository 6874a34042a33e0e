"""An independent check of a Pulumi resource plan: it reads only the captured registrations
(type token, name, inputs, input dependencies) and the stack outputs, never the graph or the
backend's code, and lists every invariant the registrations break.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from paycompile.spec.policy import TLS12_SSL_POLICIES
from tests.checkers.expectation import Expectation
from tests.checkers.semantic import judge_plan

SECRET = "[secret]"
REQUIRED_TAGS = ("Environment", "CostCenter", "MigrationPhase", "Name")
# Where AWS publishes its MySQL single-user rotation function, per partition (the accounts the
# AWS CDK deploys it from): a region's stack must deploy its own partition's copy.
ROTATION_APPLICATIONS = {
    "aws": "arn:aws:serverlessrepo:us-east-1:297356227824:applications/",
    "aws-cn": "arn:aws-cn:serverlessrepo:cn-north-1:193023089310:applications/",
    "aws-us-gov": "arn:aws-us-gov:serverlessrepo:us-gov-west-1:023102451235:applications/",
}
ROTATION_FUNCTION = "SecretsManagerRDSMySQLRotationSingleUser"
SEMANTIC_VERSION = re.compile(r"^\d+\.\d+\.\d+$")
SUBNET = "aws:ec2/subnet:Subnet"
TARGET_GROUP = "aws:lb/targetGroup:TargetGroup"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
ECS_SERVICE = "aws:ecs/service:Service"
CLUSTER = "aws:rds/cluster:Cluster"
INSTANCE = "aws:rds/clusterInstance:ClusterInstance"
RANDOM_PASSWORD = "random:index/randomPassword:RandomPassword"
RANDOM_ID = "random:index/randomId:RandomId"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
BUCKET = "aws:s3/bucket:Bucket"
# What a retained platform keeps when its stack is destroyed: the data (retainOnDelete). Always
# kept: the backup vault (AWS refuses to delete one with recovery points) and the ALB log bucket
# with the resources that keep it private and expiring.
RETAINED_DATA = (
    "aws:kms/key:Key",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:secretsmanager/secret:Secret",
    RANDOM_PASSWORD,  # the secret's generated value, kept in the state with the secret
)
ALWAYS_KEPT = (
    "aws:backup/vault:Vault",
    BUCKET,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketVersioning:BucketVersioning",
    "aws:s3/bucketLogging:BucketLogging",
    "aws:s3/bucketNotification:BucketNotification",
    "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
)
# What a destroy must refuse to touch on a retained platform (AWS deletion protection is on).
PROTECTED_WHEN_RETAINED = (CLUSTER, LOAD_BALANCER)
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
        "aws:s3/bucketVersioning:BucketVersioning",
        "aws:s3/bucketLogging:BucketLogging",
        "aws:s3/bucketNotification:BucketNotification",
        "aws:s3/bucketObjectLockConfiguration:BucketObjectLockConfiguration",
        "aws:secretsmanager/secretVersion:SecretVersion",
        ROTATION,
        "aws:sns/topicSubscription:TopicSubscription",
        "aws:cloudwatch/dashboard:Dashboard",
        "aws:backup/selection:Selection",
        RANDOM_PASSWORD,
        "random:index/randomId:RandomId",
        "aws:wafv2/webAclAssociation:WebAclAssociation",
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
        "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
        "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration",
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
    plan: Plan,
    *,
    environment: str,
    rotation_days: int,
    output_names: list[str],
    lifecycle: str = "ephemeral",
) -> list[str]:
    """Every broken invariant in `plan`, one line each; empty when the plan is compliant."""
    resources: list[dict[str, Any]] = plan["resources"]
    found: list[str] = []
    checks = (_target_groups, _blue_green, _listeners, _database, _password, _replacements)
    for check in (*checks, _tags, _iam):
        found += check(resources)
    found += _zones(resources, plan["region"])
    found += _rotation(resources, plan["region"])
    found += _rotation_days(resources, rotation_days)
    found += _lifecycle(resources, lifecycle)
    found += _names(resources, environment)
    missing = sorted(set(output_names) - set(plan["outputs"]))
    found += [f"output {name} is missing" for name in missing]
    return found


def check_plan(plan: Plan, expected: Expectation, output_names: list[str]) -> list[str]:
    """The structural checks here, then the semantic judges (semantic.py), on one plan."""
    found = violations(
        plan,
        environment=expected.environment,
        rotation_days=expected.rotation_days,
        output_names=output_names,
        lifecycle=expected.lifecycle,
    )
    return found + judge_plan(plan, expected)


def of_type(resources: list[dict[str, Any]], typ: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["type"] == typ]


def _tag(resource: dict[str, Any], key: str) -> Any:
    return (resource["inputs"].get("tags") or {}).get(key)


def _zones(resources: list[dict[str, Any]], region: str) -> list[str]:
    found = []
    for tier in ("public", "private"):
        subnets = [s for s in of_type(resources, SUBNET) if _tag(s, "Tier") == tier]
        zones = {s["inputs"].get("availabilityZone") for s in subnets}
        if len(subnets) != 3 or len(zones) != 3:
            found.append(
                f"{tier} subnets: want 3 in 3 distinct AZs, got {len(subnets)} in {len(zones)}"
            )
        # A standard zone is the region's name and one letter; Local Zones carry a city.
        odd = sorted(
            str(z) for z in zones if not re.fullmatch(rf"{re.escape(region)}[a-z]", str(z))
        )
        if odd:
            found.append(f"{tier} subnets in zones that are not standard AZs of {region}: {odd}")
    return found


def _target_groups(resources: list[dict[str, Any]]) -> list[str]:
    found = []
    colors: dict[Any, Counter[Any]] = {}
    for group in of_type(resources, TARGET_GROUP):
        colors.setdefault(_tag(group, "Service"), Counter())[_tag(group, "DeploymentColor")] += 1
    services = {_tag(service, "Service") for service in of_type(resources, ECS_SERVICE)}
    if set(colors) != services:
        found.append(f"target groups serve {sorted(colors)}, ECS services {sorted(services)}")
    for service, counted in colors.items():
        if counted != Counter({"blue": 1, "green": 1}):
            found.append(
                f"service {service}: want one blue and one green target group, got {dict(counted)}"
            )
    return found


def _forwarded_weights(resources: list[dict[str, Any]]) -> dict[str, int]:
    """Target group ARN -> the weight the HTTPS listener or its rules give it."""
    actions = [
        action
        for item in of_type(resources, LISTENER)
        if item["inputs"].get("port") == 443
        for action in item["inputs"].get("defaultActions", [])
    ]
    actions += [
        action for item in of_type(resources, LISTENER_RULE) for action in item["inputs"]["actions"]
    ]
    return {
        group["arn"]: group.get("weight", 0)
        for action in actions
        if action.get("type") == "forward"
        for group in action.get("forward", {}).get("targetGroups", [])
    }


def _blue_green(resources: list[dict[str, Any]]) -> list[str]:
    """The listener sends each service's traffic to one colour, whose ECS service runs tasks."""
    found = []
    weights = _forwarded_weights(resources)
    groups = {
        (_tag(g, "Service"), _tag(g, "DeploymentColor")): g
        for g in of_type(resources, TARGET_GROUP)
    }
    counts = {
        (_tag(s, "Service"), _tag(s, "DeploymentColor")): s["inputs"].get("desiredCount")
        for s in of_type(resources, ECS_SERVICE)
    }
    for service in sorted({service for service, _ in groups}):
        by_color = {
            color: _weight_of(weights, groups[(service, color)])
            for color in ("blue", "green")
            if (service, color) in groups
        }
        live = [color for color, weight in by_color.items() if weight == 100]
        if len(live) != 1 or sorted(by_color.values(), key=str) != [0, 100]:
            found.append(f"service {service}: listener weights {by_color}, want 100 and 0")
            continue
        idle = "green" if live[0] == "blue" else "blue"
        running, waiting = counts.get((service, live[0])), counts.get((service, idle))
        if not running or waiting not in (0, running):
            found.append(f"service {service}: tasks {live[0]}={running} {idle}={waiting}")
    return found


def _weight_of(weights: dict[str, int], group: dict[str, Any]) -> int | None:
    """The weight given to `group`, found by the ARN the plan says the group was answered."""
    return weights.get(str(group.get("answered", {}).get("arn")))


def _listeners(resources: list[dict[str, Any]]) -> list[str]:
    found = []
    listeners = of_type(resources, LISTENER)
    https = [item["inputs"] for item in listeners if item["inputs"].get("port") == 443]
    # One HTTPS listener on each load balancer (a platform past 45 services has several), found
    # by the load balancer ARN each listener was answered.
    balancers = sorted(
        str(b.get("answered", {}).get("arn")) for b in of_type(resources, LOAD_BALANCER)
    )
    if not https or sorted(str(listener.get("loadBalancerArn")) for listener in https) != balancers:
        return [f"{len(https)} listeners on 443, want one per load balancer"]
    for listener in https:
        if (
            listener.get("protocol") != "HTTPS"
            or listener.get("sslPolicy") not in TLS12_SSL_POLICIES
        ):
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
    """The generated password reaches the cluster and the secret once, through write-only
    inputs that no later update diffs (a rotated password is never written over)."""
    passwords = {r["name"] for r in of_type(resources, RANDOM_PASSWORD)}
    found = []
    for typ, key in ((CLUSTER, "masterPassword"), (SECRET_VERSION, "secretString")):
        for resource in of_type(resources, typ):
            inputs, write_only = resource["inputs"], f"{key}Wo"
            source = set(resource.get("dependencies", {}).get(write_only, []))
            if inputs.get(write_only) != SECRET or not source & passwords:
                found.append(
                    f"{resource['name']}: {write_only} is not the generated RandomPassword "
                    "(a literal?)"
                )
            if key in inputs:
                found.append(f"{resource['name']}: {key} is diffed on every update; write it once")
            if not isinstance(inputs.get(f"{write_only}Version"), int):
                found.append(f"{resource['name']}: {write_only} has no version")
    return found


def _rotation(resources: list[dict[str, Any]], region: str) -> list[str]:
    partition = (
        "aws-cn" if region.startswith("cn-") else "aws-us-gov" if "-gov-" in region else "aws"
    )
    application = ROTATION_APPLICATIONS[partition] + ROTATION_FUNCTION
    stacks = {
        r["name"]
        for r in of_type(resources, SAR_STACK)
        if r["inputs"].get("applicationId") == application
        and SEMANTIC_VERSION.match(str(r["inputs"].get("semanticVersion")))
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
                f"the {partition} SAR rotation stack at a pinned version"
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


def _options(resource: dict[str, Any]) -> dict[str, Any]:
    return resource.get("options") or {}


def _lifecycle(resources: list[dict[str, Any]], lifecycle: str) -> list[str]:
    """Retain, protect and the final snapshot, as CloudFormation's DeletionPolicy would have it."""
    retained = lifecycle == "retained"
    found = []
    for resource in resources:
        typ, name, options = resource["type"], resource["name"], _options(resource)
        keep = typ in ALWAYS_KEPT or (retained and typ in RETAINED_DATA)
        guard = retained and typ in PROTECTED_WHEN_RETAINED
        if bool(options.get("retainOnDelete")) != keep:
            found.append(f"{name}: retainOnDelete should be {keep} when {lifecycle}")
        if bool(options.get("protect")) != guard:
            found.append(f"{name}: protect should be {guard} when {lifecycle}")
    for cluster in of_type(resources, CLUSTER):
        found += _final_snapshot(
            cluster, retained, {r["name"] for r in of_type(resources, RANDOM_ID)}
        )
    return found


def _final_snapshot(cluster: dict[str, Any], retained: bool, random_ids: set[str]) -> list[str]:
    inputs, name = cluster["inputs"], cluster["name"]
    if not retained:
        if inputs.get("skipFinalSnapshot") is not True:
            return [f"{name}: an ephemeral cluster must skip its final snapshot"]
        return []
    source = set(cluster.get("dependencies", {}).get("finalSnapshotIdentifier", []))
    if inputs.get("skipFinalSnapshot") is not False or not inputs.get("finalSnapshotIdentifier"):
        return [f"{name}: a retained cluster must keep a final snapshot"]
    if not source & random_ids:
        return [f"{name}: the final snapshot name is fixed; a second deletion would clash"]
    return []


def _replacements(resources: list[dict[str, Any]]) -> list[str]:
    """Every replacement creates first, so a clash on a fixed name fails before any delete."""
    return [
        f"{r['name']}: deleteBeforeReplace is {_options(r).get('deleteBeforeReplace')!r}, "
        "want an explicit False"
        for r in resources
        if _options(r).get("deleteBeforeReplace") is not False
    ]
