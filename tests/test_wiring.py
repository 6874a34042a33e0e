"""Repository wiring: the GitHub Action, the workflow in docs/ci.md, the pre-commit hook and the
editor modeline, each checked against the schema its host uses and run the way its host runs it."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.actions_runner import Runner, base_environment

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
BIN = Path(sys.executable).parent
REFERENCE = ROOT / "examples" / "platform.yaml"
SARIF_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-2.1.0-rtm.5.json").read_text())


def check_jsonschema(schema: str, document: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "check-jsonschema"), "--builtin-schema", schema, str(document)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def docs_workflow_text() -> str:
    """The workflow docs/ci.md tells users to copy, exactly as written there."""
    text = (ROOT / "docs" / "ci.md").read_text()
    match = re.search(r"<!-- workflow: (\S+) -->\n```yaml\n(.*?)```", text, re.DOTALL)
    assert match, "docs/ci.md has no marked workflow"
    return match.group(2)


def docs_workflow() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(docs_workflow_text())  # YAML 1.1: `on` is True
    return document


# ---------------------------------------------------------------- schemas of the hosts


def test_the_action_is_valid_for_github(tmp_path: Path) -> None:
    result = check_jsonschema("vendor.github-actions", ACTION)
    assert result.returncode == 0, result.stdout + result.stderr
    # The check can fail: a composite `run:` step without a shell is refused.
    broken = yaml.safe_load(ACTION.read_text())
    del broken["runs"]["steps"][1]["shell"]
    (tmp_path / "action.yml").write_text(yaml.safe_dump(broken))
    assert check_jsonschema("vendor.github-actions", tmp_path / "action.yml").returncode != 0


def test_the_docs_workflow_is_valid_and_uses_the_action_as_declared(tmp_path: Path) -> None:
    workflow = tmp_path / "platform.yml"
    workflow.write_text(docs_workflow_text())
    result = check_jsonschema("vendor.github-workflows", workflow)
    assert result.returncode == 0, result.stdout + result.stderr
    action = yaml.safe_load(ACTION.read_text())
    [job] = docs_workflow()["jobs"].values()
    checkout, step = job["steps"]
    assert checkout["uses"].startswith("actions/checkout@")  # the action reads the repository
    assert set(step.get("with", {})) <= set(action["inputs"])
    required = {name for name, spec in action["inputs"].items() if spec.get("required")}
    assert required <= set(step.get("with", {}))
    permissions = docs_workflow()["permissions"]
    assert permissions["security-events"] == "write" and permissions["pull-requests"] == "write"


def test_the_action_never_interpolates_expressions_into_scripts() -> None:
    for step in yaml.safe_load(ACTION.read_text())["runs"]["steps"]:
        assert "${{" not in step.get("run", ""), step["name"]


# ---------------------------------------------------------------- running the action's steps

GH_STAND_IN = """#!/bin/bash
# The GitHub CLI, as far as the action uses it: records each call, answers the comment list.
printf '%s|%s\\n' "$GH_TOKEN" "$*" >> "$GH_LOG"
for argument in "$@"; do
  case "$argument" in body=@*) cp "${argument#body=@}" "$GH_BODY" ;; esac
done
if [[ " $* " == *" --paginate "* && -n "${GH_EXISTING:-}" ]]; then echo "$GH_EXISTING"; fi
"""

DIFF_STAND_IN = """#!/bin/bash
# `paycompile diff` with the contract's interface, until it lands; other commands are real.
if [ "$1" = diff ]; then
  printf '%s\\n' "$*" >> "$DIFF_LOG"
  printf '### paycompile diff\\n\\n| resource | change |\\n|---|---|\\n| Svc | in place |\\n'
  exit "${DIFF_EXIT:-0}"
