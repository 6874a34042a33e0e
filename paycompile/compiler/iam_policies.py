"""A role's least-privilege statements as customer managed policies attached to it.

PCI organisations review, version and attach permissions as managed policies, not as inline
policies buried in a role (cdk-nag IAMNoInlinePolicy). The graph decides the policies: one per
role, split deterministically into parts when the statements would exceed IAM's size quota,
and a role whose permissions would need more policies than IAM attaches is refused.

The quotas (IAM and AWS STS quotas, "IAM object quotas"):
* a managed policy holds at most 6,144 characters, whitespace not counted;
* a role has at most 10 managed policies attached by default (AWS managed ones included);
* IAM keeps 5 versions of a policy; CloudFormation and Pulumi delete the oldest on update.

The size is only known once deployed (an ARN holds the account, the region, generated names),
so it is estimated from above: every reference, pseudo parameter and deploy-time input counts
as the longest value it can take.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from paycompile.compiler.builder import Builder, ref
from paycompile.compiler.graph import Choose, Concat, Graph, Input, Json, Kind, Node, Pseudo, Ref
from paycompile.errors import RuleViolation

# The IAM quotas a role's managed policies must fit in.
POLICY_CHARACTERS = 6_144
POLICIES_PER_ROLE = 10

# The longest value each pseudo parameter takes: `aws-us-gov`, `ap-southeast-5`, a 12-digit
# account, `amazonaws.com.cn`, the stack instance's hex digits.
_PSEUDO_CHARACTERS = {
    "partition": 10,
    "region": 14,
    "account_id": 12,
    "url_suffix": 16,
    "stack_instance": 8,
}
# An ARN around a resource's name: `arn:aws-us-gov:elasticloadbalancing:ap-southeast-5:` and the
# account, the resource type, and what AWS appends (a listener rule's three 16-digit ids, a
# secret's random suffix).
_ARN_CHARACTERS = 160
# A name the backend generates (CloudFormation's `<stack>-<LogicalId>-<random>`, cut to 64).
_GENERATED_NAME_CHARACTERS = 64
_INPUT_CHARACTERS = 128
# Every version string IAM knows has this length.
POLICY_VERSION_TEXT = "2012-10-17"


def attach_policies(
    builder: Builder,
    role: Node,
    parts: tuple[str | int, ...],
    statements: list[dict[str, Any]],
    *,
    version: str,
    aws_managed: int,
) -> list[Node]:
    """The role's customer managed policies, in order: `<Role>Policy`, `<Role>Policy2`, ...

    Refuses (RuleViolation) a role whose permissions need more policies than IAM attaches to
    one role, counting the `aws_managed` policies it also carries.
    """
    if not statements:
        return []
    documents = split_documents(builder.graph, statements)
    if len(documents) + aws_managed > POLICIES_PER_ROLE:
        raise RuleViolation([_too_many(role, len(documents), aws_managed)])
    return [
        builder.add(
            Kind.IAM_POLICY,
            (*parts, "policy", *((index + 1,) if index else ())),
            {
                # The description is create-only: it names the role, never the part count, so a
                # policy split into more parts keeps the ones it had.
                "description": f"Least-privilege permissions of the IAM role {role.name}",
                "roles": [ref(role)],
                "policy_version": version,
                "statements": document,
            },
        )
        for index, document in enumerate(documents)
    ]


def _too_many(role: Node, customer: int, aws_managed: int) -> str:
    owner = f" (service {role.owner}: declare fewer or shorter secrets)" if role.owner else ""
    return (
        f"{role.logical_id}: its permissions need {customer} customer managed policies of at "
        f"most {POLICY_CHARACTERS:,} characters besides {aws_managed} AWS managed ones, and "
        f"IAM attaches at most {POLICIES_PER_ROLE} managed policies to a role{owner}"
    )


def split_documents(graph: Graph, statements: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The statements packed in order into documents that each fit the size quota; a statement
    too big alone is first split by resource (its parts' Sids numbered from 2)."""
    documents: list[list[dict[str, Any]]] = [[]]
    for piece in (p for s in statements for p in _pieces(graph, s)):
        if documents[-1] and not fits(graph, [*documents[-1], piece]):
            documents.append([])
        documents[-1].append(piece)
    return documents


