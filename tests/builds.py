"""Each artifact built once per process: the template and the Pulumi plan of a spec, shared by
every checker and every mutation that reads them (a Pulumi plan costs about a second).

Callers get a fresh copy to mutate; the cached text is never touched. A plan "after a cutover"
is the program run with every service's other colour as its deploy-time input, which is what
`paycompile up` does once the listener says the other colour is live.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from functools import cache
from pathlib import Path
from typing import Any

import yaml

import paycompile
from paycompile.compiler.graph import Graph
from tests.checkers.expectation import Expectation

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "examples" / "platform.yaml"
# Three services: the listener's default, a path rule and a host rule (see the file's comment).
ROUTED = Path(__file__).resolve().parent / "specs" / "routed.yaml"
# The reference platform whose service reads two secrets of its own (services[].secrets).
WITH_SECRETS = Path(__file__).resolve().parent / "specs" / "secrets.yaml"
COLORS = ("blue", "green")


@cache
def graph(spec: Path, environment: str | None = None) -> Graph:
    return paycompile.compile_spec(paycompile.load_spec(spec, environment))


@cache
def _template_text(spec: Path, environment: str | None) -> str:
    return paycompile.render(graph(spec, environment), "cfn", "json")


@cache
def _plan_text(spec: Path, environment: str | None, after_cutover: bool) -> str:
    built = graph(spec, environment)
    if after_cutover:
        built = flipped_graph(built)
    return paycompile.render(built, "pulumi")


def template(spec: Path = REFERENCE, environment: str | None = None) -> dict[str, Any]:
    """A fresh copy of the spec's CloudFormation template."""
    result: dict[str, Any] = json.loads(_template_text(spec, environment))
    return result


def plan(
    spec: Path = REFERENCE, environment: str | None = None, *, after_cutover: bool = False
) -> dict[str, Any]:
    """A fresh copy of the spec's Pulumi plan (with every colour flipped after a cutover)."""
    result: dict[str, Any] = json.loads(_plan_text(spec, environment, after_cutover))
    return result


@cache
def document(spec: Path = REFERENCE) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(spec.read_text())
    return loaded


def expectation(spec: Path = REFERENCE, environment: str | None = None) -> Expectation:
    return Expectation.from_document(copy.deepcopy(document(spec)), environment)


def flipped_graph(built: Graph) -> Graph:
    """The graph whose live-colour inputs name every service's other colour."""
    result = copy.deepcopy(built)
    for name, each in result.inputs.items():
        if tuple(each.allowed) == COLORS:
            other = COLORS[1 - COLORS.index(each.default)]
            result.inputs[name] = dataclasses.replace(each, default=other)
    return result


def cfn_files(graph: Graph) -> dict[str, str]:
    """The graph's CloudFormation templates by file name: `template.json` alone, or the nested
    set (`root.json` and its children) when one stack is too small (many tags of long letters
    make a few services pass a stack's 1 MB)."""
    from paycompile.backends.cfn.template import BACKEND, NestedSet

    try:
        return {"template.json": paycompile.render(graph, "cfn", "json")}
    except NestedSet:
        return BACKEND.render_set(graph, "json")


def cfn_template(graph: Graph) -> dict[str, Any]:
    """The graph's CloudFormation template; a nested set read as one (tests/checkers/nested.py)."""
    from tests.checkers.nested import flatten

    files = cfn_files(graph)
    if len(files) == 1:
        single: dict[str, Any] = json.loads(files["template.json"])
        return single
    return flatten(files)
