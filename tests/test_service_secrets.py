"""`services[].secrets`: existing Secrets Manager secrets injected by ECS, readable by the
service's execution role and by nothing else, never a value in the spec, template or plan."""

from __future__ import annotations

import json
import subprocess
import sys
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import builds
from tests.checkers.expectation import Expectation
from tests.checkers.semantic import judge_plan as check_plan
from tests.checkers.semantic import judge_template as check_template

SPEC = Path(__file__).resolve().parent / "specs" / "secrets.yaml"
PSP_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:payment/psp-AbCdEf"
ACCOUNT, REGION = "123456789012", "us-east-1"
# What the webhook secret's ARN is once Secrets Manager has named it.
WEBHOOK_ARN = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:payment/webhook-signing-Xy12Ab"
PSEUDO = {
    "AWS::Partition": "aws",
    "AWS::Region": REGION,
    "AWS::AccountId": ACCOUNT,
    "AWS::URLSuffix": "amazonaws.com",
}


def resolved(value: Any) -> Any:
    """A template value with Fn::Join over pseudo parameters resolved as AWS would."""
    if isinstance(value, dict) and "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return separator.join(str(resolved(part)) for part in parts)
    if isinstance(value, dict) and "Ref" in value:
        return PSEUDO.get(value["Ref"], f"<{value['Ref']}>")
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return "<{}.{}>".format(*value["Fn::GetAtt"])
    if isinstance(value, list):
        return [resolved(item) for item in value]
    if isinstance(value, dict):
        return {key: resolved(item) for key, item in value.items()}
    return value


def allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """IAM's answer for an identity policy without conditions: some Allow matches, no Deny."""

    def matches(s: dict[str, Any]) -> bool:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        return any(fnmatchcase(action, a) for a in actions) and any(
            fnmatchcase(resource, r) for r in resources
        )

    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return False
    return any(s["Effect"] == "Allow" and matches(s) for s in statements)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return resolved(builds.template(SPEC))