def _pieces(graph: Graph, statement: dict[str, Any]) -> list[dict[str, Any]]:
    resources = statement.get("Resource")
    if fits(graph, [statement]) or not isinstance(resources, list) or len(resources) < 2:
        return [statement]
    groups: list[list[Any]] = [[]]
    for resource in resources:
        if groups[-1] and not fits(graph, [{**statement, "Resource": [*groups[-1], resource]}]):
            groups.append([])
        groups[-1].append(resource)
    sid = str(statement.get("Sid", ""))
    return [
        {**statement, "Sid": f"{sid}{index + 1}" if index else sid, "Resource": group}
        for index, group in enumerate(groups)
    ]


def fits(graph: Graph, statements: list[dict[str, Any]]) -> bool:
    return policy_characters(graph, statements) <= POLICY_CHARACTERS


def policy_characters(graph: Graph, statements: list[dict[str, Any]]) -> int:
    """An upper bound of the policy document's size as IAM counts it (no whitespace)."""
    document = {"Version": POLICY_VERSION_TEXT, "Statement": _longest(graph, statements)}
    text = json.dumps(document, separators=(",", ":"))
    return len("".join(text.split()))  # str.split() cuts at exactly what isspace() is


def _longest(graph: Graph, value: Any) -> Any:
    """`value` with every deploy-time value replaced by a placeholder as long as it can be."""
    if isinstance(value, Ref | Pseudo | Input | Concat | Choose):
        return "x" * _length(graph, value)
    if isinstance(value, Json):
        return _longest(graph, value.value)
    if isinstance(value, dict):
        return {key: _longest(graph, item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_longest(graph, item) for item in value]
    return value


def _length(graph: Graph, value: Any) -> int:
    if isinstance(value, str):
        return len(json.dumps(value)) - 2
    if isinstance(value, Pseudo):
        return _PSEUDO_CHARACTERS[value.name]
    if isinstance(value, Ref):
        target = graph.nodes.get(value.target)
        name = len(target.name) if target is not None else 0
        return _ARN_CHARACTERS + max(name, _GENERATED_NAME_CHARACTERS)
    if isinstance(value, Concat):
        return sum(_length(graph, part) for part in value.parts)
    if isinstance(value, Choose):
        return max(_length(graph, case) for _, case in value.cases)
    return _INPUT_CHARACTERS


def policies_by_role(graph: Graph) -> dict[str, list[Node]]:
    """Each role's customer managed policies, in graph order, read in one pass (asking per
    role would scan every policy for every role: the square of the services)."""
    attached: dict[str, list[Node]] = {}
    for node in graph.of_kind(Kind.IAM_POLICY):
        targets = [r.target for r in _list(node.props.get("roles")) if isinstance(r, Ref)]
        for target in dict.fromkeys(targets):
            attached.setdefault(target, []).append(node)
    return attached


def policies_of(graph: Graph, role: Node) -> list[Node]:
    """The customer managed policies attached to `role`, in graph order."""
    return policies_by_role(graph).get(role.logical_id, [])


def role_statements(
    graph: Graph, role: Node, attached: dict[str, list[Node]] | None = None
) -> list[dict[str, Any]]:
    """Everything `role` may do through its customer managed policies (`attached`: the index
    of `policies_by_role`, when asking for many roles)."""
    policies = (attached if attached is not None else policies_by_role(graph)).get(
        role.logical_id, []
    )
    return [s for policy in policies for s in _list(policy.props.get("statements"))]


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


# Kinds that grant a role access to themselves (a key policy naming it): they are not the role's
# users, and their permissions may be what the role's own policy refers to.
_GRANTORS = frozenset({Kind.IAM_ROLE, Kind.IAM_POLICY, Kind.KMS_KEY, Kind.BUCKET_POLICY})


def wait_for_permissions(graph: Graph) -> None:
    """Every node that hands a role to an AWS service (a task definition, a state machine, a
    flow log) waits until the role's managed policies are attached: a service that starts
    first fails its first tasks, a state machine is refused its log delivery. An ECS service
    waits through its task definition."""
    attached = policies_by_role(graph)
    for node in graph:
        if node.kind in _GRANTORS:
            continue
        roles = _roles_used(graph, node)
        policies = [p.logical_id for role in roles for p in attached.get(role.logical_id, [])]
        if policies:
            node.depends_on = tuple(dict.fromkeys([*node.depends_on, *policies]))


def _roles_used(graph: Graph, node: Node) -> Iterator[Node]:
    for target in dict.fromkeys(r.target for r in node.references()):
        if graph[target].kind is Kind.IAM_ROLE:
            yield graph[target]
