"""Graph values as Pulumi inputs: a `Ref` reads an output of the resource registered for its
target, a `Pseudo` comes from an invoke, `Concat` is `Output.concat`, `Json` is
`Output.json_dumps` once every reference inside is known.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi

from paycompile.backends.pulumi.lifecycle import resource_options
from paycompile.backends.pulumi.sdk import aws, random
from paycompile.compiler.graph import (
    STACK_INSTANCE_LENGTH,
    TAGGABLE,
    Choose,
    Concat,
    Graph,
    Input,
    Json,
    Kind,
    Node,
    Pseudo,
    Ref,
)

# (kind, attribute) -> the output attribute of the node's main resource, where the graph's
# name differs from the pulumi-aws one. Anything else is read under its own name.
ATTRIBUTES: dict[tuple[Kind, str], str] = {
    (Kind.LOAD_BALANCER, "id"): "arn",
    (Kind.LOAD_BALANCER, "full_name"): "arn_suffix",
    (Kind.TARGET_GROUP, "id"): "arn",
    (Kind.TARGET_GROUP, "full_name"): "arn_suffix",
    (Kind.LISTENER, "id"): "arn",
    (Kind.LISTENER_RULE, "id"): "arn",
    (Kind.TASK_DEFINITION, "id"): "arn",
    (Kind.ECS_CLUSTER, "id"): "arn",
    (Kind.ECS_SERVICE, "id"): "arn",
    (Kind.SECRET, "id"): "arn",
    (Kind.SNS_TOPIC, "id"): "arn",
    (Kind.STATE_MACHINE, "id"): "arn",
    (Kind.BUCKET, "name"): "bucket",
    (Kind.DB_CLUSTER, "name"): "cluster_identifier",
}


@dataclass
class Registered:
    """What one node registered: its main resource and its helpers (by name)."""

    main: pulumi.CustomResource
    extra: dict[str, pulumi.CustomResource] = field(default_factory=dict)

    def everything(self) -> list[pulumi.CustomResource]:
        """Every resource the node stands for: what a node that depends on it waits for."""
        return [self.main, *self.extra.values()]


class Translator:
    """Turns graph values into Pulumi inputs, with the resources registered so far."""

    def __init__(self, graph: Graph, inputs: dict[str, str] | None = None) -> None:
        self.graph = graph
        # The deploy-time inputs: the live values `up` read, else what a new platform starts with.
        self.inputs = {**graph.input_defaults(), **(inputs or {})}
        self.registered: dict[str, Registered] = {}
        self._pseudo: dict[str, pulumi.Output[str]] = {}
        self._zones: pulumi.Output[list[str]] | None = None

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.ref(value)
        if isinstance(value, Pseudo):
            return self.pseudo(value.name)
        if isinstance(value, Concat):
            return pulumi.Output.concat(*(self(part) for part in value.parts))
        if isinstance(value, Json):
            return pulumi.Output.json_dumps(self(value.value))
        if isinstance(value, Input):
            return self.inputs[value.name]
        if isinstance(value, Choose):
            return self(value.case(self.inputs[value.input]))
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        return value

    def ref(self, ref: Ref) -> pulumi.Output[Any]:
        kind = self.graph[ref.target].kind
        resource = self.registered[ref.target].main
        attribute = ATTRIBUTES.get((kind, ref.attribute), ref.attribute)
        output: pulumi.Output[Any] = getattr(resource, attribute)
        return output

    def pseudo(self, name: str) -> pulumi.Output[str]:
        """Region, account, partition and DNS suffix from invokes, each asked once; the stack
        instance from a random id kept in the stack's state (new after a destroy)."""
        if name not in self._pseudo:
            if name == "stack_instance":
                self._pseudo[name] = random.RandomId(
                    "StackInstance",
                    byte_length=STACK_INSTANCE_LENGTH // 2,
                    opts=pulumi.ResourceOptions(delete_before_replace=False),
                ).hex
            elif name == "region":
                self._pseudo[name] = aws.get_region_output().region
            elif name == "account_id":
                self._pseudo[name] = aws.get_caller_identity_output().account_id
            elif name == "partition":
                self._pseudo[name] = aws.get_partition_output().partition
            else:
                self._pseudo[name] = aws.get_partition_output().dns_suffix
        return self._pseudo[name]

    def zone(self, index: int) -> pulumi.Output[str]:
        """The index-th available AZ of the region (by name, as the provider sorts them), never a
        hard-coded name. Local and Wavelength Zones are opt-in, so they are left out: without
        the filter `us-east-1-bos-1a` sorts before `us-east-1a`."""
        if self._zones is None:
            self._zones = aws.get_availability_zones_output(
                state="available",
                filters=[{"name": "opt-in-status", "values": ["opt-in-not-required"]}],
            ).names
        return self._zones.apply(lambda names: names[index])

    def tags(self, node: Node) -> dict[str, str]:
        """The node's tags; kinds CloudFormation cannot tag still get them where pulumi-aws can."""
        if node.kind in TAGGABLE:
            return node.tags
        return {**self.graph.tags, "Name": node.name}

    def helper(self, logical_id: str, name: str) -> pulumi.CustomResource:
        return self.registered[logical_id].extra[name]


def options(node: Node, t: Translator, **extra: Any) -> pulumi.ResourceOptions:
    """Lifecycle (see `lifecycle`) and ordering of a node's main resource: it waits for every
    resource of the nodes it depends on."""
    depends = [
        resource for target in node.depends_on for resource in t.registered[target].everything()
    ]
    return resource_options(node, depends, **extra)


Emit = Callable[[Node, Translator], Registered]
