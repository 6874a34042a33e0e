"""A copy of a CloudFormation template that moto's CloudFormation can deploy.

moto (5.2.x) models most of the platform's resource types, but not all. A template that
holds an unmodelled type cannot be deployed there as it is: an `Fn::GetAtt` on one (in a
property or an output) aborts the stack, and a `Ref` to one silently becomes empty. So the
end-to-end test hands moto a copy in which each unmodelled resource is replaced by a
stand-in, an `AWS::SSM::Parameter` that moto does model, and every reference to it is
rewritten to the stand-in's `Ref`. Every type moto models is deployed, unchanged except
where a moto bug needs a property reshaped (`QUIRKS`, each with the bug it works around).
`docs/e2e.md` lists the same table; `tests/test_e2e_moto.py` checks it against moto itself.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

STANDIN_TYPE = "AWS::SSM::Parameter"
STANDIN_PREFIX = "/moto-standin/"

# Resource types moto's CloudFormation does not model (found by experiment), and why each
# can stand aside for the end-to-end test.
STANDINS: dict[str, str] = {
    "AWS::RDS::DBCluster": "not modelled; the DB instances and subnet group still deploy",
    "AWS::RDS::DBClusterParameterGroup": "not modelled; its settings are checked in the template",
    "AWS::SecretsManager::Secret": "not modelled; the secret is generated, never a literal",
    "AWS::SecretsManager::SecretTargetAttachment": "not modelled",
    "AWS::SecretsManager::RotationSchedule": "not modelled (moto ignores the template's transform)",
    "AWS::S3::BucketPolicy": "not modelled; the bucket itself deploys",
    "AWS::SNS::Subscription": "not modelled; the topic itself deploys",
    "AWS::CloudWatch::Alarm": "not modelled; the dashboard deploys",
    "AWS::Backup::BackupVault": "not modelled",
    "AWS::Backup::BackupPlan": "not modelled",
    "AWS::Backup::BackupSelection": "not modelled",
    "AWS::WAFv2::WebACL": "not modelled (moto's WAFv2 API has no CloudFormation model); its "
    "rules are checked in the template",
    "AWS::WAFv2::WebACLAssociation": "not modelled; the load balancer itself deploys",
    "AWS::WAFv2::LoggingConfiguration": "not modelled; its log group deploys",
    "AWS::ECR::PullThroughCacheRule": "not modelled (moto's ECR API has cache rules, its "
    "CloudFormation does not); the task definitions naming the cached image deploy",
}

# Modelled types whose moto model drops properties on create (moto 5.2.x, by experiment): the
# API then cannot show them, so the e2e test checks these in the template and asserts that
# moto indeed shows nothing (so that this table shrinks when moto learns them).
DROPPED_BY_MOTO: dict[str, str] = {
    "AWS::EC2::NatGateway": "Tags (moto keeps only SubnetId and AllocationId)",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (
        "Tags, LoadBalancerAttributes (moto keeps only the name, subnets, security groups"
        " and scheme)"
    ),
    "AWS::ElasticLoadBalancingV2::TargetGroup": "Tags, TargetGroupAttributes",
    "AWS::ECS::Service": (
        "Tags, LaunchType, NetworkConfiguration, LoadBalancers (moto keeps only the cluster,"
        " name, desired count and task definition)"
    ),
}


Resources = dict[str, Any]


def _kms_tags(properties: dict[str, Any], resources: Resources) -> None:
    tags = properties.get("Tags", [])
    properties["Tags"] = [{"TagKey": tag["Key"], "TagValue": tag["Value"]} for tag in tags]


def _ssm_tags(properties: dict[str, Any], resources: Resources) -> None:
    tags = properties.get("Tags", {})
    properties["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]


def _cluster_engine_version(properties: dict[str, Any], resources: Resources) -> None:
    cluster = resources[properties["DBClusterIdentifier"]["Ref"]]
    properties.setdefault("EngineVersion", cluster["Properties"]["EngineVersion"])


# Modelled types whose moto model misreads a valid property: type -> (the bug, the reshaping).
QUIRKS: dict[str, tuple[str, Callable[[dict[str, Any], Resources], None]]] = {
    "AWS::KMS::Key": (
        "moto reads the key's Tags in the KMS API shape (TagKey/TagValue), not Key/Value",
        _kms_tags,
    ),
    "AWS::SSM::Parameter": (
        "moto reads a parameter's Tags as a Key/Value list; CloudFormation's shape is a map",
        _ssm_tags,
    ),
    "AWS::RDS::DBInstance": (
        "moto ignores DBClusterIdentifier and, for aurora-mysql, then needs an EngineVersion:"
        " the cluster's is copied onto the instance",
        _cluster_engine_version,
    ),
}


def for_moto(template: dict[str, Any]) -> dict[str, Any]:
    """A deep copy of `template` with every unmodelled resource replaced by its stand-in."""
    result = copy.deepcopy(template)
    resources: dict[str, Any] = result["Resources"]
    for body in resources.values():
        if body["Type"] in QUIRKS:
            QUIRKS[body["Type"]][1](body.setdefault("Properties", {}), template["Resources"])
    replaced = {name for name, body in resources.items() if body["Type"] in STANDINS}
    for name in replaced:
        resources[name] = _standin(name, resources[name])
    result["Resources"] = _rewrite(resources, replaced)
    for body in result["Resources"].values():
        if body["Type"] == "AWS::IAM::ManagedPolicy":
            document = body["Properties"]["PolicyDocument"]
            body["Properties"]["PolicyDocument"] = _standin_arns(document, replaced)
        elif body["Type"] == "AWS::CloudFormation::Stack":
            # A child may put what it is given in a managed policy: it gets the ARN form.
            parameters = body["Properties"].get("Parameters", {})
            body["Properties"]["Parameters"] = _standin_arns(parameters, replaced)
    if "Outputs" in result:
        result["Outputs"] = _rewrite(result["Outputs"], replaced)
    return result


def standins_in(template: dict[str, Any]) -> dict[str, str]:
    """Logical id -> original type, for the resources `for_moto` replaces."""
    return {
        name: body["Type"]
        for name, body in template["Resources"].items()
        if body["Type"] in STANDINS
    }


def with_certificate(template: dict[str, Any], certificate_arn: str) -> dict[str, Any]:
    """A copy whose HTTPS listeners use `certificate_arn` (one that exists where it deploys)."""
    result = copy.deepcopy(template)
    for body in result["Resources"].values():
        for certificate in body.get("Properties", {}).get("Certificates", []):
            certificate["CertificateArn"] = certificate_arn
    return result


def _standin(name: str, original: dict[str, Any]) -> dict[str, Any]:
    # The original's DependsOn keeps the creation order; its deletion policy does not apply.
    body: dict[str, Any] = {
        "Type": STANDIN_TYPE,
        "Properties": {
            "Name": f"{STANDIN_PREFIX}{name}",
            "Type": "String",
            "Value": f"stand-in for {original['Type']}",
        },
    }
    if "DependsOn" in original:
        body["DependsOn"] = original["DependsOn"]
    return body


def _rewrite(value: Any, replaced: set[str]) -> Any:
    """GetAtt on a stand-in becomes its Ref (its name); `${X.Attr}` in Fn::Sub becomes `${X}`."""
    if isinstance(value, dict):
        if set(value) == {"Fn::GetAtt"}:
            target = _getatt_target(value["Fn::GetAtt"])
            if target in replaced:
                return {"Ref": target}
        if set(value) == {"Fn::Sub"}:
            return {"Fn::Sub": _rewrite_sub(value["Fn::Sub"], replaced)}
        return {key: _rewrite(item, replaced) for key, item in value.items()}
    if isinstance(value, list):
        return [_rewrite(item, replaced) for item in value]
    return value


def _standin_arns(value: Any, replaced: set[str]) -> Any:
    """moto validates a managed policy's resources as ARNs (as IAM does), and a stand-in's Ref is
    its parameter's name: in a policy document, a stand-in is named by its parameter's ARN."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in replaced:
            return {
                "Fn::Sub": "arn:${AWS::Partition}:ssm:${AWS::Region}:${AWS::AccountId}:parameter"
                f"{STANDIN_PREFIX}{value['Ref']}"
            }
        return {key: _standin_arns(item, replaced) for key, item in value.items()}
    if isinstance(value, list):
        return [_standin_arns(item, replaced) for item in value]
    return value


