"""A platform past one stack: a root template (the shared stack, plus one
`AWS::CloudFormation::Stack` per service group) and a child template per group.

The compiler's partition (`Graph.partition`) says which stack holds each node; this module only
wires the stacks together. A child reads what another stack holds through a parameter, which
the root fills: with its own resource's `Ref`/`Fn::GetAtt` for a shared node, or with a
sibling's output (`Fn::GetAtt [Sibling, Outputs.X]`) for a node of another group. The root
reads a child's node through the child's output. A node that must wait for a node of another
stack makes its whole stack wait (`DependsOn` between the root's resources and the nested
stacks). Deploy-time inputs (live colours, images) are parameters of the child that uses them;
the root passes its own parameter where the root uses the input too, else the value itself
(the input's default in a build; `deploy` writes the live values it reads).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from troposphere import AWSObject, Export, GetAtt, Output, Parameter, Tags, Template
from troposphere import Ref as CfnRef
from troposphere.cloudformation import Stack as NestedStack

from paycompile.backends.cfn.template import (
    RESOURCES,
    ROTATION_TRANSFORM,
    STACK_LIMITS,
    apply_node_options,
    input_parameter,
    referenced,
    template_text,
)
from paycompile.backends.cfn.translate import Translator
from paycompile.compiler.builder import logical_id
from paycompile.compiler.graph import Graph, Input, Kind, Ref, deploy_time_values
from paycompile.compiler.graph import Output as GraphOutput
from paycompile.errors import BackendError

# Every stack stays at or below this share of each CloudFormation limit, so that a release
# that adds a few resources to each service never meets a limit on deploy.
MARGIN = 0.8
BUDGET = {what: int(limit * MARGIN) for what, limit in STACK_LIMITS.items()}
ROOT = "root"


def single_file_name(output_format: str) -> str:
    return f"template.{output_format}"


def file_name(stack: str, output_format: str) -> str:
    """`root.json`, `services-07.json`: the files `build -o DIR` writes."""
    words = logical_id((stack,))
    stem = ROOT if stack == ROOT else f"{words[:-2].lower()}-{words[-2:]}"
    return f"{stem}.{output_format}"


def is_set_file(name: str) -> bool:
    """Whether a file name is one `render_nested` writes (root.json, services-07.yaml...)."""
    return re.fullmatch(r"(root|services-[0-9]{2})\.(json|yaml)", name) is not None


def counts(template: Template, text: str) -> dict[str, int]:
    return {
        "resources": len(template.resources),
        "outputs": len(template.outputs),
        "parameters": len(template.parameters),
        "bytes": len(text.encode("utf-8")),
    }


def fits_one_stack(resources: int, outputs: int, parameters: int, size: int = 0) -> bool:
    """Whether one stack holds the platform (the size once it is known): up to CloudFormation's
    own limits, as before platforms could be split, so no platform that deployed as one stack
    is split; the stacks of a split platform each keep to the budget."""
    found = {"resources": resources, "outputs": outputs, "parameters": parameters, "bytes": size}
    return all(count <= STACK_LIMITS[what] for what, count in found.items())


def link_name(ref: Ref) -> str:
    """The parameter (in the reader) and output (in the holder) that carry one attribute."""
    return logical_id((ref.target, ref.attribute, "link"))


@dataclass
class Wiring:
    """What the stacks of one set exchange, gathered while their resources are emitted."""

    graph: Graph
    home: dict[str, str]
    # child -> parameter -> the value the root passes
    passed: dict[str, dict[str, Any]] = field(default_factory=dict)
    # stack -> output -> the Ref it carries
    exported: dict[str, dict[str, Ref]] = field(default_factory=dict)
    _output_homes: list[str] | None = None
    _nodes: dict[str, list[str]] = field(default_factory=dict)
    _inputs: dict[str, list[str]] = field(default_factory=dict)

    def nodes_of(self, stack: str) -> list[str]:
        """The nodes a stack holds, in the graph's order."""
        if not self._nodes:
            for node in self.graph:
                self._nodes.setdefault(self.home[node.logical_id], []).append(node.logical_id)
        return self._nodes.get(stack, [])

    def inputs_of(self, stack: str) -> list[str]:
        """The deploy-time inputs a stack's nodes and outputs use, in the graph's order (asked
        for twice per child: walking its nodes' values again was a tenth of a nested build)."""
        if stack not in self._inputs:
            values = [self.graph[name].props for name in self.nodes_of(stack)]
            values += [output.value for output in self.outputs_of(stack)]
            used = {item.name for item in deploy_time_values(values) if isinstance(item, Input)}
            self._inputs[stack] = [name for name in self.graph.inputs if name in used]
        return self._inputs[stack]

    def outputs_of(self, stack: str) -> list[GraphOutput]:
        """The graph's outputs a stack declares: each where all it refers to is, else the root."""
        if self._output_homes is None:
            self._output_homes = [self._output_home(output.value) for output in self.graph.outputs]
        return [
            output
            for output, home in zip(self.graph.outputs, self._output_homes, strict=True)
            if home == stack
        ]

    def _output_home(self, value: Any) -> str:
        holders = {
            self.home[ref.target] for ref in deploy_time_values(value) if isinstance(ref, Ref)
        }
        return holders.pop() if len(holders) == 1 else self.shared

    def from_root(self, ref: Ref) -> Any:
        """How the root reads a node: its own resource, or the holding child's output."""
        holder = self.home[ref.target]
        if holder == self.shared:
            return Translator(self.graph).ref(ref)
        name = link_name(ref)
        self.exported.setdefault(holder, {})[name] = ref
        return GetAtt(holder, f"Outputs.{name}")

    @property
    def shared(self) -> str:
        assert self.graph.partition is not None
        return self.graph.partition.shared.name


