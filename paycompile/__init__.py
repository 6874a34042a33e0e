"""paycompile: one declarative platform.yaml -> a complete, compliant AWS payment platform.

The library API, in pipeline order (docs/library.md has the whole tour)::

    spec = paycompile.load_spec("platform.yaml", environment="prod")
    spec = spec.with_changes({"services": [{"name": "api", "desired_count": 8}]})  # validated
    graph = paycompile.compile_spec(spec)             # raises RuleViolation if an invariant fails
    text = paycompile.render(graph, backend="cfn")    # the CloudFormation template
    for rule in paycompile.list_rules(): ...

and, for CloudFormation through boto3 (each returns a `StackResult`)::

    paycompile.plan(spec)                              # the change set, shown, not executed
    paycompile.deploy(spec, guard=Guard(yes=True))     # create or update the stack
    paycompile.destroy(spec, guard=Guard(yes=True, allow_data_loss=True))

No path skips the rules: a spec is validated whenever it is built, edited (`with_changes`,
`model_copy`) or compiled, and `render` refuses a graph whose invariants no longer hold.
Backends are imported only when asked for: `import paycompile` never loads Pulumi, and boto3
and rich load only when a deployment command runs. `paycompile.deploy` is the function; the
package of the same name is reached with `from paycompile.deploy.approval import Guard`.
"""

from __future__ import annotations

import copy
from typing import Any

from paycompile.backends import BACKENDS, get_backend
from paycompile.compiler.compile import build_graph
from paycompile.compiler.graph import Graph, Kind, Node
from paycompile.compiler.rules import RULES, Rule, violations

# Bound after the `paycompile.deploy` package is imported, so the name stays the function.
from paycompile.deploy.cloudformation import deploy, destroy, plan
from paycompile.deploy.result import PlannedChange, Replacement, StackResult
from paycompile.errors import BackendError, PaycompileError, RuleViolation, SpecError, SpecIssue
from paycompile.spec import PlatformSpec, load_spec, load_spec_text
from paycompile.spec.edit import revalidate

__version__ = "0.1.0"


def compile_spec(spec: PlatformSpec) -> Graph:
    """The resource graph of `spec`; raises RuleViolation if any invariant fails on it.

    The spec is validated again first (SpecError if it no longer passes), so one assembled
    without validation (`model_construct`) cannot reach the compiler.
    """
    graph = build_graph(revalidate(spec))
    _check(graph)
    return graph


def render(graph: Graph, backend: str = "cfn", output_format: str | None = None) -> str:
    """The backend's artifact for `graph` (a template, a plan) as text.

    Raises RuleViolation, before any backend runs, if the graph breaks an invariant (a graph
    changed after `compile_spec` is checked again).
    """
    _check(graph)
    chosen = get_backend(backend)
    return chosen.render(graph, output_format or chosen.formats[0])


def _check(graph: Graph) -> None:
    failures = violations(graph)
    if failures:
        raise RuleViolation(failures)


def list_rules() -> list[Rule]:
    return list(RULES.values())


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of `platform.yaml` (what `paycompile schema` prints), as a new dict."""
    from paycompile.spec.schema import platform_schema

    return copy.deepcopy(platform_schema())


__all__ = [
    "BACKENDS",
    "BackendError",
    "Graph",
    "Kind",
    "Node",
    "PaycompileError",
    "PlannedChange",
    "PlatformSpec",
    "Replacement",
    "Rule",
    "RuleViolation",
    "SpecError",
    "SpecIssue",
    "StackResult",
    "build_graph",
    "compile_spec",
    "deploy",
    "destroy",
    "get_backend",
    "list_rules",
    "load_spec",
    "load_spec_text",
    "plan",
    "render",
    "spec_schema",
]
