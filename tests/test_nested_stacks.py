"""Past one stack: the partition, and the nested set of templates the cfn backend writes.

Platforms of 1, 20, 60 and 200 services, each built once per module: every template under
every CloudFormation limit with margin, cfn-lint clean, every cross-stack reference resolved
from what another template really declares, every resource in exactly one template, and the
split stable when a service is added. What is read is the written text, not the code's plan.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

import paycompile
from paycompile.backends.cfn.template import BACKEND
from paycompile.compiler.graph import Graph
from paycompile.spec.loader import load_spec_text
from tests.builds import REFERENCE, document
from tests.checkers.expectation import Expectation
from tests.checkers.nested import flatten
from tests.checkers.semantic import judge_template
from tests.test_cfn_backend import check_template, lint_findings

SIZES = (1, 20, 60, 200)
# Services fill load balancers in spec order in these platforms, pinned past the first.
SERVICES_PER_LOAD_BALANCER = 40
# CloudFormation's quotas for one stack (template from S3), and the share a stack may use.
LIMITS = {"resources": 500, "outputs": 200, "parameters": 200, "bytes": 1_048_576}
MARGIN = 0.8
# A root names its children by file name, as `aws cloudformation package` reads them;
# `paycompile deploy` uploads them and points the root at their S3 URLs (docs/cli.md).
PACKAGE_ONLY = "W3002"


def spec_text(count: int, extra: tuple[str, ...] = ()) -> str:
    """The reference spec with `count` services svc000.. (plus `extra` names), each routed but
    the first."""
    base = copy.deepcopy(document(REFERENCE))
    base.pop("overrides", None)
    template = base["services"][0]
    names = [f"svc{index:03d}" for index in range(count)] + list(extra)
    services = []
    for index, name in enumerate(names):
        service = {**copy.deepcopy(template), "name": name}
        if index >= SERVICES_PER_LOAD_BALANCER:
            service["load_balancer"] = 1 + index // SERVICES_PER_LOAD_BALANCER
        if index:
            service["route"] = {"path": f"/{name}/*"}
        services.append(service)
    base["services"] = services
    return yaml.safe_dump(base, sort_keys=False)


@cache
def graph_of(count: int, extra: tuple[str, ...] = ()) -> Graph:
    return paycompile.compile_spec(load_spec_text(spec_text(count, extra)))


@cache
def files_of(count: int, extra: tuple[str, ...] = ()) -> dict[str, str]:
    return BACKEND.render_set(graph_of(count, extra), "json")


def templates(count: int) -> dict[str, dict[str, Any]]:
    return {name: json.loads(text) for name, text in files_of(count).items()}


def stacks(root: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in root["Resources"].items()
        if resource["Type"] == "AWS::CloudFormation::Stack"
    }


def service_of(logical_id: str, names: list[str]) -> str | None:
    """The service a resource exists for, by its logical id (longest matching name)."""
    prefixes = sorted(((name.title().replace("-", ""), name) for name in names), reverse=True)
    return next((name for prefix, name in prefixes if logical_id.startswith(prefix)), None)


# ---------------------------------------------------------------- one stack below the budget


def test_one_service_is_one_template() -> None:
    assert list(files_of(1)) == ["template.json"]


@pytest.mark.parametrize("count", SIZES[1:])
def test_past_the_budget_the_set_is_a_root_and_children(count: int) -> None:
    found = files_of(count)
    assert "root.json" in found and len(found) > 1
    root = json.loads(found["root.json"])
    urls = sorted(stack["Properties"]["TemplateURL"] for stack in stacks(root).values())
    assert urls == sorted(name for name in found if name != "root.json")


# ---------------------------------------------------------------- limits, with margin


@pytest.mark.parametrize("count", SIZES)
def test_every_template_is_under_every_limit_with_margin(count: int) -> None:
    for name, text in files_of(count).items():
        template = json.loads(text)
        found = {
            "resources": len(template["Resources"]),
            "outputs": len(template.get("Outputs", {})),
            "parameters": len(template.get("Parameters", {})),
            "bytes": len(text.encode("utf-8")),
        }
        over = {what: n for what, n in found.items() if n > LIMITS[what] * MARGIN}
        assert not over, f"{name} of {count} services: {over}"


# ---------------------------------------------------------------- references resolve


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if "Ref" in value:
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            yield from (
                name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", value["Fn::Sub"])
            )
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


def _stack_outputs(value: Any) -> Iterator[tuple[str, str]]:
    """(stack, output) for every `Fn::GetAtt [Stack, Outputs.X]` and `${Stack.Outputs.X}`."""
    if isinstance(value, dict):
        if "Fn::GetAtt" in value and str(value["Fn::GetAtt"][1]).startswith("Outputs."):
            yield value["Fn::GetAtt"][0], value["Fn::GetAtt"][1].removeprefix("Outputs.")
        if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
            yield from re.findall(
                r"\$\{([A-Za-z0-9]+)\.Outputs\.([A-Za-z0-9]+)\}", value["Fn::Sub"]
            )
        for item in value.values():
            yield from _stack_outputs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _stack_outputs(item)


@pytest.mark.parametrize("count", SIZES[1:])
def test_every_reference_resolves_within_its_template(count: int) -> None:
    for name, template in templates(count).items():
        known = {*template["Resources"], *template.get("Parameters", {})}
        for ref in _refs([template["Resources"], template.get("Outputs", {})]):
            assert ref in known or ref.startswith("AWS::"), f"{name}: {ref} is not declared"


@pytest.mark.parametrize("count", SIZES[1:])
def test_every_child_parameter_is_given_from_an_existing_output(count: int) -> None:
    found = templates(count)
    root = found["root.json"]
    children = {
        stack: found[resource["Properties"]["TemplateURL"]]
        for stack, resource in stacks(root).items()
    }
    for stack, resource in stacks(root).items():
        declared = children[stack].get("Parameters", {})
        given = resource["Properties"].get("Parameters", {})
        assert set(given) == set(declared), f"{stack}: given {set(given) ^ set(declared)}"
    for stack, output in _stack_outputs(root):
        assert output in children[stack].get("Outputs", {}), f"{stack} has no output {output}"


@pytest.mark.parametrize("count", SIZES[1:])
def test_every_graph_resource_is_in_exactly_one_template(count: int) -> None:
    seen: dict[str, str] = {}
    for name, template in templates(count).items():
        for logical_id, resource in template["Resources"].items():
            if resource["Type"] == "AWS::CloudFormation::Stack":
                continue
            assert logical_id not in seen, f"{logical_id} in {seen.get(logical_id)} and {name}"
            seen[logical_id] = name
    assert set(graph_of(count).nodes) <= set(seen)


@pytest.mark.parametrize("count", SIZES[1:])
def test_exports_are_unique_across_the_set(count: int) -> None:
    exports = [
        json.dumps(output["Export"]["Name"])
        for template in templates(count).values()
        for output in template.get("Outputs", {}).values()
        if "Export" in output
    ]
    assert len(exports) == len(set(exports))


@pytest.mark.parametrize("count", SIZES[1:])
def test_every_stack_carries_the_governance_tags(count: int) -> None:
    root = templates(count)["root.json"]
    for stack, resource in stacks(root).items():
        keys = {tag["Key"] for tag in resource["Properties"]["Tags"]}
        assert {"Environment", "CostCenter", "MigrationPhase", "Name"} <= keys, stack


@pytest.mark.parametrize("count", (20, 60))
def test_every_template_is_cfn_lint_clean(count: int) -> None:
    for name, text in files_of(count).items():
        findings = [f for f in lint_findings(text, "us-east-1") if not f.startswith(PACKAGE_ONLY)]
        assert findings == [], name


def test_the_200_service_set_is_cfn_lint_clean_on_the_root_and_the_fullest_child() -> None:
    found = files_of(200)
    fullest = max((name for name in found if name != "root.json"), key=lambda n: len(found[n]))
    for name in ("root.json", fullest):
        findings = [
            f for f in lint_findings(found[name], "us-east-1") if not f.startswith(PACKAGE_ONLY)
        ]
        assert findings == [], name


# ---------------------------------------------------------------- stability


def _homes(count: int, extra: tuple[str, ...] = ()) -> dict[str, tuple[str, int | None]]:
    """Service -> (the file holding its ECS services, its listener-rule priority)."""
    found = {name: json.loads(text) for name, text in files_of(count, extra).items()}
    names = [service for service in graph_of(count, extra).releases]
    homes: dict[str, tuple[str, int | None]] = {}
    for name, template in found.items():
        for logical_id, resource in template["Resources"].items():
            service = service_of(logical_id, names)
            if resource["Type"] == "AWS::ECS::Service" and service:
                homes[service] = (name, homes.get(service, (name, None))[1])
    for template in found.values():
        for logical_id, resource in template["Resources"].items():
            service = service_of(logical_id, names)
            if resource["Type"] == "AWS::ElasticLoadBalancingV2::ListenerRule" and service:
                homes[service] = (homes[service][0], resource["Properties"]["Priority"])
    return homes


def test_adding_a_service_moves_no_other() -> None:
    before = _homes(60)
    after = _homes(60, ("zz-new",))
    assert len(after) == len(before) + 1
    assert {name: after[name] for name in before} == before


# ---------------------------------------------------------------- the command line


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paycompile.cli", *args], capture_output=True, text=True, check=False
    )


def test_build_writes_the_set_to_a_directory_deterministically(tmp_path: Path) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(spec_text(20))
    first, second = tmp_path / "first", tmp_path / "second"
    assert _cli("build", str(spec), "-o", str(first)).returncode == 0
    assert _cli("build", str(spec), "-o", str(second)).returncode == 0
    written = {path.name: path.read_bytes() for path in first.iterdir()}
    assert written == {path.name: path.read_bytes() for path in second.iterdir()}
    assert {name: text.encode() for name, text in files_of(20).items()} == written


@pytest.mark.parametrize("destination", ["-", "template.json"])
def test_build_refuses_a_set_in_one_file(tmp_path: Path, destination: str) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text(spec_text(20))
    target = destination if destination == "-" else str(tmp_path / destination)
    result = _cli("build", str(spec), "-o", target)
    assert result.returncode == 2
    assert "give -o a directory" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == "" and not (tmp_path / "template.json").exists()


def test_an_overflowing_group_is_a_spec_error_at_its_key(tmp_path: Path) -> None:
    doc = yaml.safe_load(spec_text(11))
    for service in doc["services"]:
        service["group"] = 5
    spec = tmp_path / "platform.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = _cli("validate", str(spec))
    assert result.returncode == 1
    assert re.search(r"platform\.yaml:\d+:\d+: services\[10\]\.group: stack group 5", result.stdout)


# ---------------------------------------------------------------- the partition


def _waits(resource: dict[str, Any]) -> set[str]:
    depends = resource.get("DependsOn", [])
    return {
        *_refs(resource.get("Properties", {})),
        *([depends] if isinstance(depends, str) else depends),
    }


@pytest.mark.parametrize("count", SIZES[1:])
def test_the_root_has_no_cycle(count: int) -> None:
    from graphlib import TopologicalSorter

    root = templates(count)["root.json"]
    order = {
        name: _waits(resource) & set(root["Resources"])
        for name, resource in root["Resources"].items()
    }
    TopologicalSorter(order).prepare()  # raises CycleError on a cycle


@pytest.mark.parametrize("count", SIZES[1:])
def test_a_services_resources_stay_together(count: int) -> None:
    """All of a service's resources are in one child, but for the target groups of the
    listener's default service, which the shared listener forwards to."""
    names = list(graph_of(count).releases)
    default = names[0]
    where: dict[str, set[str]] = {}
    for name, template in templates(count).items():
        for logical_id, resource in template["Resources"].items():
            service = service_of(logical_id, names)
            if service is None or resource["Type"] == "AWS::CloudFormation::Stack":
                continue
            if service == default and resource["Type"].endswith("TargetGroup"):
                assert name == "root.json"
                continue
            where.setdefault(service, set()).add(name)
    assert {service: len(files) for service, files in where.items() if len(files) > 1} == {}
    assert "root.json" not in set().union(*where.values())