fi
exec "$REAL_PAYCOMPILE" "$@"
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The action's install step run for real, into a fresh virtualenv, from a copy of the
    repository; offline: the dependencies come from the test's own environment."""
    home = tmp_path_factory.mktemp("action")
    action_path = home / "action"
    action_path.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "action.yml"):
        shutil.copy(ROOT / name, action_path / name)
    shutil.copytree(ROOT / "paycompile", action_path / "paycompile")
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "test-environment.pth").write_text(
        "\n".join(path for path in sys.path if path.endswith("site-packages")) + "\n"
    )
    runner = make_runner(home, venv / "bin", action_path, home)
    runner.environment |= {"PIP_NO_INDEX": "1", "PIP_NO_BUILD_ISOLATION": "0"}
    install = runner.step(1, runner.action["runs"]["steps"][1])
    assert install.exit_code == 0, install.stdout + install.stderr
    assert install.stdout.splitlines()[-1] == "paycompile 0.1.0"
    assert (venv / "bin" / "paycompile").is_file()
    return venv / "bin"


def make_runner(home: Path, bin_dir: Path, action_path: Path, workdir: Path) -> Runner:
    temp = home / "runner-temp"
    temp.mkdir(exist_ok=True)
    context = {
        "github": {
            "action_path": str(action_path),
            "token": "ghs_test",
            "event_name": "pull_request",
            "event": {"pull_request": {"number": "7", "base": {"sha": ""}}},
        }
    }
    environment = base_environment([bin_dir]) | {"GITHUB_REPOSITORY": "acme/shop"}
    return Runner(yaml.safe_load(ACTION.read_text()), workdir, temp, context, environment)


def git(repository: Path, *argv: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repository), *argv], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


