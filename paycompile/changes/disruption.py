"""Whether a change that applies still interrupts live traffic.

Kept apart on purpose: the blue/green design decides which replacements it can route through
the idle colour, and then only this judgement changes. Today a replacement interrupts traffic
when it takes away, for a while, something requests pass through:

* the load balancer (a new one has a new DNS name), a listener, or a listener rule (requests
  for its route fall to the default action until the new rule exists);
* a target group a listener or listener rule forwards to (the live colour): the new group has
  no registered targets until ECS registers the tasks again;
* an ECS service (all its tasks stop), the Aurora cluster or one of its instances.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paycompile.changes.model import Action, Change
from paycompile.changes.template import Resource, properties_of, references
from paycompile.compiler.graph import Kind

_INTERRUPTS = {
    Kind.LOAD_BALANCER: "a new load balancer has a new DNS name; traffic to the old one stops",
    Kind.LISTENER: "traffic on its port is refused until the new listener exists",
    Kind.LISTENER_RULE: "requests for its route get the default action until the new rule exists",
    Kind.ECS_SERVICE: "all its tasks stop before the new service's tasks are healthy",
    Kind.DB_CLUSTER: "the database is unavailable until the new cluster is up",
    Kind.DB_INSTANCE: "the database instance is unavailable until its replacement is up",
}
_FORWARDERS = {
    "AWS::ElasticLoadBalancingV2::Listener": "DefaultActions",
    "AWS::ElasticLoadBalancingV2::ListenerRule": "Actions",
}


def disruption(change: Change, old: Mapping[str, Resource]) -> str | None:
    """Why the change interrupts live traffic, or None. Only replacements are judged."""
    if change.action is not Action.REPLACE or change.kind is None:
        return None
    if change.kind is Kind.TARGET_GROUP:
        forwarders = live_forwarders(change.logical_id, old)
        if not forwarders:
            return None
        return (
            f"disruptive: it serves live traffic ({', '.join(forwarders)} forwards to it); "
            "the new group has no targets until ECS registers the tasks again"
        )
    reason = _INTERRUPTS.get(change.kind)
    return f"disruptive: {reason}" if reason else None


def live_forwarders(target_group: str, old: Mapping[str, Resource]) -> list[str]:
    """The listeners and listener rules of the deployed template that send the group traffic:
    forward to it alone, or with a weight above 0 (`old` as deployed: parameters resolved)."""
    return sorted(
        logical_id
        for logical_id, resource in old.items()
        if (key := _FORWARDERS.get(str(resource.get("Type"))))
        and target_group in _weighted_targets(properties_of(resource).get(key))
    )


def _weighted_targets(actions: Any) -> set[str]:
    found: set[str] = set()
    for action in actions if isinstance(actions, list) else []:
        if not isinstance(action, dict):
            continue
        found |= references(action.get("TargetGroupArn"))
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        for group in groups if isinstance(groups, list) else []:
            weight = group.get("Weight", 1) if isinstance(group, dict) else 0
            if not isinstance(weight, int) or weight > 0:
                found |= references(group.get("TargetGroupArn"))
    return found
