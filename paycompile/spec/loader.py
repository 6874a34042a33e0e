"""Read `platform.yaml` safely, keep every value's position, apply overrides, validate.

YAML is composed (never constructed) with PyYAML's safe loader, then turned into plain
dicts and lists that remember where each key and value came from, so that every error,
from the parser or from the model, can be reported as `file:line:col: key.path: message`.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, TypeAdapter, ValidationError

from paycompile.errors import SpecError, SpecIssue, UndeclaredEnvironment
from paycompile.scan import secret_shape
from paycompile.spec.model import ENVIRONMENT_NAME, EnvironmentName, PlatformSpec

MAX_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_NODES = 20_000
NOT_OVERRIDABLE = ("version", "name", "environment", "overrides")

Mark = tuple[int, int]  # 1-based line and column
Loc = tuple[int | str, ...]

MAX_NUMBER_CHARS = 32
MAX_MESSAGE = 400  # a message quoting a huge value stays one readable line
MAX_ECHO = 80  # characters of an offending value quoted back in a message
_NUMBER_TAGS = ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
    "tag:yaml.org,2002:timestamp",
}


class PosDict(dict[str, Any]):
    """A mapping that remembers where it, each key and each value started."""

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.key_marks: dict[str, Mark] = {}
        self.value_marks: dict[str, Mark] = {}


class PosList(list[Any]):
    """A sequence that remembers where it and each item started."""

    def __init__(self, mark: Mark) -> None:
        super().__init__()
        self.mark = mark
        self.item_marks: list[Mark] = []


def load_spec(
    path: str | Path, environment: str | None = None, *, new_environment: bool = False
) -> PlatformSpec:
    """Load, merge and validate a spec file; raise SpecError with located issues.

    `environment` must be declared by the spec (its `environment` or a key of `overrides`)
    unless `new_environment` says a new one is meant; otherwise UndeclaredEnvironment.
    """
    source = Path(path)
    name = str(path)
    try:
        if source.stat().st_size > MAX_BYTES:
            raise SpecError(
                [SpecIssue(name, 1, 1, "", f"file is larger than {MAX_BYTES // 1024} KiB")]
            )
        with source.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise SpecError([SpecIssue(name, 1, 1, "", "is a directory, not a spec file")]) from None
    except OSError as exc:
        raise SpecError([SpecIssue(name, 1, 1, "", f"cannot read: {exc.strerror}")]) from None
    return load_spec_text(data, name, environment, new_environment=new_environment)


def load_spec_text(
    text: str | bytes,
    filename: str = "<string>",
    environment: str | None = None,
    *,
    new_environment: bool = False,
) -> PlatformSpec:
    """Validate spec text for one environment (the spec's own unless `environment` is given).

    Every environment named under `overrides` is validated too, so a mistake in
    `overrides.prod` is caught while building `dev`. An `environment` the spec does not
    declare is refused (UndeclaredEnvironment) unless `new_environment` is true.
    """
    try:
        document = parse_document(text, filename)
        if environment is not None:
            check_environment(document, environment, filename, new_environment=new_environment)
        return _load_document(document, filename, environment)
    except SpecError as exc:
        raise SpecError([_one_line(issue) for issue in exc.issues]) from None


def declared_environments(document: PosDict) -> list[str]:
    """The environments a spec declares: its own `environment`, then the keys of `overrides`."""
    own = document.get("environment")
    overrides = document.get("overrides")
    keys = list(overrides) if isinstance(overrides, PosDict) else []
    return list(dict.fromkeys([own, *keys] if isinstance(own, str) else keys))


def check_environment(
    document: PosDict, environment: str, filename: str, *, new_environment: bool
) -> None:
    """Refuse an `--env` that is not a valid name, or names no declared environment.

    A typo such as `prdo` would otherwise build a new environment from the base settings
    (ephemeral, say) where `prod` was meant; `new_environment` is how a new one is asked for.
    """
    declared = declared_environments(document)
    shown = _printable(_echo(environment))
    try:
        _ENVIRONMENT_NAME.validate_python(environment)
    except ValidationError:
        hint = _did_you_mean(environment.lower(), declared)
        raise UndeclaredEnvironment(
            f"--env {shown} is not an environment name{hint}: use lower-case letters, digits "
            "and single hyphens, starting with a letter, at most 16 characters"
        ) from None
    if environment in declared or new_environment:
        return
    names = ", ".join(declared) or "none"
    raise UndeclaredEnvironment(
        f"--env {shown} is not declared in {_printable(filename)}"
        f"{_did_you_mean(environment, declared)}: it declares {names} (`environment` and the "
        "keys of `overrides`); pass --new-env to build a new one, such as a per-PR stack pr-123"
    )


_ENVIRONMENT_NAME: TypeAdapter[str] = TypeAdapter(EnvironmentName)


def _did_you_mean(word: str, choices: list[str]) -> str:
    hint = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {hint[0]!r}?)" if hint else ""


def _load_document(document: PosDict, filename: str, environment: str | None) -> PlatformSpec:
    own = document.get("environment")
    # `--env ""` is a (bad) environment name, not the absence of one.
    primary = environment if environment is not None else (own if isinstance(own, str) else None)
    issues: list[SpecIssue] = []
    specs: list[PlatformSpec] = []
    for target in [primary, *_override_targets(document, primary)]:
        found = _validate(document, target, filename)
        if isinstance(found, PlatformSpec):
            specs.append(found)
        elif target == primary:
            issues += found
        else:
            # Another environment repeats every mistake of the base spec: report only its own
            # (the same key with the same message, or at the same place whatever its wording).
            seen = {key for issue in issues for key in _same_mistake(issue)}
            issues += [i for i in found if not seen.intersection(_same_mistake(i))]
    if issues:
        raise SpecError(issues)
    return specs[0]


def _override_targets(document: PosDict, primary: str | None) -> list[str]:
    """The other environments to check: those with a well-formed `overrides.<env>` mapping.

    A malformed one (a bad name, not a mapping) is already reported by the model, once.
    """
    overrides = document.get("overrides")
    if not isinstance(overrides, PosDict):
        return []
    return [
        env
        for env, override in overrides.items()
        if env != primary and isinstance(override, PosDict) and ENVIRONMENT_NAME.fullmatch(env)
    ]


def _validate(
    document: PosDict, target: str | None, filename: str
) -> PlatformSpec | list[SpecIssue]:
    merged = document
    try:
        merged = merge_environment(document, target, filename)
        return PlatformSpec.model_validate(merged)
    except SpecError as exc:
        return exc.issues
    except ValidationError as exc:
        found = [_issue(filename, merged, error) for error in exc.errors(include_url=False)]
        return [_in_override(issue, document, target) for issue in found]


def _same_mistake(issue: SpecIssue) -> tuple[tuple[str, str], tuple[str, int, int]]:
    path = _unprefixed(issue.path)
    return (path, issue.message), (path, issue.line, issue.column)


def _unprefixed(path: str) -> str:
    return _OVERRIDE_PREFIX.sub("", path)


_OVERRIDE_PREFIX = re.compile(r"^overrides\.[^.\[]+\.")


def parse_document(text: str | bytes, filename: str) -> PosDict:
    """Parse YAML text into a PosDict; refuse what a spec never needs (tags, huge or deep input)."""
    # Refuse by size before any decoding or parsing work (a character is at least a byte).
    if len(text) > MAX_BYTES or (
        isinstance(text, str) and len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES
    ):
        raise SpecError(
            [SpecIssue(filename, 1, 1, "", f"file is larger than {MAX_BYTES // 1024} KiB")]
        )
    if isinstance(text, bytes):
        text = _decode(text, filename)
    if not text.strip():
        raise SpecError([SpecIssue(filename, 1, 1, "", "the spec is empty")])
    try:
        root = _compose(text)
    except _LimitExceeded as exc:
        raise SpecError([SpecIssue(filename, exc.mark[0], exc.mark[1], "", str(exc))]) from None
    except yaml.reader.ReaderError as exc:
        line, column = _position(text, exc.position)
        raise SpecError(
            [
                SpecIssue(
                    filename,
                    line,
                    column,
                    "",
                    f"invalid character {_char(exc.character)}: {exc.reason}",
                )
            ]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = " ".join(str(exc.problem or exc.context or "invalid YAML").split())
        raise SpecError(
            [SpecIssue(filename, line, column, "", f"invalid YAML: {problem}")]
        ) from None
    except yaml.YAMLError as exc:
        raise SpecError(
            [SpecIssue(filename, 1, 1, "", f"invalid YAML: {' '.join(str(exc).split())}")]
        ) from None
    except RecursionError:
        raise SpecError(
            [SpecIssue(filename, 1, 1, "", f"nesting deeper than {MAX_DEPTH} levels")]
        ) from None
    if root is None:
        raise SpecError([SpecIssue(filename, 1, 1, "", "the spec is empty")])
    document = _Converter(filename).convert(root, (), 0)
    if not isinstance(document, PosDict):
        line, column = _mark(root)
        raise SpecError(
            [SpecIssue(filename, line, column, "", "the top level must be a mapping of keys")]
        )
    return document


class _LimitExceeded(Exception):
    def __init__(self, message: str, mark: Mark) -> None:
        super().__init__(message)
        self.mark = mark


class _LimitedLoader(yaml.SafeLoader):
    """SafeLoader's composer with depth and node limits checked as the document is read.

    The limits must hold while composing, not after: PyYAML's composer is recursive (so
    `[[[[...` would otherwise end in a RecursionError, or a crash in C) and a large document
    would be fully built in memory before the converter could count it.
    """

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self.depth += 1
        self.nodes += 1
        if self.depth > MAX_DEPTH or self.nodes > MAX_NODES:
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            what = (
                f"nesting deeper than {MAX_DEPTH} levels"
                if self.depth > MAX_DEPTH
                else f"more than {MAX_NODES} values in the document"
            )
            raise _LimitExceeded(what, (mark.line + 1, mark.column + 1))
        try:
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _compose(text: str) -> yaml.Node | None:
    loader = _LimitedLoader(text)
    try:
        return loader.get_single_node()
    finally:
        loader.dispose()


def merge_environment(document: PosDict, environment: str | None, filename: str) -> PosDict:
    """The document as it stands in `environment`: `overrides.<environment>` deep-merged in."""
    merged = _copy(document)
    if environment is None:
        return merged
    if "environment" in merged:
        merged["environment"] = environment
    else:
        _set(merged, "environment", environment, merged.mark, merged.mark)
    overrides = document.get("overrides")
    override = overrides.get(environment) if isinstance(overrides, PosDict) else None
    if override is None:
        return merged
    if not isinstance(override, PosDict):
        line, column = overrides.value_marks[environment]  # type: ignore[union-attr]
        raise SpecError(
            [SpecIssue(filename, line, column, f"overrides.{environment}", "must be a mapping")]
        )
    unknown = _unknown_services(document, override, environment, filename)
    if unknown:
        raise SpecError(unknown)
    for key in NOT_OVERRIDABLE:
        if key in override:
            line, column = override.key_marks[key]
            raise SpecError(
                [
                    SpecIssue(
                        filename,
                        line,
                        column,
                        f"overrides.{environment}.{key}",
                        "cannot be overridden",
                    )
                ]
            )
    return _merge(merged, override)


# An override entry with these keys is a whole new service, appended; without them it can only
# change an existing one, so its name must match.
NEW_SERVICE_KEYS = ("image", "port")


def _unknown_services(
    document: PosDict, override: PosDict, environment: str, filename: str
) -> list[SpecIssue]:
    """Override entries that name no service and are not complete services themselves.

    Without this a typo (`webhook` for `webhooks`) appends a new, half-written service and the
    error blames a missing `image` at the merged index instead of the misspelt name.
    """
    base, entries = document.get("services"), override.get("services")
    if not isinstance(entries, PosList):
        return []
    known = [
        item["name"]
        for item in (base if isinstance(base, PosList) else [])
        if isinstance(item, PosDict) and isinstance(item.get("name"), str)
    ]
    issues = []
    for index, entry in enumerate(entries):
        name = entry.get("name") if isinstance(entry, PosDict) else None
        if not isinstance(name, str) or name in known:
            continue
        if all(key in entry for key in NEW_SERVICE_KEYS):
            continue
        line, column = entry.value_marks["name"]
        issues.append(
            SpecIssue(
                filename,
                line,
                column,
                f"overrides.{environment}.services[{index}].name",
                f"no service named {name!r} to override{_did_you_mean(name, known)}; "
                "a new service needs at least image and port",
            )
        )
    return issues


def _merge(base: PosDict, override: PosDict) -> PosDict:
    result = _copy(base)
    for key, value in override.items():
        current = result.get(key)
        if isinstance(current, PosDict) and isinstance(value, PosDict):
            merged: Any = _merge(current, value)
        elif key == "services" and isinstance(current, PosList) and isinstance(value, PosList):
            merged = _merge_by_name(current, value)
        else:
            merged = value
        _set(result, key, merged, override.key_marks[key], override.value_marks[key])
    return result


def _merge_by_name(base: PosList, override: PosList) -> PosList:
    """Services merge by `name`: a named service is updated, a new name is appended."""
    result = PosList(base.mark)
    by_name = {
        item["name"]: index
        for index, item in enumerate(base)
        if isinstance(item, PosDict) and isinstance(item.get("name"), str)
    }
    items, marks = list(base), list(base.item_marks)
    for item, mark in zip(override, override.item_marks, strict=True):
        name = item.get("name") if isinstance(item, PosDict) else None
        index = by_name.get(name) if isinstance(name, str) else None
        if index is None:
            items.append(item)
            marks.append(mark)
        else:
            items[index] = _merge(items[index], item)
    result.extend(items)
    result.item_marks = marks
    return result


def _copy(source: PosDict) -> PosDict:
    copy = PosDict(source.mark)
    for key, value in source.items():
        _set(copy, key, value, source.key_marks[key], source.value_marks[key])
    return copy


def _set(target: PosDict, key: str, value: Any, key_mark: Mark, value_mark: Mark) -> None:
    target[key] = value
    target.key_marks[key] = key_mark
    target.value_marks[key] = value_mark


class _Converter:
    """Composed YAML nodes -> PosDict/PosList/scalars, with limits on size and shape."""

    def __init__(self, filename: str) -> None:
        self.filename = filename
        self.nodes = 0
        self.constructor = yaml.SafeLoader("")

    def fail(self, node: yaml.Node, path: Loc, message: str) -> SpecError:
        line, column = _mark(node)
        return SpecError([SpecIssue(self.filename, line, column, _path(path), message)])

    def convert(self, node: yaml.Node, path: Loc, depth: int) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(
                node, path, f"document expands to more than {MAX_NODES} values (alias bomb?)"
            )
        if depth > MAX_DEPTH:
            raise self.fail(node, path, f"nesting deeper than {MAX_DEPTH} levels")
        if isinstance(node, yaml.MappingNode):
            return self.mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != "tag:yaml.org,2002:seq":
                raise self.fail(node, path, f"YAML tag {node.tag!r} is not allowed in a spec")
            result = PosList(_mark(node))
            for index, item in enumerate(node.value):
                result.append(self.convert(item, (*path, index), depth + 1))
                result.item_marks.append(_mark(item))
            return result
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: Loc, depth: int) -> PosDict:
        if node.tag != "tag:yaml.org,2002:map":
            raise self.fail(node, path, f"YAML tag {node.tag!r} is not allowed in a spec")
        result = PosDict(_mark(node))
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise self.fail(
                    key_node, path, "YAML merge keys (<<) are not supported; write the keys out"
                )
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, path, "keys must be plain strings, not lists or mappings")
            key = self.scalar(key_node, path)
            if not isinstance(key, str):
                raise self.fail(key_node, path, f"keys must be strings; quote {key_node.value!r}")
            if key in result:
                line, _ = result.key_marks[key]
                raise self.fail(
                    key_node, (*path, key), f"duplicate key {key!r} (first at line {line})"
                )
            value = self.convert(value_node, (*path, key), depth + 1)
            _set(result, key, value, _mark(key_node), _mark(value_node))
        return result

    def scalar(self, node: yaml.Node, path: Loc) -> Any:
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _SCALAR_TAGS:
            raise self.fail(node, path, f"YAML tag {node.tag!r} is not allowed in a spec")
        if node.tag in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:timestamp"):
            return node.value
        if node.tag in _NUMBER_TAGS and len(node.value) > MAX_NUMBER_CHARS:
            # Converting a huge number is slow (sexagesimal `1:0:0:...` is quadratic) or fails
            # outright (Python's 4300-digit limit); no spec value needs more than a few digits.
            raise self.fail(node, path, f"number out of range ({len(node.value)} characters)")
        try:
            return self.constructor.construct_object(node)
        except (ValueError, OverflowError, yaml.YAMLError):
            raise self.fail(node, path, f"not a valid {node.tag.rsplit(':', 1)[-1]}") from None


def _decode(data: bytes, filename: str) -> str:
    if b"\x00" in data:
        raise SpecError(
            [SpecIssue(filename, 1, 1, "", "binary file (NUL bytes); a spec is UTF-8 YAML text")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        head = data[: exc.start]
        line = head.count(b"\n") + 1
        column = exc.start - (head.rfind(b"\n") + 1) + 1
        raise SpecError([SpecIssue(filename, line, column, "", "not UTF-8 text")]) from None


def _one_line(issue: SpecIssue) -> SpecIssue:
    """Escape what would break an issue over lines (or hide text): keys and values are input."""
    message = _printable(issue.message)
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 3] + "..."
    return replace(issue, file=_printable(issue.file), path=_printable(issue.path), message=message)


def _printable(text: str) -> str:
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)


def _char(character: int | str) -> str:
    code = character if isinstance(character, int) else ord(character)
    return f"U+{code:04X}"


def _position(text: str, offset: int) -> Mark:
    head = text[:offset]
    return head.count("\n") + 1, offset - (head.rfind("\n") + 1) + 1


def _mark(node: yaml.Node) -> Mark:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _path(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _in_override(issue: SpecIssue, document: PosDict, environment: str | None) -> SpecIssue:
    """Name the override an issue comes from when its position lies inside `overrides.<env>`."""
    overrides = document.get("overrides")
    if environment is None or not isinstance(overrides, PosDict) or environment not in overrides:
        return issue
    start = overrides.value_marks[environment]
    later = [mark for mark in overrides.key_marks.values() if mark > start]
    if (issue.line, issue.column) >= start and all(
        (issue.line, issue.column) < mark for mark in later
    ):
        return replace(issue, path=f"overrides.{environment}.{issue.path}")
    return issue


def _issue(filename: str, document: PosDict, error: Any) -> SpecIssue:
    loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
    line, column = _locate(document, loc, key=error["type"] == "extra_forbidden")
    return SpecIssue(filename, line, column, _path(loc), _message(error, loc))


def issue_without_position(filename: str, error: Any) -> SpecIssue:
    """An issue in a document that has no source (a library edit): line and column 0."""
    loc: Loc = tuple(part for part in error["loc"] if part != "[key]")
    return _one_line(SpecIssue(filename, 0, 0, _path(loc), _message(error, loc)))


def _locate(document: PosDict, loc: Loc, key: bool) -> Mark:
    """The position of the deepest part of `loc` the document has."""
    node: Any = document
    mark = document.mark
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(node, PosDict) and part in node:
            mark = node.key_marks[part] if key and last else node.value_marks[part]  # type: ignore[index]
        elif isinstance(node, PosList) and isinstance(part, int) and 0 <= part < len(node):
            mark = node.item_marks[part]
        else:
            break
        node = node[part]
    return mark


def _message(error: Any, loc: Loc) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        allowed = _fields_at(loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        suggestion = f" (did you mean {hint[0]!r}?)" if hint else ""
        return f"unknown key{suggestion}; allowed: {', '.join(allowed)}"
    if kind == "model_type" and loc[-1:] == ("route",):
        return (
            "must be a mapping with one key: `path: /pay/*` (requests whose URL path matches) "
            "or `host: pay.example.com` (requests for that host name), "
            f"got {_echo(error.get('input'))}"
        )
    message: str = error["msg"]
    if kind.startswith(("value_error", "assertion_error")):
        message = message.split(", ", 1)[-1]
    value = error.get("input")
    if kind not in ("policy", "services", "fargate", "version", "region") and isinstance(
        value, str | int | float | bool
    ):
        message += f", got {_echo(value)}"
    return message[0].lower() + message[1:] if message[:2].istitle() else message


def _echo(value: str | int | float | bool) -> str:
    """The offending value for a message: shortened, and never a secret (even a malformed one)."""
    if isinstance(value, str) and secret_shape(value):
        return f"a value that looks like a {secret_shape(value)} (not shown)"
    text = repr(value)
    return text if len(text) <= MAX_ECHO else text[: MAX_ECHO - 5] + "...'"


def _fields_at(loc: Loc) -> list[str]:
    """The keys the model allows at `loc` (for "did you mean")."""
    model: Any = PlatformSpec
    keyed = False  # the next part is a key of a dict of models (services[].secrets)
    for part in loc:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        if (
            not (isinstance(model, type) and issubclass(model, BaseModel))
            or part not in model.model_fields
        ):
            return []
        annotation = model.model_fields[part].annotation
        keyed = typing.get_origin(annotation) is dict
        model = _model_in(typing.get_args(annotation)[-1] if keyed else annotation)
    return (
        list(model.model_fields) if isinstance(model, type) and issubclass(model, BaseModel) else []
    )


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType, typing.Annotated):
        for argument in typing.get_args(annotation):
            found = _model_in(argument)
            if found is not None:
                return found
    return None
