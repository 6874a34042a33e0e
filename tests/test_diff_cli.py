"""`paycompile diff BASE HEAD` as a user and a PR gate run it: sides given as spec files,
`git-rev:path` and built templates (JSON or YAML); text, Markdown and JSON; the exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from paycompile.cli import main

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
RELEASED = ROOT / "tests" / "snapshots" / "released" / "0.1.0"
Capture = pytest.CaptureFixture[str]


def run(argv: list[str], capsys: Capture) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out, captured.err


def edited(tmp_path: Path, old: str, new: str, name: str = "head.yaml") -> Path:
    text = REFERENCE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def rows(out: str, environment: str) -> dict[str, list[str]]:
    """The text table of one environment: resource -> [action, type, flags]."""
    section = out.split(f"== {environment}", 1)[1].split("\n\n", 1)[0]
    found = {}
    for line in section.splitlines()[2:]:
        cells = line.split(maxsplit=3)
        if len(cells) == 4 and not line.startswith(" ") and not line.startswith("changes:"):
            found[cells[1]] = [cells[0], cells[2], cells[3]]
    return found


def build(tmp_path: Path, spec: Path, environment: str, fmt: str = "json") -> Path:
    out = tmp_path / f"{spec.stem}-{environment}.template.{fmt}"
    code = main(["build", str(spec), "--env", environment, "--format", fmt, "-o", str(out)])
    assert code == 0
    return out


# ---------------------------------------------------------------- specs on both sides


def test_port_change_disrupts_the_live_colour_in_every_environment(
    tmp_path: Path, capsys: Capture
) -> None:
    head = edited(tmp_path, "port: 8080", "port: 9090")
    code, out, _ = run(["diff", str(REFERENCE), str(head)], capsys)
    assert code == 0, "nothing is blocked or lost: an interruption is flagged, not refused"
    for environment in ("dev", "prod"):
        table = rows(out, environment)
        assert table["ApiBlueTg"][0] == "replace" and table["ApiBlueTg"][2] == "disruptive"
        assert table["ApiGreenTg"][0] == "replace" and table["ApiGreenTg"][2] == "-"
        assert "ApiTasksSg" not in table, "the tasks' group no longer holds the port"
        assert table["ApiBlueTask"][0] == "replace" and table["ApiBlueTask"][2] == "-"
    assert "result: blocked" not in out


def test_database_name_change_is_blocked_with_data_loss_even_when_allowed(
    tmp_path: Path, capsys: Capture
) -> None:
    head = edited(tmp_path, "database_name: payments", "database_name: payments2")
    code, out, _ = run(["diff", str(REFERENCE), str(head), "--allow-data-loss"], capsys)
    assert code == 4, "a blocked change fails the gate whatever is allowed"
    cluster = rows(out, "dev")["DbCluster"]
    assert cluster[0] == "replace" and cluster[2] == "blocked, data loss, disruptive"
    assert "DATA LOST: DbCluster" in out
    assert "; data loss: dev/DbCluster, prod/DbCluster would be destroyed (allowed" in out


def test_no_change_exits_0(capsys: Capture) -> None:
    code, out, _ = run(["diff", str(REFERENCE), str(REFERENCE)], capsys)
    assert code == 0
    assert out.count("no changes") == 2 and "result: no blocked change and no data loss" in out


def test_ordinary_edit_exits_0(tmp_path: Path, capsys: Capture) -> None:
    head = edited(tmp_path, "desired_count: 2", "desired_count: 3")
    code, out, _ = run(["diff", str(REFERENCE), str(head), "--env", "dev"], capsys)
    assert code == 0
    assert rows(out, "dev") == {
        "ApiBlueService": ["in-place", "AWS::ECS::Service", "-"],
        "ApiGreenService": ["in-place", "AWS::ECS::Service", "-"],
        "ApiCutover": ["in-place", "AWS::StepFunctions::StateMachine", "-"],
    }
    assert "== prod" not in out


def test_environment_only_head_declares_is_compared_with_nothing(
    tmp_path: Path, capsys: Capture
) -> None:
    head = edited(tmp_path, "overrides:", "overrides:\n  staging:\n    lifecycle: ephemeral")
    code, out, _ = run(["diff", str(REFERENCE), str(head)], capsys)
    assert code == 0
    assert "== staging (new environment: compared with nothing) ==" in out
    assert set(action for action, _, _ in rows(out, "staging").values()) == {"add"}
    code, out, _ = run(["diff", str(head), str(REFERENCE)], capsys)
    assert "note: staging: declared by BASE only" in out and "== staging" not in out


# ---------------------------------------------------------------- git and templates


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_revision_side(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    shutil.copy(REFERENCE, tmp_path / "platform.yaml")
    git("init", "-q", "-b", "main")
    git(
        "-c",
        "user.name=t",
        "-c",
        "user.email=t@example.com",
        "commit",
        "-q",
        "--allow-empty",
        "-m",
        "0",
    )
    git("add", "platform.yaml")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "spec")
    edited(tmp_path, "database_name: payments", "database_name: ledger", "platform.yaml")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["diff", "main:platform.yaml", "platform.yaml", "--env", "dev"], capsys)
    assert code == 4 and "DbCluster" in rows(out, "dev")
    assert "main:platform.yaml -> platform.yaml" in out
    code, _, err = run(["diff", "main~1:platform.yaml", "platform.yaml"], capsys)
    assert code == 2 and "main~1:platform.yaml" in err
    code, _, err = run(["diff", "nope:platform.yaml", "platform.yaml"], capsys)
    assert code == 2 and "nope:platform.yaml" in err


def test_invalid_spec_side_names_file_line_and_column(tmp_path: Path, capsys: Capture) -> None:
    head = edited(tmp_path, "availability_zones: 3", "availability_zones: 2")
    code, out, err = run(["diff", str(REFERENCE), str(head)], capsys)
    assert code == 1 and out == ""
    assert f"{head}:15:" in err and "network.availability_zones" in err


def test_released_template_against_todays_spec(capsys: Capture) -> None:
    released = RELEASED / "payment-prod.template.json"
    code, out, _ = run(["diff", str(released), str(REFERENCE), "--env", "prod"], capsys)
    assert code == 0
    table = rows(out, "prod")
    assert table["BackupVault"] == ["replace", "AWS::Backup::BackupVault", "kept"]
    assert table["DbCluster"][0] == "in-place"


def test_yaml_and_json_templates_read_the_same(tmp_path: Path, capsys: Capture) -> None:
    head = edited(tmp_path, "desired_count: 2", "desired_count: 4")
    as_json = build(tmp_path, head, "dev")
    as_yaml = build(tmp_path, head, "dev", "yaml")
    assert "!Ref" in as_yaml.read_text() or "!GetAtt" in as_yaml.read_text()
    base = build(tmp_path, REFERENCE, "dev")
    capsys.readouterr()
    results = [
        run(["diff", str(base), str(side), "--format", "json"], capsys)
        for side in (as_json, as_yaml)
    ]
    documents = [json.loads(out)["environments"] for _, out, _ in results]
    assert documents[0] == documents[1]
    changed = {c["logical_id"] for c in documents[0][0]["changes"]}
    assert changed == {"ApiBlueService", "ApiGreenService", "ApiCutover"}


def test_data_loss_alone_exits_4_unless_allowed(tmp_path: Path, capsys: Capture) -> None:
    base = build(tmp_path, REFERENCE, "dev")
    template: dict[str, Any] = json.loads(base.read_text())
    del template["Resources"]["ApiLogGroup"]
    head = tmp_path / "head.json"
    head.write_text(json.dumps(template))
    capsys.readouterr()
    code, out, _ = run(["diff", str(base), str(head)], capsys)
    assert code == 4 and "data loss: ApiLogGroup" in out
    code, out, _ = run(["diff", str(base), str(head), "--allow-data-loss"], capsys)
    assert code == 0 and "data loss: ApiLogGroup would be destroyed (allowed" in out


# ---------------------------------------------------------------- formats


def test_markdown_puts_risky_rows_first(tmp_path: Path, capsys: Capture) -> None:
    head = edited(tmp_path, "database_name: payments", "database_name: payments2")
    code, out, _ = run(["diff", str(REFERENCE), str(head), "--format", "markdown"], capsys)
    assert code == 4
    assert out.startswith("## paycompile diff (cfn)") and "**refused**" in out
    dev = out.split("### dev", 1)[1].split("### prod", 1)[0]
    table = [line for line in dev.splitlines() if line.startswith("|")]
    assert table[:2] == ["| action | resource | type | flags | why |", "|---|---|---|---|---|"]
    assert "`DbCluster`" in table[2] and "**blocked, data loss, disruptive**" in table[2]
    flagged = [line for line in table[2:] if "**" in line.split("|")[4]]
    assert table[2 : 2 + len(flagged)] == flagged, "risky rows come first"
    assert dev.strip().splitlines()[-1].startswith("changes: ")


def test_json_lists_environments_changes_and_the_verdict(tmp_path: Path, capsys: Capture) -> None:
    head = edited(tmp_path, "port: 8080", "port: 9090")
    code, out, _ = run(
        ["diff", str(REFERENCE), str(head), "--format", "json", "--env", "prod"], capsys
    )
    document = json.loads(out)
    assert code == document["exit_code"] == 0
    (prod,) = document["environments"]
    assert prod["environment"] == "prod" and prod["summary"]["blocked"] == []
    first = prod["changes"][0]
    assert first["logical_id"] == "ApiBlueTg" and first["risks"] == ["disruptive"]
    assert first["fixed_name"] is None and "Port" in first["properties"]


# ---------------------------------------------------------------- usage errors


@pytest.mark.parametrize(
    "argv",
    [
        ["diff", "missing.yaml", str(REFERENCE)],
        ["diff", str(REFERENCE), str(REFERENCE), "--env", "qa"],
        ["diff", str(REFERENCE)],
        ["diff", str(REFERENCE), str(REFERENCE), "--format", "html"],
    ],
)
def test_usage_errors_exit_2(argv: list[str], capsys: Capture) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.strip()


def test_a_side_is_never_handed_to_git_as_an_option(tmp_path: Path, capsys: Capture) -> None:
    """`git show --output=FILE` would write a file: a revision never starts with a dash."""
    probe = tmp_path / "probe"
    code, _, err = run(["diff", "--", f"--output={probe}:x", str(REFERENCE)], capsys)
    assert code == 2 and "no such file" in err
    assert list(tmp_path.iterdir()) == []


def test_a_pulumi_plan_is_not_a_cloudformation_side(tmp_path: Path, capsys: Capture) -> None:
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps({"platform": "payment", "resources": [], "outputs": {}}))
    code, _, err = run(["diff", str(plan), str(REFERENCE)], capsys)
    assert code == 2 and "offline Pulumi plan" in err


# ---------------------------------------------------------------- Pulumi


def test_the_pulumi_diff_takes_specs_only(capsys: Capture) -> None:
    released = RELEASED / "payment-dev.template.json"
    code, out, err = run(["diff", str(released), str(REFERENCE), "--backend", "pulumi"], capsys)
    assert code == 2 and out == "" and "compares specs" in err


def test_pulumi_port_change_replaces_the_groups_create_first(
    tmp_path: Path, capsys: Capture
) -> None:
    head = edited(tmp_path, "port: 8080", "port: 9090")
    argv = ["diff", str(REFERENCE), str(head), "--backend", "pulumi", "--env", "dev"]
    code, out, _ = run([*argv, "--format", "json"], capsys)
    changes = {c["logical_id"]: c for c in json.loads(out)["environments"][0]["changes"]}
    group = changes["ApiBlueTg"]
    assert group["type"] == "aws:lb/targetGroup:TargetGroup" and group["action"] == "replace"
    assert "blocked" not in group["risks"] and "disruptive" in group["risks"]
    # Auto-named, so Pulumi creates the new group first, as CloudFormation does.
    assert not any("deletes it before" in reason for reason in group["reasons"])
    assert code == 0, "an outage is flagged, not refused: no data is lost"
    # The task definition has no name: a plain replacement, no delete-first.
    task = changes["ApiBlueTask"]
    assert task["action"] == "replace" and task["risks"] == []


def test_pulumi_database_name_change_loses_data(tmp_path: Path, capsys: Capture) -> None:
    head = edited(tmp_path, "database_name: payments", "database_name: payments2")
    argv = ["diff", str(REFERENCE), str(head), "--backend", "pulumi", "--env", "dev"]
    code, out, _ = run(argv, capsys)
    assert code == 4
    cluster = rows(out, "dev")["DbCluster"]
    assert cluster[:2] == ["replace", "aws:rds/cluster:Cluster"]
    assert cluster[2] == "data loss, disruptive"
    code, _, _ = run([*argv, "--allow-data-loss"], capsys)
    assert code == 0
