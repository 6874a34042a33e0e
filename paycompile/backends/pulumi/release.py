"""The deploy-time inputs an `up` passes its program, read from the running platform.

As `paycompile deploy` does for CloudFormation (`paycompile/deployment/release.py` decides,
for both):
the live colour of each service from its listener or listener rule, as ELBv2 shows it now; the
image each colour runs from the `DeployInputs` output the last `up` exported; the spec's image as
the release for the idle colour. Without this an `up` after a cutover would register the spec's
colour and point the traffic back at a colour scaled to zero.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from paycompile.compiler.graph import Graph, Kind
from paycompile.deployment.release import as_inputs, plan_releases

# The resource kinds whose ARNs the live colours are read through.
_WEIGHTED = frozenset({Kind.LISTENER, Kind.LISTENER_RULE, Kind.TARGET_GROUP})


class DeployedStack(Protocol):
    """The part of `pulumi.automation.Stack` this reads."""

    def export_stack(self) -> Any: ...
    def outputs(self) -> Mapping[str, Any]: ...


@dataclass
class ReleaseProgram:
    """The inline program, run with the inputs read before the preview (None: the defaults)."""

    graph: Graph
    inputs: dict[str, str] | None = None

    def __call__(self) -> None:
        from paycompile.backends.pulumi.program import run_program

        run_program(self.graph, self.inputs)


def live_inputs(
    stack: DeployedStack,
    graph: Graph,
    elbv2: Callable[[], Any],
    say: Callable[[str], None],
) -> dict[str, str]:
    """Each release input's value for this `up`; `elbv2` makes the client, asked only when the
    stack has deployed the platform's listeners."""
    from paycompile.deployment.live import live_colors

    physical = deployed_arns(stack.export_stack(), graph)
    colors = live_colors(graph, physical, elbv2()) if physical else None
    releases = plan_releases(graph, colors, previous_inputs(stack), {})
    for each in releases:
        say(each.describe())
    return as_inputs(graph, releases)


def deployed_arns(exported: Any, graph: Graph) -> dict[str, str]:
    """Logical id -> ARN of each deployed listener, listener rule and target group."""
    weighted = {node.logical_id for node in graph if node.kind in _WEIGHTED}
    found: dict[str, str] = {}
    for resource in (getattr(exported, "deployment", None) or {}).get("resources") or []:
        name = str(resource.get("urn", "")).rsplit("::", 1)[-1]
        arn = (resource.get("outputs") or {}).get("arn")
        if name in weighted and isinstance(arn, str):
            found[name] = arn
    return found


def previous_inputs(stack: DeployedStack) -> dict[str, str]:
    """The inputs the last `up` used, from its `DeployInputs` output ({} before the first)."""
    from paycompile.backends.pulumi.program import INPUTS_OUTPUT

    output = stack.outputs().get(INPUTS_OUTPUT)
    value = getattr(output, "value", None)
    if not isinstance(value, Mapping):
        return {}
    return {str(key): str(item) for key, item in value.items()}
