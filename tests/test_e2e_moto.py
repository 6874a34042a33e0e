"""End to end: the reference template deploys to a local AWS (moto) and reads back as specified.

The test starts moto in process on a free loopback port (tests/moto_server.py, which also
patches the moto gaps docs/e2e.md lists) and stops it when done, whatever happened. moto does
not model every resource type the platform uses, so it is handed the copy that
`tests/moto_standins.py` makes (see docs/e2e.md); every type moto models deploys as compiled,
but for the few reshaped properties listed there. The checks go through the AWS APIs; only
what moto's models drop (DROPPED_BY_MOTO) is read from the template. All of it is one test
because the stack is one deployment: under `pytest -n 2` separate tests would each need their
own server and stack.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from moto.cloudformation.parsing import resource_class_from_type
from moto_server import deploy_stack, import_certificate, moto
from moto_standins import (
    DROPPED_BY_MOTO,
    QUIRKS,
    STANDIN_TYPE,
    STANDINS,
    for_moto,
    standins_in,
    with_certificate,
)

import paycompile
from paycompile.compiler.graph import Graph, Kind

# moto's state is process-wide: the modules that use it run in one worker, one after another.
pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
REGION = "us-east-1"
STACK = "payment-e2e"
GOVERNANCE_TAGS = ("Environment", "CostCenter", "MigrationPhase")
STACK_CREATE_SECONDS = 60

Client = Callable[[str], Any]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    """A boto3 client factory for a fresh local AWS, stopped when the module is done."""
    with moto() as local:
        yield local.client


def reference_graph() -> Graph:
    return paycompile.compile_spec(paycompile.load_spec(REFERENCE))


def reference_template() -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(paycompile.render(reference_graph(), "cfn"))
    return parsed


def expected_governance_tags() -> dict[str, str]:
    """What the spec file itself says every resource must carry (not what the graph says)."""
    document = yaml.safe_load(REFERENCE.read_text())
    return {
        "Environment": document["environment"],
        **{key: document["tags"][key] for key in GOVERNANCE_TAGS if key != "Environment"},
    }


def _tags(pairs: list[dict[str, str]]) -> dict[str, str]:
    return {pair["Key"]: pair["Value"] for pair in pairs}


def _assert_governed(tags: dict[str, str], what: str, expected: dict[str, str]) -> None:
    missing = {key: value for key, value in expected.items() if tags.get(key) != value}
    assert not missing, f"{what}: tags {tags} lack {missing}"


class Deployed:
    """The deployed stack as the AWS APIs show it, with what the graph says it should be."""

    def __init__(self, client: Client, graph: Graph, template: dict[str, Any], cert: str) -> None:
        self.client = client
        self.graph = graph
        self.template = template
        self.certificate_arn = cert
        self.governance = expected_governance_tags()
        self.document = yaml.safe_load(REFERENCE.read_text())
        self.live_colors = {s["name"]: s["active_color"] for s in self.document["services"]}
        resources = client("cloudformation").describe_stack_resources(StackName=STACK)
        self.resources = resources["StackResources"]
        # moto leaves PhysicalResourceId out for a few types (routes, attachments).
        self.physical = {
            r["LogicalResourceId"]: r.get("PhysicalResourceId") for r in self.resources
        }

    def node_named(self, kind: Kind) -> str:
        return self.graph.of_kind(kind)[0].name

    def tags(self, logical_id: str, shown: dict[str, str]) -> dict[str, str]:
        """The tags the API shows, or the template's where moto drops them (DROPPED_BY_MOTO)."""
        body = self.template["Resources"][logical_id]
        if body["Type"] not in DROPPED_BY_MOTO or "Tags" not in DROPPED_BY_MOTO[body["Type"]]:
            return shown
        assert not set(GOVERNANCE_TAGS) & set(shown), f"moto now keeps {logical_id}'s tags"
        return _tags(body["Properties"]["Tags"])

    def assert_governed(self, logical_id: str, shown: dict[str, str]) -> dict[str, str]:
        tags = self.tags(logical_id, shown)
        _assert_governed(tags, logical_id, self.governance)
        return tags

    def check_network(self) -> None:
        ec2 = self.client("ec2")
        vpc_id = self.physical["Vpc"]
        self.assert_governed("Vpc", _tags(ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["Tags"]))
        in_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
        subnets = {s["SubnetId"]: s for s in ec2.describe_subnets(Filters=in_vpc)["Subnets"]}
        assert len(subnets) == 6, sorted(subnets)
        for tier in ("Public", "Private"):
            names = [f"{tier}Subnet{index}" for index in (1, 2, 3)]
            zones = {subnets[self.physical[name]]["AvailabilityZone"] for name in names}
            assert len(zones) == 3, f"{tier} subnets span {zones}, want 3 distinct zones"
            for name in names:
                self.assert_governed(name, _tags(subnets[self.physical[name]]["Tags"]))
        gateways = ec2.describe_nat_gateways(Filter=in_vpc)["NatGateways"]
        nat_nodes = self.graph.of_kind(Kind.NAT_GATEWAY)
        assert len(gateways) == len(nat_nodes) == 1, gateways
        public = {self.physical[f"PublicSubnet{index}"] for index in (1, 2, 3)}
        assert gateways[0]["SubnetId"] in public, "the NAT gateway must sit in a public subnet"
        self.assert_governed(nat_nodes[0].logical_id, _tags(gateways[0].get("Tags", [])))

    def check_traffic(self) -> None:
        elbv2 = self.client("elbv2")
        colors = {}
        for node in self.graph.of_kind(Kind.TARGET_GROUP):
            arn = self.physical[node.logical_id]
            group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
            assert group["VpcId"] == self.physical["Vpc"] and group["Port"] == node.props["port"]
            described = elbv2.describe_tags(ResourceArns=[arn])["TagDescriptions"][0]
            colors[arn] = self.assert_governed(node.logical_id, _tags(described["Tags"]))
            assert colors[arn].get("DeploymentColor") == node.props["color"], colors[arn]
        assert sorted(tags["DeploymentColor"] for tags in colors.values()) == ["blue", "green"]
        balancer = self.physical["Alb"]
        described = elbv2.describe_tags(ResourceArns=[balancer])["TagDescriptions"][0]
        self.assert_governed("Alb", _tags(described["Tags"]))
        listeners = elbv2.describe_listeners(LoadBalancerArn=balancer)["Listeners"]
        by_port = {listener["Port"]: listener for listener in listeners}
        assert set(by_port) == {80, 443}, by_port
        https = by_port[443]
        assert https["Protocol"] == "HTTPS"
        assert https["SslPolicy"] == self.graph.nodes["HttpsListener"].props["ssl_policy"]
        assert [c["CertificateArn"] for c in https["Certificates"]] == [self.certificate_arn]
        forward = https["DefaultActions"][0]
        assert forward["Type"] == "forward", forward
        weights = {
            g["TargetGroupArn"]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]
        }
        live = self.live_colors["api"]
        by_color = {colors[arn]["DeploymentColor"]: weight for arn, weight in weights.items()}
        assert by_color == {live: 100, "green" if live == "blue" else "blue": 0}, weights
        assert by_port[80]["DefaultActions"][0]["Type"] == "redirect"

    def check_service(self) -> None:
        """Both colours exist; the live one runs the spec's count, the idle one nothing."""
        ecs = self.client("ecs")
        cluster = self.node_named(Kind.ECS_CLUSTER)
        nodes = self.graph.of_kind(Kind.ECS_SERVICE)
        names = [node.name for node in nodes]
        found = ecs.describe_services(cluster=cluster, services=names, include=["TAGS"])
        by_name = {service["serviceName"]: service for service in found["services"]}
        assert sorted(by_name) == sorted(names), found
        spec_service = self.document["services"][0]
        for node in nodes:
            service = by_name[node.name]
            assert service["status"] == "ACTIVE"
            live = node.props["color"] == self.live_colors[spec_service["name"]]
            expected = spec_service["desired_count"] if live else 0
            assert service["desiredCount"] == expected, (node.name, service["desiredCount"])
            shown = {tag["key"]: tag["value"] for tag in service.get("tags", [])}
            self.assert_governed(node.logical_id, shown)

    def check_parameters(self) -> None:
        ssm = self.client("ssm")
        expected = {node.props["parameter_name"] for node in self.graph.of_kind(Kind.SSM_PARAMETER)}
        prefix = f"/{self.graph.platform}/{self.graph.environment}/"
        found = ssm.get_parameters_by_path(Path=prefix, Recursive=True, MaxResults=10)
        names = {parameter["Name"] for parameter in found["Parameters"]}
        assert expected <= names, f"missing SSM parameters {sorted(expected - names)}"
        for node in self.graph.of_kind(Kind.SSM_PARAMETER):
            name = node.props["parameter_name"]
            listed = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)
            self.assert_governed(node.logical_id, _tags(listed["TagList"]))

    def check_operations(self) -> None:
        node = self.graph.of_kind(Kind.STATE_MACHINE)[0]
        machine_arn = self.physical[node.logical_id]
        sfn = self.client("stepfunctions")
        machine = sfn.describe_state_machine(stateMachineArn=machine_arn)
        states = json.loads(machine["definition"])["States"]
        assert len(states) >= 4, f"cutover state machine has only {sorted(states)}"
        listed = sfn.list_tags_for_resource(resourceArn=machine_arn)["tags"]
        self.assert_governed(node.logical_id, {tag["key"]: tag["value"] for tag in listed})
        dashboard = self.client("cloudwatch").get_dashboard(
            DashboardName=self.node_named(Kind.DASHBOARD)
        )
        widgets = json.loads(dashboard["DashboardBody"])["widgets"]
        namespaces = {
            metric[0] for widget in widgets for metric in widget["properties"].get("metrics", [])
        }
        assert {"AWS/ECS", "AWS/RDS", "AWS/ApplicationELB"} <= namespaces, namespaces


