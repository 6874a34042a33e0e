"""What both readers do alike: policy documents as statements, references found by value, and
the pass that places every resource in the network, on its keys and in its roles' jobs by what
it refers to rather than by its type (so a resource type added later is judged by what it
touches: a VPC endpoint's security group enters the reachability graph, a new encrypted thing
enters the key uses).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tests.checkers.model import Holder, KeyUse, Platform, Statement, names_in

# Neutral categories a reader gives each type it knows.
SECURITY_GROUP, SG_RULE, SUBNET, KEY, ROLE, POLICY = (
    "security-group",
    "sg-rule",
    "subnet",
    "key",
    "role",
    "policy",
)
# Categories whose references are not placements, key uses or role uses.
NOT_A_USER = {
    SECURITY_GROUP,
    SG_RULE,
    KEY,
    ROLE,
    POLICY,
    "alias",
    "route",
    SUBNET,
    "vpc",
    "parameter",
}


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def statements(document: Any) -> list[Statement]:
    """A policy document's statements (a normalised dict), in order."""
    if not isinstance(document, dict):
        return []
    return [_statement(s) for s in as_list(document.get("Statement")) if isinstance(s, dict)]


def _statement(raw: dict[str, Any]) -> Statement:
    not_action = "NotAction" in raw
    actions = as_list(raw.get("NotAction") if not_action else raw.get("Action"))
    return Statement(
        effect=str(raw.get("Effect", "")),
        actions=tuple(str(a) for a in actions),
        resources=tuple(str(r) for r in as_list(raw.get("Resource", raw.get("NotResource")))),
        principals=tuple(principals(raw.get("Principal"))),
        conditional=bool(raw.get("Condition")),
        not_action=not_action,
        sid=str(raw.get("Sid", "")),
        conditions=tuple(_conditions(raw.get("Condition"))),
    )


def _conditions(value: Any) -> Iterator[tuple[str, str, str]]:
    if not isinstance(value, dict):
        return
    for operator, tests in value.items():
        for key, expected in tests.items() if isinstance(tests, dict) else ():
            for each in as_list(expected):
                yield str(operator), str(key), str(each)


def principals(value: Any) -> Iterator[str]:
    if value == "*":
        yield "*"
        return
    if isinstance(value, dict):
        for kind, who in value.items():
            for each in as_list(who):
                yield f"{str(kind).lower()}:{each}"


def references(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(path, resource) for every reference inside a normalised value."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from references(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from references(item, f"{path}[{index}]")
    else:
        for name in names_in(value):
            yield path, name


def place_by_reference(
    platform: Platform, categories: dict[str, str], labels: dict[str, str], roles: dict[str, str]
) -> None:
    """Holders, key uses and role users, found from what each resource refers to.

    `categories`: resource -> neutral category; `labels`: resource -> what it is (for key
    uses). A resource already placed by its reader keeps what the reader said."""
    recorded = {(use.user, use.key) for use in platform.key_uses}
    for name, found in platform.references.items():
        if categories.get(name) in NOT_A_USER:
            continue
        groups = _targets(found, categories, SECURITY_GROUP)
        subnets = _targets(found, categories, SUBNET)
        if (groups or subnets) and name not in platform.holders:
            kind = platform.kind_of(name)
            platform.holders[name] = Holder(name, kind, groups, subnets, role=roles.get(kind, kind))
        for key in _targets(found, categories, KEY):
            if (name, key) not in recorded:
                platform.key_uses.append(KeyUse(name, labels.get(name, "other"), key))
                recorded.add((name, key))
        used = {
            role for role, users in platform.role_users.items() for user, _ in users if user == name
        }
        for path, role in found:
            if categories.get(role) == ROLE and role not in used:
                platform.use_role(role, name, f"unknown: {platform.kind_of(name)} {path}")
                used.add(role)


def _targets(found: list[tuple[str, str]], categories: dict[str, str], category: str) -> list[str]:
    seen: list[str] = []
    for _, target in found:
        if categories.get(target) == category and target not in seen:
            seen.append(target)
    return seen


def encrypted(platform: Platform, user: str, what: str, key: str | None) -> None:
    platform.key_uses.append(KeyUse(user, what, key))
