"""What importing paycompile and running one command loads: the import floor (docs/performance.md).

Each check runs in a fresh interpreter and reads its `sys.modules`, since this test process has
long since imported everything.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

import paycompile
from paycompile import cli
from tests.conftest import REFERENCE_SPEC, ROOT

# Libraries only some commands need: never loaded by `import paycompile`.
HEAVY = ("troposphere", "pulumi", "pulumi_aws", "boto3", "botocore", "rich", "jinja2", "cfn_flip")
DEPLOYMENT = "paycompile.deployment."


def loaded_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running `code`."""
    script = f"{code}\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    modules: list[str] = json.loads(done.stdout.splitlines()[-1])
    return modules


def of(modules: list[str], *roots: str) -> list[str]:
    return [m for m in modules if m.split(".")[0] in roots]


def test_import_paycompile_loads_no_library_and_no_deployment_module() -> None:
    modules = loaded_after("import paycompile")
    assert of(modules, *HEAVY) == []
    assert [m for m in modules if m.startswith(DEPLOYMENT)] == []
    # Nor the spec's models or the compiler: they load with the first function that needs them.
    assert of(modules, "pydantic", "yaml") == []
    assert [m for m in modules if m.startswith("paycompile.")] == []


def test_every_exported_name_resolves_and_is_listed() -> None:
    code = (
        "import paycompile\n"
        "missing = [n for n in paycompile.__all__ if getattr(paycompile, n, None) is None]\n"
        "assert not missing, missing\n"
        "assert set(paycompile.__all__) <= set(dir(paycompile))\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    with pytest.raises(AttributeError, match="no attribute 'nonesuch'"):
        paycompile.nonesuch  # noqa: B018


def test_deploy_is_the_function_even_after_the_deployment_package_is_imported() -> None:
    code = (
        "import paycompile.deployment.approval\n"
        "from paycompile.deployment import approval, cloudformation as engine\n"
        "import paycompile\n"
        "print(callable(paycompile.deploy), paycompile.deploy is engine.deploy,"
        " paycompile.Guard is approval.Guard)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["True", "True", "True"]


@pytest.mark.parametrize(
    ("argv", "absent"),
    [
        (["build", str(REFERENCE_SPEC), "--backend", "cfn", "-o", "{out}"], ()),
        # validate reads the spec only: no compiler, no rules, no backend.
        (
            ["validate", str(REFERENCE_SPEC)],
            ("troposphere", "paycompile.backends", "paycompile.compiler"),
        ),
    ],
    ids=["build", "validate"],
)
def test_build_and_validate_load_neither_deployment_nor_other_commands(
    tmp_path: Path, argv: list[str], absent: tuple[str, ...]
) -> None:
    out = str(tmp_path / "template.json")
    argv = [word.replace("{out}", out) for word in argv]
    modules = loaded_after(f"from paycompile.cli import main\nassert main({argv!r}) == 0")
    assert [m for m in modules if m.startswith(DEPLOYMENT)] == []
    assert of(modules, "pulumi", "pulumi_aws", "boto3", "botocore", "rich", "jinja2") == []
    others = {f"paycompile.cli.{group}" for group in cli.COMMANDS.values()}
    others.discard(f"paycompile.cli.{cli.COMMANDS[argv[0]]}")
    assert sorted(others & set(modules)) == []
    assert [m for m in modules if absent and m.startswith(absent)] == []


def test_every_command_is_registered_by_the_group_the_table_names() -> None:
    """The CLI imports one group per command from `COMMANDS`: a command a group registers but
    the table does not name would be unreachable."""
    registered: dict[str, str] = {}
    for group in dict.fromkeys(cli.COMMANDS.values()):
        parser = argparse.ArgumentParser()
        commands = parser.add_subparsers()
        importlib.import_module(f"paycompile.cli.{group}").register(commands)
        registered.update(dict.fromkeys(commands.choices, group))
    assert registered == cli.COMMANDS
