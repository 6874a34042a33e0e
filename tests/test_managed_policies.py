"""Roles get their permissions from customer managed policies, split to IAM's quotas.

Read from the outputs: the CloudFormation template holds no inline policy, every role's
statements are those 0.1.0 held inline, each managed policy is attached to its role, has no
fixed name and fits 6,144 characters once every reference takes its longest value; the Pulumi
plan registers `aws.iam.Policy` and an attachment per role. At the limits: statements exactly
at the quota stay in one policy and one character more splits them; a service with the most and
longest secrets the spec allows splits its execution role deterministically and still reads
exactly its secrets; a role needing an eleventh managed policy is refused with one clear line.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import paycompile
from paycompile.compiler.builder import Builder
from paycompile.compiler.graph import Graph, Kind
from paycompile.compiler.iam_policies import (
    POLICY_CHARACTERS,
    policies_of,
    policy_characters,
    split_documents,
)
from paycompile.compiler.security import role
from paycompile.errors import RuleViolation
from tests import builds

ROOT = Path(__file__).resolve().parent.parent
# What each role of the reference templates held inline before the move (from the snapshots
# of the commit before it): the statements must have moved unchanged.
INLINE = ROOT / "tests" / "snapshots" / "inline-statements.json"
Template = dict[str, Any]
# The longest value each pseudo parameter takes, and a generated name as long as one can be.
LONGEST = {
    "AWS::Partition": "aws-us-gov",
    "AWS::Region": "ap-southeast-5",
    "AWS::AccountId": "123456789012",
    "AWS::URLSuffix": "amazonaws.com.cn",
}


def resources_of(template: Template, type_name: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == type_name}


def attached(template: Template, role_name: str) -> list[str]:
    return [
        name
        for name, body in resources_of(template, "AWS::IAM::ManagedPolicy").items()
        if {"Ref": role_name} in body["Properties"].get("Roles", [])
    ]


def statements_of(template: Template, role_name: str) -> list[dict[str, Any]]:
    return [
        s
        for name in attached(template, role_name)
        for s in template["Resources"][name]["Properties"]["PolicyDocument"]["Statement"]
    ]


def longest_text(value: Any, template: Template) -> str:
    """A template value as the longest text it can resolve to: pseudo parameters at their
    longest, every other reference as a 64-character generated name in a 160-character ARN."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(longest_text(part, template) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return LONGEST.get(value["Ref"], "r" * 224)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "a" * 224
    if isinstance(value, dict) and "Fn::Sub" in value:
        return re.sub(r"\$\{[^}]*\}", "s" * 224, value["Fn::Sub"])
    return str(value)


def resolved_longest(value: Any, template: Template) -> Any:
    if isinstance(value, dict) and set(value) & {"Fn::Join", "Ref", "Fn::GetAtt", "Fn::Sub"}:
        return longest_text(value, template)
    if isinstance(value, dict):
        return {k: resolved_longest(v, template) for k, v in value.items()}
    if isinstance(value, list):
        return [resolved_longest(v, template) for v in value]
    return value


def iam_characters(document: Any) -> int:
    """The size IAM counts: the JSON text without whitespace."""
    return sum(1 for c in json.dumps(document) if not c.isspace())


# ---------------------------------------------------------------- the reference platform


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_no_role_carries_an_inline_policy_and_every_policy_is_attached_unnamed(
    environment: str,
) -> None:
    template = builds.template(builds.REFERENCE, environment)
    roles = resources_of(template, "AWS::IAM::Role")
    assert resources_of(template, "AWS::IAM::Policy") == {}
    assert all("Policies" not in body["Properties"] for body in roles.values())
    policies = resources_of(template, "AWS::IAM::ManagedPolicy")
    assert sorted(policies) == [
        "ApiCutoverRolePolicy",
        "ApiExecutionRolePolicy",
        "ApiTaskRolePolicy",
        "FlowLogsRolePolicy",
    ]
    for name, body in policies.items():
        props = body["Properties"]
        assert "ManagedPolicyName" not in props, name
        assert "Tags" not in props, name  # the type takes none
        assert props["Roles"] == [{"Ref": name.removesuffix("Policy")}]
        assert props["PolicyDocument"]["Version"] == "2012-10-17"


