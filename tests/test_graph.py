"""The resource graph: deterministic, complete references, backend-neutral values."""

from __future__ import annotations

import importlib
from collections import Counter
from pathlib import Path

import pytest

import paycompile
from paycompile.compiler.graph import TAGGABLE, Kind, Ref, render_json

REFERENCE = Path(__file__).resolve().parent.parent / "examples" / "platform.yaml"


def reference_graph(environment: str | None = None) -> paycompile.Graph:
    return paycompile.compile_spec(paycompile.load_spec(REFERENCE, environment))


def test_the_same_spec_gives_the_same_graph() -> None:
    assert render_json(reference_graph()) == render_json(reference_graph())


def test_every_reference_points_at_a_node_in_the_graph() -> None:
    graph = reference_graph()
    targets = {target for _, target, _ in graph.edges()}
    assert targets and targets <= set(graph.nodes)
    for name in graph.nodes:
        assert all(dependency in graph.nodes for dependency in graph[name].depends_on)


def test_outputs_refer_to_nodes() -> None:
    graph = reference_graph()
    refs = [output.value for output in graph.outputs if isinstance(output.value, Ref)]
    assert refs and all(ref.target in graph.nodes for ref in refs)
    assert len({output.export for output in graph.outputs}) == len(graph.outputs)


def test_nat_gateways_follow_the_environment() -> None:
    assert Counter(node.kind for node in reference_graph())[Kind.NAT_GATEWAY] == 1
    assert Counter(node.kind for node in reference_graph("prod"))[Kind.NAT_GATEWAY] == 3


def test_only_taggable_kinds_carry_tags() -> None:
    for node in reference_graph():
        assert bool(node.tags) == (node.kind in TAGGABLE), node.logical_id


def test_importing_paycompile_loads_no_backend() -> None:
    import subprocess
    import sys

    code = (
        "import sys, paycompile; "
        "loaded = [m for m in sys.modules if m.startswith(('pulumi', 'troposphere'))]; "
        "assert not loaded, loaded"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_backend_emits_every_kind() -> None:
    """A new kind cannot be added to the graph without each backend learning it."""
    from paycompile.backends import cfn
    from paycompile.backends.pulumi import program as pulumi_program

    assert set(cfn.RESOURCES) == set(Kind)
    assert set(pulumi_program.RESOURCES) == set(Kind)


def test_a_backend_whose_library_is_missing_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from paycompile.backends import BACKENDS, get_backend

    def missing(name: str) -> None:
        raise ModuleNotFoundError(f"No module named {name!r}", name="pulumi")

    monkeypatch.setitem(BACKENDS, "pulumi", "paycompile.backends.pulumi")
    monkeypatch.setattr(importlib, "import_module", missing)
    with pytest.raises(paycompile.BackendError, match=r"pip install 'paycompile\[pulumi\]'"):
        get_backend("pulumi")
