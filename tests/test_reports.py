"""Validation reports for CI: SARIF 2.1.0 checked against the OASIS schema, GitHub annotations
parsed back the way the runner parses workflow commands."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

import paycompile
from paycompile.cli import main
from paycompile.errors import SpecIssue
from paycompile.reports import FileReport, escape_data, escape_property, issues_report, rules_table
from paycompile.spec import policy

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
# The SARIF 2.1.0 schema (final, rtm.5), vendored; see tests/schemas/README.md for its source.
SARIF_SCHEMA = json.loads((ROOT / "tests" / "schemas" / "sarif-2.1.0-rtm.5.json").read_text())

Capture = pytest.CaptureFixture[str]


def sarif_errors(log: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(log)]


def validate(capsys: Capture, *argv: str) -> tuple[int, str, str]:
    code = main(["validate", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture()
def in_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working directory holding a broken spec under a name that needs escaping."""
    spec = tmp_path / "infra" / "pay platform,v1:%.yaml"
    spec.parent.mkdir()
    spec.write_text(REFERENCE.read_text().replace("availability_zones: 3", "availability_zones: 2"))
    monkeypatch.chdir(tmp_path)
    return spec


# ---------------------------------------------------------------- SARIF


def test_the_schema_catches_a_broken_log(capsys: Capture) -> None:
    """The vendored schema is strict enough to matter: deliberate breakage is refused."""
    _, out, _ = validate(capsys, str(REFERENCE), "--format", "sarif")
    log = json.loads(out)
    assert sarif_errors(log) == []
    for breakage in ("version", "driver name", "rule id"):
        broken = copy.deepcopy(log)
        if breakage == "version":
            broken["version"] = "2.0.0"
        elif breakage == "driver name":
            del broken["runs"][0]["tool"]["driver"]["name"]
        else:
            broken["runs"][0]["tool"]["driver"]["rules"][0]["id"] = 7
        assert sarif_errors(broken), breakage