def _getatt_target(argument: Any) -> str:
    return str(argument[0] if isinstance(argument, list) else argument.split(".", 1)[0])


_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\.[A-Za-z0-9.]+\}")


def _rewrite_sub(argument: Any, replaced: set[str]) -> Any:
    def plain(match: re.Match[str]) -> str:
        return f"${{{match.group(1)}}}" if match.group(1) in replaced else match.group(0)

    if isinstance(argument, str):
        return _PLACEHOLDER.sub(plain, argument)
    text, variables = argument
    return [_PLACEHOLDER.sub(plain, text), _rewrite(variables, replaced)]


def put_alarms(cloudwatch: Any, template: dict[str, Any]) -> None:
    """Create `template`'s alarms through the CloudWatch API under their names (moto's
    CloudFormation stands them in; the cutover reads them by name)."""
    for body in template["Resources"].values():
        if body["Type"] != "AWS::CloudWatch::Alarm":
            continue
        p = body["Properties"]
        cloudwatch.put_metric_alarm(
            AlarmName=p["AlarmName"],
            Namespace=p["Namespace"],
            MetricName=p["MetricName"],
            Statistic=p["Statistic"],
            Period=p["Period"],
            EvaluationPeriods=p["EvaluationPeriods"],
            Threshold=p["Threshold"],
            ComparisonOperator=p["ComparisonOperator"],
        )