# ---------------------------------------------------------------- the same platform, judged


@pytest.mark.parametrize("count", (20, 60))
def test_the_set_read_as_one_passes_every_checker(count: int) -> None:
    """The nested set, read back into one template, is the platform the spec asks for: the
    template checker and the semantic judges (reachability, IAM, keys, cutover...) agree."""
    expected = Expectation.from_document(yaml.safe_load(spec_text(count)), None)
    flat = flatten(files_of(count))
    assert check_template(copy.deepcopy(flat), expected) == []
    assert judge_template(flat, expected) == []


# ---------------------------------------------------------------- several load balancers


def test_every_load_balancer_has_the_same_policy() -> None:
    root = templates(200)["root.json"]
    resources = root["Resources"]
    balancers = {k: v for k, v in resources.items() if v["Type"].endswith("::LoadBalancer")}
    assert len(balancers) == 5
    for name, balancer in balancers.items():
        attributes = {
            a["Key"]: a["Value"] for a in balancer["Properties"]["LoadBalancerAttributes"]
        }
        assert attributes["access_logs.s3.enabled"] == "true", name
        assert attributes["routing.http.drop_invalid_header_fields.enabled"] == "true", name
        listeners = [
            v["Properties"]
            for v in resources.values()
            if v["Type"].endswith("::Listener")
            and v["Properties"]["LoadBalancerArn"] == {"Ref": name}
        ]
        assert sorted(p["Port"] for p in listeners) == [80, 443], name
        https = next(p for p in listeners if p["Port"] == 443)
        http = next(p for p in listeners if p["Port"] == 80)
        assert https["SslPolicy"].startswith("ELBSecurityPolicy-TLS13-1-2"), name
        assert http["DefaultActions"][0]["Type"] == "redirect", name


