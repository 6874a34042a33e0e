"""Whether a change widens access: compare the old and new statements and rules.

IAM roles (inline policies, managed policies, who may assume them), key policies and bucket
policies are read as sets of grants (effect, principal, action, resource, condition); network
access as security group rules (direction, protocol, ports, peer), gathered per group from the
group's inline rules and the separate ingress and egress resources that point at it. A change
widens access when the new side allows something no old grant or rule already allowed, or
drops a Deny; a narrowing (fewer actions, ports or peers) is not flagged.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from paycompile.changes.model import Action, Change
from paycompile.changes.template import Resource, canonical, properties_of, references

_SHOWN = 3  # new grants or rules quoted in a reason


@dataclass(frozen=True)
class Grant:
    effect: str
    principal: str
    action: str
    resource: str
    condition: str

    def __str__(self) -> str:
        whom = f" to {self.principal}" if self.principal else ""
        when = " (with conditions)" if self.condition else ""
        return f"{self.action} on {_plain(self.resource)}{whom}{when}"


@dataclass(frozen=True)
class Rule:
    direction: str
    protocol: str
    low: int
    high: int
    peer: str

    def __str__(self) -> str:
        span = str(self.low) if self.low == self.high else f"{self.low}-{self.high}"
        ports = "all traffic" if self.protocol == "-1" else f"{self.protocol} {span}"
        side = "from" if self.direction == "ingress" else "to"
        return f"{self.direction} {ports} {side} {_plain(self.peer.partition(' ')[2])}"


def widening(change: Change, old: Mapping[str, Resource], new: Mapping[str, Resource]) -> list[str]:
    """Reasons the change widens access; [] when it does not (or removes the resource)."""
    after = new.get(change.logical_id)
    if change.action is Action.REMOVE or after is None:
        return []
    before = old.get(change.logical_id)
    kind = change.resource_type
    if kind in _GROUP_TYPES:
        return _rules_widened(change.logical_id, after, old, new)
    documents = _DOCUMENTS.get(kind)
    if documents is None:
        return []
    added = _new_grants(_grants(documents(before) if before else []), _grants(documents(after)))
    return [f"widens access: grants {grant}" for grant in added[:_SHOWN]] + _more(added)


def _more(items: list[Any]) -> list[str]:
    return [f"widens access: and {len(items) - _SHOWN} more"] if len(items) > _SHOWN else []


# --------------------------------------------------------------------------- policies


def _role_documents(role: Resource) -> list[Any]:
    props = properties_of(role)
    documents = [policy.get("PolicyDocument") for policy in props.get("Policies") or []]
    managed = [
        {"Effect": "Allow", "Action": "(managed policy)", "Resource": arn}
        for arn in props.get("ManagedPolicyArns") or []
    ]
    trust = props.get("AssumeRolePolicyDocument")
    return [*documents, {"Statement": managed}, trust]


def _key_documents(key: Resource) -> list[Any]:
    return [properties_of(key).get("KeyPolicy")]


def _policy_documents(policy: Resource) -> list[Any]:
    return [properties_of(policy).get("PolicyDocument")]


_DOCUMENTS = {
    "AWS::IAM::Role": _role_documents,
    # A customer managed policy is judged as itself: what it grants is what its roles gain.
    "AWS::IAM::ManagedPolicy": _policy_documents,
    "AWS::KMS::Key": _key_documents,
    "AWS::S3::BucketPolicy": _policy_documents,
}


def _grants(documents: list[Any]) -> set[Grant]:
    found: set[Grant] = set()
    for document in documents:
        statements = document.get("Statement", []) if isinstance(document, dict) else []
        for statement in statements if isinstance(statements, list) else [statements]:
            if isinstance(statement, dict):
                found.update(_statement_grants(statement))
    return found


def _statement_grants(statement: Mapping[str, Any]) -> Iterator[Grant]:
    effect = str(statement.get("Effect", "Allow"))
    principal = _principal(statement)
    condition = canonical(statement["Condition"]) if "Condition" in statement else ""
    actions = _listed(statement, "Action")
    resources = _listed(statement, "Resource") or ["*"]
    for action in actions:
        for resource in resources:
            yield Grant(effect, principal, action, resource, condition)


def _principal(statement: Mapping[str, Any]) -> str:
    if "NotPrincipal" in statement:
        return "not " + canonical(statement["NotPrincipal"])
    principal = statement.get("Principal")
    return (
        ""
        if principal is None
        else principal
        if isinstance(principal, str)
        else canonical(principal)
    )


def _listed(statement: Mapping[str, Any], key: str) -> list[str]:
    """Plain strings stay strings (for wildcards); intrinsics compare by their canonical text."""
    if f"Not{key}" in statement:
        return [f"not {canonical(statement[f'Not{key}'])}"]
    value = statement.get(key)
    items = value if isinstance(value, list) else [] if value is None else [value]
    return [item if isinstance(item, str) else canonical(item) for item in items]


def _new_grants(before: set[Grant], after: set[Grant]) -> list[Grant]:
    allowed = [grant for grant in before if grant.effect == "Allow"]
    widened = [
        grant
        for grant in after
        if grant.effect == "Allow" and not any(_covers(old, grant) for old in allowed)
    ]
    dropped = [grant for grant in before if grant.effect == "Deny" and grant not in after]
    return sorted(widened, key=str) + sorted(dropped, key=str)


def _covers(old: Grant, new: Grant) -> bool:
    return (
        old.principal in (new.principal, "*")
        and old.condition in ("", new.condition)
        and _matches(new.action.lower(), old.action.lower())
        and _matches(new.resource, old.resource)
    )


def _matches(value: str, pattern: str) -> bool:
    if pattern in ("*", value):
        return True
    return not value.startswith(("{", "[")) and fnmatchcase(value, pattern)


def _plain(text: str) -> str:
    return text if len(text) <= 80 else text[:77] + "..."


# --------------------------------------------------------------------------- network


_GROUP = "AWS::EC2::SecurityGroup"
_INGRESS = "AWS::EC2::SecurityGroupIngress"
_EGRESS = "AWS::EC2::SecurityGroupEgress"
_GROUP_TYPES = frozenset({_GROUP, _INGRESS, _EGRESS})
_PEERS = (
    "CidrIp",
    "CidrIpv6",
    "SourceSecurityGroupId",
    "DestinationSecurityGroupId",
    "SourcePrefixListId",
    "DestinationPrefixListId",
)


def _rules_widened(
    logical_id: str, after: Resource, old: Mapping[str, Resource], new: Mapping[str, Resource]
) -> list[str]:
    group = _group_key(logical_id, after)
    before = _group_rules(old).get(group, [])
    current = _own_rules(after)
    added = sorted(
        (rule for rule in current if not any(_rule_covers(old_rule, rule) for old_rule in before)),
        key=str,
    )
    return [f"widens access: allows {rule}" for rule in added[:_SHOWN]] + _more(added)


def _group_key(logical_id: str, resource: Resource) -> str:
    """The security group a rule belongs to: its own id, or the group its GroupId names."""
    if resource.get("Type") == _GROUP:
        return logical_id
    group_id = properties_of(resource).get("GroupId")
    targets = sorted(references(group_id))
    return targets[0] if len(targets) == 1 else canonical(group_id)


def _group_rules(resources: Mapping[str, Resource]) -> dict[str, list[Rule]]:
    found: dict[str, list[Rule]] = {}
    for logical_id, resource in resources.items():
        if resource.get("Type") in _GROUP_TYPES:
            found.setdefault(_group_key(logical_id, resource), []).extend(_own_rules(resource))
    return found


def _own_rules(resource: Resource) -> list[Rule]:
    props = properties_of(resource)
    kind = resource.get("Type")
    if kind == _INGRESS:
        return [_rule("ingress", props)]
    if kind == _EGRESS:
        return [_rule("egress", props)]
    return [_rule("ingress", rule) for rule in props.get("SecurityGroupIngress") or []] + [
        _rule("egress", rule) for rule in props.get("SecurityGroupEgress") or []
    ]


def _rule(direction: str, props: Mapping[str, Any]) -> Rule:
    protocol = str(props.get("IpProtocol", "-1")).lower()
    protocol = {"6": "tcp", "17": "udp", "1": "icmp"}.get(protocol, protocol)
    low, high = _port(props.get("FromPort"), -1), _port(props.get("ToPort"), 65535)
    peer = next((f"{key} {_peer(props[key])}" for key in _PEERS if key in props), "")
    return Rule(direction, protocol, low, high, peer)


def _port(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _peer(value: Any) -> str:
    """A CIDR as written; a group by the logical id it refers to, else its canonical text."""
    if isinstance(value, str):
        return value
    targets = references(value)
    return targets.pop() if len(targets) == 1 else canonical(value)


def _rule_covers(old: Rule, new: Rule) -> bool:
    if old.direction != new.direction:
        return False
    if old.protocol != "-1" and (
        old.protocol != new.protocol or not (old.low <= new.low and new.high <= old.high)
    ):
        return False
    return _peer_covers(old.peer, new.peer)


def _peer_covers(old: str, new: str) -> bool:
    if old == new:
        return True
    old_kind, _, old_value = old.partition(" ")
    new_kind, _, new_value = new.partition(" ")
    if old_kind != new_kind or not old_kind.startswith("Cidr"):
        return False
    try:
        inner, outer = ipaddress.ip_network(new_value), ipaddress.ip_network(old_value)
    except ValueError:
        return False
    if isinstance(inner, ipaddress.IPv4Network) and isinstance(outer, ipaddress.IPv4Network):
        return inner.subnet_of(outer)
    if isinstance(inner, ipaddress.IPv6Network) and isinstance(outer, ipaddress.IPv6Network):
        return inner.subnet_of(outer)
    return False
