"""Shared helpers for turning a spec into graph nodes: names, logical ids, tags, lifecycle."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from paycompile.compiler.graph import (
    TAGGABLE,
    Concat,
    Deletion,
    Graph,
    Kind,
    Node,
    Output,
    Pseudo,
    Ref,
)
from paycompile.spec import policy
from paycompile.spec.model import PlatformSpec

Part = str | int


_WORD_BREAK = re.compile(r"[^A-Za-z0-9]+")


def logical_id(parts: tuple[Part, ...]) -> str:
    """("public", "subnet", 1) -> "PublicSubnet1"; any non-alphanumeric character breaks words."""
    words = _WORD_BREAK.split("-".join(str(part) for part in parts))
    return "".join(word[:1].upper() + word[1:] for word in words if word)


def arn(service: str, resource: Any, *, region: bool = True, account: bool = True) -> Concat:
    """arn:<partition>:<service>:<region>:<account>:<resource>, from pseudo parameters."""
    return Concat(
        (
            "arn:",
            Pseudo("partition"),
            f":{service}:",
            *((Pseudo("region"),) if region else ()),
            ":",
            *((Pseudo("account_id"),) if account else ()),
            ":",
            *(resource.parts if isinstance(resource, Concat) else (resource,)),
        )
    )


class Builder:
    """Adds nodes to one graph with the naming and tagging policy applied."""

    def __init__(self, spec: PlatformSpec) -> None:
        self.spec = spec
        self.env = spec.environment
        self.retained = spec.lifecycle == "retained"
        self.base_tags = dict(sorted({**spec.tags, "Environment": spec.environment}.items()))
        self.graph = Graph(spec.name, spec.environment, spec.region, spec.lifecycle, self.base_tags)
        # The service the nodes added now exist for (see `serving`); None: shared nodes.
        self.owner: str | None = None

    @contextmanager
    def serving(self, service: str) -> Iterator[None]:
        """Nodes added inside belong to `service`: a partition keeps them in its stack."""
        previous, self.owner = self.owner, service
        try:
            yield
        finally:
            self.owner = previous

    def name(self, *parts: Part) -> str:
        return "-".join([self.spec.name, *(str(part) for part in parts), self.env])

    def add(
        self,
        kind: Kind,
        parts: tuple[Part, ...],
        props: dict[str, Any],
        *,
        name: str | None = None,
        tags: dict[str, str] | None = None,
        deletion: Deletion = "delete",
        waivers: dict[str, str] | None = None,
        depends_on: tuple[str, ...] = (),
    ) -> Node:
        physical = name or self.name(*parts)
        node_tags = {}
        if kind in TAGGABLE:
            node_tags = dict(sorted({**self.base_tags, "Name": physical, **(tags or {})}.items()))
        node = Node(
            kind,
            logical_id(parts),
            physical,
            props,
            node_tags,
            deletion,
            waivers or {},
            depends_on,
            self.owner,
        )
        return self.graph.add(node)

    def keep_data(self) -> Deletion:
        """Deletion policy for resources that hold data: kept when the lifecycle is retained."""
        return "retain" if self.retained else "delete"

    def output(self, name: str, value: Any, description: str) -> None:
        export = f"{self.spec.name}-{self.env}-{name}"
        self.graph.outputs.append(Output(name, value, description, export))


def ref(node: Node, attribute: str = "id") -> Ref:
    return Ref(node.logical_id, attribute)


def elb_name(name: str) -> str | None:
    """Load balancer and target group names fit in 32 characters or are left to the backend."""
    return name if len(name) <= policy.ELB_NAME_LIMIT else None


# Pulumi's (Terraform's) bucket_prefix has at most 37 characters: it appends a 26-character id.
BUCKET_PREFIX_LIMIT = 37


def bucket_name_prefix(name: str) -> str | None:
    """`<name>-` as a bucket name prefix (bucket names are global: the provider adds the rest), or
    None where it would not fit and the whole name is left to the backend."""
    prefix = f"{name}-"
    return prefix if len(prefix) <= BUCKET_PREFIX_LIMIT else None