@dataclass
class RootSide:
    wiring: Wiring

    def holds(self, target: str) -> bool:
        return self.wiring.home[target] == self.wiring.shared

    def value(self, ref: Ref) -> Any:
        return self.wiring.from_root(ref)

    def placeholder(self, ref: Ref) -> str:
        name = link_name(ref)
        self.wiring.exported.setdefault(self.wiring.home[ref.target], {})[name] = ref
        return "${" + f"{self.wiring.home[ref.target]}.Outputs.{name}" + "}"


@dataclass
class ChildSide:
    wiring: Wiring
    stack: str

    def holds(self, target: str) -> bool:
        return self.wiring.home[target] == self.stack

    def value(self, ref: Ref) -> Any:
        return CfnRef(self._parameter(ref))

    def placeholder(self, ref: Ref) -> str:
        return "${" + self._parameter(ref) + "}"

    def _parameter(self, ref: Ref) -> str:
        name = link_name(ref)
        passed = self.wiring.passed.setdefault(self.stack, {})
        if name not in passed:
            passed[name] = self.wiring.from_root(ref)
        return name


def render_nested(graph: Graph, output_format: str) -> dict[str, str]:
    """File name -> text for the root and every child, each checked against the budget."""
    assert graph.partition is not None
    wiring = Wiring(graph, graph.partition.stack_of())
    children = [stack.name for stack in graph.partition.stacks[1:]]
    templates = {name: _child(graph, name, wiring) for name in children}
    root = _root(graph, wiring, templates)
    for name, template in templates.items():
        _add_links(template, name, wiring)
    files: dict[str, str] = {}
    for name, template in [(ROOT, root), *templates.items()]:
        text = template_text(template, output_format)
        _check_budget(name, counts(template, text))
        files[file_name(name, output_format)] = text
    return files


def _emit(
    template: Template, graph: Graph, nodes: list[str], translate: Translator
) -> dict[str, list[AWSObject]]:
    emitted = {name: RESOURCES[graph[name].kind](graph[name], translate) for name in nodes}
    for name in nodes:
        apply_node_options(graph[name], emitted[name][0])
        _order_local(graph, name, emitted)
        for resource in emitted[name]:
            template.add_resource(resource)
    return emitted


def _order_local(graph: Graph, name: str, emitted: Mapping[str, list[AWSObject]]) -> None:
    """Waits within one template (those across stacks are the nested stacks' DependsOn)."""
    waits_for = [
        resource.title
        for target in graph[name].depends_on
        if target in emitted
        for resource in emitted[target]
    ]
    if not waits_for:
        return  # rendering a resource only to learn what it refers to, as in template.py
    for resource in emitted[name]:
        mentioned = set(referenced(resource.to_dict()))
        missing = [title for title in waits_for if title not in mentioned]
        if missing:
            resource.DependsOn = missing


def _child(graph: Graph, stack: str, wiring: Wiring) -> Template:
    template = Template(
        Description=f"paycompile: {graph.platform} ({graph.environment}), stack {stack}"
    )
    translate = Translator(graph, ChildSide(wiring, stack))
    _emit(template, graph, wiring.nodes_of(stack), translate)
    _add_outputs(template, graph, stack, wiring, translate)
    for name, condition in sorted(translate.conditions.items()):
        template.add_condition(name, condition)
    return template