@pytest.fixture()
def pull_request(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """A repository with the reference spec on the base commit and an edit on the head."""
    repository = tmp_path / "repo"
    repository.mkdir()
    git(repository, "init", "-q", "-b", "main")
    git(repository, "config", "user.email", "ci@example.com")
    git(repository, "config", "user.name", "CI")
    shutil.copy(REFERENCE, repository / "platform.yaml")
    git(repository, "add", ".")
    git(repository, "commit", "-qm", "base")
    base = git(repository, "rev-parse", "HEAD")
    spec = repository / "platform.yaml"
    spec.write_text(spec.read_text().replace("desired_count: 2", "desired_count: 3"))
    git(repository, "commit", "-qam", "head")
    yield repository, base


def action_run(
    tmp_path: Path,
    installed: Path,
    repository: Path,
    base: str,
    *,
    real_diff: bool = False,
    extra: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
) -> tuple[Runner, dict[str, Path]]:
    """Every step after the install, on a pull request, with stand-ins for GitHub's services."""
    files = {name: tmp_path / name for name in ("gh.log", "comment.md", "diff.log")}
    stand_ins = tmp_path / "stand-ins"
    stand_ins.mkdir(exist_ok=True)
    (stand_ins / "gh").write_text(GH_STAND_IN)
    path = [stand_ins, installed]
    if not real_diff:
        (stand_ins / "paycompile").write_text(DIFF_STAND_IN)
    for script in stand_ins.iterdir():
        script.chmod(0o755)
    runner = make_runner(tmp_path, installed, ROOT, repository)
    runner.environment = base_environment(path) | {
        "GITHUB_REPOSITORY": "acme/shop",
        "GH_LOG": str(files["gh.log"]),
        "GH_BODY": str(files["comment.md"]),
        "DIFF_LOG": str(files["diff.log"]),
        "REAL_PAYCOMPILE": str(installed / "paycompile"),
        **(extra or {}),
    }
    runner.context["github"]["event"]["pull_request"]["base"]["sha"] = base
    runner.context["inputs"] |= inputs or {}
    uploads: list[dict[str, str]] = []

    def uses(step: dict[str, Any], inputs: dict[str, str]) -> int:
        if step["uses"].startswith("github/codeql-action/upload-sarif@"):
            uploads.append(inputs)
        else:
            assert step["uses"].startswith("actions/setup-python@"), step["uses"]
        return 0

    runner.uses = uses
    steps = runner.action["runs"]["steps"]
    runner.runs = [runner.step(index, step) for index, step in enumerate(steps) if index != 1]
    runner.context["uploads"] = uploads
    return runner, files


def test_a_valid_change_is_annotated_uploaded_diffed_and_commented(
    tmp_path: Path, installed: Path, pull_request: tuple[Path, str]
) -> None:
    repository, base = pull_request
    runner, files = action_run(tmp_path, installed, repository, base)
    validate = runner.get("Validate")
    assert validate.exit_code == 0 and validate.stdout == ""  # no annotations
    assert validate.outputs["valid"] == "true"
    sarif = json.loads(Path(validate.outputs["sarif-file"]).read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    assert sarif["runs"][0]["results"] == []
    [upload] = runner.context["uploads"]
    assert upload == {"sarif_file": validate.outputs["sarif-file"], "category": "paycompile"}
    # The diff is called with the contract's interface: `diff BASE HEAD --format markdown`.
    assert (
        files["diff.log"].read_text()
        == f"diff {base}:platform.yaml platform.yaml --format markdown\n"
    )
    comment = files["comment.md"].read_text()
    assert comment.startswith("<!-- paycompile-diff -->\n### paycompile diff")
    assert "| Svc | in place |" in (runner.temp / "summary.md").read_text()
    calls = files["gh.log"].read_text().splitlines()
    assert calls[0] == (
        "ghs_test|api --paginate repos/acme/shop/issues/7/comments "
        '--jq .[] | select(.body | startswith("<!-- paycompile-diff -->")) | .id'
    )
    assert calls[1].startswith("ghs_test|api --method POST repos/acme/shop/issues/7/comments -F ")
    verdict = runner.get("Verdict")
    assert verdict.exit_code == 0 and "spec valid" in verdict.stdout
    assert not runner.failed


def test_the_comment_is_updated_in_place_on_the_next_push(
    tmp_path: Path, installed: Path, pull_request: tuple[Path, str]
) -> None:
    repository, base = pull_request
    _, files = action_run(tmp_path, installed, repository, base, extra={"GH_EXISTING": "4242"})
    calls = files["gh.log"].read_text().splitlines()
    assert calls[1].startswith("ghs_test|api --method PATCH repos/acme/shop/issues/comments/4242 ")
    assert len(calls) == 2


def test_an_invalid_spec_is_annotated_uploaded_and_fails_without_a_diff(
    tmp_path: Path, installed: Path, pull_request: tuple[Path, str]
) -> None:
    repository, base = pull_request
    spec = repository / "platform.yaml"
    spec.write_text(spec.read_text().replace("availability_zones: 3", "availability_zones: 2"))
    runner, files = action_run(tmp_path, installed, repository, base)
    validate = runner.get("Validate")
    assert validate.exit_code == 0 and validate.outputs["valid"] == "false"
    assert validate.stdout.startswith("::error file=platform.yaml,line=15,col=23,")
    sarif = json.loads(Path(validate.outputs["sarif-file"]).read_text())
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == ["PAY-NET-001"]
    assert runner.context["uploads"], "the SARIF upload runs for an invalid spec too"
    assert not runner.get("Diff against the base branch").ran
    assert not runner.get("Comment the diff on the pull request").ran
    assert not files["gh.log"].exists()
    assert runner.get("Verdict").exit_code == 1


def test_a_missing_spec_still_uploads_sarif_and_fails(
    tmp_path: Path, installed: Path, pull_request: tuple[Path, str]
) -> None:
    repository, base = pull_request
    (repository / "platform.yaml").unlink()
    runner, _ = action_run(tmp_path, installed, repository, base)
    validate = runner.get("Validate")
    assert (
        validate.stdout
        == "::error file=platform.yaml,title=paycompile::no such spec file: platform.yaml\n"
    )
    sarif = json.loads(Path(validate.outputs["sarif-file"]).read_text())
    jsonschema.Draft4Validator(SARIF_SCHEMA).validate(sarif)
    assert [result["ruleId"] for result in sarif["runs"][0]["results"]] == ["PAY-FILE"]
    assert runner.context["uploads"]
    assert runner.get("Verdict").exit_code == 1


def test_a_diff_that_loses_data_is_commented_then_fails_the_job(
    tmp_path: Path, installed: Path, pull_request: tuple[Path, str]
) -> None:
    repository, base = pull_request
    runner, files = action_run(tmp_path, installed, repository, base, extra={"DIFF_EXIT": "4"})
    diff = runner.get("Diff against the base branch")
    assert diff.exit_code == 0 and diff.outputs["exit-code"] == "4"
    assert files["comment.md"].exists(), "the comment is posted before the job fails"
    verdict = runner.get("Verdict")
    assert verdict.exit_code == 4 and "refused" in verdict.stdout


def test_a_spec_new_in_the_pull_request_gets_a_note_instead_of_a_diff(
    tmp_path: Path, installed: Path, pull_request: tuple[Path, str]
) -> None:
    repository, base = pull_request
    git(repository, "mv", "platform.yaml", "infra.yaml")
    git(repository, "commit", "-qm", "rename")
    runner, files = action_run(tmp_path, installed, repository, base, inputs={"spec": "infra.yaml"})
    assert not files["diff.log"].exists()
    assert "`infra.yaml` is new in this pull request" in files["comment.md"].read_text()
    assert runner.get("Verdict").exit_code == 0


def test_the_real_diff_refuses_a_database_name_change(
    tmp_path: Path, installed: Path, pull_request: tuple[Path, str]
) -> None:
    repository, base = pull_request
    spec = repository / "platform.yaml"
    spec.write_text(spec.read_text().replace("database_name: payments", "database_name: ledger"))
    runner, files = action_run(tmp_path, installed, repository, base, real_diff=True)
    assert runner.get("Diff against the base branch").outputs["exit-code"] == "4"
    assert "DbCluster" in files["comment.md"].read_text()
    assert runner.get("Verdict").exit_code == 4


# ---------------------------------------------------------------- pre-commit


def test_the_pre_commit_hook_validates_the_specs_pre_commit_would_pass(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pre_commit.clientlib import load_manifest
    from pre_commit.commands.run import Classifier

    [hook] = load_manifest(str(ROOT / ".pre-commit-hooks.yaml"))  # pre-commit's own schema
    assert hook["id"] == "paycompile-validate" and hook["language"] == "python"
    broken = REFERENCE.read_text().replace("availability_zones: 3", "availability_zones: 2")
    files = {
        "platform.yaml": REFERENCE.read_text(),
        "infra/platform.yml": broken,
        "other.yaml": "not: a spec\n",
        "README.md": "# hi\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.chdir(tmp_path)  # pre-commit classifies paths relative to the repository
    classifier = Classifier.from_config(list(files), "", "^$")
    chosen = list(classifier.filenames_for_hook(_hook(hook)))
    assert sorted(chosen) == ["infra/platform.yml", "platform.yaml"]
    command = [*shlex.split(hook["entry"]), *hook["args"], *chosen]
    command[0] = str(BIN / command[0])
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "platform.yaml: valid" in result.stdout
    assert "infra/platform.yml:15:23: network.availability_zones" in result.stdout


def _hook(manifest_entry: dict[str, Any]) -> Any:
    from pre_commit.hook import Hook

    fields = {name: manifest_entry.get(name) for name in Hook._fields}
    return Hook(**(fields | {"src": "local", "prefix": None}))


# ---------------------------------------------------------------- editors


def test_the_example_carries_the_schema_modeline() -> None:
    first = REFERENCE.read_text().splitlines()[0]
    match = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
    assert match, first
    target = (REFERENCE.parent / match.group(1)).resolve()
    assert target == ROOT / "schema" / "v1" / "platform.schema.json"
    schema = json.loads(target.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    assert list(validator.iter_errors(yaml.safe_load(REFERENCE.read_text()))) == []
