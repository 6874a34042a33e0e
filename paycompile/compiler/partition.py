"""Which stack holds each node: the shared stack, and one stack per group of services.

Every node a service exists for (`Node.owner`) goes to its service's group (`services[].group`,
or a stable number from the service's name): so adding a service never moves another's
resources. Shared nodes (network, data, edge, operations) go to the shared stack, which is the
root of a nested set, so the database never moves when a platform outgrows one stack.

A stack may only wait for stacks that do not wait for it. The shared stack may read a group's
outputs (the dashboard names every ECS service), but where a shared node refers to a service's
node that itself waits for the shared node (the load balancer's security group allows egress to
each service's, whose ingress names the load balancer's), the service's node moves to the shared
stack: the partition is a fixed point with no cycle between stacks (docs/design.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from paycompile.compiler.graph import Graph, Node, Partition, Stack

SHARED = "Shared"
# A group's unit in the root's dependency graph (no logical id has a colon).
_GROUP_UNIT = "stack:"


def group_stack(group: int) -> str:
    """The name of a service group's stack: Services01..Services64."""
    return f"Services{group:02d}"


def partition(graph: Graph, groups: Mapping[str, int]) -> Partition:
    """The graph's stacks, given each service's group; shared first, then groups in order."""
    home = {node.logical_id: _home(node, groups) for node in graph}
    while (cycle := _stack_cycle(graph, home)) is not None:
        _pull_into_shared(graph, home, cycle)
    names = [SHARED, *sorted({name for name in home.values() if name != SHARED})]
    return Partition(
        tuple(
            Stack(
                name,
                tuple(node.logical_id for node in graph if home[node.logical_id] == name),
                tuple(
                    service
                    for service, group in groups.items()
                    if name != SHARED and group_stack(group) == name
                ),
            )
            for name in names
        )
    )


def _home(node: Node, groups: Mapping[str, int]) -> str:
    return SHARED if node.owner is None else group_stack(groups[node.owner])


def needs(node: Node) -> list[str]:
    """What a node refers to or waits for: in another stack, each is a cross-stack link."""
    return [*(ref.target for ref in node.references()), *node.depends_on]


def _units(graph: Graph, home: Mapping[str, str]) -> dict[str, set[str]]:
    """The dependency graph CloudFormation sees in the root: each shared node on its own (they
    are the root's resources), each group as one unit (a nested stack resource)."""

    def unit(logical_id: str) -> str:
        return logical_id if home[logical_id] == SHARED else _GROUP_UNIT + home[logical_id]

    edges: dict[str, set[str]] = {}
    for node in graph:
        source = unit(node.logical_id)
        targets = edges.setdefault(source, set())
        targets.update(unit(target) for target in needs(node) if unit(target) != source)
    return edges


def _stack_cycle(graph: Graph, home: Mapping[str, str]) -> list[str] | None:
    """The units of every strongly connected part of the root's dependency graph, or None."""
    edges = _units(graph, home)
    cyclic = [part for part in _strongly_connected(edges) if len(part) > 1]
    return [unit for part in cyclic for unit in part] if cyclic else None


def _strongly_connected(edges: Mapping[str, set[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iteratively (a deep recursion would pass Python's limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    parts: list[list[str]] = []
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, targets = work[-1]
            target = next(targets, None)
            if target is not None:
                if target not in index:
                    index[target] = low[target] = len(index)
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(sorted(edges.get(target, ())))))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                part: list[str] = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.append(member)
                    if member == node:
                        break
                parts.append(part)
    return parts


def _pull_into_shared(graph: Graph, home: dict[str, str], cycle: Iterable[str]) -> None:
    """Move into the shared stack each group node a shared node of the cycle refers to."""
    units = list(cycle)
    groups = {unit.removeprefix(_GROUP_UNIT) for unit in units if unit.startswith(_GROUP_UNIT)}
    members = [unit for unit in units if not unit.startswith(_GROUP_UNIT)]
    moved = [
        target for member in members for target in needs(graph[member]) if home[target] in groups
    ]
    assert moved, f"a cycle between stacks that no move breaks: {units}"
    for target in moved:
        home[target] = SHARED
