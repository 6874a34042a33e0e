"""The template: every node's resources (from the area modules), lifecycle, outputs, transform.

Output is sorted JSON (or YAML), so a graph always gives the same bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import orjson
from troposphere import AWSObject, Export, Output, Parameter, Template

from paycompile.backends.cfn import (
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
from paycompile.backends.cfn.translate import Emit, Translator
from paycompile.compiler.graph import Graph, Kind, Node
from paycompile.errors import BackendError

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


ROTATION_TRANSFORM = "AWS::SecretsManager-2020-07-23"


_POLICIES = {"delete": "Delete", "retain": "Retain", "snapshot": "Snapshot"}
# What CloudFormation accepts in one stack (a template of up to 1 MB must come from S3).
STACK_LIMITS = {"resources": 500, "outputs": 200, "parameters": 200, "bytes": 1_048_576}


def apply_node_options(node: Node, resource: AWSObject) -> None:
    """Lifecycle and reasoned scanner skips, on the node's main resource."""
    if node.deletion != "delete" or node.kind is Kind.DB_CLUSTER:
        # Aurora snapshots on delete unless told otherwise, so ephemeral clusters say Delete.
        resource.DeletionPolicy = _POLICIES[node.deletion]
        resource.UpdateReplacePolicy = _POLICIES[node.deletion]
    if node.waivers:
        skips = [{"id": check, "comment": reason} for check, reason in sorted(node.waivers.items())]
        resource.Metadata = {"checkov": {"skip": skips}}


def _apply_ordering(node: Node, emitted: dict[str, list[AWSObject]]) -> None:
    """Every resource of `node` waits for every resource of the nodes it depends on (but for
    those it already refers to, which CloudFormation orders by itself)."""
    waits_for = [resource.title for target in node.depends_on for resource in emitted[target]]
    if not waits_for:
        return  # rendering a resource only to learn what it refers to is a fifth of the build
    for resource in emitted[node.logical_id]:
        mentioned = set(referenced(resource.to_dict()))
        missing = [title for title in waits_for if title not in mentioned]
        if missing:
            resource.DependsOn = missing


_SUB_VARIABLE = re.compile(r"\$\{([^!}][^}]*)\}")  # `${Name}` or `${Name.Attr}`, not `${!literal}`


def referenced(value: Any) -> Iterator[str]:
    """The logical ids a rendered resource names in Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, dict):
        if "Ref" in value:
            yield str(value["Ref"])
        elif "Fn::GetAtt" in value:
            yield str(value["Fn::GetAtt"][0])
        elif "Fn::Sub" in value:
            text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else ""
            yield from (name.split(".")[0] for name in _SUB_VARIABLE.findall(text))
        for item in value.values():
            yield from referenced(item)
    elif isinstance(value, list):
        for item in value:
            yield from referenced(item)


def input_parameter(name: str, graph: Graph) -> Parameter:
    declared = graph.inputs[name]
    parameter = Parameter(
        name, Type="String", Default=declared.default, Description=declared.description
    )
    if declared.allowed:
        parameter.AllowedValues = list(declared.allowed)
    return parameter


def build_template(graph: Graph) -> Template:
    """The platform as one template, refused past CloudFormation's limits for one stack."""
    translate, emitted = emit_all(graph)
    check_counts(
        resources=sum(len(each) for each in emitted.values()),
        outputs=len(graph.outputs),
        parameters=len(graph.inputs),
    )
    return assemble(graph, translate, emitted)


Emitted = dict[str, list[AWSObject]]


def emit_all(graph: Graph) -> tuple[Translator, Emitted]:
    translate = Translator(graph)
    return translate, {node.logical_id: RESOURCES[node.kind](node, translate) for node in graph}


def assemble(graph: Graph, translate: Translator, emitted: Emitted) -> Template:
    template = Template(
        Description=f"paycompile: {graph.platform} ({graph.environment}, {graph.lifecycle})"
    )
    for node in graph:
        apply_node_options(node, emitted[node.logical_id][0])
        _apply_ordering(node, emitted)
        for resource in emitted[node.logical_id]:
            template.add_resource(resource)
    for name in graph.inputs:
        template.add_parameter(input_parameter(name, graph))
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
    for name, condition in sorted(translate.conditions.items()):
        template.add_condition(name, condition)
    return template


def check_counts(**counts: int) -> None:
    """Refuse what CloudFormation would refuse in one stack, naming the limit and the count."""
    over = [
        f"{count} {what} (the limit is {STACK_LIMITS[what]})"
        for what, count in counts.items()
        if count > STACK_LIMITS[what]
    ]
    if over:
        raise BackendError(
            "the platform does not fit one CloudFormation stack: "
            + "; ".join(over)
            + "; build it as a nested set of stacks (`paycompile build -o DIR`)"
        )


class CloudFormationBackend:
    name = "cfn"
    formats = ("json", "yaml")

    def render(self, graph: Graph, output_format: str) -> str:
        """One template; a platform that needs a nested set is refused (see `render_set`)."""
        files = self.render_set(graph, output_format)
        if len(files) > 1:
            raise NestedSet(
                f"the platform needs {len(files)} CloudFormation stacks (a root and "
                f"{len(files) - 1} nested): write them to a directory with -o DIR"
            )
        return next(iter(files.values()))

    def render_set(self, graph: Graph, output_format: str) -> dict[str, str]:
        """File name -> text: one template while one stack holds the platform within budget,
        else the root template and one child per stack of the partition (see stacks.py)."""
        from paycompile.backends.cfn import stacks

        if graph.partition is not None and len(graph.nodes) > STACK_LIMITS["resources"]:
            return stacks.render_nested(graph, output_format)  # each node is a resource at least
        translate, emitted = emit_all(graph)
        resources = sum(len(each) for each in emitted.values())
        if graph.partition is not None and not stacks.fits_one_stack(
            resources, len(graph.outputs), len(graph.inputs)
        ):
            return stacks.render_nested(graph, output_format)
        single = assemble(graph, translate, emitted)
        text = template_text(single, output_format)
        if graph.partition is not None and not stacks.fits_one_stack(
            resources, len(graph.outputs), len(graph.inputs), len(text.encode("utf-8"))
        ):
            return stacks.render_nested(graph, output_format)
        check_counts(**stacks.counts(single, text))
        return {stacks.single_file_name(output_format): text}


class NestedSet(BackendError):
    """The platform needs several stacks, and the caller asked for one template."""


def template_text(template: Template, output_format: str) -> str:
    if output_format == "yaml":
        yaml_text: str = template.to_yaml(clean_up=True)
        return yaml_text if yaml_text.endswith("\n") else yaml_text + "\n"
    return pretty_json(template.to_dict())


_PRETTY = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE


def pretty_json(document: Any) -> str:
    """The text `json.dumps(indent=2, sort_keys=True, ensure_ascii=False)` writes, from orjson:
    json's C encoder cannot indent, and its Python one was a third of a 200-service build. Only
    a float under 1e-4 reads differently (`0.00001`, not `1e-05`), and an integer past 64 bits,
    which orjson refuses, takes the slow path.

    UTF-8 rather than `\\u` escapes: cfn-lint cannot read the surrogate-pair escapes of
    characters beyond the Basic Multilingual Plane (a letter of a rare script in a tag)."""
    try:
        return orjson.dumps(document, option=_PRETTY).decode("utf-8")
    except orjson.JSONEncodeError:
        return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


BACKEND = CloudFormationBackend()