def test_no_load_balancer_passes_its_target_group_or_rule_limits() -> None:
    flat = flatten(files_of(200))
    resources = flat["Resources"]
    rules_per_listener: dict[str, list[int]] = {}
    groups_per_balancer: dict[str, set[str]] = {}
    listener_balancer = {
        k: v["Properties"]["LoadBalancerArn"]["Ref"]
        for k, v in resources.items()
        if v["Type"].endswith("::Listener")
    }
    for resource in resources.values():
        if not resource["Type"].endswith("::ListenerRule"):
            continue
        listener = resource["Properties"]["ListenerArn"]["Ref"]
        rules_per_listener.setdefault(listener, []).append(resource["Properties"]["Priority"])
        for group in resource["Properties"]["Actions"][0]["ForwardConfig"]["TargetGroups"]:
            groups_per_balancer.setdefault(listener_balancer[listener], set()).add(
                group["TargetGroupArn"]["Ref"]
            )
    for listener, priorities in rules_per_listener.items():
        assert len(priorities) <= 100 and len(set(priorities)) == len(priorities), listener
    assert all(len(groups) <= 100 for groups in groups_per_balancer.values())
    outputs = {k: v["Value"] for k, v in flat["Outputs"].items() if k.endswith("Services")}
    served = [name for value in outputs.values() for name in value.split(",")]
    assert sorted(served) == sorted(graph_of(200).releases)


