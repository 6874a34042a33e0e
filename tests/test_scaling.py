"""Per-service cost stays flat: the work each stage does grows with the services, not their square.

No test here times anything: each counts the calls a quadratic slip would multiply (intersections
of route patterns, scans of the graph by kind, renders of one resource), at a few services and at
the spec's cap, and the faster paths are checked against the plain all-pairs answer.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import ValidationError

import paycompile
from paycompile.compiler.graph import Graph, Kind
from paycompile.compiler.rules import violations
from paycompile.spec import policy, routes
from paycompile.spec.base import Problem
from paycompile.spec.service import Service
from tests.conftest import REFERENCE_SPEC


def _spec_with(count: int) -> paycompile.PlatformSpec:
    """The reference spec with `count` copies of its service, each on a path of its own (the
    shape benchmarks/bench.py measures)."""
    document: dict[str, Any] = yaml.safe_load(REFERENCE_SPEC.read_text())
    template = document["services"][0]
    document["services"] = [
        {
            **template,
            "name": "api" if i == 0 else f"svc{i:03d}",
            "route": {"path": f"/s{i}/*"},
            "load_balancer": 1 + i // policy.SERVICES_PER_LOAD_BALANCER,
        }
        for i in range(count)
    ]
    return paycompile.load_spec_text(yaml.safe_dump(document), "platform.yaml")


@contextmanager
def _counting(owner: Any, name: str) -> Iterator[Counter[str]]:
    """Count the calls of `owner.name` while the block runs."""
    calls: Counter[str] = Counter()
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[name] += 1
        return original(*args, **kwargs)

    setattr(owner, name, counted)
    try:
        yield calls
    finally:
        setattr(owner, name, original)


SMALL, LARGE = 2, policy.MAX_SERVICES


# --- route conflicts: only the pairs that can conflict are intersected ------------------------


def test_distinct_paths_are_apart_without_intersecting_them() -> None:
    services = list(_spec_with(LARGE).services)
    with _counting(routes, "patterns_overlap") as calls:
        assert routes.route_conflicts(services) == []
    assert calls["patterns_overlap"] == 0


def _all_pairs(services: list[Service]) -> list[Problem]:
    """The plain answer: every pair, in order."""
    routed = [(index, service) for index, service in enumerate(services) if service.route]
    found: list[Problem] = []
    for (_, first), (index, second) in combinations(routed, 2):
        conflict = routes._conflict(first, second)
        if conflict:
            found.append(((index, "route"), conflict, second.route))
    return found


ROUTES = st.one_of(
    st.none(),
    st.builds(lambda p: {"path": "/" + p}, st.text(alphabet="ab/*?", max_size=4)),
    st.builds(
        lambda h: {"host": h},
        st.sampled_from(["a.example.com", "*.example.com", "b.a.example.com", "*.a.example.com"]),
    ),
)
PRIORITIES = st.sampled_from([None, None, 5, 6])


@given(drawn=st.lists(st.tuples(ROUTES, PRIORITIES), max_size=6))
def test_route_conflicts_are_the_all_pairs_answer(
    drawn: list[tuple[dict[str, str] | None, int | None]],
) -> None:
    services = []
    for index, (route, priority) in enumerate(drawn):
        if route is not None and priority is not None:
            route = {**route, "priority": priority}  # type: ignore[dict-item]
        try:
            services.append(
                Service.model_validate(
                    {"name": f"s{index}", "image": "nginx:1.27", "port": 9000, "route": route}
                )
            )
        except ValidationError:
            assume(False)
    found = [(where, str(error), route) for where, error, route in routes.route_conflicts(services)]
    expected = [(where, f"{error}", route) for where, error, route in _all_pairs(services)]
    assert [(w, r) for w, _, r in found] == [(w, r) for w, _, r in expected]
    assert all(want in got for (_, got, _), (_, want, _) in zip(found, expected, strict=True))


# --- rules: a fixed number of scans of the graph, whatever the service count ------------------


def _of_kind_calls(graph: Graph) -> int:
    with _counting(Graph, "of_kind") as calls:
        assert violations(graph) == []
    return calls["of_kind"]


def test_the_rules_scan_the_graph_a_fixed_number_of_times() -> None:
    small = paycompile.compile_spec(_spec_with(SMALL))
    large = paycompile.compile_spec(_spec_with(LARGE))
    assert len(large.of_kind(Kind.ECS_SERVICE)) == 2 * LARGE  # blue and green
    assert _of_kind_calls(large) == _of_kind_calls(small)


# --- rendering: a resource is rendered to find its references only when it must wait ---------


def test_only_resources_that_wait_are_rendered_to_order_them() -> None:
    pytest.importorskip("troposphere")
    from paycompile.backends.cfn import template

    graph = paycompile.compile_spec(_spec_with(SMALL))
    rendered: list[str] = []
    original = template.referenced

    def spy(value: Any) -> Iterator[str]:
        if isinstance(value, dict) and str(value.get("Type", "")).startswith("AWS::"):
            rendered.append(value["Type"])  # a whole resource, rendered to read its references
        return original(value)

    template.referenced = spy  # type: ignore[assignment]
    try:
        built = template.build_template(graph)
    finally:
        template.referenced = original  # type: ignore[assignment]
    waiting = [node for node in graph if node.depends_on]
    assert waiting, "the reference graph orders some resources explicitly"
    assert len(rendered) < len(built.resources) / 4


def test_a_nested_set_renders_only_resources_that_wait_to_order_them() -> None:
    pytest.importorskip("troposphere")
    from paycompile.backends.cfn import stacks, template

    graph = paycompile.compile_spec(_spec_with(LARGE // 3))
    rendered: list[str] = []
    original = stacks.referenced

    def spy(value: Any) -> Iterator[str]:
        if isinstance(value, dict) and str(value.get("Type", "")).startswith("AWS::"):
            rendered.append(value["Type"])
        return original(value)

    stacks.referenced = spy  # type: ignore[assignment]
    try:
        files = template.BACKEND.render_set(graph, "json")
    finally:
        stacks.referenced = original  # type: ignore[assignment]
    assert len(files) > 2, "a set of stacks, not one template"
    texts = "".join(files.values())
    resources = texts.count('"Type": "AWS::')
    nested_stacks = texts.count('"Type": "AWS::CloudFormation::Stack"')
    # Each nested stack is rendered once to find what it already refers to; of the rest, only
    # those that wait for another resource of their own template.
    assert len(rendered) - nested_stacks < (resources - nested_stacks) / 4


def test_a_nested_set_walks_each_nodes_values_once_for_its_inputs() -> None:
    """A child's deploy-time inputs are read twice (its parameters, and the root's stack
    resource that passes them); its nodes' values are walked for them once."""
    pytest.importorskip("troposphere")
    from paycompile.backends.cfn import stacks, template

    graph = paycompile.compile_spec(_spec_with(LARGE // 3))
    walked: Counter[int] = Counter()
    original = stacks.deploy_time_values

    def spy(value: Any) -> Any:
        if isinstance(value, list):
            walked.update(id(item) for item in value)
        return original(value)

    stacks.deploy_time_values = spy  # type: ignore[assignment]
    try:
        assert len(template.BACKEND.render_set(graph, "json")) > 2
    finally:
        stacks.deploy_time_values = original  # type: ignore[assignment]
    assert {walked[id(node.props)] for node in graph} == {1}


# --- output: every file of a set is scanned for secrets once, all before any is written ------


def test_a_set_is_scanned_once_per_file_and_refused_whole(tmp_path: Path) -> None:
    from paycompile import output
    from paycompile.errors import BackendError

    files = {"root.json": "{}\n", "services-01.json": '{"a": 1}\n'}
    with _counting(output, "find_secrets") as calls:
        output.write_directory(str(tmp_path / "set"), files, stale=lambda _: False)
    assert calls["find_secrets"] == len(files)
    leaking = {**files, "services-02.json": '{"DbPassword": "hunter2hunter2"}\n'}
    with pytest.raises(BackendError, match=r"services-02\.json"):
        output.write_directory(str(tmp_path / "other"), leaking, stale=lambda _: False)
    assert not (tmp_path / "other").exists(), "nothing of a refused set is written"


# --- no work repeated per call: no pattern compiled, no pydantic schema built twice ----------


def test_a_second_build_compiles_no_pattern_and_builds_no_schema() -> None:
    """Whatever a load, a compile, a render and a secret scan need is made once per process:
    a pattern built per call (an f-string regex) or a model or TypeAdapter made inside a
    function would show up here as a second build's work."""
    pytest.importorskip("troposphere")
    import re._compiler as pattern_compiler

    from pydantic._internal._generate_schema import GenerateSchema

    from paycompile.backends.cfn.template import BACKEND
    from paycompile.scan import find_secrets

    def build() -> None:
        spec = paycompile.load_spec_text(REFERENCE_SPEC.read_text(), str(REFERENCE_SPEC))
        for text in BACKEND.render_set(paycompile.compile_spec(spec), "json").values():
            assert find_secrets(text) == []

    build()
    with (
        _counting(pattern_compiler, "compile") as patterns,
        _counting(GenerateSchema, "generate_schema") as schemas,
    ):
        build()
    assert (patterns, schemas) == (Counter(), Counter())


def test_an_artifact_is_written_a_slice_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A text stream encodes whatever it is handed at once: a 13 MB plan written whole was a
    13 MB copy at the process's peak. Written in slices, the file is the same text."""
    import io

    from paycompile import output

    monkeypatch.setattr(output, "WRITE_SLICE", 7)
    text = "".join(f"line {i}: caf\u00e9\n" for i in range(50))
    output.write_output(str(tmp_path / "out.json"), text)
    assert (tmp_path / "out.json").read_text(encoding="utf-8") == text

    sizes: list[int] = []

    class Recording(io.StringIO):
        def write(self, chunk: str) -> int:
            sizes.append(len(chunk))
            return super().write(chunk)

    stream = Recording()
    output._write_in_slices(stream, text)
    assert stream.getvalue() == text and max(sizes) == 7


# --- the collector pauses for a bounded command, and only for it -----------------------------


def test_a_build_pauses_the_cycle_collector_and_restores_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from paycompile.cli import build, main

    seen: list[bool] = []
    original = build.write_output

    def writing(destination: str, text: str) -> None:
        seen.append(gc.isenabled())
        original(destination, text)

    monkeypatch.setattr(build, "write_output", writing)
    assert gc.isenabled()
    out = tmp_path / "template.json"
    assert main(["build", str(REFERENCE_SPEC), "--backend", "cfn", "-o", str(out)]) == 0
    assert seen == [False] and gc.isenabled() and out.exists()
    assert main(["build", str(REFERENCE_SPEC), "-o", str(tmp_path / "missing" / "\0")]) != 0
    assert gc.isenabled()  # restored on failure too


# --- the offline Pulumi plan: one node's registrations in flight, resources let go ------------


def test_the_pulumi_plan_registers_one_node_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Before a node registers, the monitor has answered every resource of the nodes before it:
    Pulumi's runtime never holds more than one node's pending registrations (the plan's peak
    memory grew with every service while all of them were in flight at once)."""
    plan = pytest.importorskip("paycompile.backends.pulumi.plan")
    answered: set[str] = set()
    register_resource = plan.RecordingMonitor.RegisterResource

    def answering(monitor: Any, request: Any) -> Any:
        response = register_resource(monitor, request)
        answered.add(request.name)
        return response

    earlier: list[str] = []
    unanswered: list[list[str]] = []
    register = plan.register

    def registering(node: Any, translate: Any) -> Any:
        unanswered.append([name for name in earlier if name not in answered])
        registered = register(node, translate)
        earlier.extend(each._name for each in registered.everything())
        return registered

    monkeypatch.setattr(plan.RecordingMonitor, "RegisterResource", answering)
    monkeypatch.setattr(plan, "register", registering)
    graph = paycompile.compile_spec(_spec_with(3))
    plan.capture(graph)
    assert len(unanswered) == len(list(graph))
    assert [names for names in unanswered if names] == []


def test_the_pulumi_plan_lets_a_node_go_only_after_its_last_reader() -> None:
    """Every node is let go once, never before a later node or a stack output reads it."""
    plan = pytest.importorskip("paycompile.backends.pulumi.plan")

    graph = paycompile.compile_spec(_spec_with(3))
    order = {node.logical_id: index for index, node in enumerate(graph)}
    releases = plan._releases(graph)
    released = [logical_id for names in releases.values() for logical_id in names]
    assert sorted(released) == sorted(order)
    at = {logical_id: index for index, names in releases.items() for logical_id in names}
    for node in graph:
        for target in {ref.target for ref in node.references()} | set(node.depends_on):
            assert at[target] >= order[node.logical_id], (target, node)
    read_at = {
        output.name: index
        for index, outputs in plan._readable_outputs(graph).items()
        for output in outputs
    }
    for output in graph.outputs:
        targets = plan._targets(output)
        assert read_at[output.name] == max((order[t] for t in targets), default=-1), output.name
        assert all(at[target] >= read_at[output.name] for target in targets), output.name


def test_a_pulumi_build_keeps_collecting_while_it_plans(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The plan lets resources go as it registers (above), which frees memory only while the
    cycle collector runs: a paused collector kept every one (2.8 MB per service at 50)."""
    plan = pytest.importorskip("paycompile.backends.pulumi.plan")
    from paycompile.cli import main

    seen: list[bool] = []
    register = plan.register

    def registering(node: Any, translate: Any) -> Any:
        seen.append(gc.isenabled())
        return register(node, translate)

    monkeypatch.setattr(plan, "register", registering)
    out = tmp_path / "plan.json"
    assert main(["build", str(REFERENCE_SPEC), "--backend", "pulumi", "-o", str(out)]) == 0
    assert seen and all(seen) and out.exists()


# --- the Pulumi plan's peak at 200 services: what stays referenced once a node is done --------


def test_a_pulumi_resource_let_go_is_freed_before_the_plan_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A node's resources are freed once no later node and no stack output still to be read
    needs them (checked at four points of the run). Pulumi's cycle check kept, on every
    resource, the resources it depended on, so a service kept for a later reader held its task
    definition, roles and policies; and the resources a stack output read were all kept to the
    end (with the first, about 80 MB at 200 services)."""
    plan = pytest.importorskip("paycompile.backends.pulumi.plan")
    import weakref

    from paycompile.compiler.graph import Ref, deploy_time_values

    graph = paycompile.compile_spec(_spec_with(3))
    nodes = list(graph)
    order = {node.logical_id: index for index, node in enumerate(nodes)}
    needed = dict(order)  # node -> the last position that needs it
    for index, node in enumerate(nodes):
        for target in {ref.target for ref in node.references()} | set(node.depends_on):
            needed[target] = index
    for output in graph.outputs:
        targets = {v.target for v in deploy_time_values(output.value) if isinstance(v, Ref)}
        for target in targets:
            needed[target] = max(needed[target], *(order[t] for t in targets))
    made: dict[str, list[weakref.ref[Any]]] = {}
    alive: dict[int, list[str]] = {}
    register = plan.register

    def registering(node: Any, translate: Any) -> Any:
        index = order[node.logical_id]
        if index in {len(nodes) // 4, len(nodes) // 2, 3 * len(nodes) // 4, len(nodes) - 1}:
            gc.collect()
            # Let go of after the node before (the plan's loop still holds its last resource).
            alive[index] = [
                logical_id
                for logical_id, last in needed.items()
                if last < index - 1 and any(each() is not None for each in made[logical_id])
            ]
        registered = register(node, translate)
        made[node.logical_id] = [weakref.ref(each) for each in registered.everything()]
        return registered

    monkeypatch.setattr(plan, "register", registering)
    plan.capture(graph)
    assert len(made) == len(nodes) and len(alive) == 4
    assert alive == {index: [] for index in alive}


def test_pulumi_still_keeps_dependencies_where_the_plan_drops_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The plan drops a registered resource's dependency set by the attribute name Pulumi's
    cycle check uses (a private one): if a Pulumi release renames or moves it, this fails,
    rather than the plan's peak silently growing back by the resources the sets hold."""
    plan = pytest.importorskip("paycompile.backends.pulumi.plan")
    import pulumi

    name = plan._CYCLE_CHECK_DEPENDENCIES
    assert name is not None, "Pulumi no longer names the attribute where it keeps dependencies"
    before: list[Any] = []
    after: list[bool] = []
    forget = plan._forget_dependencies

    def forgetting(resource: Any) -> None:
        before.append(getattr(resource, name, None))
        forget(resource)
        after.append(hasattr(resource, name))

    monkeypatch.setattr(plan, "_forget_dependencies", forgetting)
    plan.capture(paycompile.compile_spec(paycompile.load_spec(str(REFERENCE_SPEC))))
    kept = [deps for deps in before if deps]
    assert kept, f"Pulumi no longer keeps a resource's dependencies as {name!r}"
    assert all(isinstance(each, pulumi.Resource) for deps in kept for each in deps)
    assert not any(after)


def test_the_pulumi_plan_keeps_each_registration_as_its_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What the plan holds per resource to the end is its JSON text: no dict of its inputs is
    left in the mocks, and the mock monitor's copy of each answer (inputs echoed) is emptied;
    nothing reads it back (no `getResource` invoke)."""
    plan = pytest.importorskip("paycompile.backends.pulumi.plan")

    monitors: list[Any] = []
    invoked: list[str] = []
    init, invoke = plan.RecordingMonitor.__init__, plan.RecordingMonitor.Invoke

    def keeping(monitor: Any, mocks: Any) -> None:
        init(monitor, mocks)
        monitors.append(monitor)

    def invoking(monitor: Any, request: Any) -> Any:
        invoked.append(request.tok)
        return invoke(monitor, request)

    monkeypatch.setattr(plan.RecordingMonitor, "__init__", keeping)
    monkeypatch.setattr(plan.RecordingMonitor, "Invoke", invoking)
    graph = paycompile.compile_spec(paycompile.load_spec(str(REFERENCE_SPEC)))
    captured = plan.capture(graph)
    (monitor,) = monitors
    assert len(monitor.recorded) == len(captured["resources"]) > len(list(graph))
    assert all(isinstance(text, str) for text in monitor.recorded.values())
    assert monitor.aws.inputs == {} and monitor.aws.identities == {}
    assert [r.state for r in monitor.resources.values() if r.state] == []
    assert invoked and "pulumi:pulumi:getResource" not in invoked


def test_the_pulumi_plan_text_is_the_json_of_the_plan() -> None:
    """Joined from each registration's text, the plan is still `json.dumps` of the whole plan,
    byte for byte (sorted keys, indent 2)."""
    plan = pytest.importorskip("paycompile.backends.pulumi.plan")
    import json

    graph = paycompile.compile_spec(paycompile.load_spec(str(REFERENCE_SPEC)))
    whole = {
        "platform": graph.platform,
        "environment": graph.environment,
        "region": graph.region,
        **plan.capture(graph),
    }
    text = plan.BACKEND.render(graph, "json")
    assert text == json.dumps(whole, indent=2, sort_keys=True) + "\n"
    assert plan.plan_text(graph, [], {}) == (
        json.dumps({**whole, "outputs": {}, "resources": []}, indent=2, sort_keys=True) + "\n"
    )


def test_the_pulumi_plan_leaves_no_source_lines_cached() -> None:
    """Pulumi reads the source of every frame above each resource it registers (its stack
    trace); the plan empties `linecache` after its run (about 7 MB)."""
    plan = pytest.importorskip("paycompile.backends.pulumi.plan")
    import linecache

    import pulumi.runtime.resource

    plan.capture(paycompile.compile_spec(_spec_with(1)))
    assert pulumi.runtime.resource.__file__ not in linecache.cache
