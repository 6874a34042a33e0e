"""The Pulumi program of a resource graph: one small function per node kind registers its
pulumi-aws resources, mirroring the CloudFormation backend resource for resource.

`run_program(graph)` registers everything and exports one stack output per graph output. It
runs the same under the Automation API (a real deployment) and under mocks (the offline plan).
Graph values become Pulumi values in `Translator`: a `Ref` reads an output attribute of the
resource registered for its target node, a `Pseudo` comes from an invoke, `Concat` is
`Output.concat` and `Json` is `Output.json_dumps` once every reference inside is known.
"""

from __future__ import annotations

from typing import Any

import pulumi

from paycompile.backends.pulumi import (
    compute,
    data,
    edge,
    endpoints,
    images,
    network,
    operations,
    security,
    traffic,
)
from paycompile.backends.pulumi.translate import Emit, Registered, Translator
from paycompile.compiler.graph import Graph, Kind, Node

RESOURCES: dict[Kind, Emit] = {
    **network.RESOURCES,
    **security.RESOURCES,
    **traffic.RESOURCES,
    **compute.RESOURCES,
    **data.RESOURCES,
    **operations.RESOURCES,
    **edge.RESOURCES,
    **endpoints.RESOURCES,
    **images.RESOURCES,
}


# The stack output that keeps the deploy-time inputs a deployment used, for the next one to read
# (Pulumi has no template parameters to remember them).
INPUTS_OUTPUT = "DeployInputs"


def run_program(
    graph: Graph, inputs: dict[str, str] | None = None
) -> dict[str, pulumi.Output[Any]]:
    """Registers every node's resources in graph order and exports the graph's outputs and the
    deploy-time inputs used (`inputs` given, else the graph's defaults)."""
    translate = Translator(graph, inputs)
    for node in graph:
        register(node, translate)
    return export_outputs(graph, translate)


def register(node: Node, translate: Translator) -> Registered:
    """Registers one node's resources (those of the nodes it refers to come first)."""
    registered = translate.registered[node.logical_id] = RESOURCES[node.kind](node, translate)
    return registered


def export_outputs(graph: Graph, translate: Translator) -> dict[str, pulumi.Output[Any]]:
    """Exports the graph's outputs and the deploy-time inputs, once every node is registered."""
    outputs: dict[str, pulumi.Output[Any]] = {}
    for output in graph.outputs:
        outputs[output.name] = pulumi.Output.from_input(translate(output.value))
    outputs[INPUTS_OUTPUT] = pulumi.Output.from_input(dict(sorted(translate.inputs.items())))
    for name, value in outputs.items():
        pulumi.export(name, value)
    return outputs
