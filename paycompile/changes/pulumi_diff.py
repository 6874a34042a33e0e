"""The Pulumi reading of a diff: what `pulumi up` would do, judged offline.

There is no provider schema here (no Pulumi CLI, no provider plugin), so the diff cannot ask
pulumi-aws which inputs force a replacement. What it knows, and from where:

* which resources the program registers on each side, and their inputs: exact, from the
  offline plans (`paycompile build --backend pulumi`); secret inputs are masked, so a change
  inside a secret value is not seen;
* whether a graph node's resource is replaced: from the CloudFormation registry schemas for the
  same node (create-only properties), since both describe what the AWS API cannot modify; the
  Terraform provider behind pulumi-aws can differ (it may update in place what CloudFormation
  replaces, or the other way round);
* what a replacement does: the Terraform bridge deletes a resource with an explicit name before
  it creates the replacement, so CloudFormation's "blocked" becomes an outage (the resource is
  gone until its replacement is up, and a delete AWS refuses because the resource is in use
  leaves the update half-done), or data loss for data kinds;
* helper resources the CloudFormation template has no counterpart for (the generated password,
  inline role policies, bucket configuration, routes, the rotation application) are listed as
  added, removed or changed, never judged: whether the provider replaces them is not known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from paycompile.changes.classify import classify, name_blocks
from paycompile.changes.diff import Comparison, compare
from paycompile.changes.model import Action, Change, Risk
from paycompile.changes.sources import Side, SourceError
from paycompile.changes.template import normalised
from paycompile.spec.model import PlatformSpec

PLAN_KEY = "PulumiPlan"  # where the plan rides along with the template it is judged by
_UNJUDGED = "a helper resource: whether the provider replaces it is not known offline"


def compare_pulumi(base: Side, head: Side, requested: str | None) -> Comparison:
    for side in (base, head):
        if side.form != "spec":
            raise SourceError(
                f"{side.label} is a built {side.form}: the Pulumi diff compares specs (it builds "
                "the program's plan from each); to compare with a deployed Pulumi stack, run "
                "`paycompile preview`"
            )
    return compare(base, head, requested, "pulumi", _template_and_plan, pulumi_changes)


def _template_and_plan(spec: PlatformSpec) -> dict[str, Any]:
    from paycompile import compile_spec, render

    graph = compile_spec(spec)
    template = normalised(json.loads(render(graph, "cfn", "json")))
    plan = json.loads(render(graph, "pulumi", "json"))
    return {**template, PLAN_KEY: plan["resources"]}


def pulumi_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """One change per Pulumi resource, by resource name."""
    judged = {change.logical_id: change for change in classify(old, new)}
    nodes = set(old.get("Resources", {})) | set(new.get("Resources", {}))
    before = {resource["name"]: resource for resource in old.get(PLAN_KEY, [])}
    after = {resource["name"]: resource for resource in new.get(PLAN_KEY, [])}
    replaced = {name for name, change in judged.items() if change.action is Action.REPLACE}
    changes = []
    for name in sorted(before.keys() | after.keys()):
        first, second = before.get(name), after.get(name)
        if name in nodes:
            row = _node_row(name, first, second, judged.get(name), replaced)
        else:
            row = _helper_row(name, first, second, replaced)
        if row is not None:
            changes.append(row)
    return changes


def _node_row(
    name: str,
    first: Mapping[str, Any] | None,
    second: Mapping[str, Any] | None,
    cfn: Change | None,
    replaced: set[str],
) -> Change | None:
    resource_type = str((second or first or {}).get("type"))
    same = first is not None and second is not None and not _inputs_change(first, second, replaced)
    if same and (cfn is None or cfn.action is Action.IN_PLACE):
        return None
    if cfn is None:
        return Change(name, resource_type, _presence(first, second), reasons=("inputs change",))
    return _as_pulumi(replace(cfn, resource_type=resource_type))


def _as_pulumi(change: Change) -> Change:
    """CloudFormation's judgement, with the bridge's delete-before-replace for fixed names."""
    if change.fixed_name is None or change.action is not Action.REPLACE:
        return change
    blocked = name_blocks(change.fixed_name)
    reasons = [reason for reason in change.reasons if reason != blocked]
    reasons.append(
        f"disruptive: its {change.fixed_name} is set explicitly, so Pulumi deletes it before "
        "creating the replacement: it is gone until the new one is up, and if AWS refuses the "
        "delete because it is in use, the update stops half-done"
    )
    risks = (change.risks - {Risk.BLOCKED}) | {Risk.DISRUPTIVE}
    return replace(change, risks=risks, reasons=tuple(reasons))


def _helper_row(
    name: str, first: Mapping[str, Any] | None, second: Mapping[str, Any] | None, replaced: set[str]
) -> Change | None:
    resource_type = str((second or first or {}).get("type"))
    action = _presence(first, second)
    if first is not None and second is not None:
        if not _inputs_change(first, second, replaced):
            return None
        return Change(name, resource_type, Action.IN_PLACE, reasons=(_UNJUDGED,))
    return Change(name, resource_type, action)


def _presence(first: Mapping[str, Any] | None, second: Mapping[str, Any] | None) -> Action:
    if first is None:
        return Action.ADD
    return Action.REMOVE if second is None else Action.IN_PLACE


def _inputs_change(first: Mapping[str, Any], second: Mapping[str, Any], replaced: set[str]) -> bool:
    """Inputs differ, or one is computed from a resource that is replaced (a new id)."""
    if first.get("inputs") != second.get("inputs"):
        return True
    sources = {
        name
        for prop, names in second.get("dependencies", {}).items()
        if prop != "(dependsOn)"
        for name in names
    }
    return bool(sources & replaced)