# The execution role's statements for pulling through the ECR pull-through cache.
IMAGE_CACHE = {"EcrToken", "PullThroughCache"}


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_role_may_do_exactly_what_it_did_inline(environment: str) -> None:
    """The statements moved, unchanged and in order, from the inline policies; since then the
    execution role only gained the pull through the image cache (tests/test_images.py)."""
    inline = json.loads(INLINE.read_text())[environment]
    today = builds.template(builds.REFERENCE, environment)
    assert sorted(inline) == ["ApiCutoverRole", "ApiExecutionRole", "ApiTaskRole", "FlowLogsRole"]
    for name, statements in inline.items():
        kept = [each for each in statements_of(today, name) if each["Sid"] not in IMAGE_CACHE]
        assert kept == statements, name


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_policy_fits_the_quota_with_every_value_at_its_longest(environment: str) -> None:
    template = builds.template(builds.REFERENCE, environment)
    for name, body in resources_of(template, "AWS::IAM::ManagedPolicy").items():
        document = resolved_longest(body["Properties"]["PolicyDocument"], template)
        assert iam_characters(document) <= POLICY_CHARACTERS, name


def test_the_pulumi_plan_registers_a_policy_and_an_attachment_per_role() -> None:
    plan = builds.plan()
    by_type: dict[str, list[dict[str, Any]]] = {}
    for resource in plan["resources"]:
        by_type.setdefault(resource["type"], []).append(resource)
    assert "aws:iam/rolePolicy:RolePolicy" not in by_type
    policies = {r["name"]: r for r in by_type["aws:iam/policy:Policy"]}
    assert sorted(policies) == [
        "ApiCutoverRolePolicy",
        "ApiExecutionRolePolicy",
        "ApiTaskRolePolicy",
        "FlowLogsRolePolicy",
    ]
    arns = {r["answered"]["arn"]: name for name, r in policies.items()}
    roles = {r["answered"]["id"]: r["name"] for r in by_type["aws:iam/role:Role"]}
    attachments = {
        (roles.get(r["inputs"]["role"]), arns.get(r["inputs"]["policyArn"]))
        for r in by_type["aws:iam/rolePolicyAttachment:RolePolicyAttachment"]
        if r["inputs"]["policyArn"] in arns
    }
    assert attachments == {(name.removesuffix("Policy"), name) for name in policies}
    for name, resource in policies.items():
        assert resource["inputs"]["tags"]["Environment"] == "dev", name
        assert "name" not in resource["inputs"] or not resource["inputs"]["name"]


def test_the_graph_makes_every_ecs_service_wait_for_its_roles_policies() -> None:
    """Walks the graph both backends translate: a service reaches, through references and
    dependencies, every managed policy of its task definition's roles (the template's order is
    checked by tests/test_blue_green.py; the Pulumi plan records no dependsOn to read)."""
    graph = paycompile.compile_spec(paycompile.load_spec(builds.REFERENCE))
    for service in graph.of_kind(Kind.ECS_SERVICE):
        reached = _reached(graph, service.logical_id)
        task = graph.resolve(service.props["task_definition"])
        policies = [
            policy.logical_id
            for key in ("execution_role", "task_role")
            for policy in policies_of(graph, graph.resolve(task.props[key]))
        ]
        assert len(policies) == 2
        assert set(policies) <= reached, service.logical_id
    for machine in graph.of_kind(Kind.STATE_MACHINE):
        policies = policies_of(graph, graph.resolve(machine.props["role"]))
        assert {p.logical_id for p in policies} <= _reached(graph, machine.logical_id)


def _reached(graph: Graph, start: str) -> set[str]:
    seen: set[str] = set()
    todo = [start]
    while todo:
        node = graph[todo.pop()]
        for target in [*(r.target for r in node.references()), *node.depends_on]:
            if target not in seen:
                seen.add(target)
                todo.append(target)
    return seen


# ---------------------------------------------------------------- at the limits


