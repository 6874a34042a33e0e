"""Images from ECR Public through the platform's ECR pull-through cache (PAY-NET-005), judged on
what paycompile emits: the cache rule, the image each task pulls, what the execution role may do
with it, and the tasks' egress that no longer needs the internet."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import cfnlint
import pytest
import yaml

import paycompile
from paycompile.compiler.graph import Kind
from tests import builds
from tests.checkers.cfn_checker import check_template
from tests.checkers.judge_network import Graph as Reachability
from tests.checkers.read_cfn import read_template
from tests.test_cfn_backend import lint_findings

CACHED = "{account}.dkr.ecr.{region}.{urlsuffix}/%s/aws-containers/retail-store-sample-catalog"
PSEUDO = {
    "AWS::AccountId": "{account}",
    "AWS::Region": "{region}",
    "AWS::URLSuffix": "{urlsuffix}",
    "AWS::Partition": "{partition}",
}


def _resources(template: dict[str, Any], type_name: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def _text(value: Any, parameters: dict[str, Any]) -> str:
    """A joined string as CloudFormation would resolve it, pseudo parameters as placeholders and
    parameters at their defaults."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(part, parameters) for part in parts)
    name = value["Ref"]
    return PSEUDO.get(name) or str(parameters[name]["Default"])


def _prefix_schema() -> dict[str, Any]:
    """EcrRepositoryPrefix as cfn-lint's registry schema of the cache rule has it."""
    resources = Path(cfnlint.__file__).parent / "data" / "schemas" / "resources"
    for path in sorted(resources.glob("*.json")):
        text = path.read_text()
        if '"AWS::ECR::PullThroughCacheRule"' in text:
            schema: dict[str, Any] = json.loads(text)["definitions"]["EcrRepositoryPrefix"]
            return schema
    raise AssertionError("cfn-lint has no schema for AWS::ECR::PullThroughCacheRule")


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_one_cache_rule_for_ecr_public_without_a_credential(environment: str) -> None:
    template = builds.template(builds.REFERENCE, environment)
    (rule,) = _resources(template, "AWS::ECR::PullThroughCacheRule").values()
    assert rule["Properties"] == {
        "EcrRepositoryPrefix": f"payment-{environment}",
        "UpstreamRegistryUrl": "public.ecr.aws",
    }


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_both_colours_pull_the_cached_image_after_the_rule_exists(environment: str) -> None:
    template = builds.template(builds.REFERENCE, environment)
    tasks = _resources(template, "AWS::ECS::TaskDefinition")
    assert len(tasks) == 2
    for task in tasks.values():
        (container,) = task["Properties"]["ContainerDefinitions"]
        image = _text(container["Image"], template["Parameters"])
        assert image == CACHED % f"payment-{environment}" + ":1.2.2"
    for service in _resources(template, "AWS::ECS::Service").values():
        assert "ImageCacheRule" in service["DependsOn"]


def test_the_tasks_reach_nothing_on_the_internet() -> None:
    template = builds.template(builds.REFERENCE)
    platform = read_template(template, "us-east-1")
    reached = {
        target for source, target in Reachability(platform, []).flows() if source == "tasks:api"
    }
    # The image comes through the endpoints and S3's gateway: nothing on the internet.
    assert reached == {"db", "endpoint", "prefix-list"}


def test_the_execution_role_pulls_and_fills_exactly_the_cached_repository() -> None:
    template = builds.template(builds.REFERENCE)
    policy = template["Resources"]["ApiExecutionRolePolicy"]["Properties"]["PolicyDocument"]
    by_sid = {each["Sid"]: each for each in policy["Statement"]}
    repository = (
        "arn:{partition}:ecr:{region}:{account}:repository/payment-dev/"
        "aws-containers/retail-store-sample-catalog"
    )
    assert by_sid["PullThroughCache"]["Action"] == [
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchGetImage",
        "ecr:BatchImportUpstreamImage",
        "ecr:CreateRepository",
        "ecr:GetDownloadUrlForLayer",
    ]
    (resource,) = by_sid["PullThroughCache"]["Resource"]
    assert _text(resource, template["Parameters"]) == repository
    assert sorted(by_sid) == ["EcrToken", "PullThroughCache", "WriteLogs"]
    # The token is per account: IAM cannot scope it (its reason is in UNSCOPABLE_ACTIONS).
    assert by_sid["EcrToken"] == {
        "Action": ["ecr:GetAuthorizationToken"],
        "Effect": "Allow",
        "Resource": ["*"],
        "Sid": "EcrToken",
    }


