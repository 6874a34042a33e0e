"""Classify every resource change between two CloudFormation templates.

A resource in both templates is replaced when a create-only property changes (the registry
schemas' `createOnlyProperties`, in the generated `create_only` table), or may be replaced when
a conditionally create-only one does. A property that refers to a replaced resource changes
too, since the replacement has a new id: so replacements spread (a replaced security group
replaces the ingress rules on it) until nothing more changes. Each change then carries its
risks: blocked (`fixed_name`, `priority_collisions`), data loss (`destroys_data`),
widening (`widening`) and disruptive (`disruption`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from paycompile.changes.cloudformation import KIND_OF_TYPE
from paycompile.changes.create_only import CONDITIONAL, CREATE_ONLY, NAME_PROPERTY
from paycompile.changes.disruption import disruption
from paycompile.changes.model import Action, Change, Risk, destroys_data
from paycompile.changes.template import (
    Resource,
    as_deployed,
    canonical,
    policy,
    properties_of,
    references,
    resources_of,
    values_at,
)
from paycompile.changes.widening import widening

Replaced = Mapping[str, tuple[str, ...]]
# Resource attributes besides Properties whose change CloudFormation applies to the resource.
_ATTRIBUTES = ("DeletionPolicy", "UpdateReplacePolicy", "Metadata", "Condition")
_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"


def classify(base: Mapping[str, Any], head: Mapping[str, Any]) -> list[Change]:
    """One Change per resource that is added, changed, replaced or removed, by logical id."""
    old, new = resources_of(base), resources_of(head)
    replaced = replacements(old, new)
    rows = [
        row
        for logical_id in sorted(old.keys() | new.keys())
        if (row := _row(logical_id, old.get(logical_id), new.get(logical_id), replaced))
    ]
    collisions = priority_collisions(old, new, replaced)
    live = as_deployed(base)
    return [_judged(row, old, new, replaced, collisions, live) for row in rows]


def replacements(
    old: Mapping[str, Resource], new: Mapping[str, Resource]
) -> dict[str, tuple[str, ...]]:
    """Each replaced logical id and why, spreading through references until nothing moves."""
    replaced: dict[str, tuple[str, ...]] = {}
    common = sorted(old.keys() & new.keys())
    grew = True
    while grew:
        grew = False
        for logical_id in common:
            if logical_id not in replaced:
                reasons = _replacement_reasons(old[logical_id], new[logical_id], replaced)
                if reasons:
                    replaced[logical_id] = reasons
                    grew = True
    return replaced


def _replacement_reasons(before: Resource, after: Resource, replaced: Replaced) -> tuple[str, ...]:
    kind = str(after.get("Type"))
    if before.get("Type") != kind:
        return (f"its type changes from {before.get('Type')}",)
    found = [
        f"{path} {why} (create-only: AWS replaces the resource)"
        for path in CREATE_ONLY.get(kind, ())
        if (why := _path_change(before, after, path, replaced))
    ]
    found += [
        f"{path} {why} (conditionally create-only: AWS may replace the resource)"
        for path in CONDITIONAL.get(kind, ())
        if (why := _path_change(before, after, path, replaced))
    ]
    return tuple(found)


def _path_change(before: Resource, after: Resource, path: str, replaced: Replaced) -> str | None:
    old_values = values_at(properties_of(before), path)
    new_values = values_at(properties_of(after), path)
    if canonical(old_values) != canonical(new_values):
        return "changes"
    moved = sorted(references(new_values) & replaced.keys())
    return f"refers to {', '.join(moved)}, which is replaced" if moved else None


def _row(
    logical_id: str, before: Resource | None, after: Resource | None, replaced: Replaced
) -> Change | None:
    if before is None:
        assert after is not None
        return _change(logical_id, after, Action.ADD)
    if after is None:
        kept = policy(before, "DeletionPolicy") == "Retain"
        return _change(logical_id, before, Action.REMOVE, kept, _kept_reasons(before, "Deletion"))
    changed = changed_properties(before, after, replaced)
    notes = [
        f"{key} changes"
        for key in _ATTRIBUTES
        if canonical(before.get(key)) != canonical(after.get(key))
    ]
    if logical_id in replaced:
        kept = policy(before, "UpdateReplacePolicy") == "Retain"
        reasons = (*replaced[logical_id], *_kept_reasons(before, "UpdateReplace"))
        change = _change(logical_id, after, Action.REPLACE, kept, reasons, changed)
        # What is destroyed is the old resource, whatever the new one's type.
        return replace(change, kind=KIND_OF_TYPE.get(str(before.get("Type"))))
    if changed or notes:
        unknown = str(after.get("Type")) not in CREATE_ONLY
        if unknown:
            notes.append("a type paycompile does not emit: whether it is replaced is not judged")
        return _change(logical_id, after, Action.IN_PLACE, False, tuple(notes), changed)
    return None


def _kept_reasons(resource: Resource, policy_kind: str) -> tuple[str, ...]:
    chosen = policy(resource, f"{policy_kind}Policy")
    if chosen == "Retain":
        return (f"the old resource stays in the account ({policy_kind}Policy Retain)",)
    if chosen == "Snapshot":
        return (f"a final snapshot is kept ({policy_kind}Policy Snapshot); the live data goes",)
    return ()


def _change(
    logical_id: str,
    resource: Resource,
    action: Action,
    kept: bool = False,
    reasons: tuple[str, ...] = (),
    properties: tuple[str, ...] = (),
) -> Change:
    resource_type = str(resource.get("Type"))
    kind = KIND_OF_TYPE.get(resource_type)
    return Change(logical_id, resource_type, action, kind, kept, frozenset(), reasons, properties)


def changed_properties(before: Resource, after: Resource, replaced: Replaced) -> tuple[str, ...]:
    """Top-level properties whose value differs or refers to a replaced resource."""
    old, new = properties_of(before), properties_of(after)
    return tuple(
        key
        for key in sorted(old.keys() | new.keys())
        if canonical(old.get(key)) != canonical(new.get(key))
        or references(new.get(key)) & replaced.keys()
    )


def fixed_name(
    change: Change, before: Resource | None, after: Resource | None, replaced: Replaced
) -> str | None:
    """`Prop (value)` when a replacement keeps the resource's custom physical name.

    CloudFormation creates the replacement before it deletes the old resource, so two
    resources would hold one name: it refuses the update instead (blocked).
    """
    prop = NAME_PROPERTY.get(change.resource_type)
    if change.action is not Action.REPLACE or prop is None or before is None or after is None:
        return None
    old_name, new_name = properties_of(before).get(prop), properties_of(after).get(prop)
    if new_name is None or canonical(old_name) != canonical(new_name):
        return None
    if references(new_name) & replaced.keys():
        return None
    return f"{prop} ({new_name if isinstance(new_name, str) else canonical(new_name)})"


def name_blocks(name: str) -> str:
    """The reason a replacement that keeps the custom physical name `name` is blocked."""
    return (
        f"blocked: its {name} is fixed, and CloudFormation cannot replace a resource with a "
        "custom name; rename it, or let CloudFormation name it"
    )


def priority_collisions(
    old: Mapping[str, Resource], new: Mapping[str, Resource], replaced: Replaced
) -> dict[str, str]:
    """Listener rules that take a priority another rule holds in the deployed template.

    CloudFormation updates and creates rules in parallel and removes old ones last, so the
    load balancer refuses the rule (PriorityInUse) and the update rolls back.
    """
    held = {
        _slot(resource): logical_id
        for logical_id, resource in old.items()
        if resource.get("Type") == _RULE
    }
    found: dict[str, str] = {}
    for logical_id, resource in new.items():
        if resource.get("Type") != _RULE:
            continue
        listener = properties_of(resource).get("ListenerArn")
        if references(listener) & replaced.keys():
            continue  # a new listener starts with no rules
        holder = held.get(_slot(resource))
        if holder is not None and holder != logical_id:
            priority = properties_of(resource).get("Priority")
            found[logical_id] = (
                f"blocked: it takes priority {priority}, which {holder} holds until it moves "
                "or is removed; the load balancer answers PriorityInUse"
            )
    return found


def _slot(rule: Resource) -> str:
    props = properties_of(rule)
    return canonical([props.get("ListenerArn"), props.get("Priority")])


def _judged(
    change: Change,
    old: Mapping[str, Resource],
    new: Mapping[str, Resource],
    replaced: Replaced,
    collisions: Mapping[str, str],
    live: Mapping[str, Resource],
) -> Change:
    """The change with its risks; `live` is the base as deployed (whose traffic it judges)."""
    before, after = old.get(change.logical_id), new.get(change.logical_id)
    risks: set[Risk] = set()
    reasons = list(change.reasons)
    name = fixed_name(change, before, after, replaced)
    blocked = name_blocks(name) if name else collisions.get(change.logical_id)
    if blocked:
        risks.add(Risk.BLOCKED)
        reasons.append(blocked)
    if destroys_data(change.kind, change.action, change.kept):
        risks.add(Risk.DATA_LOSS)
    widened = widening(change, old, new)
    if widened:
        risks.add(Risk.WIDENING)
        reasons.extend(widened)
    interrupted = disruption(change, live)
    if interrupted:
        risks.add(Risk.DISRUPTIVE)
        reasons.append(interrupted)
    return replace(change, risks=frozenset(risks), reasons=tuple(reasons), fixed_name=name)