def test_an_invalid_spec_gives_a_complete_sarif_log(in_repository: Path, capsys: Capture) -> None:
    code, out, _ = validate(capsys, "infra/pay platform,v1:%.yaml", "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    assert sarif_errors(log) == []
    [run] = log["runs"]
    driver = run["tool"]["driver"]
    assert driver["name"] == "paycompile"
    assert driver["version"] == paycompile.__version__
    assert "informationUri" not in driver  # no project page to point at; never a placeholder
    [result] = run["results"]
    assert result["ruleId"] == "PAY-NET-001"
    assert driver["rules"][result["ruleIndex"]]["id"] == "PAY-NET-001"
    location = result["locations"][0]["physicalLocation"]
    # Relative to the repository root, percent-encoded as a URI reference.
    assert location["artifactLocation"] == {
        "uri": "infra/pay%20platform%2Cv1%3A%25.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    assert location["region"] == {"startLine": 15, "startColumn": 23}
    assert result["message"]["text"].startswith("network.availability_zones: must be exactly 3")


def test_the_rules_carry_help_and_pci_references_from_the_registry(capsys: Capture) -> None:
    _, out, _ = validate(capsys, str(REFERENCE), "--format", "sarif")
    rules = {rule["id"]: rule for rule in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}
    for registered in paycompile.list_rules():
        rule = rules[registered.id]
        assert rule["shortDescription"]["text"] == registered.statement
        for requirement in registered.pci_dss:
            assert requirement in rule["help"]["text"]
            assert requirement in rule["help"]["markdown"]
            assert f"PCI-DSS-4.0/{requirement}" in rule["properties"]["tags"]
        assert rule["properties"]["failures"] == list(registered.seed_failures)
    assert {"PAY-SPEC", "PAY-FILE"} <= rules.keys()


@pytest.mark.parametrize("shape", ["missing", "directory"])
def test_a_sarif_log_is_written_when_the_spec_cannot_be_read(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch, shape: str
) -> None:
    monkeypatch.chdir(tmp_path)
    if shape == "directory":
        (tmp_path / "platform.yaml").mkdir()
    code, out, err = validate(capsys, "platform.yaml", "--format", "sarif")
    assert code == 2 and err.startswith("paycompile: error: ")
    log = json.loads(out)
    assert sarif_errors(log) == []
    [result] = log["runs"][0]["results"]
    assert result["ruleId"] == "PAY-FILE"
    location = result["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "platform.yaml", "uriBaseId": "%SRCROOT%"}


def test_a_sarif_log_is_written_when_the_spec_is_unreadable(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tests run as root, so permissions cannot make a file unreadable: the read fails instead."""
    spec = tmp_path / "platform.yaml"
    spec.write_text("version: 1\n")
    monkeypatch.chdir(tmp_path)

    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)
    code, out, _ = validate(capsys, "platform.yaml", "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    assert sarif_errors(log) == []
    [result] = log["runs"][0]["results"]
    assert "Permission denied" in result["message"]["text"]


def test_a_spec_outside_the_working_directory_gets_an_absolute_file_uri(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cwd").mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    spec = tmp_path / "elsewhere.yaml"
    spec.write_text("version: 2\n")
    _, out, _ = validate(capsys, "../elsewhere.yaml", "--format", "sarif")
    log = json.loads(out)
    assert sarif_errors(log) == []
    locations = {
        json.dumps(result["locations"][0]["physicalLocation"]["artifactLocation"])
        for result in log["runs"][0]["results"]
    }
    assert locations == {json.dumps({"uri": spec.as_uri()})}


def test_a_policy_id_outside_the_registry_still_has_a_rule() -> None:
    issue = SpecIssue("p.yaml", 3, 1, "x", "not allowed (policy PAY-NEW-042)")
    log = json.loads(issues_report([FileReport("p.yaml", [issue])], "sarif"))
    assert sarif_errors(log) == []
    [result] = log["runs"][0]["results"]
    assert log["runs"][0]["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == "PAY-NEW-042"


# ---------------------------------------------------------------- GitHub annotations


def parse_workflow_command(line: str) -> tuple[str, dict[str, str], str]:
    """A `::command k=v,k=v::message` line, unescaped as the Actions runner does."""
    match = re.fullmatch(r"::(\w+)(?: ([^:]*))?::(.*)", line)
    assert match, line
    command, properties, message = match.groups()

    def unescape(text: str) -> str:
        for escaped, char in (
            ("%0D", "\r"),
            ("%0A", "\n"),
            ("%3A", ":"),
            ("%2C", ","),
            ("%25", "%"),
        ):
            text = text.replace(escaped, char)
        return text

    pairs = [pair.split("=", 1) for pair in properties.split(",")] if properties else []
    return command, {key: unescape(value) for key, value in pairs}, unescape(message)


def test_annotation_properties_and_messages_are_escaped() -> None:
    hostile = "50% of a\r\nline::warning::x, y: z"
    issue = SpecIssue("a,b:c%.yaml", 4, 2, "tags.a,b:c", hostile)
    [line] = issues_report([FileReport("a,b:c%.yaml", [issue])], "github").splitlines()
    command, properties, message = parse_workflow_command(line)
    assert command == "error"
    assert properties == {
        "file": "a,b:c%.yaml",
        "line": "4",
        "col": "2",
        "title": "tags.a,b:c (PAY-SPEC)",
    }
    assert message == hostile


def test_escaping_follows_github_rules() -> None:
    assert escape_data("100%\r\n: ,") == "100%25%0D%0A: ,"
    assert escape_property("100%\r\n: ,") == "100%25%0D%0A%3A %2C"


def test_annotations_name_files_relative_to_the_repository(
    in_repository: Path, capsys: Capture
) -> None:
    code, out, _ = validate(capsys, str(in_repository), "--format", "github")
    assert code == 1
    [line] = out.splitlines()
    _, properties, message = parse_workflow_command(line)
    assert properties["file"] == "infra/pay platform,v1:%.yaml"
    assert (properties["line"], properties["col"]) == ("15", "23")
    assert properties["title"] == "network.availability_zones (PAY-NET-001)"
    assert message.startswith("must be exactly 3")


def test_a_missing_spec_is_annotated(
    tmp_path: Path, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = validate(capsys, "gone.yaml", "--format", "github")
    assert code == 2
    assert out == "::error file=gone.yaml,title=paycompile::no such spec file: gone.yaml\n"


def test_spec_policies_are_sarif_rules_and_listed_by_rules(capsys: Capture) -> None:
    """A result citing PAY-SPEC-002 needs its rule in the log; `paycompile rules` names it too."""
    _, out, _ = validate(capsys, str(REFERENCE), "--format", "sarif")
    rules = {rule["id"]: rule for rule in json.loads(out)["runs"][0]["tool"]["driver"]["rules"]}
    listed = {row["id"]: row for row in json.loads(rules_table(paycompile.list_rules(), "json"))}
    for rule_id, (statement, pci) in policy.SPEC_POLICIES.items():
        assert rules[rule_id]["shortDescription"]["text"] == statement
        assert [f"PCI-DSS-4.0/{req}" for req in pci] == rules[rule_id]["properties"]["tags"][2:]
        assert listed[rule_id]["statement"] == statement and listed[rule_id]["pci_dss"] == list(pci)