def test_standin_table_matches_what_moto_models() -> None:
    """Stand in for exactly the types this moto cannot create, so nothing is faked needlessly."""
    types = {body["Type"] for body in reference_template()["Resources"].values()}
    unmodelled = {kind for kind in types if resource_class_from_type(kind) is None}
    assert unmodelled == set(STANDINS) & types, (
        f"moto models {sorted(set(STANDINS) & types - unmodelled)}, "
        f"does not model {sorted(unmodelled - set(STANDINS))}"
    )


def test_modelled_resources_go_to_moto_as_compiled() -> None:
    """Only stand-ins, references to them and the listed QUIRKS differ in moto's copy."""
    original = reference_template()["Resources"]
    copied = for_moto(reference_template())["Resources"]
    assert set(copied) == set(original)
    standins = standins_in(reference_template())
    for name, body in original.items():
        if name in standins:
            assert copied[name]["Type"] == STANDIN_TYPE
            continue
        assert copied[name]["Type"] == body["Type"]
        text = json.dumps(body)
        mentions_standin = any(re.search(rf"\b{other}\b", text) for other in standins)
        if body["Type"] not in QUIRKS and not mentions_standin:
            assert copied[name] == body, name


@pytest.fixture(scope="module")
def stack(client: Client) -> Iterator[tuple[dict[str, Any], str]]:
    """The reference template as compiled (with a certificate moto knows), deployed to moto."""
    certificate_arn = import_certificate(client)
    original = with_certificate(reference_template(), certificate_arn)
    started = time.monotonic()
    try:
        deploy_stack(client, STACK, for_moto(original))
        print(f"moto: stack created in {time.monotonic() - started:.1f}s")
        yield original, certificate_arn
    finally:
        _delete(client)


