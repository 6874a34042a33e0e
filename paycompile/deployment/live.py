"""The live blue/green state of a deployed platform, read from its load balancer.

The graph derives every weight and task count from each service's live-colour input
(`paycompile/compiler/release.py`); a deployment must pass the colour that serves traffic now,
or the update would undo a cutover. This reads it where it is true, the listener or listener
rule itself, and recognises it the way the graph states it: the input value under which every
forwarded target group has the weight the listener shows.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from paycompile.compiler.graph import Choose, Graph, Kind, Node
from paycompile.errors import BackendError


class TrafficSplit(BackendError):
    """A service's traffic is split between colours: a cutover runs or stopped half-way."""


def live_colors(graph: Graph, physical: Mapping[str, str], elbv2: Any) -> dict[str, str]:
    """Deploy-time input -> its live value, for every input the listener's weights follow.

    `physical` maps logical ids to deployed ARNs (listeners, rules, target groups); `elbv2` is a
    boto3 ELBv2 client. A service not deployed yet keeps the graph's default.
    """
    found: dict[str, str] = {}
    for node, action in _weighted_actions(graph):
        entries = action["forward"]
        choices = {
            entry["weight"].input for entry in entries if isinstance(entry["weight"], Choose)
        }
        if len(choices) != 1 or node.logical_id not in physical:
            continue
        (name,) = choices
        shown = _shown_weights(node, physical[node.logical_id], elbv2)
        wanted = {
            physical.get(entry["target_group"].target, "?"): entry["weight"] for entry in entries
        }
        matching = [
            case
            for case in graph.inputs[name].allowed
            if all(shown.get(arn) == weight.case(case) for arn, weight in wanted.items())
        ]
        if len(matching) != 1:
            raise TrafficSplit(
                f"{node.logical_id} splits traffic {sorted(shown.values())}: a cutover is "
                "running or stopped half-way; finish or restore it before deploying"
            )
        found[name] = matching[0]
    return found


def _weighted_actions(graph: Graph) -> list[tuple[Node, dict[str, Any]]]:
    actions = [(node, node.props.get("default_action")) for node in graph.of_kind(Kind.LISTENER)]
    actions += [(node, node.props.get("action")) for node in graph.of_kind(Kind.LISTENER_RULE)]
    return [
        (node, action)
        for node, action in actions
        if isinstance(action, dict) and isinstance(action.get("forward"), list)
    ]


def _shown_weights(node: Node, arn: str, elbv2: Any) -> dict[str, int]:
    """Target group ARN -> weight, as the ELBv2 API shows the listener or rule now."""
    if node.kind is Kind.LISTENER:
        listener = elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]
        action = listener["DefaultActions"][0]
    else:
        action = elbv2.describe_rules(RuleArns=[arn])["Rules"][0]["Actions"][0]
    groups = action.get("ForwardConfig", {}).get("TargetGroups", [])
    if not groups and action.get("TargetGroupArn"):
        return {action["TargetGroupArn"]: 100}
    return {group["TargetGroupArn"]: int(group.get("Weight", 1)) for group in groups}
