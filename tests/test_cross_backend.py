"""Both backends emit the same platform: for every generated spec, the CloudFormation template
and the Pulumi registrations hold the same logical resources (count per kind), the same tag
sets and the same invariant-relevant values.

Each side is read from its own output (template JSON, mocked Pulumi plan) through its own table
of resource types; the graph is used only to build both artifacts.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from hypothesis import given

import paycompile
from tests.checkers.cfn_eval import evaluate, parameter_values
from tests.strategies import GeneratedSpec, valid_specs

# The plan's output that records the deploy-time inputs its program ran with.
INPUTS_OUTPUT = "DeployInputs"

# Resource type -> the logical kind it realises; None for helpers a kind needs on that platform.
CFN_TYPES: dict[str, str | None] = {
    "AWS::EC2::VPC": "Vpc",
    "AWS::EC2::Subnet": "Subnet",
    "AWS::EC2::InternetGateway": "InternetGateway",
    "AWS::EC2::VPCGatewayAttachment": None,
    "AWS::EC2::EIP": "ElasticIp",
    "AWS::EC2::NatGateway": "NatGateway",
    "AWS::EC2::RouteTable": "RouteTable",
    "AWS::EC2::Route": None,
    "AWS::EC2::SubnetRouteTableAssociation": None,
    "AWS::EC2::FlowLog": "FlowLog",
    "AWS::KMS::Key": "KmsKey",
    "AWS::Logs::LogGroup": "LogGroup",
    "AWS::IAM::Role": "IamRole",
    "AWS::EC2::SecurityGroup": "SecurityGroup",
    "AWS::EC2::SecurityGroupIngress": "SecurityGroupIngress",
    "AWS::S3::Bucket": "Bucket",
    "AWS::S3::BucketPolicy": "BucketPolicy",
    "AWS::ElasticLoadBalancingV2::LoadBalancer": "LoadBalancer",
    "AWS::ElasticLoadBalancingV2::TargetGroup": "TargetGroup",
    "AWS::ElasticLoadBalancingV2::Listener": "Listener",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "ListenerRule",
    "AWS::ECS::Cluster": "EcsCluster",
    "AWS::ECS::TaskDefinition": "TaskDefinition",
    "AWS::ECS::Service": "EcsService",
    "AWS::RDS::DBSubnetGroup": "DbSubnetGroup",
    "AWS::RDS::DBClusterParameterGroup": "DbClusterParameterGroup",
    "AWS::RDS::DBCluster": "DbCluster",
    "AWS::RDS::DBInstance": "DbInstance",
    "AWS::SecretsManager::Secret": "Secret",
    "AWS::SecretsManager::SecretTargetAttachment": "SecretAttachment",
    "AWS::SecretsManager::RotationSchedule": "SecretRotation",
    "AWS::SNS::Topic": "SnsTopic",
    "AWS::SNS::Subscription": "SnsSubscription",
    "AWS::CloudWatch::Alarm": "Alarm",
    "AWS::CloudWatch::Dashboard": "Dashboard",
    "AWS::Backup::BackupVault": "BackupVault",
    "AWS::Backup::BackupPlan": "BackupPlan",
    "AWS::Backup::BackupSelection": "BackupSelection",
    "AWS::StepFunctions::StateMachine": "StateMachine",
    "AWS::SSM::Parameter": "SsmParameter",
    "AWS::EC2::VPCEndpoint": "VpcEndpoint",
    "AWS::WAFv2::WebACL": "WebAcl",
    "AWS::WAFv2::WebACLAssociation": "WebAclAssociation",
    "AWS::WAFv2::LoggingConfiguration": "WafLogging",
}
PULUMI_TYPES: dict[str, str | None] = {
    "aws:ec2/vpc:Vpc": "Vpc",
    "aws:ec2/subnet:Subnet": "Subnet",
    "aws:ec2/internetGateway:InternetGateway": "InternetGateway",
    "aws:ec2/eip:Eip": "ElasticIp",
    "aws:ec2/natGateway:NatGateway": "NatGateway",
    "aws:ec2/routeTable:RouteTable": "RouteTable",
    "aws:ec2/route:Route": None,
    "aws:ec2/routeTableAssociation:RouteTableAssociation": None,
    "aws:ec2/flowLog:FlowLog": "FlowLog",
    "aws:kms/key:Key": "KmsKey",
    "aws:cloudwatch/logGroup:LogGroup": "LogGroup",
    "aws:iam/role:Role": "IamRole",
    "aws:iam/rolePolicy:RolePolicy": None,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": None,
    "aws:ec2/securityGroup:SecurityGroup": "SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": "SecurityGroupIngress",
    "aws:s3/bucket:Bucket": "Bucket",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": None,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": None,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": None,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": None,
    "aws:s3/bucketPolicy:BucketPolicy": "BucketPolicy",
    "aws:lb/loadBalancer:LoadBalancer": "LoadBalancer",
    "aws:lb/targetGroup:TargetGroup": "TargetGroup",
    "aws:lb/listener:Listener": "Listener",
    "aws:lb/listenerRule:ListenerRule": "ListenerRule",
    "aws:ecs/cluster:Cluster": "EcsCluster",
    "aws:ecs/taskDefinition:TaskDefinition": "TaskDefinition",
    "aws:ecs/service:Service": "EcsService",
    "aws:rds/subnetGroup:SubnetGroup": "DbSubnetGroup",
    "aws:rds/clusterParameterGroup:ClusterParameterGroup": "DbClusterParameterGroup",
    "aws:rds/cluster:Cluster": "DbCluster",
    "aws:rds/clusterInstance:ClusterInstance": "DbInstance",
    "aws:secretsmanager/secret:Secret": "Secret",
    "random:index/randomPassword:RandomPassword": None,
    "random:index/randomId:RandomId": None,
    "aws:secretsmanager/secretVersion:SecretVersion": "SecretAttachment",
    "aws:secretsmanager/secretRotation:SecretRotation": "SecretRotation",
    "aws:serverlessrepository/cloudFormationStack:CloudFormationStack": None,
    "aws:sns/topic:Topic": "SnsTopic",
    "aws:sns/topicSubscription:TopicSubscription": "SnsSubscription",
    "aws:cloudwatch/metricAlarm:MetricAlarm": "Alarm",
    "aws:cloudwatch/dashboard:Dashboard": "Dashboard",
    "aws:backup/vault:Vault": "BackupVault",
    "aws:backup/plan:Plan": "BackupPlan",
    "aws:backup/selection:Selection": "BackupSelection",
    "aws:sfn/stateMachine:StateMachine": "StateMachine",
    "aws:ssm/parameter:Parameter": "SsmParameter",
    "aws:ec2/vpcEndpoint:VpcEndpoint": "VpcEndpoint",
    "aws:wafv2/webAcl:WebAcl": "WebAcl",
    "aws:wafv2/webAclAssociation:WebAclAssociation": "WebAclAssociation",
    "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration": "WafLogging",
}
# pulumi-aws cannot tag a CloudWatch dashboard (the Terraform resource has no tags).
PULUMI_UNTAGGABLE = {"aws:cloudwatch/dashboard:Dashboard"}

Resources = dict[str, tuple[str, dict[str, Any]]]  # logical name -> (kind, properties)


def cfn_resources(template: dict[str, Any]) -> Resources:
    found: Resources = {}
    for name, resource in template["Resources"].items():
        assert resource["Type"] in CFN_TYPES, f"unmapped CloudFormation type {resource['Type']}"
        kind = CFN_TYPES[resource["Type"]]
        if kind:
            found[name] = (kind, resource.get("Properties", {}))
    return found


def pulumi_resources(plan: dict[str, Any]) -> tuple[Resources, dict[str, str]]:
    found: Resources = {}
    types: dict[str, str] = {}
    for resource in plan["resources"]:
        assert resource["type"] in PULUMI_TYPES, f"unmapped Pulumi type {resource['type']}"
        kind = PULUMI_TYPES[resource["type"]]
        if kind:
            found[resource["name"]] = (kind, resource["inputs"])
            types[resource["name"]] = resource["type"]
    return found, types


def cfn_tags(properties: dict[str, Any]) -> dict[str, str] | None:
    for key in ("Tags", "BackupVaultTags", "BackupPlanTags"):
        tags = properties.get(key)
        if isinstance(tags, list):
            return {tag["Key"]: tag["Value"] for tag in tags}
        if isinstance(tags, dict):
            return dict(tags)
    return None


def states(definition: str) -> dict[str, str]:
    """State name -> type, from a definition whose `${...}` substitutions are left in place."""
    parsed = json.loads(definition)
    return {name: state["Type"] for name, state in parsed["States"].items()}


def cfn_values(kind: str, p: dict[str, Any]) -> dict[str, Any]:
    """The invariant-relevant values of one CloudFormation resource."""
    if kind == "Subnet":
        return {"cidr": p["CidrBlock"], "public_ip": p["MapPublicIpOnLaunch"]}
    if kind == "Listener":
        certificates = [c["CertificateArn"] for c in p.get("Certificates", [])]
        return {
            "port": p["Port"],
            "protocol": p["Protocol"],
            "ssl": p.get("SslPolicy"),
            "certs": certificates,
            "weights": [
                group["Weight"]
                for action in p["DefaultActions"]
                for group in action.get("ForwardConfig", {}).get("TargetGroups", [])
            ],
        }
    if kind == "ListenerRule":
        return {
            "priority": p["Priority"],
            "weights": [g["Weight"] for g in p["Actions"][0]["ForwardConfig"]["TargetGroups"]],
        }
    if kind == "TargetGroup":
        return {"port": p["Port"], "path": p["HealthCheckPath"]}
    if kind == "DbCluster":
        scaling = p["ServerlessV2ScalingConfiguration"]
        return {
            "engine": (p["Engine"], p["EngineMode"], p["EngineVersion"]),
            "capacity": (scaling["MinCapacity"], scaling["MaxCapacity"]),
            "protected": p["DeletionProtection"],
            "encrypted": p["StorageEncrypted"],
        }
    if kind == "DbInstance":
        return {"class": p["DBInstanceClass"], "public": p["PubliclyAccessible"]}
    if kind == "SecretRotation":
        return {"days": p["RotationRules"]["AutomaticallyAfterDays"]}
    if kind == "BackupPlan":
        rule = p["BackupPlan"]["BackupPlanRule"][0]
        return {
            "schedule": rule["ScheduleExpression"],
            "retention": rule["Lifecycle"]["DeleteAfterDays"],
        }
    if kind == "Alarm":
        return {"metric": (p["Namespace"], p["MetricName"]), "threshold": p["Threshold"]}
    if kind == "SsmParameter":
        return {"name": p["Name"]}
    if kind == "EcsService":
        return {"count": p["DesiredCount"], "launch": p["LaunchType"]}
    if kind == "StateMachine":
        return {"states": states(p["DefinitionString"]["Fn::Sub"])}
    return {}


def pulumi_values(kind: str, p: dict[str, Any]) -> dict[str, Any]:
    """The same values, read from one Pulumi registration's inputs."""
    if kind == "Subnet":
        return {"cidr": p["cidrBlock"], "public_ip": p["mapPublicIpOnLaunch"]}
    if kind == "Listener":
        certificates = [p["certificateArn"]] if "certificateArn" in p else []
        return {
            "port": p["port"],
            "protocol": p["protocol"],
            "ssl": p.get("sslPolicy"),
            "certs": certificates,
            "weights": [
                group["weight"]
                for action in p["defaultActions"]
                for group in action.get("forward", {}).get("targetGroups", [])
            ],
        }
    if kind == "ListenerRule":
        return {
            "priority": p["priority"],
            "weights": [g["weight"] for g in p["actions"][0]["forward"]["targetGroups"]],
        }
    if kind == "TargetGroup":
        return {"port": p["port"], "path": p["healthCheck"]["path"]}
    if kind == "DbCluster":
        scaling = p["serverlessv2ScalingConfiguration"]
        return {
            "engine": (p["engine"], p["engineMode"], p["engineVersion"]),
            "capacity": (scaling["minCapacity"], scaling["maxCapacity"]),
            "protected": p["deletionProtection"],
            "encrypted": p["storageEncrypted"],
        }
    if kind == "DbInstance":
        return {"class": p["instanceClass"], "public": p["publiclyAccessible"]}
    if kind == "SecretRotation":
        return {"days": p["rotationRules"]["automaticallyAfterDays"]}
    if kind == "BackupPlan":
        rule = p["rules"][0]
        return {"schedule": rule["schedule"], "retention": rule["lifecycle"]["deleteAfter"]}
    if kind == "Alarm":
        return {"metric": (p["namespace"], p["metricName"]), "threshold": p["threshold"]}
    if kind == "SsmParameter":
        return {"name": p["name"]}
    if kind == "EcsService":
        return {"count": p["desiredCount"], "launch": p["launchType"]}
    if kind == "StateMachine":
        return {"states": states(p["definition"])}
    return {}