def attached_policies(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The documents of the managed policies the template attaches to `role`."""
    return [
        body["Properties"]["PolicyDocument"]
        for body in template["Resources"].values()
        if body["Type"] == "AWS::IAM::ManagedPolicy"
        and any(r in ({"Ref": role}, f"<{role}>") for r in body["Properties"].get("Roles", []))
    ]


def role_statements(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    return [s for document in attached_policies(template, role) for s in document["Statement"]]


def execution_statements(template: dict[str, Any]) -> list[dict[str, Any]]:
    return role_statements(template, "ApiExecutionRole")


def test_the_execution_role_reads_the_declared_secrets_and_no_other(
    template: dict[str, Any],
) -> None:
    statements = execution_statements(template)
    read = "secretsmanager:GetSecretValue"
    assert allowed(statements, read, PSP_ARN)
    assert allowed(statements, read, WEBHOOK_ARN)
    for other in (
        PSP_ARN.replace("psp-AbCdEf", "psp-ZZZZZZ"),  # another version of the name: another secret
        WEBHOOK_ARN.replace("webhook-signing-", "webhook-signing-old-"),
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:payment/other-AbCdEf",
    ):
        assert not allowed(statements, read, other), other
    # Nothing else in Secrets Manager, and the task role never reads these secrets.
    assert not allowed(statements, "secretsmanager:ListSecrets", "*")
    assert role_statements(template, "ApiTaskRole")
    assert not allowed(role_statements(template, "ApiTaskRole"), read, PSP_ARN)


def test_decrypting_goes_through_secrets_manager_only(template: dict[str, Any]) -> None:
    decrypts = [s for s in execution_statements(template) if "kms:Decrypt" in s["Action"]]
    assert decrypts
    for s in decrypts:
        assert s["Condition"] == {
            "StringEquals": {"kms:ViaService": "secretsmanager.us-east-1.amazonaws.com"}
        }


def test_ecs_injects_each_secret_by_reference(template: dict[str, Any]) -> None:
    for color in ("Blue", "Green"):
        container = template["Resources"][f"Api{color}Task"]["Properties"]
        secrets = container["ContainerDefinitions"][0]["Secrets"]
        assert secrets == [
            {"Name": "PSP_API_KEY", "ValueFrom": f"{PSP_ARN}:api_key::"},
            {
                "Name": "WEBHOOK_SIGNING_KEY",
                "ValueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:"
                "payment/webhook-signing",
            },
        ]
        names = {e["Name"] for e in container["ContainerDefinitions"][0]["Environment"]}
        assert not names & {"PSP_API_KEY", "WEBHOOK_SIGNING_KEY"}


def test_the_pulumi_plan_injects_the_same_references() -> None:
    plan = builds.plan(SPEC)
    task = next(r for r in plan["resources"] if r["name"] == "ApiBlueTask")
    definitions = task["inputs"]["containerDefinitions"]
    containers = json.loads(definitions) if isinstance(definitions, str) else definitions
    secrets = {s["name"]: s["valueFrom"] for s in containers[0]["secrets"]}
    assert secrets["PSP_API_KEY"] == f"{PSP_ARN}:api_key::"
    assert secrets["WEBHOOK_SIGNING_KEY"].endswith(":secret:payment/webhook-signing")


@pytest.mark.parametrize("backend", ["cfn", "pulumi"])
def test_the_checkers_accept_the_platform_with_secrets(backend: str) -> None:
    expected = builds.expectation(SPEC)
    found = (
        check_template(builds.template(SPEC), expected)
        if backend == "cfn"
        else check_plan(builds.plan(SPEC), expected)
    )
    assert found == []


def test_the_checkers_flag_a_role_that_reads_an_undeclared_secret() -> None:
    template = builds.template(SPEC)
    read = next(s for s in execution_statements(template) if s["Sid"] == "ReadServiceSecrets")
    read["Resource"].append(PSP_ARN.replace("psp-AbCdEf", "other-AbCdEf"))
    found = check_template(template, builds.expectation(SPEC))
    assert any("more than its job needs" in f and "other-AbCdEf" in f for f in found), found


# ---------------------------------------------------------------- the spec


def spec_with(secrets: Any, environment: dict[str, str] | None = None) -> dict[str, Any]:
    document = yaml.safe_load(SPEC.read_text())
    document["services"][0]["secrets"] = secrets
    if environment is not None:
        document["services"][0]["environment_variables"] = environment
    return document


def validate(tmp_path: Path, document: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "platform.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return subprocess.run(
        [str(Path(sys.executable).parent / "paycompile"), "validate", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("secrets", "environment", "says"),
    [
        ({"PSP_MODE": {"secret": "payment/psp"}}, {"PSP_MODE": "live"}, "both a secret and"),
        ({"1BAD": {"secret": "payment/psp"}}, None, "secrets"),
        ({"PSP_API_KEY": {"secret": "payment/psp", "key": "a:b"}}, None, "key"),
        ({"PSP_API_KEY": {"secret": "has spaces"}}, None, "secret"),
        ({"PSP_API_KEY": {"secret": "sk_live_" + "a1B2c3D4e5F6g7H8i9J0k1L2"}}, None, "secret"),
        (
            {"PSP_API_KEY": {"secret": "payment/psp", "value": "hunter2"}},
            None,
            "allowed: secret, key",
        ),
    ],
    ids=["also-env", "bad-name", "key-colon", "bad-reference", "value-pasted", "extra-field"],
)
def test_bad_secrets_are_refused_in_one_line(
    tmp_path: Path, secrets: Any, environment: dict[str, str] | None, says: str
) -> None:
    result = validate(tmp_path, spec_with(secrets, environment))
    assert result.returncode == 1, result.stdout + result.stderr
    said = result.stdout + result.stderr  # validate reports on stdout
    lines = [line for line in said.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in said, said
    assert "platform.yaml:" in lines[0] and "services[0]" in lines[0] and says in lines[0]
    assert "hunter2" not in said


def test_expectation_reads_the_spec() -> None:
    assert isinstance(builds.expectation(SPEC), Expectation)
