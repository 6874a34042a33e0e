"""The rules' edges that mutmut's survivors showed no test reached (docs/testing.md, "Source
mutation"): the exact words each violation uses, the Name/Value pairs of the secret scan, what
counts as a literal, the Pass chains a cutover's failure may take to the rollback, and the
damaged props a rule must turn into a violation rather than an exception.

Each test damages a freshly built reference graph the way its rule guards against and asserts
what that rule says, so a rule that still fails but for the wrong reason, or says nothing
useful, is caught.
"""

from __future__ import annotations

from functools import cache

import pytest

import paycompile
from paycompile.compiler.compile import build_graph
from paycompile.compiler.graph import Choose, Concat, Graph, Json, Ref
from paycompile.compiler.rules import run_rules
from paycompile.compiler.rules.helpers import leaves
from paycompile.spec.model import PlatformSpec
from tests.builds import REFERENCE

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db"


@cache
def _spec(environment: str) -> PlatformSpec:
    return paycompile.load_spec(REFERENCE, environment)


def fresh(environment: str = "dev") -> Graph:
    return build_graph(_spec(environment))


def said(graph: Graph, rule_id: str) -> list[str]:
    return run_rules(graph)[rule_id]


def states(graph: Graph, machine: str = "ApiCutover") -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = graph[machine].props["definition"].value["States"]
    return found


# ---------------------------------------------------------------- the secret scan (PAY-SEC-003)


def test_leaves_pair_a_name_with_its_value_in_every_spelling() -> None:
    value = {
        "environment": [
            {"Name": "DB_PASSWORD", "Value": "a"},
            {"name": "API_TOKEN", "value": "b"},
            {"parameter_name": "SIGNING_KEY", "Value": "c"},
            {"Name": "PLAIN", "Other": "d"},
        ],
        "command": Concat(["x", Json({"inner": "y"}), Json(["z"])]),
    }
    assert list(leaves(value)) == [
        ("Name", "DB_PASSWORD"),
        ("DB_PASSWORD", "a"),
        ("name", "API_TOKEN"),
        ("API_TOKEN", "b"),
        ("parameter_name", "SIGNING_KEY"),
        ("SIGNING_KEY", "c"),
        ("Name", "PLAIN"),
        ("Other", "d"),
        ("command", "x"),
        ("inner", "y"),
        ("command", "z"),
    ]
    assert list(leaves("alone")) == [("", "alone")]


@pytest.mark.parametrize(
    ("value", "flagged"),
    [
        ("hunter2", True),
        (1234, True),
        (12.5, True),
        (SECRET_ARN, False),
        ("{{resolve:secretsmanager:db:SecretString:password}}", False),
        ("  ", False),
        (True, False),
        (Concat(["hunter2", SECRET_ARN]), True),
    ],
    ids=repr,
)
def test_a_secret_named_value_is_flagged_only_when_written_by_hand(
    value: object, flagged: bool
) -> None:
    graph = fresh()
    graph["ApiBlueTask"].props["extra"] = [{"Name": "DB_PASSWORD", "Value": value}]
    expected = ["ApiBlueTask.DB_PASSWORD: literal value for a secret-looking name"]
    assert said(graph, "PAY-SEC-003") == (expected if flagged else [])


# ---------------------------------------------------------------- the cutover (PAY-OPS-004)


def test_a_failure_may_reach_the_rollback_through_pass_states() -> None:
    graph = fresh()
    found = states(graph)
    found["NoteAgain"] = {"Type": "Pass", "Next": "NoteFailedCall"}
    found["ScaleUpIdleColor"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": "NoteAgain"}]
    assert said(graph, "PAY-OPS-004") == []


@pytest.mark.parametrize(
    "next_state",
    ["CutoverFailed", "Loop", "Nowhere", None],
    ids=["to a Fail", "into a Pass loop", "to no state", "no Next"],
)
def test_a_failure_that_does_not_reach_the_rollback_is_named(next_state: str | None) -> None:
    graph = fresh()
    found = states(graph)
    found["Loop"] = {"Type": "Pass", "Next": "Loop"}
    # The last Task state that needs the rollback, after states it skips (Pass, Wait, Choice).
    found["CheckAlarms"]["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": next_state}]
    assert said(graph, "PAY-OPS-004") == ["ApiCutover: a failure in CheckAlarms must roll back"]


def test_a_rollback_that_restores_fixed_weights_is_named() -> None:
    graph = fresh()
    states(graph)["RollBack"]["Parameters"] = {"ListenerArn": "x", "DefaultActions": []}
    assert said(graph, "PAY-OPS-004") == ["ApiCutover: RollBack must restore the captured weights"]


