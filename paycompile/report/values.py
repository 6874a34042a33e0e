"""Graph values as the report shows them: as text for people, as data for programs.

`describe` is the text of the HTML and Markdown reports: a reference shows as
`Target.attribute`, a deploy-time input as `<input Name>`, a value chosen by an input as
`by Input: a→x, b→y`, a pseudo parameter as `<region>`; mappings and lists keep their order.
Nothing is abbreviated: the report is evidence.

`plain` is the JSON report's form, the encoding `paycompile graph --format json` uses
(`{"ref": target, "attribute": a}`, `{"input": name}`...): a reference stays visibly a
reference, so neither a reader nor the secret scanner mistakes it for a literal.
"""

from __future__ import annotations

from typing import Any, Final

from paycompile.compiler.graph import Choose, Concat, Input, Json, Pseudo, Ref


class _NotSet:
    def __repr__(self) -> str:
        return "NOT_SET"


NOT_SET: Final = _NotSet()  # a property path that leads nowhere on a node


def describe(value: Any) -> str:
    if value is NOT_SET or value is None:
        return "not set"
    if isinstance(value, str):
        return value
    return _inner(value)


def _inner(value: Any) -> str:
    if value is NOT_SET or value is None:
        return "not set"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | str):
        return str(value)
    if isinstance(value, Ref):
        return f"{value.target}.{value.attribute}"
    if isinstance(value, Pseudo):
        return f"<{value.name}>"
    if isinstance(value, Input):
        return f"<input {value.name}>"
    if isinstance(value, Choose):
        cases = ", ".join(f"{case}→{_inner(each)}" for case, each in value.cases)
        return f"by {value.input}: {cases}"
    if isinstance(value, Concat):
        return "".join(part if isinstance(part, str) else _inner(part) for part in value.parts)
    if isinstance(value, Json):
        return _inner(value.value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {_inner(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_inner(item) for item in value) + "]"
    return repr(value)


def plain(value: Any) -> Any:
    if value is NOT_SET:
        return None
    if isinstance(value, Ref):
        return {"ref": value.target, "attribute": value.attribute}
    if isinstance(value, Pseudo):
        return {"pseudo": value.name}
    if isinstance(value, Concat):
        return {"concat": [plain(part) for part in value.parts]}
    if isinstance(value, Json):
        return {"json": plain(value.value)}
    if isinstance(value, Input):
        return {"input": value.name}
    if isinstance(value, Choose):
        return {"choose": value.input, "cases": {case: plain(each) for case, each in value.cases}}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    return value
