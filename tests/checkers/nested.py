"""A nested set of templates read back as the one platform it deploys.

The root's nested stacks are replaced by their children's resources; a child's link parameter
(`...Link`) by the value the root passes it, a root's `Fn::GetAtt [Child, Outputs.X]` by the
value the child's output carries, and `DependsOn` on a nested stack by the child's resources.
Deploy-time inputs stay parameters, so a checker can still flip the live colours. Nothing here
knows how paycompile wired the set: it reads only what the templates say, so a broken link (a
parameter no one passes, an output that does not exist) is a KeyError, not a pass.
"""

from __future__ import annotations

import copy
import re
from typing import Any

STACK = "AWS::CloudFormation::Stack"
Template = dict[str, Any]


def flatten(files: dict[str, str] | dict[str, Template], root: str = "root.json") -> Template:
    import json

    parsed = {
        name: json.loads(body) if isinstance(body, str) else copy.deepcopy(body)
        for name, body in files.items()
    }
    top = parsed[root]
    nested = {k: v for k, v in top["Resources"].items() if v["Type"] == STACK}
    children = {k: parsed[v["Properties"]["TemplateURL"]] for k, v in nested.items()}
    outputs = {
        stack: {name: out["Value"] for name, out in child.get("Outputs", {}).items()}
        for stack, child in children.items()
    }
    merged: Template = {
        key: value for key, value in top.items() if key not in ("Resources", "Outputs")
    }
    merged["Resources"] = {}
    merged["Outputs"] = {}
    merged["Parameters"] = dict(top.get("Parameters", {}))
    merged["Conditions"] = dict(top.get("Conditions", {}))
    members = {stack: sorted(child["Resources"]) for stack, child in children.items()}
    for name, resource in top["Resources"].items():
        if name not in nested:
            merged["Resources"][name] = _from_root(resource, outputs, members)
    for name, output in top.get("Outputs", {}).items():
        merged["Outputs"][name] = _from_root(output, outputs, members)
    for stack, child in children.items():
        given = nested[stack]["Properties"].get("Parameters", {})
        links = {
            name: _from_root(given[name], outputs, members)
            for name in child.get("Parameters", {})
            if name.endswith("Link")
        }
        for name, declared in child.get("Parameters", {}).items():
            if name not in links:
                merged["Parameters"][name] = declared
        merged["Conditions"].update(child.get("Conditions", {}))
        for name, resource in child["Resources"].items():
            merged["Resources"][name] = _substitute(resource, links)
        for name, output in child.get("Outputs", {}).items():
            if "Export" in output:
                merged["Outputs"][name] = _substitute(output, links)
    return merged


def _from_root(value: Any, outputs: dict[str, dict[str, Any]], members: dict[str, Any]) -> Any:
    """A root value with each child's output read through to what it carries."""
    if isinstance(value, dict):
        getatt = value.get("Fn::GetAtt")
        if getatt and getatt[0] in outputs and str(getatt[1]).startswith("Outputs."):
            return copy.deepcopy(outputs[getatt[0]][getatt[1].removeprefix("Outputs.")])
        if isinstance(value.get("Fn::Sub"), str):
            return {"Fn::Sub": _sub_outputs(value["Fn::Sub"], outputs)}
        result = {k: _from_root(v, outputs, members) for k, v in value.items()}
        if "DependsOn" in result:
            depends = result["DependsOn"]
            depends = [depends] if isinstance(depends, str) else depends
            result["DependsOn"] = [each for name in depends for each in members.get(name, [name])]
        return result
    if isinstance(value, list):
        return [_from_root(item, outputs, members) for item in value]
    return value


def _sub_outputs(text: str, outputs: dict[str, dict[str, Any]]) -> str:
    def read(match: re.Match[str]) -> str:
        return _as_placeholder(outputs[match.group(1)][match.group(2)])

    return re.sub(r"\$\{([A-Za-z0-9]+)\.Outputs\.([A-Za-z0-9]+)\}", read, text)


def _substitute(value: Any, links: dict[str, Any]) -> Any:
    """A child value with each link parameter replaced by what the root passes."""
    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in links:
            return copy.deepcopy(links[value["Ref"]])
        if isinstance(value.get("Fn::Sub"), str):
            return {"Fn::Sub": _sub_links(value["Fn::Sub"], links)}
        return {k: _substitute(v, links) for k, v in value.items()}
    if isinstance(value, list):
        return [_substitute(item, links) for item in value]
    return value


def _sub_links(text: str, links: dict[str, Any]) -> str:
    def read(match: re.Match[str]) -> str:
        name = match.group(1)
        return _as_placeholder(links[name]) if name in links else match.group(0)

    return re.sub(r"\$\{([A-Za-z0-9]+)\}", read, text)


def _as_placeholder(value: Any) -> str:
    """`${X}` or `${X.Attr}` for a Ref or GetAtt; the text itself for a literal."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    logical, attribute = value["Fn::GetAtt"]
    return "${" + f"{logical}.{attribute}" + "}"
