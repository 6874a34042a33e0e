"""Validated edits of a spec in memory: the library's only ways to change one.

`PlatformSpec.with_changes({...})` merges changes as an `overrides.<env>` entry does and
validates the result as a whole; `model_copy(update=...)` on any part of a spec validates the
copy. Either raises `SpecError` with one issue per problem, located by key path (an edit has no
file, so no line and column).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from paycompile.errors import SpecError, SpecIssue

if TYPE_CHECKING:
    from paycompile.spec.model import PlatformSpec

Model = TypeVar("Model", bound=BaseModel)
EDIT = "<edit>"


def revalidate(model: Model) -> Model:
    """`model` validated again, nested models included (they revalidate as instances)."""
    try:
        return type(model).model_validate(model)
    except ValidationError as error:
        raise SpecError(edit_issues(error)) from None


def unknown_keys(model: type[BaseModel], update: Mapping[str, Any]) -> None:
    """pydantic's `model_copy` silently ignores keys the model does not have: refuse them."""
    unknown = sorted(set(update) - set(model.model_fields))
    if unknown:
        allowed = ", ".join(model.model_fields)
        raise SpecError(
            [SpecIssue(EDIT, 0, 0, key, f"unknown key; allowed: {allowed}") for key in unknown]
        )


def apply_changes(spec: PlatformSpec, changes: Mapping[str, Any]) -> PlatformSpec:
    document = merge(spec.model_dump(mode="python"), changes)
    try:
        return type(spec).model_validate(document)
    except ValidationError as error:
        raise SpecError(edit_issues(error)) from None


def merge(base: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """`changes` deep-merged into `base`: mappings key by key, `services` by name (a new name
    appends a service), anything else replaced."""
    result = dict(base)
    for key, value in changes.items():
        current = result.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            result[key] = merge(current, value)
        elif key == "services" and isinstance(current, list) and isinstance(value, list):
            result[key] = _merge_services(current, value)
        else:
            result[key] = value
    return result


def _merge_services(base: list[Any], changes: list[Any]) -> list[Any]:
    merged = list(base)
    index = {item.get("name"): at for at, item in enumerate(merged) if isinstance(item, Mapping)}
    for change in changes:
        name = change.get("name") if isinstance(change, Mapping) else None
        at = index.get(name) if isinstance(name, str) else None
        if at is None:
            merged.append(change)
        else:
            merged[at] = merge(merged[at], change)
    return merged


def edit_issues(error: ValidationError) -> list[SpecIssue]:
    """One issue per validation error, in the loader's words, at no line and column."""
    from paycompile.spec.loader import issue_without_position

    return [issue_without_position(EDIT, detail) for detail in error.errors(include_url=False)]
