"""The spec loader: positions, environments and overrides, as a library user sees them."""

from __future__ import annotations

from pathlib import Path

import pytest

import paycompile
from paycompile.errors import SpecError

REFERENCE = Path(__file__).resolve().parent.parent / "examples" / "platform.yaml"


def load_with(replace: str, by: str, environment: str | None = None) -> paycompile.PlatformSpec:
    text = REFERENCE.read_text()
    assert replace in text
    return paycompile.load_spec_text(text.replace(replace, by, 1), "platform.yaml", environment)


def only_issue(replace: str, by: str, environment: str | None = None) -> str:
    with pytest.raises(SpecError) as caught:
        load_with(replace, by, environment)
    assert len(caught.value.issues) == 1, caught.value.issues
    return str(caught.value.issues[0])


def test_reference_spec_loads_for_its_own_environment() -> None:
    spec = paycompile.load_spec(REFERENCE)
    assert (spec.environment, spec.lifecycle, spec.network.nat_gateways) == ("dev", "ephemeral", 1)
    assert spec.services[0].desired_count == 2


def test_env_flag_applies_that_environments_overrides() -> None:
    spec = paycompile.load_spec(REFERENCE, environment="prod")
    assert (spec.environment, spec.lifecycle, spec.network.nat_gateways) == ("prod", "retained", 3)
    assert spec.services[0].desired_count == 6
    # Keys the override does not name keep the base values.
    assert spec.services[0].image == (
        "public.ecr.aws/aws-containers/retail-store-sample-catalog:1.2.2"
    )
    assert spec.network.cidr == "10.0.0.0/16"


def test_env_without_overrides_only_renames() -> None:
    spec = paycompile.load_spec(REFERENCE, environment="pr-123", new_environment=True)
    assert (spec.environment, spec.lifecycle) == ("pr-123", "ephemeral")


def test_override_services_merge_by_name_and_append_new_ones() -> None:
    spec = load_with(
        "        desired_count: 6\n",
        "        desired_count: 6\n      - name: worker\n        image: busybox:1\n"
        "        port: 9000\n"
        "        route:\n          path: /worker/*\n",
        "prod",
    )
    assert [s.name for s in spec.services] == ["api", "worker"]
    assert spec.services[0].desired_count == 6 and spec.services[1].port == 9000


def test_errors_name_file_line_column_path_and_rule() -> None:
    line = only_issue("availability_zones: 3", "availability_zones: 2")
    assert (
        line == "platform.yaml:15:23: network.availability_zones: "
        "must be exactly 3, got 2 (policy PAY-NET-001)"
    )


def test_unknown_key_suggests_the_close_one() -> None:
    assert "did you mean 'flow_logs'" in only_issue("flow_logs: true", "flowlogs: true")


def test_a_mistake_in_another_environments_override_is_caught_at_its_line() -> None:
    lines = REFERENCE.read_text().splitlines()
    number = lines.index("      nat_gateways: 3") + 1
    line = only_issue("      nat_gateways: 3", "      nat_gateways: 2")
    assert line.startswith(f"platform.yaml:{number}:21: overrides.prod.network.nat_gateways: ")


def test_overrides_cannot_rename_the_platform() -> None:
    assert "cannot be overridden" in only_issue("    lifecycle: retained", "    name: other")


def test_every_spec_error_is_one_line() -> None:
    with pytest.raises(SpecError) as caught:
        load_with("version: 1", "version: 1\nnetwork: 7")
    assert all("\n" not in str(issue) for issue in caught.value.issues)
