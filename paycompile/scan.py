"""Find literal secrets in an artifact paycompile is about to write.

The spec model already refuses secret-named keys and secret-shaped values; this scanner is
the second line: it reads the finished artifact (template JSON/YAML, Pulumi plan, graph JSON,
even mermaid or dot text) and reports anything that looks like a password, key or token.

Two kinds of check:

* shapes that are secrets wherever they appear (AWS access key ids, private key blocks,
  JWTs, GitHub/Slack/Stripe/Google tokens), found by regular expression on the raw text;
* a literal string under a secret-looking name (`DB_PASSWORD: hunter2`, or the
  `{"Name": "API_TOKEN", "Value": "..."}` pairs of ECS environments and tags), found by
  walking the parsed document. References are not literals: CloudFormation dynamic
  references (`{{resolve:secretsmanager:...}}`), `Ref`/`Fn::` objects, `!Ref`-style tags,
  ARNs and Pulumi's masked `[secret]` marker are allowed.

Findings describe where and what, never the secret itself, so they are safe to print.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator
from typing import Any

import yaml

# Shapes that are credentials on their own; the name says what was found, never the value.
SECRET_SHAPES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "AWS access key id",
        re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    ),
    ("private key block", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    (
        "JSON web token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),
    ("GitHub token", re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{50,})")),
    ("Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    (
        "Slack webhook",
        re.compile(r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+"),
    ),
    ("Stripe live key", re.compile(r"\b(?:sk|rk)_live_[A-Za-z0-9]{16,}")),
    ("Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b")),
)

# Literal text every match of a shape contains (one of them, case as written): a shape whose
# anchors are all absent cannot match, so its regular expression is skipped. `str.__contains__`
# finds a literal far faster than a pattern scan can rule one out, and a finished template
# holds none of these, so the raw-text scan of an artifact costs next to nothing.
# tests/test_scan.py proves every match generated from each pattern holds one of its anchors.
SHAPE_ANCHORS: dict[str, tuple[str, ...]] = {
    "AWS access key id": ("AKIA", "ASIA", "ABIA", "ACCA"),
    "private key block": ("-----BEGIN ",),
    "JSON web token": ("eyJ",),
    "GitHub token": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"),
    "Slack token": ("xoxa-", "xoxb-", "xoxp-", "xoxo-", "xoxs-", "xoxr-"),
    "Slack webhook": ("hooks.slack.com/services/T",),
    "Stripe live key": ("sk_live_", "rk_live_"),
    "Google API key": ("AIza",),
}

# An AWS secret access key is 40 base64 characters: too common a shape to flag on its own,
# so only next to a secret-ish key name (this also covers text that does not parse).
AWS_SECRET_NEAR_KEY = re.compile(
    r"(?i)(?:secret|private)[\w-]{0,20}key[\"']?\s*[:=]\s*[\"']?"
    r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])"
)

# Names whose value must never be a literal: the last word of the name is what counts, so
# `DB_PASSWORD` and `SecretAccessKey` match but `PasswordLength`, `SecretId` and
# `SecretStringTemplate` (a CloudFormation property holding only the username) do not.
SECRET_NAME = re.compile(
    r"(?:^|_)(?:password|passwd|pwd|secret|token|api_?key|access_?key|private_?key"
    r"|secret_?key|secret_?string|client_?secret|credentials?)$"
)
NAME_KEYS = ("Name", "name", "Key", "key", "ParameterKey", "OptionName")
VALUE_KEYS = ("Value", "value", "ParameterValue", "OptionValue")

STR_TAG = "tag:yaml.org,2002:str"
MASKED = {"[secret]", "[secret value]", "********"}


# (anchor, kind, pattern), the shapes in the order of SECRET_SHAPES: one flat loop is what
# keeps `secret_shape` cheap on the many short strings the rules and the spec model ask about.
_ANCHORED = tuple(
    (anchor, kind, pattern) for kind, pattern in SECRET_SHAPES for anchor in SHAPE_ANCHORS[kind]
)


def secret_shape(text: str) -> str | None:
    """What kind of secret `text` contains by its shape alone, or None."""
    for anchor, kind, pattern in _ANCHORED:
        if anchor in text and pattern.search(text):
            return kind
    return None


def _possible_shapes(text: str) -> Iterator[tuple[str, re.Pattern[str]]]:
    """The shapes whose anchors `text` holds: the only ones that can match it."""
    possible = {kind for anchor, kind, _ in _ANCHORED if anchor in text}
    return ((kind, pattern) for kind, pattern in SECRET_SHAPES if kind in possible)


_PATH_SEPARATOR = re.compile(r"[/.]")
_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


@functools.lru_cache(maxsize=4096)
def is_secret_name(name: str) -> bool:
    """Whether a key or variable name says its value is a secret (`DB_PASSWORD`, `apiToken`).

    Cached: an artifact repeats the same few hundred names (`Key`, `Value`, `Name`...)."""
    last = _PATH_SEPARATOR.split(name)[-1]
    snake = _WORD_BOUNDARY.sub("_", last).replace("-", "_").lower()
    return bool(SECRET_NAME.search(snake))


def find_secrets(text: str) -> list[str]:
    """Every finding in `text`, one line each, naming where and what but never the value."""
    findings = [f"line {line}: {kind}" for line, kind in _shapes(text)]
    findings += [
        f"{path}: literal value for secret-looking name {name!r}" for path, name in _named(text)
    ]
    return findings


def _shapes(text: str) -> Iterator[tuple[int, str]]:
    for kind, pattern in (*_possible_shapes(text), ("AWS secret access key", AWS_SECRET_NEAR_KEY)):
        for match in pattern.finditer(text):
            yield text.count("\n", 0, match.start()) + 1, kind


def _named(text: str) -> Iterator[tuple[str, str]]:
    """Secret-named literals, found in the parsed document (JSON first, then YAML)."""
    try:
        yield from _walk_json(json.loads(text), "")
        return
    except (ValueError, RecursionError):
        pass
    try:
        root = yaml.compose(text, Loader=_FAST_LOADER)
    except (yaml.YAMLError, RecursionError):
        return  # not structured text (mermaid, dot): the shape checks above still ran
    if root is not None:
        yield from _walk_yaml(root)


def _walk_json(value: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        pair = _name_value_pair(value)
        if pair and _is_literal(pair[1]):
            yield path or "(top)", pair[0]
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(item, str) and is_secret_name(str(key)) and _is_literal(item):
                yield where, str(key)
            yield from _walk_json(item, where)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk_json(item, f"{path}[{index}]")


def _name_value_pair(mapping: dict[str, Any]) -> tuple[str, str] | None:
    """`{"Name": "DB_PASSWORD", "Value": "x"}`: the name, if secret-looking, and the value."""
    name = next((mapping[k] for k in NAME_KEYS if isinstance(mapping.get(k), str)), None)
    value = next((mapping[k] for k in VALUE_KEYS if isinstance(mapping.get(k), str)), None)
    if name is not None and value is not None and is_secret_name(name):
        return name, value
    return None


def _walk_yaml(node: yaml.Node) -> Iterator[tuple[str, str]]:
    if isinstance(node, yaml.MappingNode):
        plain = {
            key.value: value.value
            for key, value in node.value
            if isinstance(key, yaml.ScalarNode)
            and isinstance(value, yaml.ScalarNode)
            and _literal_node(value)
        }
        pair = _name_value_pair(plain)
        if pair:
            yield f"line {node.start_mark.line + 1}", pair[0]
        for key, value in node.value:
            name = str(key.value) if isinstance(key, yaml.ScalarNode) else "?"
            if isinstance(value, yaml.ScalarNode) and is_secret_name(name) and _literal_node(value):
                yield f"line {value.start_mark.line + 1}", name
            yield from _walk_yaml(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk_yaml(item)


def _literal_node(node: yaml.ScalarNode) -> bool:
    """A YAML string that is a literal, not a reference (`!Ref X`, `!Sub '${X}'`)."""
    if node.tag == "!Sub":
        return "${" not in node.value and _is_literal(node.value)
    # Composing has already resolved plain scalars: `true` or `42` are not strings, and
    # any other `!Tag` is an intrinsic function, i.e. a reference.
    return node.tag == STR_TAG and _is_literal(node.value)


def _is_literal(value: str) -> bool:
    """A hand-written value, as opposed to a reference to where the secret really lives."""
    stripped = value.strip()
    if not stripped or stripped in MASKED or stripped.startswith("arn:"):
        return False
    return "{{resolve:secretsmanager:" not in stripped and "{{resolve:ssm-secure:" not in stripped


_FAST_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
