"""Both backends deploy the same platform: the same meaning, read from each one's own output.

Each artifact is read into the checkers' normalised model (tests/checkers/read_cfn.py: the
template as it deploys with its parameters' defaults; read_pulumi.py: the mocked plan as its
program ran) and turned into one view (`tests.checkers.semantic.view`). Per service: where the
listener sends each colour's traffic and with which weight, what each ECS service registers and
runs, who reaches its tasks and on which ports, its cutover machine's ASL graph and role. Across
the platform: reachability and egress, every role's effective statements, every key's grants
and which key each encrypted thing uses, log groups' retention and key, load balancer
attributes, the database, alarms, topics, backups. Added here from the raw artifacts: lifecycle
(what a deletion does to each resource), tags, a few settings the model does not hold, the
exported outputs and the deploy-time inputs. `differences()` names every leaf that differs.

Nothing here counts resources: a difference is named by what it means (`reachability: only in
pulumi: db -> internet`), so a resource type added on one side only shows up as `unknown` or as
the meaning it changes. The graph is used only to build both artifacts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given

import paycompile
from tests import builds
from tests.checkers.cfn_eval import evaluate, parameter_values
from tests.checkers.expectation import Expectation
from tests.checkers.read_cfn import read_template
from tests.checkers.read_pulumi import read_plan
from tests.checkers.semantic import differences, live_parameters, view
from tests.conftest import COSTLY
from tests.mutations import cfn as cfn_edits
from tests.mutations import pulumi as pulumi_edits
from tests.strategies import GeneratedSpec, valid_specs

# The plan's output that records the deploy-time inputs its program ran with.
INPUTS_OUTPUT = "DeployInputs"
# Types one side cannot tag: pulumi-aws's dashboard (the Terraform resource has no tags), the
# template's ingress rule (AWS::EC2::SecurityGroupIngress has no Tags property).
PULUMI_UNTAGGABLE = {"aws:cloudwatch/dashboard:Dashboard"}
CFN_UNTAGGABLE = {"AWS::EC2::SecurityGroupIngress", "AWS::IAM::ManagedPolicy"}

Artifact = dict[str, Any]


# ---------------------------------------------------------------- what each side means


def template_semantics(
    template: Artifact, expected: Expectation, given: dict[str, str] | None = None
) -> dict[str, Any]:
    """The template's meaning as it deploys with parameters `given` (else their defaults)."""
    platform = read_template(template, expected.region, given)
    resolved = evaluate(template, given)
    resources = resolved["Resources"]
    return {
        **view(platform, expected),
        "lifecycle": {name: _cfn_lifecycle(body) for name, body in resources.items()},
        "tags": {name: tags for name, tags in platform.tags.items() if tags},
        "settings": {
            name: found
            for name, body in resources.items()
            if (found := _cfn_settings(body["Type"], body.get("Properties", {})))
        },
        "outputs": sorted(template.get("Outputs", {})),
        "inputs": parameter_values(template, given),
    }


def plan_semantics(plan: Artifact, expected: Expectation) -> dict[str, Any]:
    """The plan's meaning as its program ran (with the inputs its DeployInputs output records)."""
    platform = read_plan(plan)
    resources = {r["name"]: r for r in plan["resources"]}
    return {
        **view(platform, expected),
        "lifecycle": {name: _pulumi_lifecycle(body) for name, body in resources.items()},
        "tags": {name: tags for name, tags in platform.tags.items() if tags},
        "settings": {
            name: found
            for name, body in resources.items()
            if (found := _pulumi_settings(body["type"], body["inputs"]))
        },
        "outputs": sorted(set(plan["outputs"]) - {INPUTS_OUTPUT}),
        "inputs": plan["outputs"].get(INPUTS_OUTPUT, {}),
    }


