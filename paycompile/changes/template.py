"""Reading a CloudFormation template as data: its resources, their policies and references.

Templates arrive as parsed JSON (or YAML in long form): intrinsic functions are one-key
mappings (`{"Ref": "X"}`, `{"Fn::GetAtt": ["X", "Arn"]}`, `{"Fn::Sub": "${X.Arn}/*"}`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

Resource = Mapping[str, Any]
# ${Name} or ${Name.Attribute} in an Fn::Sub string; ${!Literal} is an escape, not a reference.
_SUB_VARIABLE = re.compile(r"\$\{(?!!)([^}.]+)(?:\.[^}]*)?\}")


def normalised(template: Mapping[str, Any]) -> dict[str, Any]:
    """One form for equal templates: cfn-flip's clean-up (Fn::Join written as Fn::Sub, as
    `build --format yaml` writes it), so a JSON and a YAML build of one graph compare equal."""
    from cfn_clean import clean

    cleaned: dict[str, Any] = json.loads(json.dumps(clean(json.loads(json.dumps(template)))))
    return cleaned


def resources_of(template: Mapping[str, Any]) -> dict[str, Resource]:
    found = template.get("Resources") or {}
    return {str(logical_id): body for logical_id, body in found.items() if isinstance(body, dict)}


def properties_of(resource: Resource) -> Mapping[str, Any]:
    found = resource.get("Properties")
    return found if isinstance(found, dict) else {}


def canonical(value: Any) -> str:
    """One text per value, so that equal values (whatever their key order) compare equal."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def references(value: Any) -> set[str]:
    """The logical ids (not pseudo parameters) a value refers to, at any depth."""
    return {name for name in _names(value) if not name.startswith("AWS::")}


def _names(value: Any) -> Iterator[str]:
    if isinstance(value, list):
        for item in value:
            yield from _names(item)
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        (function, argument), *_ = value.items()
        if function == "Ref" and isinstance(argument, str):
            yield argument
            return
        if function == "Fn::GetAtt":
            target = argument[0] if isinstance(argument, list) else str(argument).split(".")[0]
            if isinstance(target, str):
                yield target
            return
        if function == "Fn::Sub":
            yield from _sub_names(argument)
            return
    for item in value.values():
        yield from _names(item)


def _sub_names(argument: Any) -> Iterator[str]:
    text, variables = (argument[0], argument[1]) if isinstance(argument, list) else (argument, {})
    local = set(variables) if isinstance(variables, dict) else set()
    if isinstance(text, str):
        yield from (name for name in _SUB_VARIABLE.findall(text) if name not in local)
    yield from _names(variables)


def values_at(properties: Mapping[str, Any], path: str) -> list[Any]:
    """The values at a schema property path (`A/B`, `*` for every list item); [] if absent."""
    current: list[Any] = [properties]
    for step in path.split("/"):
        following: list[Any] = []
        for value in current:
            if step == "*" and isinstance(value, list):
                following.extend(value)
            elif isinstance(value, dict) and step in value:
                following.append(value[step])
        current = following
    return current


def policy(resource: Resource, key: str) -> str:
    """The DeletionPolicy or UpdateReplacePolicy in force, CloudFormation's default included.

    Aurora clusters (and DB instances outside a cluster) keep a snapshot unless told otherwise.
    """
    explicit = resource.get(key)
    if isinstance(explicit, str):
        return explicit
    kind = resource.get("Type")
    clustered = "DBClusterIdentifier" in properties_of(resource)
    if kind == "AWS::RDS::DBCluster" or (kind == "AWS::RDS::DBInstance" and not clustered):
        return "Snapshot"
    return "Delete"


def as_deployed(template: Mapping[str, Any]) -> dict[str, Resource]:
    """The template's resources with what its parameters decide resolved, for the parameters'
    defaults: a parameter's `Ref` becomes its value and `Fn::If` takes its branch (the live
    colour's weights and task counts follow such parameters)."""
    values = {
        str(name): str(body["Default"])
        for name, body in (template.get("Parameters") or {}).items()
        if isinstance(body, dict) and "Default" in body
    }
    conditions: dict[str, bool] = {}
    for name, expression in (template.get("Conditions") or {}).items():
        conditions[str(name)] = _holds(expression, values, conditions)
    return {
        logical_id: _resolved(body, values, conditions)
        for logical_id, body in resources_of(template).items()
    }


def _holds(expression: Any, values: Mapping[str, str], known: Mapping[str, bool]) -> bool:
    """A condition's truth, for the functions CloudFormation allows in one."""
    if not (isinstance(expression, dict) and len(expression) == 1):
        return False
    (function, argument), *_ = expression.items()
    if function == "Fn::Equals":
        left, right = (_resolved(item, values, known) for item in argument)
        return str(left) == str(right)
    if function == "Fn::Not":
        return not _holds(argument[0], values, known)
    if function == "Fn::And":
        return all(_holds(item, values, known) for item in argument)
    if function == "Fn::Or":
        return any(_holds(item, values, known) for item in argument)
    return function == "Condition" and known.get(str(argument), False)


def _resolved(value: Any, values: Mapping[str, str], conditions: Mapping[str, bool]) -> Any:
    if isinstance(value, list):
        return [_resolved(item, values, conditions) for item in value]
    if not isinstance(value, dict):
        return value
    if set(value) == {"Ref"} and value["Ref"] in values:
        return values[value["Ref"]]
    if set(value) == {"Fn::If"} and isinstance(value["Fn::If"], list):
        name, when_true, when_false = value["Fn::If"]
        chosen = when_true if conditions.get(str(name), False) else when_false
        return _resolved(chosen, values, conditions)
    return {key: _resolved(item, values, conditions) for key, item in value.items()}