def _balancer_of_rules_cfn(template: dict[str, Any]) -> dict[str, str]:
    resources = template["Resources"]
    return {
        k: resources[v["Properties"]["ListenerArn"]["Ref"]]["Properties"]["LoadBalancerArn"]["Ref"]
        for k, v in resources.items()
        if v["Type"].endswith("::ListenerRule")
    }


def _balancer_of_rules_pulumi(plan: dict[str, Any]) -> dict[str, str]:
    by_name = {
        r["inputs"]["name"]: r["name"]
        for r in plan["resources"]
        if r["type"] == "aws:lb/loadBalancer:LoadBalancer"
    }
    return {
        r["name"]: by_name[r["inputs"]["listenerArn"].split("/")[2]]
        for r in plan["resources"]
        if r["type"] == "aws:lb/listenerRule:ListenerRule"
    }


def test_both_backends_put_each_service_behind_the_same_load_balancer() -> None:
    doc = yaml.safe_load(spec_text(4))
    doc["services"][2]["load_balancer"] = 2
    doc["services"][3]["load_balancer"] = 3
    graph = paycompile.compile_spec(load_spec_text(yaml.safe_dump(doc)))
    template = json.loads(paycompile.render(graph, "cfn"))
    plan = json.loads(paycompile.render(graph, "pulumi"))
    assert _balancer_of_rules_cfn(template) == _balancer_of_rules_pulumi(plan)
    assert _balancer_of_rules_cfn(template) == {
        "Svc001Rule": "Alb",
        "Svc002Rule": "Alb2",
        "Svc003Rule": "Alb3",
    }


def test_an_overfull_load_balancer_is_a_spec_error_at_its_key(tmp_path: Path) -> None:
    doc = yaml.safe_load(spec_text(46))
    for service in doc["services"]:
        service.pop("load_balancer", None)
    spec = tmp_path / "platform.yaml"
    spec.write_text(yaml.safe_dump(doc, sort_keys=False))
    result = _cli("validate", str(spec))
    assert result.returncode == 1
    assert re.search(r":\d+:\d+: services\[45\]\.load_balancer: load balancer 1", result.stdout)


def _group_of(reference: Any) -> str:
    return str(reference["Fn::GetAtt"][0] if "Fn::GetAtt" in reference else reference["Ref"])


def test_no_security_group_passes_its_rule_quota_at_200_services() -> None:
    # A security group holds 60 inbound and 60 outbound rules by default (adjustable, but a
    # platform must deploy on a new account): the database and the endpoints admit the
    # platform's tasks group, not each service's.
    resources = flatten(files_of(200))["Resources"]
    inbound: dict[str, int] = {}
    outbound: dict[str, int] = {}
    for name, resource in resources.items():
        properties = resource.get("Properties", {})
        if resource["Type"] == "AWS::EC2::SecurityGroup":
            inbound[name] = inbound.get(name, 0) + len(properties.get("SecurityGroupIngress", []))
            outbound[name] = outbound.get(name, 0) + len(properties.get("SecurityGroupEgress", []))
        elif resource["Type"] == "AWS::EC2::SecurityGroupIngress":
            group = _group_of(properties["GroupId"])
            inbound[group] = inbound.get(group, 0) + 1
        elif resource["Type"] == "AWS::EC2::SecurityGroupEgress":
            group = _group_of(properties["GroupId"])
            outbound[group] = outbound.get(group, 0) + 1
    assert len(inbound) > 200
    assert max(inbound.values()) <= 60, max(inbound.items(), key=lambda item: item[1])
    assert max(outbound.values()) <= 60, max(outbound.items(), key=lambda item: item[1])
