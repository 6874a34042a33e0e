"""The create-only table is what cfn-lint's registry schemas say, for exactly the types
paycompile emits, and the runtime reads it without cfn-lint."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from paycompile.changes import create_only
from paycompile.changes.cloudformation import HELPER_TYPES, KIND_OF_TYPE

ROOT = Path(__file__).resolve().parent.parent
GENERATOR = ROOT / "scripts" / "generate_create_only.py"
TABLE = ROOT / "paycompile" / "changes" / "create_only.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_create_only", GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_table_is_what_the_installed_cfn_lint_gives() -> None:
    script = generator()
    regenerated = script.render(script.emitted_types())
    assert regenerated == TABLE.read_text(encoding="utf-8"), (
        "paycompile/changes/create_only.py is stale: run python scripts/generate_create_only.py"
    )


def test_the_table_covers_exactly_the_emitted_types() -> None:
    assert set(create_only.CREATE_ONLY) == set(KIND_OF_TYPE) | HELPER_TYPES


def test_known_cases_read_from_the_schemas() -> None:
    assert "Port" in create_only.CREATE_ONLY["AWS::ElasticLoadBalancingV2::TargetGroup"]
    assert "GroupDescription" in create_only.CREATE_ONLY["AWS::EC2::SecurityGroup"]
    assert "DatabaseName" in create_only.CREATE_ONLY["AWS::RDS::DBCluster"]
    assert "ContainerDefinitions" in create_only.CREATE_ONLY["AWS::ECS::TaskDefinition"]
    rule = create_only.CREATE_ONLY["AWS::ElasticLoadBalancingV2::ListenerRule"]
    assert "Priority" not in rule and "Actions" not in rule
    assert "Engine" in create_only.CONDITIONAL["AWS::RDS::DBCluster"]


def test_name_properties_are_derived_for_named_types_only() -> None:
    names = create_only.NAME_PROPERTY
    assert names["AWS::EC2::SecurityGroup"] == "GroupName"
    assert names["AWS::ElasticLoadBalancingV2::TargetGroup"] == "Name"
    assert names["AWS::RDS::DBCluster"] == "DBClusterIdentifier"
    assert names["AWS::IAM::Role"] == "RoleName"
    assert names["AWS::Backup::BackupVault"] == "BackupVaultName"
    # A task definition's family is not a name: a replacement registers a new revision.
    assert "AWS::ECS::TaskDefinition" not in names
    # A reference to another resource's name is not the resource's own name.
    assert "AWS::EC2::SecurityGroupIngress" not in names
    assert "AWS::EC2::FlowLog" not in names


def test_the_diff_runs_without_cfn_lint() -> None:
    code = (
        "import sys\n"
        "from paycompile.cli import main\n"
        "main(['diff', 'tests/snapshots/released/0.1.0/payment-dev.template.json',"
        " 'examples/platform.yaml', '--format', 'json'])\n"
        "assert 'cfnlint' not in sys.modules, 'cfn-lint was imported'\n"
        "assert 'pulumi' not in sys.modules, 'Pulumi was imported'\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