@pytest.mark.parametrize(
    ("name", "environment"),
    [
        ("payment", "dev"),
        ("a" * 21, "b" * 16),  # 38 characters: too long for ECR
        ("a" * 21, "b" * 15 + "c"),  # as long, one letter apart
        ("pay", "pr-123"),
    ],
)
def test_the_prefix_fits_ecrs_schema_and_differs_per_platform(name: str, environment: str) -> None:
    text = builds.REFERENCE.read_text().replace("name: payment", f"name: {name}", 1)
    spec = paycompile.load_spec_text(text, environment=environment, new_environment=True)
    graph = paycompile.compile_spec(spec)
    (rule,) = graph.of_kind(Kind.PULL_THROUGH_CACHE_RULE)
    prefix = rule.props["prefix"]
    schema = _prefix_schema()
    assert schema["minLength"] <= len(prefix) <= schema["maxLength"]
    assert re.fullmatch(schema["pattern"], prefix)
    other = paycompile.compile_spec(
        paycompile.load_spec_text(text, environment=f"{environment[:14]}x2", new_environment=True)
    )
    assert other.of_kind(Kind.PULL_THROUGH_CACHE_RULE)[0].props["prefix"] != prefix


def test_an_image_elsewhere_gets_no_cache_and_keeps_https_with_its_reason() -> None:
    text = builds.REFERENCE.read_text().replace(
        "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.2",
        "docker.io/library/nginx:1.27",
    )
    graph = paycompile.compile_spec(paycompile.load_spec_text(text))
    assert graph.of_kind(Kind.PULL_THROUGH_CACHE_RULE) == []
    (tasks,) = [g for g in graph.of_kind(Kind.SECURITY_GROUP) if g.logical_id == "ApiTasksSg"]
    anywhere = [e for e in tasks.props["egress"] if e["peer"] == "0.0.0.0/0"]
    assert [e["description"] for e in anywhere] == [
        "HTTPS anywhere: the image comes from a registry outside the region's ECR and its cache"
    ]


def test_the_pulumi_plan_registers_the_rule_and_pulls_the_cached_image() -> None:
    plan = builds.plan()
    by_name = {r["name"]: r for r in plan["resources"]}
    rule = by_name["ImageCacheRule"]
    assert rule["type"] == "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
    assert rule["inputs"]["ecrRepositoryPrefix"] == "payment-dev"
    assert rule["inputs"]["upstreamRegistryUrl"] == "public.ecr.aws"
    assert "credentialArn" not in rule["inputs"]
    for color in ("Blue", "Green"):
        (container,) = json.loads(by_name[f"Api{color}Task"]["inputs"]["containerDefinitions"])
        assert container["image"] == (
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/payment-dev/"
            "aws-containers/retail-store-sample-catalog:1.2.2"
        )


# ---------------------------------------------------------------- scan on push


@pytest.fixture(scope="module")
def scanning_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    document = copy.deepcopy(builds.document())
    document["images"] = {"registry_scanning": True}
    path = tmp_path_factory.mktemp("scanning") / "platform.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def _scans(template: dict[str, Any]) -> dict[str, Any]:
    return _resources(template, "AWS::ECR::RegistryScanningConfiguration")


def test_no_stack_touches_the_registrys_scanning_unless_its_spec_owns_it() -> None:
    assert _scans(builds.template()) == {}
    plan = builds.plan()
    assert not [r for r in plan["resources"] if "registryScanning" in r["type"]]


def test_the_owning_stack_scans_every_repository_on_push(scanning_spec: Path) -> None:
    template = builds.template(scanning_spec)
    (scanning,) = _scans(template).values()
    assert scanning["Properties"] == {
        "ScanType": "BASIC",
        "Rules": [
            {
                "ScanFrequency": "SCAN_ON_PUSH",
                "RepositoryFilters": [{"Filter": "*", "FilterType": "WILDCARD"}],
            }
        ],
    }
    expected = builds.expectation(scanning_spec)
    assert check_template(template, expected) == []
    assert lint_findings(json.dumps(template), expected.region) == []


def test_the_checkers_flag_scanning_that_misses_a_push_or_is_not_the_stacks(
    scanning_spec: Path,
) -> None:
    template = builds.template(scanning_spec)
    (scanning,) = _scans(template).values()
    scanning["Properties"]["Rules"][0]["ScanFrequency"] = "MANUAL"
    found = check_template(template, builds.expectation(scanning_spec))
    assert "the registry does not scan every repository on push" in found
    unowned = builds.template(scanning_spec)
    found = check_template(unowned, builds.expectation())
    assert any(
        "scanning configuration is emitted by a spec that does not own it" in f for f in found
    )


def test_the_pulumi_plan_scans_every_repository_on_push(scanning_spec: Path) -> None:
    (scanning,) = [
        r
        for r in builds.plan(scanning_spec)["resources"]
        if r["type"] == "aws:ecr/registryScanningConfiguration:RegistryScanningConfiguration"
    ]
    assert scanning["inputs"]["scanType"] == "BASIC"
    (rule,) = scanning["inputs"]["rules"]
    assert rule["scanFrequency"] == "SCAN_ON_PUSH"
    assert rule["repositoryFilters"] == [{"filter": "*", "filterType": "WILDCARD"}]
