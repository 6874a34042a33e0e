"""What the rules share: policy constants and safe ways to read a possibly damaged graph."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator
from typing import Any

from paycompile.compiler.graph import Choose, Concat, Graph, Json, Kind, Node, Ref

ANYWHERE = ("0.0.0.0/0", "::/0")
COLORS = ("blue", "green")
DB_PORT = 3306
# Secrets Manager's hosted rotation functions for Aurora MySQL: AWS deploys and owns them, so
# nothing in the stack names a Lambda ARN that might not exist (F7).
HOSTED_MYSQL_ROTATIONS = ("MySQLSingleUser", "MySQLMultiUser")
# The cutover states the contract names (F12); the state machine has more.
CUTOVER_STATES = (
    "CheckCurrentDeployment",
    "ValidateTargetHealth",
    "PerformTrafficSwitch",
    "RecordActiveColor",
)
ROLLBACK_STATE = "RollBack"


def node_at(graph: Graph, value: Any, kind: Kind) -> Node | None:
    """The node of `kind` that `value` refers to; None if it is no Ref or points elsewhere."""
    if not isinstance(value, Ref):
        return None
    node = graph.nodes.get(value.target)
    return node if node is not None and node.kind is kind else None


def nodes_at(graph: Graph, values: Any, kind: Kind) -> list[Node | None]:
    """`_target` of each item of a list prop (an absent or non-list prop is empty)."""
    return [node_at(graph, value, kind) for value in values] if isinstance(values, list) else []


def kms_encrypted(graph: Graph, node: Node) -> bool:
    """Whether the node's `kms_key` refers to a customer managed key of this graph."""
    return node_at(graph, node.props.get("kms_key"), Kind.KMS_KEY) is not None


def service_name(service: Node) -> str:
    # The compiler names the container after the service; the rules key services on it.
    return str(service.props.get("container_name"))


def leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """(nearest key, scalar) for every scalar inside a prop value, through Concat and Json.

    A `{"Name": n, "Value": v}` pair (ECS environments, SSM parameters) counts as `n: v`, so
    a secret-named variable is caught whichever shape it is written in.
    """
    if isinstance(value, dict):
        name = next((value[k] for k in ("Name", "name", "parameter_name") if k in value), None)
        for item_key, item in value.items():
            paired = isinstance(name, str) and item_key in ("Value", "value")
            yield from leaves(item, str(name) if paired else str(item_key))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from leaves(item, key)
    elif isinstance(value, Concat):
        yield from leaves(value.parts, key)
    elif isinstance(value, Json):
        yield from leaves(value.value, key)
    else:
        yield key, value


def ipv4_network(node: Node) -> ipaddress.IPv4Network | None:
    try:
        return ipaddress.IPv4Network(str(node.props.get("cidr")))
    except ValueError:
        return None


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def weighted_groups(graph: Graph, action: Any) -> list[tuple[Node | None, Any]]:
    """(target group, weight) for each entry of a weighted forward action; [] for any other."""
    entries = action.get("forward") if isinstance(action, dict) else None
    if not isinstance(entries, list):
        return []
    return [
        (node_at(graph, as_dict(entry).get("target_group"), Kind.TARGET_GROUP), entry.get("weight"))
        for entry in entries
        if isinstance(entry, dict)
    ]


def case_of(value: Any, input_name: str, case: str) -> Any:
    """What `value` is when the deploy-time input `input_name` is `case` (a plain value passes)."""
    if isinstance(value, Choose):
        if value.input != input_name:
            return None
        return dict(value.cases).get(case)
    return value


def chooser(value: Any) -> str | None:
    """The input a Choose value depends on; None for anything else."""
    return value.input if isinstance(value, Choose) else None
