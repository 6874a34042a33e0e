"""The template: every node's resources (from the area modules), lifecycle, outputs, transform.

Output is sorted JSON (or YAML), so a graph always gives the same bytes.
"""

from __future__ import annotations

import json

from troposphere import AWSObject, Export, Output, Template

from paycompile.backends.cfn import compute, data, network, operations, security, traffic
from paycompile.backends.cfn.translate import Emit, Translator
from paycompile.compiler.graph import Graph, Kind, Node

RESOURCES: dict[Kind, Emit] = {
    **network.RESOURCES,
    **security.RESOURCES,
    **traffic.RESOURCES,
    **compute.RESOURCES,
    **data.RESOURCES,
    **operations.RESOURCES,
}


ROTATION_TRANSFORM = "AWS::SecretsManager-2020-07-23"


_POLICIES = {"delete": "Delete", "retain": "Retain", "snapshot": "Snapshot"}


def _apply_node_options(node: Node, resource: AWSObject) -> None:
    """Lifecycle, ordering and reasoned scanner skips, on the node's main resource."""
    if node.deletion != "delete" or node.kind is Kind.DB_CLUSTER:
        # Aurora snapshots on delete unless told otherwise, so ephemeral clusters say Delete.
        resource.DeletionPolicy = _POLICIES[node.deletion]
        resource.UpdateReplacePolicy = _POLICIES[node.deletion]
    if node.depends_on:
        resource.DependsOn = list(node.depends_on)
    if node.waivers:
        skips = [{"id": check, "comment": reason} for check, reason in sorted(node.waivers.items())]
        resource.Metadata = {"checkov": {"skip": skips}}


def build_template(graph: Graph) -> Template:
    template = Template(
        Description=f"paycompile: {graph.platform} ({graph.environment}, {graph.lifecycle})"
    )
    translate = Translator(graph)
    for node in graph:
        resources = RESOURCES[node.kind](node, translate)
        _apply_node_options(node, resources[0])
        for resource in resources:
            template.add_resource(resource)
    if graph.of_kind(Kind.SECRET_ROTATION):
        template.set_transform(ROTATION_TRANSFORM)
    for output in graph.outputs:
        template.add_output(
            Output(
                output.name,
                Description=output.description,
                Value=translate(output.value),
                Export=Export(output.export),
            )
        )
    return template


class CloudFormationBackend:
    name = "cfn"
    formats = ("json", "yaml")

    def render(self, graph: Graph, output_format: str) -> str:
        template = build_template(graph)
        if output_format == "yaml":
            yaml_text: str = template.to_yaml(clean_up=True)
            return yaml_text if yaml_text.endswith("\n") else yaml_text + "\n"
        # UTF-8 rather than `\u` escapes: cfn-lint cannot read the surrogate-pair escapes of
        # characters beyond the Basic Multilingual Plane (a letter of a rare script in a tag).
        json_text = json.dumps(template.to_dict(), indent=2, sort_keys=True, ensure_ascii=False)
        return json_text + "\n"


BACKEND = CloudFormationBackend()
