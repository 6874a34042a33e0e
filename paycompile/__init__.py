"""paycompile: one declarative platform.yaml -> a complete, compliant AWS payment platform.

The library API, in pipeline order (docs/library.md has the whole tour)::

    spec = paycompile.load_spec("platform.yaml", environment="prod")
    spec = spec.with_changes({"services": [{"name": "api", "desired_count": 8}]})  # validated
    graph = paycompile.compile_spec(spec)             # raises RuleViolation if an invariant fails
    text = paycompile.render(graph, backend="cfn")    # the CloudFormation template
    for rule in paycompile.list_rules(): ...

and, for CloudFormation through boto3 (each returns a `StackResult`)::

    from paycompile import Guard

    paycompile.plan(spec)                              # the change set, shown, not executed
    paycompile.deploy(spec, guard=Guard(yes=True))     # create or update the stack
    paycompile.destroy(spec, guard=Guard(yes=True, allow_data_loss=True))

No path skips the rules: a spec is validated whenever it is built, edited (`with_changes`,
`model_copy`) or compiled, and `render` refuses a graph whose invariants no longer hold.

Every name is imported on first use (PEP 562 `__getattr__`), so `import paycompile` costs
almost nothing: the spec's models load with `load_spec`, a backend with `render`, and boto3
and rich only when a deployment runs. Pulumi loads only for its backend.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and IDEs see; at run time, `__getattr__` below
    from paycompile.backends import BACKENDS, get_backend
    from paycompile.compiler.compile import build_graph
    from paycompile.compiler.graph import Graph, Kind, Node
    from paycompile.compiler.rules import Rule
    from paycompile.deployment.approval import Guard, RequireApproval
    from paycompile.deployment.cloudformation import deploy, destroy, plan
    from paycompile.deployment.progress import PlainProgress, Progress, RichProgress, progress_for
    from paycompile.deployment.result import PlannedChange, Replacement, StackResult
    from paycompile.errors import (
        BackendError,
        PaycompileError,
        RuleViolation,
        SpecError,
        SpecIssue,
    )
    from paycompile.spec import PlatformSpec, load_spec, load_spec_text

__version__ = "0.1.0"

# Each public name -> the module that defines it, imported when the name is first read.
_LAZY: dict[str, str] = {
    "BACKENDS": "paycompile.backends",
    "get_backend": "paycompile.backends",
    "build_graph": "paycompile.compiler.compile",
    "Graph": "paycompile.compiler.graph",
    "Kind": "paycompile.compiler.graph",
    "Node": "paycompile.compiler.graph",
    "Rule": "paycompile.compiler.rules",
    "Guard": "paycompile.deployment.approval",
    "RequireApproval": "paycompile.deployment.approval",
    "deploy": "paycompile.deployment.cloudformation",
    "destroy": "paycompile.deployment.cloudformation",
    "plan": "paycompile.deployment.cloudformation",
    "PlainProgress": "paycompile.deployment.progress",
    "Progress": "paycompile.deployment.progress",
    "RichProgress": "paycompile.deployment.progress",
    "progress_for": "paycompile.deployment.progress",
    "PlannedChange": "paycompile.deployment.result",
    "Replacement": "paycompile.deployment.result",
    "StackResult": "paycompile.deployment.result",
    "BackendError": "paycompile.errors",
    "PaycompileError": "paycompile.errors",
    "RuleViolation": "paycompile.errors",
    "SpecError": "paycompile.errors",
    "SpecIssue": "paycompile.errors",
    "PlatformSpec": "paycompile.spec",
    "load_spec": "paycompile.spec",
    "load_spec_text": "paycompile.spec",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'paycompile' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value  # bound once: later reads are plain attribute lookups
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


def compile_spec(spec: PlatformSpec) -> Graph:
    """The resource graph of `spec`; raises RuleViolation if any invariant fails on it.

    The spec is validated again first (SpecError if it no longer passes), so one assembled
    without validation (`model_construct`) cannot reach the compiler.
    """
    from paycompile import build_graph  # read from the package, as a caller may replace it
    from paycompile.spec.edit import revalidate

    graph = build_graph(revalidate(spec))
    _check(graph)
    return graph


def render(graph: Graph, backend: str = "cfn", output_format: str | None = None) -> str:
    """The backend's artifact for `graph` (a template, a plan) as text.

    Raises RuleViolation, before any backend runs, if the graph breaks an invariant (a graph
    changed after `compile_spec` is checked again).
    """
    from paycompile import get_backend

    _check(graph)
    chosen = get_backend(backend)
    return chosen.render(graph, output_format or chosen.formats[0])


def _check(graph: Graph) -> None:
    from paycompile.compiler.rules import violations
    from paycompile.errors import RuleViolation

    failures = violations(graph)
    if failures:
        raise RuleViolation(failures)


def list_rules() -> list[Rule]:
    from paycompile.compiler.rules import RULES

    return list(RULES.values())


def spec_schema() -> dict[str, Any]:
    """The JSON Schema of `platform.yaml` (what `paycompile schema` prints), as a new dict."""
    import copy

    from paycompile.spec.schema import platform_schema

    return copy.deepcopy(platform_schema())


__all__ = [
    "BACKENDS",
    "BackendError",
    "Graph",
    "Guard",
    "Kind",
    "Node",
    "PaycompileError",
    "PlainProgress",
    "PlannedChange",
    "PlatformSpec",
    "Progress",
    "Replacement",
    "RequireApproval",
    "RichProgress",
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
    "progress_for",
    "render",
    "spec_schema",
]