def test_a_machine_without_its_role_is_named() -> None:
    graph = fresh()
    graph["ApiCutover"].props["role"] = None
    assert said(graph, "PAY-OPS-004") == ["ApiCutover has no execution role in the graph"]


# ---------------------------------------------------------------- blue/green (PAY-DEP-001)


def test_weights_that_ignore_the_live_colour_are_named() -> None:
    graph = fresh()
    listener = graph["HttpsListener"]
    blue, green = listener.props["default_action"]["forward"]
    blue["weight"], green["weight"] = 100, 0  # fixed: a cutover could never move them
    found = said(graph, "PAY-DEP-001")
    assert "service api: weights do not follow a live-colour input" in found, found


def test_weights_wrong_for_one_live_colour_are_named() -> None:
    graph = fresh()
    blue, _ = graph["HttpsListener"].props["default_action"]["forward"]
    blue["weight"] = Choose(blue["weight"].input, (("blue", 100), ("green", 100)))
    found = said(graph, "PAY-DEP-001")
    assert len(found) == 1 and "with green live the weights are" in found[0], found
    assert "want {'blue': 0, 'green': 100}" in found[0], found


def test_task_counts_that_do_not_follow_the_live_colour_are_named() -> None:
    graph = fresh()
    blue = graph["ApiBlueService"].props["desired_count"]
    graph["ApiBlueService"].props["desired_count"] = Choose(blue.input, (("blue", 2), ("green", 1)))
    found = said(graph, "PAY-DEP-001")
    assert any("with green live the task counts are" in line for line in found), found
    assert not any("with blue live" in line for line in found), found


def test_a_task_count_that_is_not_a_number_is_no_count() -> None:
    graph = fresh()
    for color in ("Blue", "Green"):
        graph[f"Api{color}Service"].props["desired_count"] = "2"
    found = said(graph, "PAY-DEP-001")
    assert any("with blue live the task counts are" in line for line in found), found


def test_a_reference_to_the_wrong_kind_of_node_is_no_reference() -> None:
    graph = fresh()
    graph["ApiCutover"].props["role"] = Ref("ApiBlueTg", "arn")
    assert said(graph, "PAY-OPS-004") == ["ApiCutover has no execution role in the graph"]


def test_a_service_whose_live_colour_runs_nothing_is_named() -> None:
    graph = fresh()
    for color in ("Blue", "Green"):
        graph[f"Api{color}Service"].props["desired_count"] = 0
    found = said(graph, "PAY-DEP-001")
    assert any("with blue live the task counts are" in line for line in found), found


# ---------------------------------------------------------------- TLS (PAY-TLS-001)


def test_a_plain_listener_on_443_is_not_https() -> None:
    graph = fresh()
    graph["HttpsListener"].props["protocol"] = "HTTP"
    assert said(graph, "PAY-TLS-001")


# ---------------------------------------------------------------- damaged props never raise


@pytest.mark.parametrize(
    ("logical_id", "prop", "damage"),
    [
        ("ApiCutover", "definition", {"States": {}}),  # a dict, not Json
        ("Dashboard", "body", "widgets"),
        ("HttpListener", "default_action", "redirect"),
        ("HttpListener", "default_action", {"redirect": "https"}),
        ("ApiBlueService", "security_groups", None),
        ("HttpsListener", "default_action", {"forward": "ApiBlueTg"}),
        ("ApiBlueService", "target_group", "ApiBlueTg"),  # a name, not a Ref
        ("ApiBlueService", "desired_count", "two"),
        ("ApiBlueService", "desired_count", True),
        ("ApiTaskRolePolicy", "statements", ["Allow"]),
        ("ApiTaskRolePolicy", "roles", "ApiTaskRole"),
    ],
    ids=lambda v: str(v)[:20],
)
def test_a_damaged_prop_never_raises(logical_id: str, prop: str, damage: object) -> None:
    """A faster, targeted cousin of test_rules.py's sweep over every prop (which `make mutate`
    leaves out): the guards of the rules' helpers, one damage each."""
    graph = fresh()
    graph[logical_id].props[prop] = damage
    run_rules(graph)


def test_a_dashboard_metric_that_is_not_a_list_is_ignored() -> None:
    graph = fresh()
    body = graph["Dashboard"].props["body"].value
    for widget in body["widgets"]:
        metrics = widget["properties"]["metrics"]
        widget["properties"]["metrics"] = [{"not": "a metric"}, *(" " for _ in metrics)]
    assert said(graph, "PAY-OPS-001")
