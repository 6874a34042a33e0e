"""`paycompile diff BASE HEAD`: the resource changes between two sides, per environment.

Each side is a spec (built here, with this paycompile) or a template built earlier (by any
version, or taken from a deployed stack). Environments, when both sides are specs and no
`--env` is given: every environment HEAD declares (its own, then its `overrides` keys in file
order). An environment only HEAD declares is compared with nothing (everything is added); one
only BASE declares is named in a note, since merging HEAD does not touch its stack. With a
template on either side there is one environment: `--env`, or the spec side's own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from paycompile.changes.classify import classify
from paycompile.changes.model import Change
from paycompile.changes.sources import Side, SourceError, parse_template
from paycompile.changes.template import normalised
from paycompile.spec import load_spec_text
from paycompile.spec.loader import check_environment, parse_document
from paycompile.spec.model import PlatformSpec


@dataclass(frozen=True)
class EnvironmentChanges:
    """The changes of one environment, and what was compared."""

    environment: str | None  # None: two templates, whatever environment they were built for
    changes: list[Change]
    note: str = ""


@dataclass(frozen=True)
class Comparison:
    base: Side
    head: Side
    backend: str
    environments: list[EnvironmentChanges]
    notes: tuple[str, ...] = ()


Builder = Callable[[PlatformSpec], dict[str, Any]]


@cache
def declared(side: Side) -> tuple[str, ...]:
    """The environments a spec side declares: its own, then its `overrides` keys."""
    spec = load_spec_text(side.text, side.label)
    return tuple(dict.fromkeys([spec.environment, *spec.overrides]))


def environments(base: Side, head: Side, requested: str | None) -> tuple[list[str], list[str]]:
    """The environments to compare, and those only BASE declares (named, not compared)."""
    head_envs = list(declared(head)) if head.form == "spec" else []
    base_envs = list(declared(base)) if base.form == "spec" else []
    if requested is not None:
        if requested not in head_envs + base_envs:
            _refuse_undeclared(head if head.form == "spec" else base, requested)
        return [requested], []
    if head.form != "spec" or base.form != "spec":
        own = head_envs[:1] or base_envs[:1]
        return own, []
    return head_envs, [env for env in base_envs if env not in head_envs]


def _refuse_undeclared(side: Side, requested: str) -> None:
    """The loader's own refusal of an `--env` the side does not declare (or cannot be a name):
    the same message, "did you mean" and exit code as every other command's."""
    if side.form != "spec":
        return
    document = parse_document(side.text, side.label)
    check_environment(document, requested, side.label, new_environment=False)


def compare_templates(base: Side, head: Side, requested: str | None) -> Comparison:
    """The CloudFormation comparison: every environment's templates classified."""
    return compare(base, head, requested, "cfn", _cfn_template, classify)


def compare(
    base: Side,
    head: Side,
    requested: str | None,
    backend: str,
    build: Builder,
    judge: Callable[[dict[str, Any], dict[str, Any]], list[Change]],
) -> Comparison:
    chosen, dropped = environments(base, head, requested)
    if base.form == "template" and head.form == "template":
        both = judge(parse_template(base), parse_template(head))
        return Comparison(base, head, backend, [EnvironmentChanges(None, both)])
    found = []
    for env in chosen:
        old, old_note = _side_template(base, env, build, "base")
        new, new_note = _side_template(head, env, build, "head")
        found.append(EnvironmentChanges(env, judge(old, new), old_note or new_note))
    notes = tuple(
        f"{env}: declared by BASE only; its stack is left as deployed (destroy it explicitly)"
        for env in dropped
    )
    return Comparison(base, head, backend, found, notes)


def _side_template(
    side: Side, environment: str, build: Builder, role: str
) -> tuple[dict[str, Any], str]:
    if side.form == "template":
        return parse_template(side), ""
    if side.form == "plan":
        raise SourceError(
            f"{side.label} is an offline Pulumi plan: compare specs instead (a plan holds no "
            "provider diff), or run `paycompile preview` against the deployed stack"
        )
    if environment not in declared(side):
        note = "new environment" if role == "base" else "no longer declared by HEAD"
        return {"Resources": {}}, f"{note}: compared with nothing"
    return build(load_spec_text(side.text, side.label, environment)), ""


def _cfn_template(spec: PlatformSpec) -> dict[str, Any]:
    """The template `paycompile build --backend cfn` writes for the spec, read back as data."""
    from paycompile import compile_spec, render

    return normalised(json.loads(render(compile_spec(spec), "cfn", "json")))
