"""A template as CloudFormation would see it for given parameter values.

The checkers judge what a deployment would create, so they first resolve what only parameters
decide: `Ref` to a parameter becomes its value, conditions are evaluated, and `Fn::If` picks its
branch. References to resources, `Fn::GetAtt`, `Fn::Sub` and the rest stay as they are (they are
known only once deployed). Written from the CloudFormation documentation of these intrinsic
functions; shares no code with paycompile.
"""

from __future__ import annotations

import copy
from typing import Any

Template = dict[str, Any]


def parameter_values(template: Template, given: dict[str, str] | None = None) -> dict[str, str]:
    """Each parameter's value: the given one, else its Default."""
    values = {
        name: str(body["Default"])
        for name, body in template.get("Parameters", {}).items()
        if "Default" in body
    }
    return {**values, **(given or {})}


def evaluate(template: Template, given: dict[str, str] | None = None) -> Template:
    """A copy of `template` with parameters and conditions resolved."""
    values = parameter_values(template, given)
    conditions: dict[str, bool] = {}
    for name, expression in template.get("Conditions", {}).items():
        conditions[name] = bool(_condition(expression, values, conditions))
    result = copy.deepcopy(template)
    result["Resources"] = _resolve(result.get("Resources", {}), values, conditions)
    result["Outputs"] = _resolve(result.get("Outputs", {}), values, conditions)
    return result


def _condition(expression: Any, values: dict[str, str], known: dict[str, bool]) -> Any:
    if isinstance(expression, dict) and len(expression) == 1:
        ((function, argument),) = expression.items()
        if function == "Fn::Equals":
            left, right = (_resolve(item, values, known) for item in argument)
            return str(left) == str(right)
        if function == "Fn::Not":
            return not _condition(argument[0], values, known)
        if function == "Fn::And":
            return all(_condition(item, values, known) for item in argument)
        if function == "Fn::Or":
            return any(_condition(item, values, known) for item in argument)
        if function == "Condition":
            return known[argument]
    raise ValueError(f"not a condition CloudFormation accepts: {expression!r}")


def _resolve(value: Any, values: dict[str, str], conditions: dict[str, bool]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in values:
            return values[value["Ref"]]
        if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
            # `${Parameter}` inside a substitution string is the parameter's value too.
            text = value["Fn::Sub"]
            for name, given in values.items():
                text = text.replace("${" + name + "}", given)
            return {"Fn::Sub": text} if "${" in text else text
        if set(value) == {"Fn::If"}:
            name, when_true, when_false = value["Fn::If"]
            chosen = when_true if conditions[name] else when_false
            return _resolve(chosen, values, conditions)
        return {key: _resolve(item, values, conditions) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, values, conditions) for item in value]
    return value
