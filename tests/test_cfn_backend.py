"""The CloudFormation backend's output, judged by an independent checker and by cfn-lint.

The checker (tests/checkers/cfn_checker.py) reads only the emitted template; the mutation tests
below prove it can fail, so a green run means something.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ConfigMixIn, Runner, lint
from cfnlint.rules import Rules
from hypothesis import example, given

import paycompile
from paycompile.cli import main
from tests.checkers.cfn_checker import Expectation, check_template
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
    matches = lint(text, rules=_lint_rules(), regions=[region])
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

Mutation = Callable[[dict[str, Any]], None]


def _resources(template: dict[str, Any], type_name: str) -> list[dict[str, Any]]:
    return [r for r in template["Resources"].values() if r["Type"] == type_name]


def _first(template: dict[str, Any], type_name: str) -> dict[str, Any]:
    return _resources(template, type_name)[0]["Properties"]


def _listener(template: dict[str, Any], port: int) -> dict[str, Any]:
    listeners = _resources(template, "AWS::ElasticLoadBalancingV2::Listener")
    return next(r["Properties"] for r in listeners if r["Properties"]["Port"] == port)


def _delete_green_group(template: dict[str, Any]) -> None:
    del template["Resources"]["ApiGreenTg"]


def _literal_password(template: dict[str, Any]) -> None:
    _first(template, "AWS::RDS::DBCluster")["MasterUserPassword"] = "Sup3rSecretPassw0rd"


def _old_ssl_policy(template: dict[str, Any]) -> None:
    _listener(template, 443)["SslPolicy"] = "ELBSecurityPolicy-2016-08"


def _drop_cost_center(template: dict[str, Any]) -> None:
    tags = _first(template, "AWS::EC2::VPC")["Tags"]
    tags[:] = [tag for tag in tags if tag["Key"] != "CostCenter"]


def _s3_wildcard(template: dict[str, Any]) -> None:
    role = template["Resources"]["ApiTaskRole"]["Properties"]
    statement = {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::payment-dev/*"]}
    role["Policies"][0]["PolicyDocument"]["Statement"].append(statement)


def _unscoped_resource(template: dict[str, Any]) -> None:
    role = template["Resources"]["ApiTaskRole"]["Properties"]
    statement = {"Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}
    role["Policies"][0]["PolicyDocument"]["Statement"].append(statement)


def _keep_snapshot(template: dict[str, Any]) -> None:
    _resources(template, "AWS::RDS::DBCluster")[0]["DeletionPolicy"] = "Snapshot"


def _no_transform(template: dict[str, Any]) -> None:
    del template["Transform"]


def _made_up_lambda(template: dict[str, Any]) -> None:
    schedule = _first(template, "AWS::SecretsManager::RotationSchedule")
    del schedule["HostedRotationLambda"]
    schedule["RotationLambdaARN"] = "arn:aws:lambda:us-east-1:123456789012:function:rotate"


def _rotate_rarely(template: dict[str, Any]) -> None:
    _first(template, "AWS::SecretsManager::RotationSchedule")["RotationRules"] = {
        "AutomaticallyAfterDays": 90
    }


def _http_forwards(template: dict[str, Any]) -> None:
    _listener(template, 80)["DefaultActions"] = [
        {"Type": "forward", "TargetGroupArn": {"Ref": "ApiBlueTg"}}
    ]


def _forward_inactive(template: dict[str, Any]) -> None:
    groups = _listener(template, 443)["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    groups[0]["Weight"], groups[1]["Weight"] = 0, 100


def _weights_ignore_live_color(template: dict[str, Any]) -> None:
    groups = _listener(template, 443)["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    groups[0]["Weight"], groups[1]["Weight"] = 100, 0


def _idle_color_runs(template: dict[str, Any]) -> None:
    template["Resources"]["ApiGreenService"]["Properties"]["DesiredCount"] = 2


def _root_user(template: dict[str, Any]) -> None:
    task = template["Resources"]["ApiBlueTask"]["Properties"]
    task["ContainerDefinitions"][0]["User"] = "0"


def _green_behind_blue(template: dict[str, Any]) -> None:
    service = template["Resources"]["ApiGreenService"]["Properties"]
    service["LoadBalancers"][0]["TargetGroupArn"] = {"Ref": "ApiBlueTg"}


def _drop_nat(template: dict[str, Any]) -> None:
    template["Resources"]["PrivateRoutes1Default"]["Properties"]["NatGatewayId"] = "nat-123"


def _public_instance(template: dict[str, Any]) -> None:
    _first(template, "AWS::RDS::DBInstance")["PubliclyAccessible"] = True


def _name_without_env(template: dict[str, Any]) -> None:
    _first(template, "AWS::ECS::Cluster")["ClusterName"] = "payment-cluster"


def _export_without_prefix(template: dict[str, Any]) -> None:
    template["Outputs"]["VpcId"]["Export"]["Name"] = "VpcId"


def _drop_secret_output(template: dict[str, Any]) -> None:
    del template["Outputs"]["DbSecretArn"]


def _short_backups(template: dict[str, Any]) -> None:
    rule = _first(template, "AWS::Backup::BackupPlan")["BackupPlan"]["BackupPlanRule"][0]
    rule["Lifecycle"]["DeleteAfterDays"] = 7


def _no_unhealthy_alarms(template: dict[str, Any]) -> None:
    for name in [k for k in template["Resources"] if k.endswith("UnhealthyAlarm")]:
        del template["Resources"][name]


def _dashboard_without_rds(template: dict[str, Any]) -> None:
    body = _first(template, "AWS::CloudWatch::Dashboard")["DashboardBody"]
    body["Fn::Sub"] = body["Fn::Sub"].replace("AWS/RDS", "AWS/Other")


def _no_rollback(template: dict[str, Any]) -> None:
    machine = _first(template, "AWS::StepFunctions::StateMachine")
    machine["DefinitionString"]["Fn::Sub"] = machine["DefinitionString"]["Fn::Sub"].replace(
        "RollBack", "Give"
    )


MUTATIONS: dict[str, tuple[Mutation, str]] = {
    "delete a target group": (_delete_green_group, "target groups colored ['blue']"),
    "literal master password": (_literal_password, "MasterUserPassword is not a dynamic"),
    "TLS 1.0 policy": (_old_ssl_policy, "allows TLS below 1.2"),
    "drop CostCenter tag": (_drop_cost_center, "Vpc: tag CostCenter=None"),
    "s3:* action": (_s3_wildcard, "wildcard actions ['s3:*']"),
    "scopable action on *": (_unscoped_resource, "Resource '*' for scopable actions"),
    "ephemeral keeps snapshot": (_keep_snapshot, "ephemeral needs Delete"),
    "no rotation transform": (_no_transform, "lacks AWS::SecretsManager-2020-07-23"),
    "made-up rotation lambda": (_made_up_lambda, "literal RotationLambdaARN"),
    "rotation every 90 days": (_rotate_rarely, "rotates after 90 days"),
    "port 80 forwards": (_http_forwards, "port 80 does more than redirect"),
    "inactive color live": (_forward_inactive, "does not forward to blue"),
    "weights ignore the live colour": (
        _weights_ignore_live_color,
        "after a cutover: service api: HTTPS listener does not forward to green",
    ),
    "idle colour runs tasks": (_idle_color_runs, "ApiGreenService: 2 tasks, 0 wanted"),
    "container runs as root": (_root_user, "ApiBlueTask: the container runs as root"),
    "green tasks in the blue group": (_green_behind_blue, "not the green target group"),
    "private route without NAT": (_drop_nat, "not IGW xor NAT"),
    "public DB instance": (_public_instance, "PubliclyAccessible false"),
    "name without env": (_name_without_env, "'payment-cluster' is not"),
    "export without prefix": (_export_without_prefix, "does not start with 'payment-dev-'"),
    "secret not exported": (_drop_secret_output, "DbSecret (AWS::SecretsManager::Secret)"),
    "backups kept 7 days": (_short_backups, "keeps backups 7 days"),
    "no unhealthy alarm": (_no_unhealthy_alarms, "no UnHealthyHostCount alarm"),
    "dashboard without RDS": (_dashboard_without_rds, "dashboard lacks ['AWS/RDS']"),
    "cutover without rollback": (_no_rollback, "no state to roll back"),
}


@pytest.mark.parametrize("name", sorted(MUTATIONS))
def test_checker_reports_mutation(name: str) -> None:
    mutate, expected_message = MUTATIONS[name]
    template = copy.deepcopy(reference_template("dev"))
    mutate(template)
    found = check_template(template, reference_expectation("dev"))
    assert any(expected_message in v for v in found), f"{name} went unnoticed: {found}"


def test_checker_reports_retained_without_protection() -> None:
    template = copy.deepcopy(reference_template("prod"))
    _first(template, "AWS::RDS::DBCluster")["DeletionProtection"] = False
    found = check_template(template, reference_expectation("prod"))
    assert any("DeletionProtection must be True when retained" in v for v in found)


# ---------------------------------------------------------------- every valid spec


def _with_tag(key: str, value: str) -> GeneratedSpec:
    document = _reference_document()
    document["tags"][key] = value
    return GeneratedSpec(yaml.safe_dump(document, sort_keys=False), None, document)


# Found by a random run: a tag in a script beyond the Basic Multilingual Plane, which cfn-lint
# could not read while the JSON template escaped it.
@example(_with_tag("\U00017a58", "0"))
@given(valid_specs())
def test_generated_templates_pass_checker_and_cfn_lint(generated: GeneratedSpec) -> None:
    spec = paycompile.load_spec_text(generated.text, "platform.yaml", generated.environment)
    text = paycompile.render(paycompile.compile_spec(spec), "cfn", "json")
    expected = Expectation.from_document(generated.document, generated.environment)
    assert check_template(json.loads(text), expected) == []
    assert lint_findings(text, expected.region) == []


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
