"""The edge and the network's egress, judged on what paycompile emits: the WAF in front of the
load balancer (PAY-WAF-001) and the tasks' narrowed egress through VPC endpoints (PAY-NET-004)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import paycompile
from paycompile.compiler.compile import build_graph
from paycompile.compiler.graph import Kind
from paycompile.compiler.rules import violations
from paycompile.errors import SpecError
from tests import builds
from tests.checkers.judge_network import Graph as Reachability
from tests.checkers.model import Ports
from tests.checkers.read_cfn import read_template
from tests.conftest import REFERENCE_SPEC

REFERENCE_TEXT = REFERENCE_SPEC.read_text()
PSP = "185.60.216.0/24"  # tests/specs/routed.yaml: the range web declares for its PSP
HTTPS = Ports("tcp", 443, 443)


def load(old: str, new: str) -> paycompile.PlatformSpec:
    assert old in REFERENCE_TEXT, old
    return paycompile.load_spec_text(REFERENCE_TEXT.replace(old, new, 1), "platform.yaml")


def refusal(old: str, new: str) -> str:
    with pytest.raises(SpecError) as caught:
        load(old, new)
    assert len(caught.value.issues) == 1, caught.value.issues
    return str(caught.value.issues[0])


def resources(template: dict[str, Any], type_name: str) -> dict[str, dict[str, Any]]:
    return {
        name: body["Properties"]
        for name, body in template["Resources"].items()
        if body["Type"] == type_name
    }


# --- the WAF ---------------------------------------------------------------------------------


def test_the_web_acl_guards_the_load_balancer() -> None:
    template = builds.template()
    (balancer,) = resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    (acl,) = resources(template, "AWS::WAFv2::WebACL")
    (association,) = resources(template, "AWS::WAFv2::WebACLAssociation").values()
    assert association["ResourceArn"] == {"Ref": balancer}
    assert association["WebACLArn"] == {"Fn::GetAtt": [acl, "Arn"]}


def test_the_pulumi_association_names_the_load_balancers_arn() -> None:
    plan = builds.plan()
    by_type = {r["type"]: r for r in plan["resources"]}
    association = by_type["aws:wafv2/webAclAssociation:WebAclAssociation"]["inputs"]
    assert (
        association["resourceArn"] == by_type["aws:lb/loadBalancer:LoadBalancer"]["answered"]["arn"]
    )
    assert association["webAclArn"] == by_type["aws:wafv2/webAcl:WebAcl"]["answered"]["arn"]


def test_the_web_acl_blocks_with_the_managed_groups_and_the_spec_rate_limit() -> None:
    spec = paycompile.load_spec(REFERENCE_SPEC).with_changes({"edge": {"waf": {"rate_limit": 500}}})
    template = paycompile.render(paycompile.compile_spec(spec), "cfn", "json")
    (acl,) = resources(json.loads(template), "AWS::WAFv2::WebACL").values()
    statements = [rule["Statement"] for rule in acl["Rules"]]
    groups = {
        s["ManagedRuleGroupStatement"]["Name"]
        for s in statements
        if "ManagedRuleGroupStatement" in s
    }
    assert groups == {
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesSQLiRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    }
    rates = [s["RateBasedStatement"] for s in statements if "RateBasedStatement" in s]
    assert rates == [{"AggregateKeyType": "IP", "Limit": 500}]
    assert all("None" in rule.get("OverrideAction", {"None": {}}) for rule in acl["Rules"])
    assert acl["Scope"] == "REGIONAL" and acl["DefaultAction"] == {"Allow": {}}


@pytest.mark.parametrize("limit", [99, 2_000_000_001])
def test_a_rate_limit_out_of_bounds_is_refused(limit: int) -> None:
    line = refusal("backup:\n", f"edge:\n  waf:\n    rate_limit: {limit}\nbackup:\n")
    assert "edge.waf.rate_limit" in line and "platform.yaml:" in line


def test_the_waf_logs_to_an_encrypted_waf_log_group_without_credentials() -> None:
    template = builds.template()
    (logging,) = resources(template, "AWS::WAFv2::LoggingConfiguration").values()
    groups = resources(template, "AWS::Logs::LogGroup")
    waf_groups = {n: g for n, g in groups.items() if g["LogGroupName"].startswith("aws-waf-logs-")}
    ((name, group),) = waf_groups.items()
    assert group["KmsKeyId"] == {"Fn::GetAtt": ["LogsKey", "Arn"]}
    assert group["RetentionInDays"] == 365
    # The destination is the log group's ARN without `:*` (WAF refuses the attribute's form).
    parts = logging["LogDestinationConfigs"][0]["Fn::Join"][1]
    assert parts[-1].endswith(f":log-group:{group['LogGroupName']}")
    assert name in template["Resources"]["WafLogging"]["DependsOn"]
    headers = {field["SingleHeader"]["Name"] for field in logging["RedactedFields"]}
    assert headers == {"authorization", "cookie"}


def test_a_load_balancer_without_a_web_acl_breaks_pay_waf_001() -> None:
    graph = build_graph(paycompile.load_spec(REFERENCE_SPEC))
    (association,) = graph.of_kind(Kind.WEB_ACL_ASSOCIATION)
    del graph.nodes[association.logical_id]
    assert "PAY-WAF-001: Alb has no web ACL associated" in violations(graph)


def test_one_web_acl_guards_every_load_balancer() -> None:
    """routed.yaml serves adm from a second load balancer: both sit behind the platform's ACL."""
    template = builds.template(builds.ROUTED)
    balancers = resources(template, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    (acl,) = resources(template, "AWS::WAFv2::WebACL")
    associations = resources(template, "AWS::WAFv2::WebACLAssociation").values()
    assert (
        sorted(a["ResourceArn"]["Ref"] for a in associations)
        == sorted(balancers)
        == [
            "Alb",
            "Alb2",
        ]
    )
    assert all(a["WebACLArn"] == {"Fn::GetAtt": [acl, "Arn"]} for a in associations)


def test_the_pulumi_plan_associates_every_load_balancer() -> None:
    plan = builds.plan(builds.ROUTED)
    arns = {
        r["answered"]["arn"]
        for r in plan["resources"]
        if r["type"] == "aws:lb/loadBalancer:LoadBalancer"
    }
    guarded = [
        r["inputs"]["resourceArn"]
        for r in plan["resources"]
        if r["type"] == "aws:wafv2/webAclAssociation:WebAclAssociation"
    ]
    assert len(arns) == 2 and sorted(guarded) == sorted(arns)


def test_a_second_load_balancer_without_a_web_acl_breaks_pay_waf_001() -> None:
    graph = build_graph(paycompile.load_spec(builds.ROUTED))
    del graph.nodes["WafAlb2Association"]
    found = violations(graph)
    assert "PAY-WAF-001: Alb2 has no web ACL associated" in found
    assert not any("Alb has no web ACL" in line for line in found)


# --- egress ----------------------------------------------------------------------------------


def _reach(spec: Any, service: str) -> dict[str, list[Ports]]:
    """Where the service's tasks can open connections, computed from the emitted template's
    security groups (target role -> traffic)."""
    template = builds.template(spec)
    platform = read_template(template, builds.expectation(spec).region)
    graph = Reachability(platform, [PSP])
    return {
        target: traffic
        for (source, target), traffic in graph.flows().items()
        if source == f"tasks:{service}"
    }


def test_tasks_with_a_regional_ecr_image_reach_only_aws_the_db_and_their_psp() -> None:
    reach = _reach(builds.ROUTED, "web")
    assert reach == {
        "db": [Ports("tcp", 3306, 3306)],
        "endpoint": [HTTPS],
        "prefix-list": [HTTPS],
        f"destination:{PSP}": [HTTPS],
    }


def test_tasks_with_an_image_on_the_internet_also_reach_https_anywhere(tmp_path: Path) -> None:
    # An image on Docker Hub needs a credential for a pull-through cache: the tasks pull it
    # over the internet (an ECR Public image comes through the cache, tests/test_images.py).
    spec = tmp_path / "routed.yaml"
    spec.write_text(
        builds.ROUTED.read_text().replace(
            "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.2",
            "docker.io/library/nginx:1.27",
        )
    )
    reach = _reach(spec, "api")
    assert reach["internet"] == [HTTPS]
    # 443 anywhere also reaches the load balancer, which admits anyone on 443.
    assert set(reach) == {"alb", "db", "endpoint", "prefix-list", "internet", f"destination:{PSP}"}
    assert reach["alb"] == [HTTPS]


def test_the_endpoints_admit_https_from_the_tasks_and_the_rotation_function_only() -> None:
    template = builds.template(builds.ROUTED)
    ingress = [
        rule
        for rule in resources(template, "AWS::EC2::SecurityGroupIngress").values()
        if rule["GroupId"] == {"Fn::GetAtt": ["EndpointsSg", "GroupId"]}
    ]
    sources = {rule["SourceSecurityGroupId"]["Fn::GetAtt"][0] for rule in ingress}
    # One rule for all the tasks (a group holds 60 inbound rules by default): the platform's
    # tasks group, which every ECS service's tasks carry, and the rotation function's group.
    assert sources == {"TasksSg", "RotationSg"}
    services = resources(template, "AWS::ECS::Service").values()
    carried = [
        {
            group["Fn::GetAtt"][0]
            for group in service["NetworkConfiguration"]["AwsvpcConfiguration"]["SecurityGroups"]
        }
        for service in services
    ]
    assert len(carried) == 6 and all(groups & sources for groups in carried)
    assert {(rule["FromPort"], rule["ToPort"], rule["IpProtocol"]) for rule in ingress} == {
        (443, 443, "tcp")
    }


def test_the_endpoints_are_private_with_private_dns() -> None:
    template = builds.template()
    endpoints = resources(template, "AWS::EC2::VPCEndpoint")
    interface = {
        p["ServiceName"].rsplit("us-east-1.", 1)[1]: p
        for p in endpoints.values()
        if p["VpcEndpointType"] == "Interface"
    }
    assert set(interface) == {"ecr.api", "ecr.dkr", "logs", "secretsmanager", "ssm"}
    private = [{"Ref": f"PrivateSubnet{n}"} for n in (1, 2, 3)]
    for endpoint in interface.values():
        assert endpoint["PrivateDnsEnabled"] is True
        assert endpoint["SubnetIds"] == private
        assert endpoint["SecurityGroupIds"] == [{"Fn::GetAtt": ["EndpointsSg", "GroupId"]}]
    (gateway,) = [p for p in endpoints.values() if p["VpcEndpointType"] == "Gateway"]
    assert gateway["ServiceName"] == "com.amazonaws.us-east-1.s3"
    assert gateway["RouteTableIds"] == [{"Ref": f"PrivateRoutes{n}"} for n in (1, 2, 3)]


def test_the_rotation_function_reaches_secrets_manager_through_the_endpoint_only() -> None:
    template = builds.template()
    egress = template["Resources"]["RotationSg"]["Properties"]["SecurityGroupEgress"]
    peers = {
        (r["FromPort"], str(r.get("CidrIp") or r["DestinationSecurityGroupId"])) for r in egress
    }
    assert peers == {
        (443, str({"Fn::GetAtt": ["EndpointsSg", "GroupId"]})),
        (3306, str({"Fn::GetAtt": ["DbSg", "GroupId"]})),
    }


@pytest.mark.parametrize(
    ("cidr", "why"),
    [("0.0.0.0/0", "large part of the internet"), ("10.1.0.0/24", "not a public")],
)
def test_a_declared_destination_must_be_a_public_range(cidr: str, why: str) -> None:
    line = refusal(
        "    environment_variables:",
        f"    egress:\n      - cidr: {cidr}\n        port: 443\n    environment_variables:",
    )
    assert "services[0].egress[0].cidr" in line and why in line and "PAY-NET-004" in line


def test_a_region_without_a_known_s3_prefix_list_needs_one_or_the_fallback() -> None:
    moved = [("region: us-east-1", "region: eu-west-2"), ("acm:us-east-1", "acm:eu-west-2")]
    text = REFERENCE_TEXT
    for old, new in moved:
        text = text.replace(old, new)
    with pytest.raises(SpecError) as caught:
        paycompile.load_spec_text(text, "platform.yaml")
    (line,) = [str(issue) for issue in caught.value.issues]
    assert "network.s3_prefix_list_id" in line and "PAY-NET-004" in line
    named = text.replace(
        "  flow_logs: true\n", "  flow_logs: true\n  s3_prefix_list_id: pl-7ca54015\n"
    )
    graph = build_graph(paycompile.load_spec_text(named, "platform.yaml"))
    egress = graph["ApiTasksSg"].props["egress"]
    assert {"prefix_list": "pl-7ca54015"} in [rule["peer"] for rule in egress]
    fallback = text.replace(
        "  flow_logs: true\n", "  flow_logs: true\n  https_egress_anywhere: true\n"
    )
    assert paycompile.load_spec_text(fallback, "platform.yaml").network.https_egress_anywhere


def test_https_anywhere_without_a_reason_breaks_pay_net_004() -> None:
    graph = build_graph(paycompile.load_spec(builds.ROUTED))
    graph["WebTasksSg"].props["egress"].append(
        {"protocol": "tcp", "port": 443, "peer": "0.0.0.0/0", "description": "careless"}
    )
    assert any(
        v.startswith("PAY-NET-004: WebTasksSg: egress to 0.0.0.0/0 on 443")
        for v in violations(graph)
    )


def test_a_missing_endpoint_breaks_pay_net_004() -> None:
    graph = build_graph(paycompile.load_spec(REFERENCE_SPEC))
    del graph.nodes["EndpointLogs"]
    assert "PAY-NET-004: no interface endpoint for logs" in violations(graph)
