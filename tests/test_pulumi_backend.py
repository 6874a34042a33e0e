"""The Pulumi backend: its offline plan passes an independent checker (per lifecycle, with the
resource options the engine receives), is byte-stable, fails loudly without the Pulumi CLI, and
`import paycompile` never loads Pulumi."""

from __future__ import annotations

import ast
import copy
import json
import re
import subprocess
import sys
import tomllib
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


def spec_lifecycle(document: dict[str, Any], environment: str | None) -> str:
    """The lifecycle the spec gives `environment`, read from the spec itself."""
    override = document.get("overrides", {}).get(environment or "", {})
    lifecycle: str = override.get("lifecycle", document["lifecycle"])
    return lifecycle


REFERENCE = yaml.safe_load((ROOT / "examples" / "platform.yaml").read_text())
REFERENCE_DAYS = spec_rotation_days(REFERENCE)


def check(
    plan: dict[str, Any], graph: Graph, days: int = REFERENCE_DAYS, lifecycle: str | None = None
) -> list[str]:
    return violations(
        plan,
        environment=graph.environment,
        rotation_days=days,
        output_names=[o.name for o in graph.outputs],
        lifecycle=lifecycle or spec_lifecycle(REFERENCE, graph.environment),
    )


@pytest.fixture(scope="module")
def dev(reference_spec_path: Path) -> tuple[Graph, dict[str, Any]]:
    graph = compiled(reference_spec_path)
    return graph, plan_of(graph)


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_reference_spec_passes_the_checker(reference_spec_path: Path, environment: str) -> None:
    graph = compiled(reference_spec_path, environment)
    assert check(plan_of(graph), graph) == []


@pytest.fixture(scope="module")
def prod(reference_spec_path: Path) -> tuple[Graph, dict[str, Any]]:
    graph = compiled(reference_spec_path, "prod")
    return graph, plan_of(graph)


def named(plan: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in plan["resources"] if r["name"] == name)


def test_prod_snapshots_and_protects_the_cluster(prod: tuple[Graph, dict[str, Any]]) -> None:
    cluster = named(prod[1], "DbCluster")
    inputs = cluster["inputs"]
    assert inputs["deletionProtection"] is True and inputs["skipFinalSnapshot"] is False
    # A fresh suffix per cluster: a second deletion of `prod` cannot clash with the first.
    assert re.fullmatch(r"payment-db-prod-final-[0-9a-f]{8}", inputs["finalSnapshotIdentifier"])
    assert cluster["dependencies"]["finalSnapshotIdentifier"] == ["DbClusterFinalSnapshotSuffix"]
    suffix = named(prod[1], "DbClusterFinalSnapshotSuffix")
    assert suffix["type"] == "random:index/randomId:RandomId"
    assert suffix["inputs"]["keepers"] == {"cluster": "payment-db-prod"}
    assert inputs["applyImmediately"] is True


# What each lifecycle asks of the engine, per resource: (protect, retainOnDelete).
LIFECYCLE_OPTIONS = {
    "ephemeral": {
        "DbCluster": (False, False),
        "Alb": (False, False),
        "DataKey": (False, False),
        "DbSecret": (False, False),
        "ApiLogGroup": (False, False),
        "BackupVault": (False, True),
        "AlbLogsBucket": (False, True),
        "AlbLogsBucketLifecycle": (False, True),
        "AlbLogsBucketPublicAccessBlock": (False, True),
        "AlbLogsBucketPolicy": (False, False),
        "ApiBlueService": (False, False),
    },
    "retained": {
        "DbCluster": (True, False),
        "Alb": (True, False),
        "DataKey": (False, True),
        "DbSecret": (False, True),
        "DbSecretPassword": (False, True),
        "ApiLogGroup": (False, True),
        "BackupVault": (False, True),
        "AlbLogsBucket": (False, True),
        "AlbLogsBucketLifecycle": (False, True),
        "AlbLogsBucketPublicAccessBlock": (False, True),
        "AlbLogsBucketPolicy": (False, False),
        "ApiBlueService": (False, False),
    },
}


@pytest.mark.parametrize(("environment", "lifecycle"), [("dev", "ephemeral"), ("prod", "retained")])
def test_the_plan_records_each_lifecycles_options(
    dev: tuple[Graph, dict[str, Any]],
    prod: tuple[Graph, dict[str, Any]],
    environment: str,
    lifecycle: str,
) -> None:
    plan = (dev if environment == "dev" else prod)[1]
    for name, (protect, retain) in LIFECYCLE_OPTIONS[lifecycle].items():
        options = named(plan, name)["options"]
        assert (options["protect"], options["retainOnDelete"]) == (protect, retain), name
    everything = [r["options"] for r in plan["resources"]]
    # Replacements create first everywhere, stated explicitly; nothing is both kept and guarded;
    # the write-only passwords need no ignoreChanges.
    assert {o["deleteBeforeReplace"] for o in everything} == {False}
    assert not any(o["protect"] and o["retainOnDelete"] for o in everything)
    assert all(o["ignoreChanges"] == [] for o in everything)