def _cfn_lifecycle(resource: Artifact) -> dict[str, bool]:
    """What a stack deletion does to one CloudFormation resource."""
    properties = resource.get("Properties", {})
    attributes = {a["Key"]: a["Value"] for a in properties.get("LoadBalancerAttributes", [])}
    policy = resource.get("DeletionPolicy", "Delete")
    return {
        "kept": policy == "Retain",
        "final_snapshot": policy == "Snapshot",
        # AWS refuses to delete it: the stack deletion would stop there.
        "guarded": properties.get("DeletionProtection") is True
        or attributes.get("deletion_protection.enabled") == "true",
    }


def _pulumi_lifecycle(resource: Artifact) -> dict[str, bool]:
    """What a destroy does to one registration: retained, refused (protect), snapshotted (only
    with a uniquely named final snapshot: a fixed name fails the second time)."""
    options, inputs = resource["options"], resource["inputs"]
    unique = bool(resource["dependencies"].get("finalSnapshotIdentifier"))
    return {
        "kept": bool(options["retainOnDelete"]),
        "final_snapshot": inputs.get("skipFinalSnapshot") is False and unique,
        "guarded": bool(options["protect"]),
    }


def _cfn_settings(kind: str, p: Artifact) -> dict[str, Any]:
    """Spec values the normalised model does not hold, from one template resource."""
    if kind == "AWS::EC2::Subnet":
        return {"cidr": p["CidrBlock"]}
    if kind == "AWS::RDS::DBCluster":
        scaling = p["ServerlessV2ScalingConfiguration"]
        return {
            "engine": [p["Engine"], p["EngineMode"], p["EngineVersion"]],
            "capacity": [scaling["MinCapacity"], scaling["MaxCapacity"]],
        }
    if kind == "AWS::RDS::DBInstance":
        return {"class": p["DBInstanceClass"]}
    if kind == "AWS::SecretsManager::RotationSchedule":
        return {"days": p["RotationRules"]["AutomaticallyAfterDays"]}
    if kind == "AWS::CloudWatch::Alarm":
        return {"threshold": p["Threshold"]}
    if kind == "AWS::ElasticLoadBalancingV2::TargetGroup":
        return {"health_check": p["HealthCheckPath"]}
    return {}


def _pulumi_settings(kind: str, p: Artifact) -> dict[str, Any]:
    """The same values, from one registration's inputs."""
    if kind == "aws:ec2/subnet:Subnet":
        return {"cidr": p["cidrBlock"]}
    if kind == "aws:rds/cluster:Cluster":
        scaling = p["serverlessv2ScalingConfiguration"]
        return {
            "engine": [p["engine"], p["engineMode"], p["engineVersion"]],
            "capacity": [scaling["minCapacity"], scaling["maxCapacity"]],
        }
    if kind == "aws:rds/clusterInstance:ClusterInstance":
        return {"class": p["instanceClass"]}
    if kind == "aws:secretsmanager/secretRotation:SecretRotation":
        return {"days": p["rotationRules"]["automaticallyAfterDays"]}
    if kind == "aws:cloudwatch/metricAlarm:MetricAlarm":
        return {"threshold": p["threshold"]}
    if kind == "aws:lb/targetGroup:TargetGroup":
        return {"health_check": p["healthCheck"]["path"]}
    return {}


def compare(
    template: Artifact,
    plan: Artifact,
    expected: Expectation,
    given: dict[str, str] | None = None,
) -> list[str]:
    """Where the two backends' platforms differ in meaning, one line per differing leaf.

    Lifecycle and tags are compared for the resources both sides hold by name: a registration
    that only configures another (a bucket's encryption, the generated password) has no template
    twin, and one that a side cannot tag is left out of the tags."""
    left, right = template_semantics(template, expected, given), plan_semantics(plan, expected)
    cfn_types = {name: body["Type"] for name, body in template["Resources"].items()}
    pulumi_types = {r["name"]: r["type"] for r in plan["resources"]}
    shared = set(cfn_types) & set(pulumi_types)
    untaggable = {n for n, t in cfn_types.items() if t in CFN_UNTAGGABLE} | {
        n for n, t in pulumi_types.items() if t in PULUMI_UNTAGGABLE
    }
    for side in (left, right):
        side["lifecycle"] = {n: v for n, v in side["lifecycle"].items() if n in shared}
        side["tags"] = {n: v for n, v in side["tags"].items() if n in shared - untaggable}
    return differences(left, right)