def test_reference_platform_deploys_and_reads_back(
    client: Client, stack: tuple[dict[str, Any], str]
) -> None:
    original, certificate_arn = stack
    deployed = Deployed(client, reference_graph(), original, certificate_arn)
    created = {r["LogicalResourceId"]: r["ResourceType"] for r in deployed.resources}
    assert set(original["Resources"]) <= set(created), sorted(
        set(original["Resources"]) - set(created)
    )
    modelled = {body["Type"] for body in original["Resources"].values()} - set(STANDINS)
    assert modelled <= set(created.values()), sorted(modelled - set(created.values()))
    assert all(created[name] == STANDIN_TYPE for name in standins_in(original))
    checks = [
        deployed.check_network,
        deployed.check_traffic,
        deployed.check_service,
        deployed.check_parameters,
        deployed.check_operations,
    ]
    # Run every check and report all that fail: one deployment is the expensive part.
    failures = [f"{check.__name__}: {problem}" for check in checks for problem in _failure(check)]
    assert not failures, "\n".join(failures)


def _failure(check: Callable[[], None]) -> list[str]:
    try:
        check()
    except (AssertionError, KeyError, ClientError) as problem:
        return [f"{type(problem).__name__}: {problem}"]
    return []


def _delete(client: Client) -> None:
    """Delete the stack; moto's own deletion is partial, so this is cleanup, not a check."""
    try:
        client("cloudformation").delete_stack(StackName=STACK)
    except ClientError as error:
        # moto never deletes AWS::EC2::RouteTable, so the VPC's deletion fails (docs/e2e.md);
        # and it deletes a role before the managed policies attached to it, which IAM refuses
        # (CloudFormation deletes the policy first: it refers to the role).
        if error.response["Error"]["Code"] not in ("DependencyViolation", "DeleteConflict"):
            raise
