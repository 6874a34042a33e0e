"""The Pulumi backend: its offline plan passes an independent checker (per lifecycle, with the
resource options the engine receives), is byte-stable, fails loudly without the Pulumi CLI, and
`import paycompile` never loads Pulumi."""

from __future__ import annotations

import ast
import dataclasses
import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

import paycompile
from paycompile.compiler.graph import Graph
from tests import builds
from tests.checkers.expectation import Expectation
from tests.checkers.pulumi_checker import check_plan

ROOT = Path(__file__).resolve().parent.parent


def compiled(path: Path, environment: str | None = None) -> Graph:
    return paycompile.compile_spec(paycompile.load_spec(path, environment=environment))


def plan_of(graph: Graph) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(paycompile.render(graph, "pulumi"))
    return result


REFERENCE = builds.document(builds.REFERENCE)


def check(plan: dict[str, Any], graph: Graph, lifecycle: str | None = None) -> list[str]:
    """The checkers' findings on `plan`, a plan of the reference spec built as `graph`."""
    expected = Expectation.from_document(REFERENCE, graph.environment)
    if lifecycle is not None:
        expected = dataclasses.replace(expected, lifecycle=lifecycle)
    return check_plan(plan, expected, [o.name for o in graph.outputs])


@pytest.fixture(scope="module")
def dev() -> tuple[Graph, dict[str, Any]]:
    return builds.graph(builds.REFERENCE), builds.plan(builds.REFERENCE)


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize("after_cutover", [False, True], ids=["as-created", "after-cutover"])
def test_reference_spec_passes_the_checker(environment: str, after_cutover: bool) -> None:
    """As a new platform starts, and run again with every colour flipped (after a cutover)."""
    graph = builds.graph(builds.REFERENCE, environment)
    plan = builds.plan(builds.REFERENCE, environment, after_cutover=after_cutover)
    expected = builds.expectation(builds.REFERENCE, environment)
    expected = expected.flipped() if after_cutover else expected
    assert check_plan(plan, expected, [o.name for o in graph.outputs]) == []


@pytest.fixture(scope="module")
def prod() -> tuple[Graph, dict[str, Any]]:
    return builds.graph(builds.REFERENCE, "prod"), builds.plan(builds.REFERENCE, "prod")


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


# Breakages the checker must flag are in tests/mutations/catalogue.py (tests/test_mutations.py);
# every generated spec's plan is checked in tests/test_cross_backend.py, which builds it anyway.


def test_the_checker_sees_lifecycle_options_the_other_way_round(
    prod: tuple[Graph, dict[str, Any]],
) -> None:
    """The prod plan read as ephemeral breaks the lifecycle the other way round."""
    graph, plan = prod
    found = check(plan, graph, lifecycle="ephemeral")
    assert "DbCluster: protect should be False when ephemeral" in found
    assert "BackupVault: retainOnDelete should be True when ephemeral" not in found


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
# The one exception, for memory: the offline plan drops the dependency sets Pulumi's cycle check
# keeps on registered resources (docs/performance.md); without the name it drops nothing, and
# tests/test_scaling.py::test_pulumi_still_keeps_dependencies_where_the_plan_drops_them fails.
ALLOWED_INTERNALS = [
    "plan.py: from pulumi.runtime.resource_cycle_breaker",
    "plan.py: _DEPENDENCIES_PROPERTY",
]


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
    assert found == ALLOWED_INTERNALS


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