def differences(template: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """What differs between the template (as deployed with its parameters' defaults) and the plan
    (whose program ran with the same deploy-time inputs, recorded in its DeployInputs output)."""
    defaults = parameter_values(template)
    inputs = plan["outputs"].get(INPUTS_OUTPUT, {})
    problems = [] if defaults == inputs else [f"inputs differ: cfn {defaults} pulumi {inputs}"]
    return problems + _resource_differences(evaluate(template), plan)


def _resource_differences(template: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    cfn = cfn_resources(template)
    pulumi, pulumi_type = pulumi_resources(plan)
    problems = []
    cfn_counts = Counter(kind for kind, _ in cfn.values())
    pulumi_counts = Counter(kind for kind, _ in pulumi.values())
    if cfn_counts != pulumi_counts:
        problems.append(
            f"resources per kind differ: cfn-only {cfn_counts - pulumi_counts}, "
            f"pulumi-only {pulumi_counts - cfn_counts}"
        )
    for name in sorted(set(cfn) ^ set(pulumi)):
        problems.append(f"{name} exists in only one backend")
    for name in sorted(set(cfn) & set(pulumi)):
        (kind, cfn_props), (_, pulumi_props) = cfn[name], pulumi[name]
        tags = cfn_tags(cfn_props)
        if (
            tags is not None
            and pulumi_type[name] not in PULUMI_UNTAGGABLE
            and pulumi_props.get("tags") != tags
        ):
            problems.append(f"{name}: tags differ: cfn {tags} pulumi {pulumi_props.get('tags')}")
        cfn_value, pulumi_value = cfn_values(kind, cfn_props), pulumi_values(kind, pulumi_props)
        if _normalised(cfn_value) != _normalised(pulumi_value):
            problems.append(f"{name}: cfn {cfn_value} != pulumi {pulumi_value}")
    if set(template.get("Outputs", {})) != set(plan["outputs"]) - {INPUTS_OUTPUT}:
        problems.append("the two backends export different outputs")
    return problems


def _normalised(values: dict[str, Any]) -> str:
    """Numbers compare by value (CloudFormation keeps 1.0, Pulumi may say 1)."""
    text = json.dumps(values, sort_keys=True, default=str)
    return re.sub(r"(\d+)\.0\b", r"\1", text)


def both(text: str, environment: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    graph = paycompile.compile_spec(paycompile.load_spec_text(text, "gen.yaml", environment))
    return json.loads(paycompile.render(graph, "cfn")), json.loads(
        paycompile.render(graph, "pulumi")
    )


def test_reference_spec_is_the_same_platform_in_both_backends(reference_spec_path: Any) -> None:
    for environment in ("dev", "prod"):
        template, plan = both(reference_spec_path.read_text(), environment)
        assert differences(template, plan) == []


def test_the_comparison_sees_a_difference(reference_spec_path: Any) -> None:
    template, plan = both(reference_spec_path.read_text())
    rotation = next(
        r for r in plan["resources"] if r["type"].endswith("secretRotation:SecretRotation")
    )
    rotation["inputs"]["rotationRules"]["automaticallyAfterDays"] = 31
    template["Resources"]["Vpc"]["Properties"]["Tags"].append({"Key": "Extra", "Value": "x"})
    del template["Resources"]["ApiGreenTg"]
    found = "\n".join(differences(template, plan))
    assert (
        "DbSecretRotation" in found
        and "Vpc: tags differ" in found
        and "ApiGreenTg exists in only one" in found
    )


@given(valid_specs())
def test_every_spec_is_the_same_platform_in_both_backends(generated: GeneratedSpec) -> None:
    template, plan = both(generated.text, generated.environment)
    assert differences(template, plan) == []
    assert lifecycle_differences(template, plan) == []


# ---------------------------------------------------------------- lifecycle


def cfn_lifecycle(kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    """What a stack deletion does to one CloudFormation resource."""
    properties = resource.get("Properties", {})
    attributes = {a["Key"]: a["Value"] for a in properties.get("LoadBalancerAttributes", [])}
    policy = resource.get("DeletionPolicy", "Delete")
    return {
        "kept": policy == "Retain",
        "final_snapshot": policy == "Snapshot" if kind == "DbCluster" else None,
        # AWS refuses to delete it: the stack deletion would stop there.
        "guarded": properties.get("DeletionProtection") is True
        or attributes.get("deletion_protection.enabled") == "true",
    }


def pulumi_lifecycle(kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    """What a destroy does to one Pulumi resource: retained, refused (protect), snapshotted."""
    options, inputs = resource["options"], resource["inputs"]
    unique = bool(resource["dependencies"].get("finalSnapshotIdentifier"))
    snapshot = inputs.get("skipFinalSnapshot") is False and unique
    return {
        "kept": options["retainOnDelete"],
        "final_snapshot": snapshot if kind == "DbCluster" else None,
        "guarded": options["protect"],
    }


def lifecycle_differences(template: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Retain <-> retainOnDelete, Snapshot <-> a uniquely named final snapshot, deletion
    protection <-> protect, for every resource both backends hold."""
    pulumi = {r["name"]: r for r in plan["resources"]}
    problems = []
    for name, resource in sorted(template["Resources"].items()):
        kind = CFN_TYPES[resource["Type"]]
        if kind is None or name not in pulumi:
            continue
        cfn_side, pulumi_side = cfn_lifecycle(kind, resource), pulumi_lifecycle(kind, pulumi[name])
        if cfn_side != pulumi_side:
            problems.append(f"{name}: cfn {cfn_side} != pulumi {pulumi_side}")
    return problems


def test_reference_spec_has_the_same_lifecycle_in_both_backends(reference_spec_path: Any) -> None:
    for environment in ("dev", "prod"):
        template, plan = both(reference_spec_path.read_text(), environment)
        assert lifecycle_differences(template, plan) == []


def test_the_lifecycle_comparison_sees_a_difference(reference_spec_path: Any) -> None:
    template, plan = both(reference_spec_path.read_text(), "prod")
    pulumi = {r["name"]: r for r in plan["resources"]}
    pulumi["DataKey"]["options"]["retainOnDelete"] = False
    pulumi["Alb"]["options"]["protect"] = False
    del pulumi["DbCluster"]["dependencies"]["finalSnapshotIdentifier"]
    template["Resources"]["BackupVault"]["DeletionPolicy"] = "Delete"
    found = "\n".join(lifecycle_differences(template, plan))
    for name in ("DataKey", "Alb", "DbCluster", "BackupVault"):
        assert f"{name}: cfn" in found, name