def test_the_password_is_written_once(dev: tuple[Graph, dict[str, Any]]) -> None:
    plan = dev[1]
    cluster, version = named(plan, "DbCluster"), named(plan, "DbSecretAttachment")
    assert "masterPassword" not in cluster["inputs"] and "secretString" not in version["inputs"]
    assert (
        cluster["inputs"]["masterPasswordWo"] == version["inputs"]["secretStringWo"] == "[secret]"
    )
    assert cluster["inputs"]["masterPasswordWoVersion"] == 1
    assert version["inputs"]["secretStringWoVersion"] == 1
    assert cluster["dependencies"]["masterPasswordWo"] == ["DbSecretPassword"]
    assert "DbSecretPassword" in version["dependencies"]["secretStringWo"]
    # ...and again only with a new cluster, which starts with the generated password.
    assert version["options"]["replaceWith"] == ["DbCluster"]


def test_the_parameter_group_is_left_to_auto_naming(dev: tuple[Graph, dict[str, Any]]) -> None:
    group = named(dev[1], "DbParams")
    assert (
        "name" not in group["inputs"] and group["inputs"]["tags"]["Name"] == "payment-db-params-dev"
    )


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
    cluster["inputs"]["masterPasswordWo"] = "MySecurePassword123!"
    del cluster["dependencies"]["masterPasswordWo"]
    version = named(broken, "DbSecretAttachment")
    version["inputs"]["secretString"] = version["inputs"].pop("secretStringWo")
    found = check(broken, graph)
    assert any("DbCluster: masterPasswordWo is not the generated" in v for v in found)
    assert any("DbSecretAttachment: secretString is diffed on every update" in v for v in found)


def test_checker_catches_lifecycle_breakage(prod: tuple[Graph, dict[str, Any]]) -> None:
    graph, plan = prod
    broken = copy.deepcopy(plan)
    named(broken, "DbCluster")["options"]["protect"] = False
    named(broken, "AlbLogsBucketLifecycle")["options"]["retainOnDelete"] = False
    named(broken, "ApiBlueService")["options"]["deleteBeforeReplace"] = None
    del named(broken, "DbCluster")["dependencies"]["finalSnapshotIdentifier"]
    found = check(broken, graph)
    assert "DbCluster: protect should be True when retained" in found
    assert "AlbLogsBucketLifecycle: retainOnDelete should be True when retained" in found
    assert any(v.startswith("ApiBlueService: deleteBeforeReplace is None") for v in found)
    assert any("final snapshot name is fixed" in v for v in found)
    # The same plan read as ephemeral breaks the other way round.
    assert any(
        "DbCluster: protect should be False" in v for v in check(plan, graph, lifecycle="ephemeral")
    )


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
    lifecycle = spec_lifecycle(generated.document, generated.environment)
    days = spec_rotation_days(generated.document)
    assert check(plan_of(graph), graph, days, lifecycle) == []


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


# Modules of the Pulumi SDK the backend may import from: the documented public API.
PUBLIC_PULUMI = {
    "pulumi",
    "pulumi.runtime",
    "pulumi.runtime.mocks",
    "pulumi.automation",
    "pulumi_aws",
    "pulumi_random",
}
INTERNALS = re.compile(r"_sync_await|run_pulumi_func|settings\.ROOT|\bSETTINGS\b|pulumi[\w.]*\._\w")


def test_the_backend_uses_only_the_public_pulumi_api() -> None:
    found = []
    for path in sorted((ROOT / "paycompile" / "backends" / "pulumi").glob("*.py")):
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi"):
                if node.module not in PUBLIC_PULUMI:
                    found.append(f"{path.name}: from {node.module}")
                found += [f"{path.name}: {a.name}" for a in node.names if a.name.startswith("_")]
            if isinstance(node, ast.Import):
                found += [
                    f"{path.name}: import {a.name}"
                    for a in node.names
                    if a.name.startswith("pulumi") and a.name not in PUBLIC_PULUMI
                ]
        found += [f"{path.name}: {m.group()}" for m in INTERNALS.finditer(source)]
    assert found == []


def test_the_pinned_pulumi_range_starts_at_what_the_suite_runs() -> None:
    """pyproject's lower bounds are the releases constraints.txt installs for the suite, and
    each range stops before the next major version."""
    from packaging.requirements import Requirement
    from packaging.version import Version

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pins = [Requirement(r) for r in project["project"]["optional-dependencies"]["pulumi"]]
    constraints = dict(
        line.split("==") for line in (ROOT / "constraints.txt").read_text().split() if "==" in line
    )
    for pin in (p for p in pins if p.name.startswith("pulumi")):
        run = Version(constraints[pin.name.replace("-", "_")])
        specs = {(s.operator, Version(s.version)) for s in pin.specifier}
        assert (">=", run) in specs, f"{pin}: the suite runs {run}"
        assert any(op == "<" for op, _ in specs), f"{pin} has no upper bound"
