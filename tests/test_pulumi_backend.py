"""The Pulumi backend: its offline plan passes an independent checker, is byte-stable, fails
loudly without the Pulumi CLI, and `import paycompile` never loads Pulumi."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given

import paycompile
from paycompile.compiler.graph import Graph
from tests.checkers.pulumi_checker import LISTENER, TARGET_GROUP, of_type, violations
from tests.strategies import GeneratedSpec, valid_specs

ROOT = Path(__file__).resolve().parent.parent


def compiled(path: Path, environment: str | None = None) -> Graph:
    return paycompile.compile_spec(paycompile.load_spec(path, environment=environment))


def plan_of(graph: Graph) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(paycompile.render(graph, "pulumi"))
    return result


def spec_rotation_days(document: dict[str, Any]) -> int:
    """The rotation period the spec asks for, read from the spec itself, not from the graph."""
    days: int = document.get("database", {}).get("secret_rotation_days", 30)
    return days


REFERENCE_DAYS = spec_rotation_days(
    yaml.safe_load((ROOT / "examples" / "platform.yaml").read_text())
)


def check(plan: dict[str, Any], graph: Graph, days: int = REFERENCE_DAYS) -> list[str]:
    return violations(
        plan,
        environment=graph.environment,
        rotation_days=days,
        output_names=[o.name for o in graph.outputs],
    )


@pytest.fixture(scope="module")
def dev(reference_spec_path: Path) -> tuple[Graph, dict[str, Any]]:
    graph = compiled(reference_spec_path)
    return graph, plan_of(graph)


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_reference_spec_passes_the_checker(reference_spec_path: Path, environment: str) -> None:
    graph = compiled(reference_spec_path, environment)
    assert check(plan_of(graph), graph) == []


def test_prod_snapshots_and_protects_the_cluster(reference_spec_path: Path) -> None:
    plan = plan_of(compiled(reference_spec_path, "prod"))
    cluster = next(r for r in plan["resources"] if r["type"] == "aws:rds/cluster:Cluster")["inputs"]
    assert cluster["deletionProtection"] is True
    assert cluster["skipFinalSnapshot"] is False
    assert cluster["finalSnapshotIdentifier"] == "payment-db-prod-final"


def test_plan_has_every_output_and_no_secret_in_clear(dev: tuple[Graph, dict[str, Any]]) -> None:
    graph, plan = dev
    # Besides the graph's outputs, the deploy-time inputs the program ran with.
    assert sorted(plan["outputs"]) == sorted([*(o.name for o in graph.outputs), "DeployInputs"])
    assert plan["outputs"]["DeployInputs"] == graph.input_defaults()
    text = json.dumps(plan)
    assert "mock-DbSecretPassword" not in text  # the mock's generated password never shows


def test_checker_catches_a_missing_target_group(dev: tuple[Graph, dict[str, Any]]) -> None:
    graph, plan = dev
    broken = copy.deepcopy(plan)
    green = next(
        r
        for r in of_type(broken["resources"], TARGET_GROUP)
        if r["inputs"]["tags"]["DeploymentColor"] == "green"
    )
    broken["resources"].remove(green)
    assert any("blue and one green" in v for v in check(broken, graph))


def test_checker_catches_a_literal_password(dev: tuple[Graph, dict[str, Any]]) -> None:
    graph, plan = dev
    broken = copy.deepcopy(plan)
    cluster = next(r for r in broken["resources"] if r["type"] == "aws:rds/cluster:Cluster")
    cluster["inputs"]["masterPassword"] = "MySecurePassword123!"
    del cluster["dependencies"]["masterPassword"]
    assert any("master password" in v for v in check(broken, graph))


def test_checker_catches_a_weak_ssl_policy(dev: tuple[Graph, dict[str, Any]]) -> None:
    graph, plan = dev
    broken = copy.deepcopy(plan)
    https = next(r for r in of_type(broken["resources"], LISTENER) if r["inputs"]["port"] == 443)
    https["inputs"]["sslPolicy"] = "ELBSecurityPolicy-2016-08"
    assert any("TLS 1.2+" in v for v in check(broken, graph))


def test_checker_catches_an_invented_rotation_lambda(dev: tuple[Graph, dict[str, Any]]) -> None:
    graph, plan = dev
    broken = copy.deepcopy(plan)
    rotation = next(
        r for r in broken["resources"] if r["type"].endswith("secretRotation:SecretRotation")
    )
    rotation["inputs"]["rotationLambdaArn"] = (
        "arn:aws:lambda:us-east-1:aws:function:SecretsManagerRDSMySQLRotationSingleUser"
    )
    rotation["dependencies"].pop("rotationLambdaArn")
    rotation["inputs"]["rotationRules"]["automaticallyAfterDays"] = 90
    found = check(broken, graph)
    assert any("SAR rotation stack" in v for v in found)
    assert any("at most 30" in v for v in found)


def test_checker_catches_missing_tags_wildcards_and_two_zones(
    dev: tuple[Graph, dict[str, Any]],
) -> None:
    graph, plan = dev
    broken = copy.deepcopy(plan)
    vpc = next(r for r in broken["resources"] if r["type"] == "aws:ec2/vpc:Vpc")
    del vpc["inputs"]["tags"]["CostCenter"]
    policy = next(r for r in broken["resources"] if r["type"] == "aws:iam/rolePolicy:RolePolicy")
    policy["inputs"]["policy"] = json.dumps(
        {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    )
    subnet = next(r for r in broken["resources"] if r["name"] == "PublicSubnet3")
    broken["resources"].remove(subnet)
    broken["outputs"].pop("VpcId")
    found = check(broken, graph)
    assert any("lacks tags ['CostCenter']" in v for v in found)
    assert any("wildcard actions ['s3:*']" in v for v in found)
    assert any(v.startswith("public subnets") for v in found)
    assert "output VpcId is missing" in found


@given(valid_specs())
def test_every_valid_spec_gives_a_compliant_plan(generated: GeneratedSpec) -> None:
    spec = paycompile.load_spec_text(generated.text, "gen.yaml", generated.environment)
    graph = paycompile.compile_spec(spec)
    assert check(plan_of(graph), graph, spec_rotation_days(generated.document)) == []


def test_plan_is_byte_stable_in_one_process(reference_spec_path: Path) -> None:
    graph = compiled(reference_spec_path)
    first = paycompile.render(graph, "pulumi")
    second = paycompile.render(compiled(reference_spec_path), "pulumi")
    assert first == second
    assert first.endswith("}\n") and json.loads(first)


def test_deploy_without_the_cli_raises_the_install_hint(
    reference_spec_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from paycompile.backends import pulumi as backend

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    lines: list[str] = []
    with pytest.raises(paycompile.BackendError) as error:
        backend.deploy(compiled(reference_spec_path), "up", None, lines.append)
    message = str(error.value)
    assert "\n" not in message
    assert "curl -fsSL https://get.pulumi.com | sh" in message
    assert "https://www.pulumi.com/docs/install/" in message
    assert error.value.exit_code == 3
    assert lines == [] and not (tmp_path / "data").exists()


@pytest.mark.parametrize("action", ["preview", "up", "destroy"])
def test_cli_deploy_commands_without_the_cli_exit_3_with_one_line(
    reference_spec_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    action: str,
) -> None:
    from paycompile.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    assert main([action, str(reference_spec_path), "--backend", "pulumi", "--env", "prod"]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "get.pulumi.com" in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "data").exists()


def test_deploy_without_a_passphrase_says_how_to_set_it(
    reference_spec_path: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from paycompile.backends.pulumi import automation

    monkeypatch.setattr(automation.shutil, "which", lambda name: "/usr/bin/pulumi")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE", raising=False)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    with pytest.raises(paycompile.BackendError, match="PULUMI_CONFIG_PASSPHRASE"):
        automation.deploy(compiled(reference_spec_path), "preview", None, print)
    assert not (tmp_path / "data").exists()


def test_missing_plugin_error_becomes_the_install_command() -> None:
    from paycompile.backends.pulumi.automation import command_error_line

    text = (
        "code: 255\nstderr: error: no resource plugin 'pulumi-resource-aws' "
        "found in the workspace\n"
    )
    line = command_error_line(text)
    assert "pulumi plugin install resource aws v" in line and "\n" not in line


def test_import_paycompile_and_cfn_never_load_pulumi() -> None:
    code = (
        "import paycompile, sys; "
        "spec = paycompile.load_spec('examples/platform.yaml'); "
        "paycompile.render(paycompile.compile_spec(spec), 'cfn'); "
        "loaded = sorted(m for m in sys.modules if m.startswith('pulumi')); "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)
