"""The strategies themselves: they draw only valid specs, and they reach the spec's bounds."""

from __future__ import annotations

import re

from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st
from strategies import (
    ONE_STACK_SERVICES,
    GeneratedSpec,
    documents,
    parameters,
    routes,
    service_counts,
    tags,
    valid_specs,
)

import paycompile
from paycompile.spec import policy


@settings(max_examples=max(5, settings.default.max_examples // 3))
@given(generated=valid_specs())
def test_every_drawn_spec_is_valid(generated: GeneratedSpec) -> None:
    spec = paycompile.load_spec_text(generated.text, "platform.yaml", generated.environment)
    assert spec.environment == (generated.environment or generated.document["environment"])


def reaches(strategy: st.SearchStrategy[object], condition: object) -> None:
    """Hypothesis finds a draw that satisfies `condition` (no exception = reached); it stops at
    the first one (no shrinking: the draw itself does not matter)."""
    once = settings(max_examples=2000, database=None, phases=(Phase.generate,), derandomize=True)
    find(strategy, condition, settings=once)  # type: ignore[arg-type]


def test_service_counts_reach_what_one_stack_holds_but_mostly_stay_small() -> None:
    reaches(service_counts(), lambda n: n == ONE_STACK_SERVICES)
    reaches(service_counts(), lambda n: n == 1)


def test_tags_reach_the_limit_and_any_letter() -> None:
    reaches(tags(), lambda found: len(found) == policy.MAX_USER_TAGS)
    reaches(
        tags(), lambda found: any(not c.isascii() for tag in found.items() for c in "".join(tag))
    )
    reaches(tags(), lambda found: any(c in "".join(found) for c in " .:/=+-@"))


def test_parameter_keys_mix_cases() -> None:
    reaches(
        parameters(),
        lambda found: any(re.search("[a-z]", k) and re.search("[A-Z]", k) for k in found),
    )


def test_routes_mix_hosts_paths_and_priorities() -> None:
    names = [f"s{n}" for n in range(6)]

    def mixed(found: dict[str, dict[str, object]]) -> bool:
        kinds = {"path" if "path" in r else "host" for r in found.values()}
        explicit = {"priority" in r for r in found.values()}
        return kinds == {"path", "host"} and explicit == {True, False}

    reaches(routes(names), mixed)


def test_documents_reach_every_engine_version_and_both_lifecycles() -> None:
    for version in policy.SERVERLESS_V2_AURORA_MYSQL_VERSIONS[
        :: len(policy.SERVERLESS_V2_AURORA_MYSQL_VERSIONS) - 1
    ]:
        reaches(documents(), lambda d, v=version: d["database"]["engine_version"] == v)
    reaches(documents(), lambda d: d["lifecycle"] == "retained")
    reaches(
        documents(), lambda d: d["lifecycle"] == "ephemeral" and d["network"]["flow_logs"] is False
    )


def test_documents_reach_overlapping_routes() -> None:
    reaches(
        documents(),
        lambda d: any("v?" in s.get("route", {}).get("path", "") for s in d["services"]),
    )