# ---------------------------------------------------------------- the reference platforms

PLATFORMS = [(builds.REFERENCE, "dev"), (builds.REFERENCE, "prod"), (builds.ROUTED, None)]


def _ids(platform: tuple[Path, str | None]) -> str:
    return f"{platform[0].stem}-{platform[1] or 'own'}"


@pytest.mark.parametrize("platform", PLATFORMS, ids=_ids)
def test_the_reference_platforms_mean_the_same_in_both_backends(
    platform: tuple[Path, str | None],
) -> None:
    spec, environment = platform
    expected = builds.expectation(spec, environment)
    assert (
        compare(builds.template(spec, environment), builds.plan(spec, environment), expected) == []
    )


@pytest.mark.parametrize("platform", PLATFORMS, ids=_ids)
def test_the_reference_platforms_mean_the_same_after_a_cutover(
    platform: tuple[Path, str | None],
) -> None:
    """The template with every live-colour parameter flipped, and the plan of a program run with
    the other colours (what `paycompile up` does once the listener says they are live)."""
    spec, environment = platform
    expected = builds.expectation(spec, environment).flipped()
    template = builds.template(spec, environment)
    other = {"blue": "green", "green": "blue"}
    flipped = {name: other[value] for name, value in live_parameters(template).items()}
    plan = builds.plan(spec, environment, after_cutover=True)
    assert flipped and compare(template, plan, expected, flipped) == []


def test_the_comparison_is_per_service() -> None:
    """Three services: each one's routes, registrations, flows and cutover under its own name."""
    expected = builds.expectation(builds.ROUTED)
    found = template_semantics(builds.template(builds.ROUTED), expected)["services"]
    assert set(found) == set(expected.services) and len(found) == 3
    for service, seen in found.items():
        assert seen["groups"] and seen["routes"] and seen["ecs"] and seen["cutover"], service


# ---------------------------------------------------------------- what the comparison sees

PulumiEdit = Callable[[Artifact], None]


def _log_group_one_day_without_key(plan: Artifact) -> None:
    pulumi_edits.log_group_one_day(plan)
    pulumi_edits._drop(plan, "ApiCutoverLogGroup", "kmsKeyId")


# (what breaks, the edit of the plan, the environment, fragments differences() must name)
BREAKAGES: list[tuple[str, PulumiEdit, str, tuple[str, ...]]] = [
    (
        "db-egress-open",
        pulumi_edits.db_egress_open,
        "dev",
        ("reachability: only in pulumi: db -> internet",),
    ),
    (
        "https-forwards-to-green",
        pulumi_edits.https_to_idle,
        "dev",
        ("services.api.routes", "listeners.HttpsListener.actions"),
    ),
    (
        "alb-unprotected-in-prod",
        pulumi_edits.alb_unprotected,
        "prod",
        ("load_balancers.Alb.attributes.deletion_protection.enabled",),
    ),
    (
        "log-group-one-day-no-key",
        _log_group_one_day_without_key,
        "dev",
        ("logs.ApiCutoverLogGroup.retention", "logs.ApiCutoverLogGroup.key"),
    ),
    (
        "secret-without-key",
        pulumi_edits.secret_without_key,
        "dev",
        ("key_uses: only in cfn: DbSecret", "key_uses: only in pulumi: DbSecret"),
    ),
    (
        "cluster-without-key",
        pulumi_edits.cluster_without_key,
        "dev",
        ("databases.DbCluster.key", "key_uses: only in cfn: DbCluster"),
    ),
    (
        "cutover-role-emptied",
        pulumi_edits.cutover_role_emptied,
        "dev",
        ("roles.ApiCutoverRole.allows", "services.api.cutover.ApiCutover.role.allows"),
    ),
    (
        "switch-state-is-pass",
        pulumi_edits.states(cfn_edits.switch_is_pass),
        "dev",
        ("services.api.cutover.ApiCutover.definition.States.PerformTrafficSwitch",),
    ),
    (
        "rollback-state-is-pass",
        pulumi_edits.states(cfn_edits.rollback_is_pass),
        "dev",
        ("services.api.cutover.ApiCutover.definition.States.RollBack",),
    ),
    (
        "green-service-in-blue-group",
        pulumi_edits.service_in_other_group,
        "dev",
        ("services.api.ecs.green.registered",),
    ),
    (
        "cluster-unprotected-and-deletable",
        pulumi_edits.retained_unprotected_cluster,
        "prod",
        ("databases.DbCluster.deletion_protection",),
    ),
    (
        "waf-sql-injection-rules-dropped",
        pulumi_edits.waf_sqli_dropped,
        "dev",
        ("web_acls.Waf.managed_groups",),
    ),
    (
        "waf-unassociated",
        pulumi_edits.waf_unassociated,
        "dev",
        ("waf_associations: only in cfn",),
    ),
]


