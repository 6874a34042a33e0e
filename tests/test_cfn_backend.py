"""The CloudFormation backend's output, judged by an independent checker and by cfn-lint.

The checker (tests/checkers/cfn_checker.py, with the semantic judges of tests/checkers/semantic.py)
reads only the emitted template; the mutation suite (tests/test_mutations.py) proves it can fail,
so a green run means something.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ConfigMixIn, Runner
from cfnlint.decode.decode import decode_str
from cfnlint.rules import Rules
from cfnlint.runner import run_template_by_data
from hypothesis import example, given

import paycompile
from paycompile.cli import main
from tests import builds
from tests.checkers.cfn_checker import Expectation, check_template
from tests.conftest import COSTLY
from tests.strategies import GeneratedSpec, valid_specs

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
SNAPSHOTS = Path(__file__).resolve().parent / "snapshots"
ENVIRONMENTS = ("dev", "prod")
UPDATE_HINT = (
    "review the diff; if the change is intended, refresh the snapshots with\n"
    "  PAYCOMPILE_UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest \\\n"
    "      tests/test_cfn_backend.py -k snapshot\n"
    "and commit them with the change"
)


def _reference_document() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(REFERENCE.read_text())
    return document


@cache
def reference_text(environment: str) -> str:
    spec = paycompile.load_spec(REFERENCE, environment)
    return paycompile.render(paycompile.compile_spec(spec), "cfn", "json")


def reference_template(environment: str) -> dict[str, Any]:
    template: dict[str, Any] = json.loads(reference_text(environment))
    return template


def reference_expectation(environment: str) -> Expectation:
    return Expectation.from_document(_reference_document(), environment)


@cache
def _lint_rules() -> Rules:
    # Loading cfn-lint's rules once per process keeps each template's lint to about a second.
    rules: Rules = Runner(ConfigMixIn(regions=["us-east-1"])).rules
    return rules


def lint_findings(text: str, region: str) -> list[str]:
    """cfn-lint errors and warnings (informational findings are not failures)."""
    # `cfnlint.api.lint` takes a RulesCollection only and builds a new Runner (a second and a
    # half of loading rules) for anything else, so the loaded rules are run directly.
    template, matches = decode_str(text)
    if template is not None and not matches:
        matches = list(run_template_by_data(template, ConfigMixIn(regions=[region]), _lint_rules()))
    return [
        f"{m.rule.id} {m.linenumber}:{m.columnnumber}: {m.message}"
        for m in matches
        if m.rule.id[0] in "EW"
    ]


# ---------------------------------------------------------------- the reference platform


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_reference_template_passes_checker(environment: str) -> None:
    found = check_template(reference_template(environment), reference_expectation(environment))
    assert found == []


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_reference_template_is_cfn_lint_clean(environment: str) -> None:
    region = reference_expectation(environment).region
    assert lint_findings(reference_text(environment), region) == []


def test_prod_applies_overrides() -> None:
    template = reference_template("prod")
    nats = [r for r in template["Resources"].values() if r["Type"] == "AWS::EC2::NatGateway"]
    clusters = [r for r in template["Resources"].values() if r["Type"] == "AWS::RDS::DBCluster"]
    assert len(nats) == 3
    assert [c["DeletionPolicy"] for c in clusters] == ["Snapshot"]


# ---------------------------------------------------------------- the checker can fail

# Breakages the checker must flag are in tests/mutations/catalogue.py (tests/test_mutations.py).


def test_renaming_the_cutover_states_changes_nothing_the_checker_judges() -> None:
    """The cutover is judged by what its states do, not by what they are called."""
    template = copy.deepcopy(reference_template("dev"))
    machine = template["Resources"]["ApiCutover"]["Properties"]["DefinitionString"]
    definition = json.loads(machine["Fn::Sub"])
    renamed = {name: f"Step{index}" for index, name in enumerate(sorted(definition["States"]))}
    text = json.dumps(definition)
    for old, new in sorted(renamed.items(), key=lambda item: -len(item[0])):
        text = text.replace(f'"{old}"', f'"{new}"')
    machine["Fn::Sub"] = text
    assert "RollBack" not in text and "PerformTrafficSwitch" not in text
    assert check_template(template, reference_expectation("dev")) == []


# ---------------------------------------------------------------- every valid spec


def _with_tag(key: str, value: str) -> GeneratedSpec:
    document = _reference_document()
    document["tags"][key] = value
    return GeneratedSpec(yaml.safe_dump(document, sort_keys=False), None, document)


# Found by a random run: a tag in a script beyond the Basic Multilingual Plane, which cfn-lint
# could not read while the JSON template escaped it.
@COSTLY
@example(_with_tag("\U00017a58", "0"))
@given(valid_specs())
def test_generated_templates_pass_checker_and_cfn_lint(generated: GeneratedSpec) -> None:
    spec = paycompile.load_spec_text(generated.text, "platform.yaml", generated.environment)
    graph = paycompile.compile_spec(spec)
    expected = Expectation.from_document(generated.document, generated.environment)
    assert check_template(builds.cfn_template(graph), expected) == []
    files = builds.cfn_files(graph)
    # W3002 (a local TemplateURL) holds only until `deploy` uploads the children.
    package_only = "W3002" if len(files) > 1 else "-"
    for name, text in files.items():
        findings = lint_findings(text, expected.region)
        assert [f for f in findings if not f.startswith(package_only)] == [], name


# ---------------------------------------------------------------- reproducible bytes


@pytest.mark.parametrize("output_format", ["json", "yaml"])
def test_render_is_deterministic(output_format: str) -> None:
    renders = [
        paycompile.render(
            paycompile.compile_spec(paycompile.load_spec(REFERENCE)), "cfn", output_format
        )
        for _ in range(2)
    ]
    assert renders[0] == renders[1]


def test_cli_builds_identical_bytes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outputs = [tmp_path / "first.json", tmp_path / "second.json"]
    for output in outputs:
        assert main(["build", str(REFERENCE), "--backend", "cfn", "-o", str(output)]) == 0
    capsys.readouterr()
    assert outputs[0].read_bytes() == outputs[1].read_bytes()
    assert outputs[0].read_bytes() == reference_text("dev").encode()


# ---------------------------------------------------------------- reviewed snapshots


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_reference_template_matches_snapshot(environment: str) -> None:
    snapshot = SNAPSHOTS / f"payment-{environment}.template.json"
    current = reference_text(environment)
    if os.environ.get("PAYCOMPILE_UPDATE_SNAPSHOTS") == "1":
        snapshot.parent.mkdir(exist_ok=True)
        snapshot.write_text(current, encoding="utf-8", newline="\n")
    assert snapshot.is_file(), f"no snapshot {snapshot.name}; {UPDATE_HINT}"
    reviewed = snapshot.read_text(encoding="utf-8")
    if reviewed != current:
        diff = difflib.unified_diff(
            reviewed.splitlines(), current.splitlines(), "snapshot", "current", lineterm="", n=2
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(
            f"the {environment} template differs from {snapshot.name}:\n{shown}\n{UPDATE_HINT}"
        )


# ---------------------------------------------------------------- the type table of changes/


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_every_emitted_type_is_known_to_the_change_classifier(environment: str) -> None:
    from paycompile.changes.cloudformation import HELPER_TYPES, KIND_OF_TYPE

    graph = paycompile.compile_spec(paycompile.load_spec(REFERENCE, environment))
    for logical_id, body in reference_template(environment)["Resources"].items():
        node = graph.nodes.get(logical_id)
        if node is None:
            assert body["Type"] in HELPER_TYPES, f"{logical_id} {body['Type']}"
        else:
            assert KIND_OF_TYPE.get(body["Type"]) is node.kind, f"{logical_id} {body['Type']}"


def test_a_user_tag_named_like_a_secret_is_not_a_secret_in_a_tag_map() -> None:
    """Found by a property run: AWS Backup takes tags as a map, whose keys are the user's."""
    document = yaml.safe_load(REFERENCE.read_text())
    document["tags"]["SecretRotation"] = "monthly"
    spec = paycompile.load_spec_text(yaml.safe_dump(document), "platform.yaml")
    template = json.loads(paycompile.render(paycompile.compile_spec(spec), "cfn", "json"))
    expected = Expectation.from_document(document, None)
    plan = template["Resources"]["BackupPlan"]["Properties"]
    assert plan["BackupPlanTags"]["SecretRotation"] == "monthly"
    assert check_template(template, expected) == []
    plan["MasterPassword"] = "hunter2"  # a secret-named property outside the tag map still counts
    assert any("MasterPassword: literal value" in p for p in check_template(template, expected))