def _root(graph: Graph, wiring: Wiring, children: Mapping[str, Template]) -> Template:
    template = Template(
        Description=f"paycompile: {graph.platform} ({graph.environment}, {graph.lifecycle}), "
        f"root of {len(children) + 1} stacks"
    )
    translate = Translator(graph, RootSide(wiring))
    shared = wiring.nodes_of(wiring.shared)
    emitted = _emit(template, graph, shared, translate)
    _add_outputs(template, graph, wiring.shared, wiring, translate)
    root_inputs = wiring.inputs_of(wiring.shared)
    for name in root_inputs:
        template.add_parameter(input_parameter(name, graph))
    for child in children:
        template.add_resource(_nested_stack(graph, child, wiring, root_inputs, emitted))
    if any(graph[name].kind is Kind.SECRET_ROTATION for name in shared):
        template.set_transform(ROTATION_TRANSFORM)
    for name in shared:
        _wait_for_children(graph, name, wiring, emitted)
    for name, condition in sorted(translate.conditions.items()):
        template.add_condition(name, condition)
    return template


def _add_outputs(
    template: Template, graph: Graph, stack: str, wiring: Wiring, translate: Translator
) -> None:
    for output in wiring.outputs_of(stack):
        template.add_output(
            Output(
                output.name,
                Description=output.description,
                Value=translate(output.value),
                Export=Export(output.export),
            )
        )


def _add_links(template: Template, stack: str, wiring: Wiring) -> None:
    """The child's parameters (what it reads from elsewhere) and link outputs (what others
    read from it), once every stack has been emitted."""
    translate = Translator(wiring.graph, ChildSide(wiring, stack))
    for name, ref in sorted(wiring.exported.get(stack, {}).items()):
        template.add_output(
            Output(name, Description=f"{ref.target} {ref.attribute}", Value=translate(ref))
        )
    for name in sorted(wiring.passed.get(stack, {})):
        template.add_parameter(
            Parameter(name, Type="String", Description="Passed by the root stack")
        )
    for name in wiring.inputs_of(stack):
        template.add_parameter(input_parameter(name, wiring.graph))


def _nested_stack(
    graph: Graph,
    stack: str,
    wiring: Wiring,
    root_inputs: list[str],
    emitted: Mapping[str, list[AWSObject]],
) -> NestedStack:
    nodes = wiring.nodes_of(stack)
    parameters = dict(wiring.passed.get(stack, {}))
    for name in wiring.inputs_of(stack):
        parameters[name] = CfnRef(name) if name in root_inputs else graph.inputs[name].default
    resource = NestedStack(
        stack,
        TemplateURL=file_name(stack, "json"),
        Parameters=dict(sorted(parameters.items())),
        Tags=Tags(
            **{**graph.tags, "Name": f"{graph.platform}-{stack.lower()}-{graph.environment}"}
        ),
    )
    mentioned = set(referenced(resource.to_dict()))
    waits = sorted(
        {
            title
            for target in _waits_across(graph, nodes, wiring, stack)
            for title in _titles(target, wiring, emitted)
            if title not in mentioned
        }
    )
    if waits:
        resource.DependsOn = waits
    return resource


def _waits_across(graph: Graph, nodes: list[str], wiring: Wiring, stack: str) -> set[str]:
    return {
        target
        for name in nodes
        for target in graph[name].depends_on
        if wiring.home[target] != stack
    }


def _titles(target: str, wiring: Wiring, emitted: Mapping[str, list[AWSObject]]) -> list[str]:
    holder = wiring.home[target]
    if holder == wiring.shared:
        return [resource.title for resource in emitted[target]]
    return [holder]


def _wait_for_children(
    graph: Graph, name: str, wiring: Wiring, emitted: Mapping[str, list[AWSObject]]
) -> None:
    """A shared node waiting for a node of a group waits for the group's stack."""
    stacks = sorted(
        {
            wiring.home[target]
            for target in graph[name].depends_on
            if wiring.home[target] != wiring.shared
        }
    )
    for resource in emitted[name]:
        existing = resource.resource.get("DependsOn", [])
        mentioned = set(referenced(resource.to_dict()))
        added = [stack for stack in stacks if stack not in mentioned]
        if added:
            resource.DependsOn = [*existing, *added]


def _check_budget(stack: str, found: Mapping[str, int]) -> None:
    over = [
        f"{count} {what} (the budget is {BUDGET[what]}, {MARGIN:.0%} of {STACK_LIMITS[what]})"
        for what, count in found.items()
        if count > BUDGET[what]
    ]
    if over:
        raise BackendError(
            f"stack {stack} of the nested set is over its budget: " + "; ".join(over)
        )
