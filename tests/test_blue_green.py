"""What issue-free creation and blue/green need from every template, read from the output.

For generated specs and the reference spec: every target group has exactly one ECS service (a
task set) registered in it; what creation needs first comes first (every NAT gateway, its
address and the public route after the internet gateway's attachment; the rotation schedule
after the database instances and the NAT routes it reaches Secrets Manager through; every ECS
service after its listener or rule, the NAT routes its tasks pull images through and the managed
policies of its task definition's roles; every state machine after its role's policies); no ARN
carries a fixed partition; and a platform too big for one CloudFormation stack is refused by
that backend with the limit named, while the Pulumi backend builds it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given

import paycompile
from paycompile.cli import main
from paycompile.errors import BackendError
from tests.conftest import COSTLY
from tests.strategies import GeneratedSpec, valid_specs

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
Template = dict[str, Any]


def template_of(text: str, environment: str | None = None) -> Template:
    spec = paycompile.load_spec_text(text, "platform.yaml", environment)
    parsed: Template = json.loads(paycompile.render(paycompile.compile_spec(spec), "cfn"))
    return parsed


def _named(value: Any) -> Iterator[str]:
    """Logical ids a property value names through Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, dict):
        if isinstance(value.get("Ref"), str):
            yield value["Ref"]
        getatt = value.get("Fn::GetAtt")
        if isinstance(getatt, list):
            yield str(getatt[0])
        sub = value.get("Fn::Sub")
        if isinstance(sub, str):
            yield from (name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", sub))
        for item in value.values():
            yield from _named(item)
    elif isinstance(value, list):
        for item in value:
            yield from _named(item)


def waits_for(template: Template) -> dict[str, set[str]]:
    """Logical id -> everything CloudFormation creates before it (references and DependsOn,
    followed transitively)."""
    resources = template["Resources"]
    direct = {
        name: {
            target
            for target in [*_named(body.get("Properties", {})), *_depends_on(body)]
            if target in resources
        }
        for name, body in resources.items()
    }
    closure: dict[str, set[str]] = {}

    def reach(name: str) -> set[str]:
        if name not in closure:
            closure[name] = set()
            for target in direct[name]:
                closure[name] |= {target, *reach(target)}
        return closure[name]

    return {name: reach(name) for name in resources}


def _depends_on(body: dict[str, Any]) -> list[str]:
    depends = body.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


def of_type(template: Template, type_name: str) -> list[str]:
    return sorted(k for k, v in template["Resources"].items() if v["Type"] == type_name)


def attached_policies(template: Template, roles: set[str]) -> list[str]:
    """The managed policies the template attaches to any of `roles`."""
    return [
        name
        for name in of_type(template, "AWS::IAM::ManagedPolicy")
        if roles & set(_named(template["Resources"][name]["Properties"].get("Roles", [])))
    ]


def ordering_problems(template: Template) -> list[str]:
    before = waits_for(template)
    resources = template["Resources"]
    attachments = of_type(template, "AWS::EC2::VPCGatewayAttachment")
    instances = of_type(template, "AWS::RDS::DBInstance")
    routes = {
        name: body["Properties"]
        for name, body in resources.items()
        if body["Type"] == "AWS::EC2::Route"
    }
    nat_routes = [name for name, props in routes.items() if "NatGatewayId" in props]
    igw_routes = [name for name, props in routes.items() if "GatewayId" in props]
    wanted: list[tuple[str, list[str], str]] = []
    for name in [
        *of_type(template, "AWS::EC2::NatGateway"),
        *of_type(template, "AWS::EC2::EIP"),
        *igw_routes,
    ]:
        wanted.append((name, attachments, "the internet gateway's attachment"))
    for name in of_type(template, "AWS::SecretsManager::RotationSchedule"):
        wanted.append((name, instances + nat_routes, "the DB instances and NAT routes"))
    for name in of_type(template, "AWS::ECS::Service"):
        wanted.append((name, nat_routes, "the NAT routes"))
        group = resources[name]["Properties"]["LoadBalancers"][0]["TargetGroupArn"]["Ref"]
        forwarding = [
            other
            for other, body in resources.items()
            if body["Type"].endswith(("::Listener", "::ListenerRule"))
            and group in set(_named(body["Properties"]))
        ]
        wanted.append((name, forwarding, "the listener or rule forwarding to its group"))
        task = resources[name]["Properties"]["TaskDefinition"]["Ref"]
        roles = _named(
            [resources[task]["Properties"][key] for key in ("ExecutionRoleArn", "TaskRoleArn")]
        )
        wanted.append((name, attached_policies(template, set(roles)), "its roles' policies"))
    for name in of_type(template, "AWS::StepFunctions::StateMachine"):
        role = set(_named(resources[name]["Properties"]["RoleArn"]))
        wanted.append((name, attached_policies(template, role), "its role's policies"))
    return [
        f"{name} does not wait for {sorted(set(targets) - before[name])} ({why})"
        for name, targets, why in wanted
        if not targets or set(targets) - before[name]
    ]


def task_set_problems(template: Template) -> list[str]:
    resources = template["Resources"]
    registered: dict[str, list[str]] = {}
    for name in of_type(template, "AWS::ECS::Service"):
        for balancer in resources[name]["Properties"]["LoadBalancers"]:
            registered.setdefault(balancer["TargetGroupArn"]["Ref"], []).append(name)
    return [
        f"target group {group} has task sets {registered.get(group, [])}, want exactly one"
        for group in of_type(template, "AWS::ElasticLoadBalancingV2::TargetGroup")
        if len(registered.get(group, [])) != 1
    ]


def fixed_partitions(template: Template, allowed: set[str]) -> list[str]:
    """Literal strings holding an ARN with a partition written out (other than `allowed`)."""
    found = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        elif isinstance(value, str) and value not in allowed:
            for match in re.finditer(r"arn:aws(-cn|-us-gov)?:", value):
                found.append(f"{path}: {value[match.start() : match.start() + 40]}")

    walk(template["Resources"], "Resources")
    walk(template.get("Outputs", {}), "Outputs")
    return found


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_reference_platform_is_created_in_a_working_order(environment: str) -> None:
    template = template_of(REFERENCE.read_text(), environment)
    assert ordering_problems(template) == []
    assert task_set_problems(template) == []


def test_the_ordering_check_sees_a_missing_dependency() -> None:
    template = template_of(REFERENCE.read_text())
    for name in ("Nat1", "NatEip1"):
        template["Resources"][name].pop("DependsOn")
    rotation = template["Resources"]["DbSecretRotation"]
    rotation["DependsOn"] = [d for d in rotation["DependsOn"] if not d.startswith("DbInstance")]
    found = "\n".join(ordering_problems(template))
    assert "Nat1 does not wait for ['IgwAttachment']" in found
    assert "NatEip1 does not wait for ['IgwAttachment']" in found
    assert "DbSecretRotation does not wait for ['DbInstance1', 'DbInstance2']" in found


def test_the_ordering_check_sees_a_service_that_starts_before_its_permissions() -> None:
    template = template_of(REFERENCE.read_text())
    for task in ("ApiBlueTask", "ApiGreenTask"):
        template["Resources"][task].pop("DependsOn")
    found = "\n".join(ordering_problems(template))
    assert (
        "ApiBlueService does not wait for ['ApiExecutionRolePolicy', 'ApiTaskRolePolicy']" in found
    )
    assert "ApiGreenService does not wait for" in found


def test_the_task_set_check_sees_a_group_without_one() -> None:
    template = template_of(REFERENCE.read_text())
    service = template["Resources"]["ApiGreenService"]["Properties"]
    service["LoadBalancers"][0]["TargetGroupArn"] = {"Ref": "ApiBlueTg"}
    assert task_set_problems(template) == [
        "target group ApiBlueTg has task sets ['ApiBlueService', 'ApiGreenService'], "
        "want exactly one",
        "target group ApiGreenTg has task sets [], want exactly one",
    ]


@COSTLY
@given(valid_specs())
def test_every_platform_orders_creation_registers_each_group_and_names_no_partition(
    generated: GeneratedSpec,
) -> None:
    template = template_of(generated.text, generated.environment)
    assert ordering_problems(template) == []
    assert task_set_problems(template) == []
    # The certificate's ARN is the spec's own (checked against the region's partition).
    certificate = generated.document["tls"]["certificate_arn"]
    assert fixed_partitions(template, {certificate}) == []


def test_the_partition_check_sees_a_fixed_partition() -> None:
    template = template_of(REFERENCE.read_text())
    template["Resources"]["ApiCutover"]["Properties"]["RoleArn"] = "arn:aws:iam::1:role/x"
    assert fixed_partitions(template, set()) != []


def _spec_with_services(count: int) -> str:
    document = yaml.safe_load(REFERENCE.read_text())
    document.pop("overrides")
    first = document["services"][0]
    document["services"] = [
        {**copy.deepcopy(first), "name": f"svc{n}", "route": {"path": f"/svc{n}/*"}}
        for n in range(count)
    ]
    return yaml.safe_dump(document)


def test_a_platform_over_the_stack_limits_is_one_template_in_pulumi_only() -> None:
    """CloudFormation needs a nested set for it (one template is refused, saying so); the
    Pulumi program holds it all (tests/test_nested_stacks.py judges the set)."""
    spec = paycompile.load_spec_text(_spec_with_services(20), "platform.yaml")
    graph = paycompile.compile_spec(spec)
    with pytest.raises(BackendError) as refused:
        paycompile.render(graph, "cfn")
    message = str(refused.value)
    assert "needs" in message and "CloudFormation stacks" in message and "\n" not in message
    assert re.search(r"-o DIR", message), message
    plan = json.loads(paycompile.render(graph, "pulumi"))
    services = [r for r in plan["resources"] if r["type"] == "aws:ecs/service:Service"]
    assert len(services) == 40


def test_the_cli_refuses_it_in_one_line_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(_spec_with_services(20))
    output = tmp_path / "out.json"
    assert main(["build", str(spec), "-o", str(output)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "give -o a directory" in err and not output.exists()


def test_a_platform_just_under_the_limits_builds_for_both() -> None:
    spec = paycompile.load_spec_text(_spec_with_services(15), "platform.yaml")
    graph = paycompile.compile_spec(spec)
    template = json.loads(paycompile.render(graph, "cfn"))
    assert len(template["Resources"]) <= 500 and len(template["Outputs"]) <= 200
    assert json.loads(paycompile.render(graph, "pulumi"))["resources"]
