"""The policy holes a spec could once slip through, each refused with its rule id, and the data
behind them (engine versions, regions, tags) checked against what AWS and its tools say."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import jsonschema
import pytest

import paycompile
from paycompile.compiler.compile import build_graph
from paycompile.errors import SpecError
from paycompile.spec import policy
from tests.conftest import REFERENCE_SPEC

REFERENCE_TEXT = REFERENCE_SPEC.read_text()
REFERENCE_IMAGE = "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.2"
EXTRA_SERVICE = """\
  - name: web
    image: public.ecr.aws/nginx/nginx:1.27
    port: 9000
    route:
      {route}
"""


def load(old: str, new: str, environment: str | None = None) -> paycompile.PlatformSpec:
    assert old in REFERENCE_TEXT, old
    return paycompile.load_spec_text(
        REFERENCE_TEXT.replace(old, new, 1), "platform.yaml", environment
    )


def refusal(old: str, new: str, environment: str | None = None) -> str:
    """The one line a spec edited so is refused with."""
    with pytest.raises(SpecError) as caught:
        load(old, new, environment)
    assert len(caught.value.issues) == 1, caught.value.issues
    return str(caught.value.issues[0])


# --- lifecycle ---------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["prd", "production", "prod-eu", "eu-prod"])
def test_a_production_environment_cannot_be_ephemeral(environment: str) -> None:
    line = refusal("environment: dev ", f"environment: {environment} ")
    assert line.startswith("platform.yaml:7:12: lifecycle: ") and "(policy PAY-DB-003)" in line


def test_an_override_cannot_make_prod_ephemeral() -> None:
    line = refusal("    lifecycle: retained", "    lifecycle: ephemeral")
    assert "overrides.prod.lifecycle" in line and "(policy PAY-DB-003)" in line


@pytest.mark.parametrize("environment", ["dev", "pr-123", "products", "preprod"])
def test_other_environments_may_be_ephemeral(environment: str) -> None:
    assert load("environment: dev ", f"environment: {environment} ").lifecycle == "ephemeral"


def test_a_retained_environment_needs_an_alarm_email() -> None:
    line = refusal("  alarm_email: payments-oncall@example.com\n", "")
    assert "monitoring.alarm_email" in line and "'prod' is retained" in line
    assert "(policy PAY-OPS-002)" in line


def test_a_retained_environment_needs_three_nat_gateways() -> None:
    line = refusal("      nat_gateways: 3", "      nat_gateways: 1")
    line_number = REFERENCE_TEXT.splitlines().index("      nat_gateways: 3") + 1
    assert line.startswith(f"platform.yaml:{line_number}:21: overrides.prod.network.nat_gateways: ")
    assert "(policy PAY-NET-002)" in line


def test_a_retained_environment_keeps_flow_logs() -> None:
    line = refusal("  flow_logs: true", "  flow_logs: false")
    assert "network.flow_logs" in line and "(policy PAY-NET-003)" in line
    # an ephemeral environment may turn them off
    ephemeral_only = REFERENCE_TEXT.split("overrides:")[0].replace(
        "flow_logs: true", "flow_logs: false"
    )
    assert paycompile.load_spec_text(ephemeral_only).network.flow_logs is False


def test_the_nat_default_follows_the_lifecycle() -> None:
    no_nat = "  nat_gateways: 1           # 1 shared NAT (cheapest) or 3 (one per AZ)\n"
    assert load(no_nat, "").network.nat_gateways == 1  # dev: ephemeral
    assert load(no_nat, "", "prod").network.nat_gateways == 3  # prod: retained


# --- database ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "version", ["8.0.mysql_aurora.3.01.0", "8.0.mysql_aurora.3.99.9", "8.0.mysql_aurora.3.07.1"]
)
def test_an_engine_version_without_serverless_v2_is_refused(version: str) -> None:
    line = refusal("8.0.mysql_aurora.3.10.3", version)
    assert "database.engine_version" in line and "(policy PAY-DB-001)" in line


def _cfn_lint_engine_schemas() -> tuple[dict[str, Any], dict[str, Any]]:
    package = resources.files("cfnlint.data.schemas.extensions.aws_rds_dbcluster")
    available = json.loads((package / "engine_version.json").read_text())
    deprecated = json.loads((package / "engine_version_deprecated.json").read_text())
    return available, deprecated


@pytest.mark.parametrize("version", policy.SERVERLESS_V2_AURORA_MYSQL_VERSIONS)
def test_every_supported_version_is_current_for_cfn_lint(version: str) -> None:
    """cfn-lint's own data: the version exists (E3690's schema) and may create clusters
    (W3690's schema). When cfn-lint is upgraded and retires a version, this names it."""
    cluster = {"Engine": "aurora-mysql", "EngineVersion": version}
    for schema in _cfn_lint_engine_schemas():
        assert not list(jsonschema.Draft7Validator(schema).iter_errors(cluster)), version


def test_the_default_engine_version_is_supported() -> None:
    assert policy.DEFAULT_AURORA_MYSQL_VERSION in policy.SERVERLESS_V2_AURORA_MYSQL_VERSIONS


# --- tags --------------------------------------------------------------------------------------


def _tag_counts(template: dict[str, Any]) -> dict[str, int]:
    counts = {}
    for logical_id, resource in template["Resources"].items():
        for key, value in resource.get("Properties", {}).items():
            if key.endswith("Tags") and isinstance(value, list | dict):
                counts[logical_id] = len(value)
    return counts


def test_the_most_user_tags_still_fit_every_resource() -> None:
    """At the user limit, every tagged resource of the template stays within AWS's 50."""
    tags = "".join(f"  Extra{n}: x\n" for n in range(policy.MAX_USER_TAGS - 2))
    spec = load("  CostCenter: FinTech\n", "  CostCenter: FinTech\n" + tags, "prod")
    spec = spec.with_changes(
        {
            "services": [
                {"name": "web", "image": "nginx:1.27", "port": 9000, "route": {"path": "/w/*"}}
            ]
        }
    )
    template = json.loads(paycompile.render(paycompile.compile_spec(spec), "cfn"))
    counts = _tag_counts(template)
    # Target groups carry the most: the user's and Environment, Name, DeploymentColor, Service.
    assert policy.MAX_USER_TAGS < max(counts.values()) <= policy.AWS_TAG_LIMIT


def test_one_tag_more_is_refused() -> None:
    tags = "".join(f"  Extra{n}: x\n" for n in range(policy.MAX_USER_TAGS - 1))
    line = refusal("  CostCenter: FinTech\n", "  CostCenter: FinTech\n" + tags)
    assert f"at most {policy.MAX_USER_TAGS} tags" in line and "(policy PAY-GOV-001)" in line


def test_the_compiler_adds_only_the_tags_policy_reserves() -> None:
    """Every tag key the graph carries beyond the user's is in DERIVED_TAGS (and so refused as a
    user tag): a new derived tag cannot silently overwrite a user's."""
    spec = paycompile.load_spec(REFERENCE_SPEC, "prod").with_changes(
        {
            "services": [
                {"name": "web", "image": "nginx:1.27", "port": 9000, "route": {"path": "/w/*"}}
            ]
        }
    )
    added = {key for node in build_graph(spec) for key in node.tags} - set(spec.tags)
    assert added and added <= set(policy.DERIVED_TAGS)


@pytest.mark.parametrize("tag", policy.DERIVED_TAGS)
def test_a_derived_tag_is_refused(tag: str) -> None:
    line = refusal("  CostCenter: FinTech\n", f"  CostCenter: FinTech\n  {tag}: mine\n")
    assert f"tags: tag {tag!r} is set by paycompile" in line and "(policy PAY-GOV-001)" in line


# --- names, images, routes, regions -------------------------------------------------------------


@pytest.mark.parametrize("name", ["sg-pay", "internal-pay"])
def test_a_name_with_a_prefix_aws_refuses(name: str) -> None:
    line = refusal("name: payment", f"name: {name}")
    assert line.startswith("platform.yaml:4:7: name: ") and "(policy PAY-GOV-004)" in line


@pytest.mark.parametrize(
    ("image", "why"),
    [
        ("public.ecr.aws/nginx/nginx", "no tag or digest"),
        ("public.ecr.aws/nginx/nginx:latest", "'latest' moves"),
        ("localhost:5000/nginx", "no tag or digest"),
    ],
)
def test_an_unpinned_image_is_refused(image: str, why: str) -> None:
    line = refusal(f"image: {REFERENCE_IMAGE}", f"image: {image}")
    assert "services[0].image" in line and why in line and "(policy PAY-SPEC-002)" in line


@pytest.mark.parametrize(
    "image",
    [
        "nginx:1.27",
        "localhost:5000/nginx:1",
        "public.ecr.aws/nginx/nginx@sha256:" + "a" * 64,
        "public.ecr.aws/nginx/nginx:latest@sha256:" + "a" * 64,
    ],
)
def test_a_pinned_image_is_accepted(image: str) -> None:
    assert load(f"image: {REFERENCE_IMAGE}", f"image: {image}").services[0].image == image


def test_a_catch_all_route_is_refused() -> None:
    second = EXTRA_SERVICE.format(route="path: /*")
    line = refusal("database:\n", second + "database:\n")
    assert "services[1].route.path" in line and "(policy PAY-SPEC-001)" in line


def test_a_region_where_new_accounts_get_two_zones_is_refused() -> None:
    line = refusal("region: us-east-1", "region: us-west-1")
    assert "2 availability zones" in line and "(policy PAY-NET-001)" in line


def test_every_region_is_accepted_or_refused_with_its_reason() -> None:
    assert set(policy.ACCEPTED_REGIONS) | set(policy.FEWER_ZONES_FOR_NEW_ACCOUNTS) == set(
        policy.REGIONS
    )


def test_the_rules_doc_lists_every_spec_policy() -> None:
    text = (REFERENCE_SPEC.parent.parent / "docs" / "rules.md").read_text()
    for rule_id, (statement, pci) in policy.SPEC_POLICIES.items():
        row = next(line for line in text.splitlines() if line.startswith(f"| {rule_id} |"))
        assert statement in row and all(requirement in row for requirement in pci)


def test_letters_beyond_the_basic_plane_reach_a_template_cfn_lint_reads() -> None:
    """A tag in a rare script and a parameter with an emoji: valid, and the JSON template
    carries them as UTF-8 (cfn-lint cannot read their `\\u` surrogate escapes)."""
    from cfnlint.api import ManualArgs, lint

    spec = load("  CostCenter: FinTech\n", "  CostCenter: FinTech\n  \U0002e356: \U00017a58\n")
    spec = spec.with_changes({"parameters": {"banner": "launch \U0001f680"}})
    text = paycompile.render(paycompile.compile_spec(spec), "cfn", "json")
    assert "\U0002e356" in text and "\U0001f680" in text
    findings = lint(text, config=ManualArgs(regions=["us-east-1"]))
    assert [f"{m.rule.id}: {m.message}" for m in findings if m.rule.id[0] in "EW"] == []
