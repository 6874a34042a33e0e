"""Graph values as CloudFormation intrinsic functions: Ref/GetAtt, pseudo parameters, Fn::Join
for `Concat`, Fn::Sub over JSON for `Json`, a parameter's Ref for `Input` and Fn::If over
`<Input>Is<Value>` conditions for `Choose`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from troposphere import AWSObject, Equals, GetAtt, If, Join, Select, Split, Sub, Tags
from troposphere import Ref as CfnRef

from paycompile.compiler.builder import logical_id
from paycompile.compiler.graph import (
    Choose,
    Concat,
    Graph,
    Input,
    Json,
    Kind,
    Node,
    Pseudo,
    Ref,
    deploy_time_values,
)

_PSEUDO = {
    "region": "AWS::Region",
    "account_id": "AWS::AccountId",
    "partition": "AWS::Partition",
    "url_suffix": "AWS::URLSuffix",
}


# (kind, attribute) -> the CloudFormation attribute; None means `Ref`.
_ATTRIBUTES: dict[tuple[Kind, str], str | None] = {
    (Kind.ELASTIC_IP, "allocation_id"): "AllocationId",
    (Kind.SECURITY_GROUP, "id"): "GroupId",
    (Kind.KMS_KEY, "arn"): "Arn",
    (Kind.LOG_GROUP, "arn"): "Arn",
    (Kind.IAM_ROLE, "arn"): "Arn",
    (Kind.BUCKET, "arn"): "Arn",
    (Kind.LOAD_BALANCER, "dns_name"): "DNSName",
    (Kind.LOAD_BALANCER, "full_name"): "LoadBalancerFullName",
    (Kind.TARGET_GROUP, "full_name"): "TargetGroupFullName",
    (Kind.ECS_CLUSTER, "arn"): "Arn",
    (Kind.ECS_SERVICE, "name"): "Name",
    (Kind.DB_CLUSTER, "arn"): "DBClusterArn",
    (Kind.DB_CLUSTER, "endpoint"): "Endpoint.Address",
    (Kind.DB_CLUSTER, "reader_endpoint"): "ReadEndpoint.Address",
    (Kind.BACKUP_VAULT, "arn"): "BackupVaultArn",
    (Kind.STATE_MACHINE, "name"): "Name",
    (Kind.WEB_ACL, "arn"): "Arn",
}


# Attributes that `Ref` returns for these kinds (an ARN, a name or an id).
_REF_ATTRIBUTES = {"id", "arn", "name"}


class Foreign(Protocol):
    """How one stack of a nested set reads an attribute of a node another stack holds."""

    def holds(self, target: str) -> bool:
        """Whether the node is in this template."""

    def value(self, ref: Ref) -> Any:
        """The intrinsic function that reads it here (a parameter, a child's output)."""

    def placeholder(self, ref: Ref) -> str:
        """The same inside an Fn::Sub string."""


class Translator:
    """Turns graph values into CloudFormation intrinsic functions."""

    def __init__(self, graph: Graph, foreign: Foreign | None = None) -> None:
        self.graph = graph
        # In a nested set, reads of nodes held by other stacks; None: one stack holds all.
        self.foreign = foreign
        # The conditions `Choose` values need, by name: the template declares them.
        self.conditions: dict[str, Equals] = {}

    def __call__(self, value: Any) -> Any:
        if isinstance(value, Ref):
            return self.ref(value)
        if isinstance(value, Pseudo):
            return (
                stack_instance() if value.name == "stack_instance" else CfnRef(_PSEUDO[value.name])
            )
        if isinstance(value, Concat):
            parts: list[Any] = []
            for part in (self(part) for part in value.parts):
                if isinstance(part, str) and parts and isinstance(parts[-1], str):
                    parts[-1] += part  # adjacent literals read better as one string
                else:
                    parts.append(part)
            return parts[0] if len(parts) == 1 else Join("", parts)
        if isinstance(value, Json):
            return self.sub_json(value.value)
        if isinstance(value, Input):
            return CfnRef(value.name)
        if isinstance(value, Choose):
            return self.choose(value)
        if isinstance(value, dict):
            return {key: self(item) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self(item) for item in value]
        return value

    def ref(self, ref: Ref) -> Any:
        if self.foreign is not None and not self.foreign.holds(ref.target):
            return self.foreign.value(ref)
        kind = self.graph[ref.target].kind
        attribute = _ATTRIBUTES.get((kind, ref.attribute))
        if attribute is None:
            assert ref.attribute in _REF_ATTRIBUTES, (
                f"no CloudFormation attribute for {kind}.{ref.attribute}"
            )
            return CfnRef(ref.target)
        return GetAtt(ref.target, attribute)

    def choose(self, value: Choose) -> Any:
        """Fn::If over one condition per case but the last, which is the fallback."""
        *tested, (_, last) = value.cases
        result = self(last)
        for case, chosen in reversed(tested):
            result = If(self.condition(value.input, case), self(chosen), result)
        return result

    def condition(self, input_name: str, case: str) -> str:
        name = logical_id((input_name, "is", case))
        self.conditions.setdefault(name, Equals(CfnRef(input_name), case))
        return name

    def placeholder(self, value: Any) -> str:
        """The `${...}` form of a Ref, Pseudo or Concat inside an Fn::Sub string."""
        if isinstance(value, Pseudo):
            assert value.name in _PSEUDO, f"{value.name} cannot be written inside Fn::Sub"
            return "${" + _PSEUDO[value.name] + "}"
        if isinstance(value, Input):
            return "${" + value.name + "}"
        if isinstance(value, Concat):
            return "".join(
                self.placeholder(part) if not isinstance(part, str) else _escape(part)
                for part in value.parts
            )
        assert isinstance(value, Ref), f"cannot substitute {value!r}"
        if self.foreign is not None and not self.foreign.holds(value.target):
            return self.foreign.placeholder(value)
        attribute = _ATTRIBUTES.get((self.graph[value.target].kind, value.attribute))
        return "${" + value.target + (f".{attribute}" if attribute else "") + "}"

    def sub_json(self, value: Any) -> Sub | str:
        """JSON text with references substituted by Fn::Sub at deploy time."""
        if not any(True for _ in deploy_time_values(value)):
            return json.dumps(value, separators=(",", ":"), sort_keys=True)
        tokens: list[str] = []

        def mark(item: Any) -> Any:
            if isinstance(item, Ref | Pseudo | Concat | Input):
                tokens.append(self.placeholder(item))
                return f"\ue000{len(tokens) - 1}\ue001"
            if isinstance(item, dict):
                return {key: mark(inner) for key, inner in item.items()}
            if isinstance(item, list | tuple):
                return [mark(inner) for inner in item]
            return _escape(item) if isinstance(item, str) else item

        # Private-use characters mark where each reference goes; spec text cannot contain them.
        text = json.dumps(mark(value), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
        for index, token in enumerate(tokens):
            text = text.replace(f"\ue000{index}\ue001", token)
        return Sub(text)


def stack_instance() -> Select:
    """The first group of the stack id's UUID (arn:...:stack/<name>/<uuid>): 8 hex digits that
    a stack deleted and created again does not share."""
    uuid = Select(2, Split("/", CfnRef("AWS::StackId")))
    return Select(0, Split("-", uuid))


def _escape(text: str) -> str:
    """Literal `${` must be written `${!` inside Fn::Sub."""
    return text.replace("${", "${!")


Emit = Callable[[Node, Translator], list[AWSObject]]


def tags(node: Node) -> Tags:
    return Tags(**node.tags)
