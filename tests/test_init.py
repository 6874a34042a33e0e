"""`paycompile init`: a commented starter spec that validates and builds, never over a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

import paycompile
from paycompile.cli import main
from paycompile.cli.init import SCHEMA_FILE

Capture = pytest.CaptureFixture[str]


def run(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_init_writes_a_spec_that_validates_and_builds_for_every_environment(
    tmp_path: Path, capsys: Capture
) -> None:
    spec = tmp_path / "platform.yaml"
    code, out, err = run(capsys, "init", str(spec))
    assert (code, out) == (0, "")
    assert err.startswith(f"paycompile: wrote {spec}")
    text = spec.read_text()
    document = yaml.safe_load(text)
    environments = [document["environment"], *document["overrides"]]
    assert environments == ["dev", "prod"]
    for environment in environments:
        code, out, _ = run(capsys, "validate", str(spec), "--env", environment)
        assert (code, out) == (0, f"{spec}: valid\n")
        output = tmp_path / f"{environment}.json"
        code, _, err = run(capsys, "build", str(spec), "--env", environment, "-o", str(output))
        assert code == 0, err
        assert json.loads(output.read_text())["Resources"]
    prod = paycompile.load_spec(spec, "prod")
    assert (prod.lifecycle, prod.network.nat_gateways) == ("retained", 3)


def test_the_starter_is_commented_and_carries_the_schema_modeline(
    tmp_path: Path, capsys: Capture
) -> None:
    spec = tmp_path / "platform.yaml"
    run(capsys, "init", str(spec))
    lines = spec.read_text().splitlines()
    assert lines[0] == f"# yaml-language-server: $schema={SCHEMA_FILE}"
    commented = [line for line in lines if "#" in line]
    assert len(commented) > len(lines) // 3, "a starter spec explains its keys"


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, capsys: Capture) -> None:
    spec = tmp_path / "platform.yaml"
    spec.write_text("mine\n")
    code, out, err = run(capsys, "init", str(spec))
    assert (code, out) == (4, "")
    assert err == f"paycompile: {spec} already exists; pass --force to overwrite it\n"
    assert spec.read_text() == "mine\n"
    code, _, _ = run(capsys, "init", str(spec), "--force")
    assert code == 0
    assert spec.read_text().startswith("# yaml-language-server:")


def test_init_into_a_directory_and_by_default(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "infra").mkdir()
    assert run(capsys, "init", str(tmp_path / "infra"))[0] == 0
    assert (tmp_path / "infra" / "platform.yaml").is_file()
    monkeypatch.chdir(tmp_path)
    assert run(capsys, "init")[0] == 0
    assert sorted(path.name for path in tmp_path.iterdir()) == ["infra", "platform.yaml"]