def _literal_statements(total: int) -> list[dict[str, Any]]:
    """Two statements on literal resources whose policy is exactly `total` characters."""
    statements = [
        {"Sid": "First", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:x"]},
        {"Sid": "Second", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["arn:"]},
    ]
    graph = Graph("p", "dev", "us-east-1", "ephemeral")
    pad = total - policy_characters(graph, statements)
    statements[1]["Resource"] = ["arn:" + "y" * pad]
    assert policy_characters(graph, statements) == total
    return statements


def test_statements_exactly_at_the_quota_stay_in_one_policy_and_one_more_splits_them() -> None:
    graph = Graph("p", "dev", "us-east-1", "ephemeral")
    at_limit = _literal_statements(POLICY_CHARACTERS)
    assert split_documents(graph, at_limit) == [at_limit]
    over = _literal_statements(POLICY_CHARACTERS + 1)
    assert split_documents(graph, over) == [[over[0]], [over[1]]]
    # And IAM would count the same: the estimate of literal text is exact.
    document = {"Version": "2012-10-17", "Statement": at_limit}
    assert iam_characters(document) == POLICY_CHARACTERS


def _spec_with_secrets(count: int, name_length: int) -> str:
    document = yaml.safe_load(builds.WITH_SECRETS.read_text())
    service = document["services"][0]
    service["secrets"] = {
        f"SECRET_{index:02d}": {"secret": f"s{index:02d}/" + "n" * (name_length - 4)}
        for index in range(count)
    }
    return yaml.safe_dump(document, sort_keys=False)


def test_the_most_and_longest_secrets_split_the_execution_role_deterministically() -> None:
    text = _spec_with_secrets(50, 512)
    graph = paycompile.compile_spec(paycompile.load_spec_text(text, "platform.yaml"))
    execution = graph["ApiExecutionRole"]
    policies = policies_of(graph, execution)
    assert 2 <= len(policies) <= 7
    assert [p.logical_id for p in policies] == [
        "ApiExecutionRolePolicy",
        *(f"ApiExecutionRolePolicy{n}" for n in range(2, len(policies) + 1)),
    ]
    for policy in policies:
        assert policy_characters(graph, policy.props["statements"]) <= POLICY_CHARACTERS
    # The rules (PAY-SEC-007 among them) passed: the parts read exactly the 50 secrets.
    template = json.loads(paycompile.render(graph, "cfn"))
    read = [
        r
        for s in statements_of(template, "ApiExecutionRole")
        if "secretsmanager:GetSecretValue" in s["Action"]
        for r in s["Resource"]
    ]
    assert len(read) == 50
    for name in attached(template, "ApiExecutionRole"):
        document = template["Resources"][name]["Properties"]["PolicyDocument"]
        assert iam_characters(resolved_longest(document, template)) <= POLICY_CHARACTERS, name
    again = paycompile.render(
        paycompile.compile_spec(paycompile.load_spec_text(text, "platform.yaml")), "cfn"
    )
    assert again == paycompile.render(graph, "cfn")


def _builder() -> Builder:
    return Builder(paycompile.load_spec(builds.REFERENCE))


def _filling(count: int) -> list[dict[str, Any]]:
    """`count` statements, each filling a policy of its own."""
    return [
        {"Sid": f"S{i}", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": ["x" * 4000]}
        for i in range(count)
    ]


def test_a_role_may_have_ten_managed_policies() -> None:
    builder = _builder()
    node = role(builder, ("big", "role"), "ecs-tasks.amazonaws.com", _filling(9), ("AWSX",))
    assert len(policies_of(builder.graph, node)) == 9


def test_a_role_needing_an_eleventh_managed_policy_is_refused() -> None:
    with pytest.raises(RuleViolation) as refused:
        role(_builder(), ("big", "role"), "ecs-tasks.amazonaws.com", _filling(10), ("AWSX",))
    message = str(refused.value)
    assert "\n" not in message
    assert "BigRole: its permissions need 10 customer managed policies" in message
    assert "besides 1 AWS managed ones" in message
    assert "at most 10 managed policies to a role" in message


def test_the_cli_refuses_it_in_one_line_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from paycompile.cli import main
    from paycompile.compiler import iam_policies

    monkeypatch.setattr(iam_policies, "POLICIES_PER_ROLE", 0)
    spec = tmp_path / "platform.yaml"
    spec.write_text(builds.REFERENCE.read_text())
    out = tmp_path / "out.json"
    assert main(["build", str(spec), "-o", str(out)]) == 1
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1, error
    assert "FlowLogsRole: its permissions need 1 customer managed policies" in error
    assert not out.exists()
