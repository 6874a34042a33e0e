"""Listener-rule priorities that never move, and route patterns that cannot shadow each other."""

from __future__ import annotations

import itertools
import re
from typing import Any

import pytest
import yaml
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from strategies import GeneratedSpec, valid_specs

import paycompile
from paycompile.compiler.compile import build_graph
from paycompile.compiler.graph import Kind
from paycompile.errors import SpecError
from paycompile.spec import policy
from paycompile.spec.routes import patterns_overlap
from tests.conftest import REFERENCE_SPEC as REFERENCE

# --- pattern overlap, decided by automata, against brute force -------------------------------


def _matches(pattern: str, text: str) -> bool:
    """ALB wildcard semantics, independently: `*` any run, `?` one character."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, text, re.DOTALL) is not None


def _brute_force_overlap(first: str, second: str) -> bool:
    # A shortest common string advances at least one pattern per character, so it is no
    # longer than both patterns together; try every string that short over their letters.
    alphabet = sorted({c for c in first + second if c not in "*?"} | {"#"})
    for length in range(len(first) + len(second) + 1):
        for letters in itertools.product(alphabet, repeat=length):
            text = "".join(letters)
            if _matches(first, text) and _matches(second, text):
                return True
    return False


PATTERNS = st.text(alphabet="ab*?", max_size=4)


@given(first=PATTERNS, second=PATTERNS)
def test_overlap_is_what_brute_force_finds(first: str, second: str) -> None:
    assert patterns_overlap(first, second) == _brute_force_overlap(first, second)


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        ("/pay/*", "/pay/v1/*", True),
        ("/pay/*", "/payments/*", False),
        ("/a/*", "/b/*", False),
        ("/a?c", "/abc", True),
        ("/a?c", "/ac", False),
        ("*.example.com", "pay.example.com", True),
        ("*.example.com", "example.com", False),
        ("/api/*/orders", "/api/v1/*", True),
    ],
)
def test_overlap_examples(first: str, second: str, overlap: bool) -> None:
    assert patterns_overlap(first, second) is overlap
    assert patterns_overlap(second, first) is overlap


# --- the spec refuses what the listener could not keep apart ---------------------------------


def _spec(*routes: dict[str, Any]) -> paycompile.PlatformSpec:
    services = [
        {"name": f"s{index}", "image": "nginx:1.27", "port": 9000 + index, "route": route}
        for index, route in enumerate(routes)
    ]
    return paycompile.load_spec(REFERENCE).with_changes({"services": services})


def test_a_wildcard_host_needs_explicit_priorities_on_both() -> None:
    with pytest.raises(SpecError, match="PAY-SPEC-001"):
        _spec({"host": "*.example.com"}, {"host": "pay.example.com", "priority": 3})


def test_overlapping_routes_with_explicit_priorities_are_accepted() -> None:
    spec = _spec({"path": "/pay/*", "priority": 20}, {"path": "/pay/v?/*", "priority": 10})
    assert [s.rule_priority for s in spec.services[1:]] == [20, 10]


def test_a_host_and_a_path_route_never_conflict_by_pattern() -> None:
    spec = _spec({"path": "/pay/*"}, {"host": "pay.example.com"})
    assert len(spec.services) == 3


def test_equal_priorities_name_both_services_and_the_fix() -> None:
    with pytest.raises(SpecError) as caught:
        _spec({"path": "/a/*", "priority": 9}, {"path": "/b/*", "priority": 9})
    (issue,) = caught.value.issues
    assert issue.path == "services[2].route"
    assert "'s0' and 's1'" in issue.message and "set route.priority" in issue.message


def test_default_priorities_are_stable_and_in_their_range() -> None:
    low, high = policy.DEFAULT_PRIORITY_RANGE
    assert policy.default_rule_priority("api") == policy.default_rule_priority("api")
    priorities = {policy.default_rule_priority(f"service-{n}") for n in range(500)}
    assert all(low <= p <= high for p in priorities) and len(priorities) > 490


# --- adding a service anywhere never moves another's rule -------------------------------------


def _rule_priorities(spec: paycompile.PlatformSpec) -> dict[str, int]:
    """What the compiled listener rules say, per service (the compiler's answer, not the spec's)."""
    graph = build_graph(spec)
    return {
        rule.props["service"]: rule.props["priority"] for rule in graph.of_kind(Kind.LISTENER_RULE)
    }


@st.composite
def specs_and_a_new_service(draw: st.DrawFn) -> tuple[GeneratedSpec, dict[str, Any], int]:
    generated = draw(valid_specs())
    taken = {s["name"].replace("-", "") for s in generated.document["services"]}
    name = draw(
        st.from_regex(r"\A[a-z][a-z0-9]{0,6}\Z", fullmatch=True).filter(lambda n: n not in taken)
    )
    route = draw(st.sampled_from([{"path": f"/{name}/*"}, {"host": f"{name}.new.example.com"}]))
    new = {"name": name, "image": "nginx:1.27", "port": 4242, "route": route}
    return generated, new, draw(st.integers(0, len(generated.document["services"])))


@settings(max_examples=max(5, settings.default.max_examples // 3))
@given(case=specs_and_a_new_service())
def test_adding_a_service_anywhere_moves_no_other_rule(
    case: tuple[GeneratedSpec, dict[str, Any], int],
) -> None:
    generated, new, position = case
    assume(len(generated.document["services"]) < policy.MAX_SERVICES)
    before = paycompile.load_spec_text(generated.text, environment=generated.environment)
    document = yaml.safe_load(generated.text)
    document["services"].insert(position, new)
    try:
        after = paycompile.load_spec_text(
            yaml.safe_dump(document), environment=generated.environment
        )
    except SpecError as refused:  # only ever because the new rule collides with one that exists
        assert all("PAY-SPEC-001" in issue.message for issue in refused.issues), refused
        return
    old = {s.name: s.rule_priority for s in before.services}
    assert {s.name: s.rule_priority for s in after.services if s.name in old} == old
    assert _rule_priorities(after).items() >= _rule_priorities(before).items()
