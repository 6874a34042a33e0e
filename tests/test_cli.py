"""Every command and format of the `paycompile` CLI, with the exit codes the contract promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from cfn_flip import to_json

import paycompile
from paycompile.cli import main
from paycompile.spec import policy
from tests.checkers.cfn_checker import Expectation, check_template

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
CONSOLE_SCRIPT = Path(sys.executable).parent / "paycompile"
# The reference spec with one policy break, on a known line: network.availability_zones.
BROKEN_LINE = 15

Capture = pytest.CaptureFixture[str]


def run(argv: list[str], capsys: Capture) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def broken_spec(tmp_path: Path) -> Path:
    text = REFERENCE.read_text()
    assert "availability_zones: 3" in text.splitlines()[BROKEN_LINE - 1]
    spec = tmp_path / "broken.yaml"
    spec.write_text(text.replace("availability_zones: 3", "availability_zones: 2", 1))
    return spec


def resources_of(template: dict[str, Any], type_name: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == type_name]


# ---------------------------------------------------------------- schema and rules


def test_schema_is_json_schema_the_reference_spec_satisfies(capsys: Capture) -> None:
    code, out, _ = run(["schema"], capsys)
    assert code == 0
    schema = json.loads(out)
    validator = jsonschema.validators.validator_for(schema)
    validator.check_schema(schema)
    document = yaml.safe_load(REFERENCE.read_text())
    assert [e.message for e in validator(schema).iter_errors(document)] == []
    document["network"]["availability_zones"] = "three"
    assert list(validator(schema).iter_errors(document)), "schema accepts a string AZ count"


def test_rules_text_lists_every_rule_id(capsys: Capture) -> None:
    code, out, _ = run(["rules"], capsys)
    assert code == 0
    listed = [line.split()[0] for line in out.splitlines()[1:]]
    assert listed == [rule.id for rule in paycompile.list_rules()] + list(policy.SPEC_POLICIES)
    assert listed, "no rules listed"


def test_rules_json_has_id_statement_seed_and_pci(capsys: Capture) -> None:
    code, out, _ = run(["rules", "--format", "json"], capsys)
    assert code == 0
    rows = json.loads(out)
    expected = [rule.id for rule in paycompile.list_rules()] + list(policy.SPEC_POLICIES)
    assert [row["id"] for row in rows] == expected
    for row in rows:
        assert row["statement"] and isinstance(row["seed_failures"], list) and row["pci_dss"]


# ---------------------------------------------------------------- graph


def test_graph_mermaid(capsys: Capture) -> None:
    code, out, _ = run(["graph", str(REFERENCE), "--format", "mermaid"], capsys)
    assert code == 0
    assert out.startswith("flowchart")
    assert "-->" in out


def test_graph_dot(capsys: Capture) -> None:
    code, out, _ = run(["graph", str(REFERENCE), "--format", "dot"], capsys)
    assert code == 0
    assert out.startswith("digraph") and out.rstrip().endswith("}")
    assert "->" in out


def test_graph_json(capsys: Capture) -> None:
    code, out, _ = run(["graph", str(REFERENCE), "--format", "json"], capsys)
    assert code == 0
    assert json.loads(out)


def test_graph_of_broken_spec_fails(broken_spec: Path, capsys: Capture) -> None:
    code, out, err = run(["graph", str(broken_spec)], capsys)
    assert code == 1
    assert out == ""
    assert f"{broken_spec}:{BROKEN_LINE}:" in err


# ---------------------------------------------------------------- validate


@pytest.mark.parametrize("output_format", ["text", "json", "github", "sarif"])
def test_validate_valid_spec(output_format: str, capsys: Capture) -> None:
    code, out, _ = run(["validate", str(REFERENCE), "--format", output_format], capsys)
    assert code == 0
    if output_format == "json":
        assert json.loads(out)["valid"] is True
    if output_format == "sarif":
        assert json.loads(out)["runs"][0]["results"] == []


def test_validate_text_shows_issue(broken_spec: Path, capsys: Capture) -> None:
    code, out, _ = run(["validate", str(broken_spec)], capsys)
    assert code == 1
    assert out.startswith(f"{broken_spec}:{BROKEN_LINE}:")
    assert "network.availability_zones" in out


def test_validate_json_shows_issue(broken_spec: Path, capsys: Capture) -> None:
    code, out, _ = run(["validate", str(broken_spec), "--format", "json"], capsys)
    assert code == 1
    report = json.loads(out)
    assert report["valid"] is False
    [issue] = report["issues"]
    assert issue["line"] == BROKEN_LINE
    assert issue["path"] == "network.availability_zones"


def test_validate_github_shows_issue(
    broken_spec: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(broken_spec.parent)
    code, out, _ = run(["validate", str(broken_spec), "--format", "github"], capsys)
    assert code == 1
    assert out.startswith(f"::error file=broken.yaml,line={BROKEN_LINE},")
    assert "network.availability_zones" in out


def test_validate_sarif_shows_issue(
    broken_spec: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(broken_spec.parent)  # as in CI: the repository root is the directory
    code, out, _ = run(["validate", broken_spec.name, "--format", "sarif"], capsys)
    assert code == 1
    sarif = json.loads(out)
    assert sarif["version"] == "2.1.0"
    [result] = sarif["runs"][0]["results"]
    location = result["locations"][0]["physicalLocation"]
    assert location["region"]["startLine"] == BROKEN_LINE
    assert location["artifactLocation"] == {"uri": "broken.yaml", "uriBaseId": "%SRCROOT%"}
    assert "availability_zones" in result["message"]["text"]


# ---------------------------------------------------------------- build


def test_build_to_stdout(capsys: Capture) -> None:
    code, out, _ = run(["build", str(REFERENCE), "--backend", "cfn", "-o", "-"], capsys)
    assert code == 0
    assert json.loads(out)["Resources"]


def test_build_yaml_is_the_same_compliant_template(capsys: Capture) -> None:
    _, as_json, _ = run(["build", str(REFERENCE), "--format", "json"], capsys)
    code, as_yaml, _ = run(["build", str(REFERENCE), "--format", "yaml"], capsys)
    assert code == 0
    # cfn-flip writes Fn::Join as the equivalent Fn::Sub in YAML, so compare shape and compliance.
    from_yaml, from_json = json.loads(to_json(as_yaml)), json.loads(as_json)
    types = {name: r["Type"] for name, r in from_yaml["Resources"].items()}
    assert types == {name: r["Type"] for name, r in from_json["Resources"].items()}
    assert from_yaml["Outputs"].keys() == from_json["Outputs"].keys()
    expected = Expectation.from_document(yaml.safe_load(REFERENCE.read_text()))
    assert check_template(from_yaml, expected) == []


def test_build_creates_missing_directories(tmp_path: Path, capsys: Capture) -> None:
    output = tmp_path / "dir" / "that" / "does" / "not" / "exist" / "t.json"
    code, out, err = run(["build", str(REFERENCE), "-o", str(output)], capsys)
    assert code == 0
    assert out == ""
    assert str(output) in err  # the summary names where the template went
    assert json.loads(output.read_text())["Resources"]
    assert [p.name for p in output.parent.iterdir()] == ["t.json"]  # no temp file left


def test_build_env_prod_applies_overrides(tmp_path: Path, capsys: Capture) -> None:
    output = tmp_path / "prod.json"
    code, _, _ = run(["build", str(REFERENCE), "--env", "prod", "-o", str(output)], capsys)
    assert code == 0
    template = json.loads(output.read_text())
    assert len(resources_of(template, "AWS::EC2::NatGateway")) == 3
    [cluster] = resources_of(template, "AWS::RDS::DBCluster")
    assert cluster["DeletionPolicy"] == "Snapshot"
    assert cluster["Properties"]["DeletionProtection"] is True


def test_build_bad_env_name_is_a_usage_error_blamed_on_the_flag(capsys: Capture) -> None:
    code, out, err = run(["build", str(REFERENCE), "--env", "Prod!"], capsys)
    assert code == 2
    assert out == ""
    assert err.startswith("paycompile: error: --env 'Prod!' is not an environment name")
    assert "Traceback" not in err and err.count("\n") == 1


# ---------------------------------------------------------------- usage errors (exit 2)


def test_missing_spec_file_is_usage_error(tmp_path: Path, capsys: Capture) -> None:
    missing = tmp_path / "nope.yaml"
    code, out, err = run(["build", str(missing), "-o", str(tmp_path / "t.json")], capsys)
    assert code == 2
    assert out == ""
    assert str(missing) in err and "Traceback" not in err
    assert not (tmp_path / "t.json").exists()


@pytest.mark.parametrize("command", ["validate", "graph"])
def test_missing_spec_file_is_usage_error_everywhere(command: str, capsys: Capture) -> None:
    code, _, err = run([command, "does-not-exist.yaml"], capsys)
    assert code == 2
    assert err == "paycompile: error: no such spec file: does-not-exist.yaml\n"


@pytest.mark.parametrize("command", ["validate", "build", "graph"])
def test_a_directory_given_as_the_spec_says_so(
    command: str, tmp_path: Path, capsys: Capture
) -> None:
    code, out, err = run([command, str(tmp_path)], capsys)
    assert (code, out) == (2, "")
    assert err == (
        f"paycompile: error: {tmp_path} is a directory, not a spec file: "
        "give the path of the platform.yaml in it\n"
    )


def test_validate_takes_several_specs_as_a_hook_passes_them(
    broken_spec: Path, capsys: Capture
) -> None:
    code, out, _ = run(["validate", str(REFERENCE), str(broken_spec)], capsys)
    assert code == 1
    assert out.splitlines()[0] == f"{REFERENCE}: valid"
    assert out.splitlines()[1].startswith(f"{broken_spec}:{BROKEN_LINE}:")
    code, out, _ = run(["validate", str(REFERENCE), str(REFERENCE), "--format", "json"], capsys)
    assert code == 0
    assert [report["valid"] for report in json.loads(out)] == [True, True]


# ---------------------------------------------------------------- messages


def test_version(capsys: Capture) -> None:
    code, out, _ = run(["--version"], capsys)
    assert (code, out) == (0, f"paycompile {paycompile.__version__}\n")


@pytest.mark.parametrize(
    "argv",
    [
        ["build", str(REFERENCE), "--bogus"],
        ["build", str(REFERENCE), "--format", "toml"],
        ["frobnicate"],
        ["build", "nope.yaml"],
        ["build", str(REFERENCE), "--env", "prdo"],
    ],
)
def test_every_message_that_is_not_a_spec_issue_starts_with_paycompile(
    argv: list[str], capsys: Capture
) -> None:
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    assert err.splitlines() and all(line.startswith("paycompile: ") for line in err.splitlines())


def test_a_rule_violation_is_prefixed_line_by_line(
    capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "paycompile.cli.build.compile_spec",
        lambda spec: (_ for _ in ()).throw(paycompile.RuleViolation(["PAY-A: one", "PAY-B: two"])),
    )
    code, _, err = run(["build", str(REFERENCE)], capsys)
    assert code == 1
    assert err == "paycompile: error: PAY-A: one\npaycompile: error: PAY-B: two\n"


def test_a_string_route_explains_the_two_forms(tmp_path: Path, capsys: Capture) -> None:
    spec = tmp_path / "platform.yaml"
    text = REFERENCE.read_text().replace("    active_color: blue\n", "    route: /pay\n", 1)
    spec.write_text(text)
    code, out, _ = run(["validate", str(spec)], capsys)
    assert code == 1
    [line] = out.splitlines()
    number = text.splitlines().index("    route: /pay") + 1
    assert line.startswith(f"{spec}:{number}:12: services[0].route: must be a mapping")
    assert "`path: /pay/*`" in line and "`host: pay.example.com`" in line and "'/pay'" in line


# ---------------------------------------------------------------- a closed or full stdout (exit 3)


def test_a_full_stdout_is_a_clean_exit_3() -> None:
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [str(CONSOLE_SCRIPT), "build", str(REFERENCE)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 3
    assert result.stderr == "paycompile: error: cannot write to stdout: No space left on device\n"


def test_a_closed_pipe_is_a_clean_exit_3() -> None:
    process = subprocess.Popen(
        [str(CONSOLE_SCRIPT), "build", str(REFERENCE)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader went away (`| head`) before paycompile wrote
    err = process.stderr.read()
    assert process.wait(timeout=120) == 3
    assert err == "paycompile: error: cannot write to stdout: Broken pipe\n"


def test_a_closed_stdout_descriptor_is_a_clean_exit_3() -> None:
    result = subprocess.run(
        ["bash", "-c", f"'{CONSOLE_SCRIPT}' rules >&-"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 3
    assert result.stderr == "paycompile: error: cannot write to stdout: stdout is closed\n"


@pytest.mark.parametrize(
    "argv",
    [
        ["build", str(REFERENCE), "--bogus"],
        ["build", str(REFERENCE), "--format", "toml"],
        ["rules", "--format", "xml"],
        ["frobnicate"],
        [],
    ],
)
def test_usage_errors_exit_2(argv: list[str]) -> None:
    # argparse reports usage errors by SystemExit(2); the console script is what users run.
    result = subprocess.run(
        [str(CONSOLE_SCRIPT), *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