@pytest.mark.parametrize(
    ("edit", "environment", "names"),
    [pytest.param(*b[1:], id=b[0]) for b in BREAKAGES],
)
def test_the_comparison_names_a_breakage_on_the_pulumi_side(
    edit: PulumiEdit, environment: str, names: tuple[str, ...]
) -> None:
    expected = builds.expectation(builds.REFERENCE, environment)
    plan = builds.plan(builds.REFERENCE, environment)
    edit(plan)
    found = compare(builds.template(builds.REFERENCE, environment), plan, expected)
    for name in names:
        assert any(name in line for line in found), f"{name} not in {found}"


def test_the_comparison_sees_lifecycle_tags_settings_and_outputs() -> None:
    expected = builds.expectation(builds.REFERENCE, "prod")
    template, plan = (
        builds.template(builds.REFERENCE, "prod"),
        builds.plan(builds.REFERENCE, "prod"),
    )
    pulumi = {r["name"]: r for r in plan["resources"]}
    pulumi["DataKey"]["options"]["retainOnDelete"] = False
    del pulumi["DbCluster"]["dependencies"]["finalSnapshotIdentifier"]
    pulumi["DbSecretRotation"]["inputs"]["rotationRules"]["automaticallyAfterDays"] = 31
    template["Resources"]["BackupVault"]["DeletionPolicy"] = "Delete"
    template["Resources"]["Vpc"]["Properties"]["Tags"].append({"Key": "Extra", "Value": "x"})
    del template["Outputs"][next(iter(template["Outputs"]))]
    found = "\n".join(compare(template, plan, expected))
    for name in (
        "lifecycle.DataKey.kept",
        "lifecycle.DbCluster.final_snapshot",
        "lifecycle.BackupVault.kept",
        "settings.DbSecretRotation.days",
        "tags.Vpc.Extra: only in cfn",
        "outputs: only in pulumi",
    ):
        assert name in found, name


def test_differences_names_missing_items_and_reordered_lists() -> None:
    assert differences({"a": ["x", "y"]}, {"a": ["x"]}) == ["a: only in cfn: y"]
    assert differences({"a": [100, 0]}, {"a": [0, 100]}) == ["a: cfn [100, 0] != pulumi [0, 100]"]
    assert differences({"a": {"b": 1.0}}, {"a": {"b": 1}}) == []
    assert differences({"a": [{"b": 1}]}, {"a": [{"b": 2}]}) == ["a[0].b: cfn 1 != pulumi 2"]


# ---------------------------------------------------------------- every generated spec


def both(text: str, environment: str | None = None) -> tuple[Artifact, Artifact]:
    graph = paycompile.compile_spec(paycompile.load_spec_text(text, "gen.yaml", environment))
    return builds.cfn_template(graph), json.loads(paycompile.render(graph, "pulumi"))


@COSTLY
@given(valid_specs())
def test_every_spec_means_the_same_in_both_backends(generated: GeneratedSpec) -> None:
    template, plan = both(generated.text, generated.environment)
    expected = Expectation.from_document(generated.document, generated.environment)
    assert compare(template, plan, expected) == []
