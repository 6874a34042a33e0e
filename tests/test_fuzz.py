"""Fuzzing the whole pipeline: whatever the text, paycompile compiles it or says where it is wrong.

Random YAML documents, random text and bytes, and random mutations of the reference spec go
through `load_spec_text` -> `compile_spec` -> the cfn backend. Each must either compile or
raise SpecError whose every issue is located (line and column >= 1) and prints as one line.
Any other exception (a KeyError in the loader, a RuleViolation the model should have
prevented, a RecursionError) fails the test.

Size: these are big fuzz runs sized by their own setting, not by the hypothesis profile:
PAYCOMPILE_FUZZ_EXAMPLES cases per test (default 2000, so 6000 in all; about forty seconds of
one worker under `make test`, most of it compiling and rendering the mutations of the reference
that stay valid). Set it lower for a quick local run, higher for a soak.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import paycompile
from paycompile.errors import SpecError

FUZZ_EXAMPLES = int(os.environ.get("PAYCOMPILE_FUZZ_EXAMPLES", "2000"))
fuzz_settings = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)

REFERENCE = (Path(__file__).resolve().parent.parent / "examples" / "platform.yaml").read_text()
REFERENCE_LINES = REFERENCE.splitlines(keepends=True)

# Strings that have broken parsers before: control characters, YAML indicators, look-alike
# numbers and booleans, path and shell tricks, non-BMP and combining characters.
WEIRD_STRINGS = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "a\x00b",
        "\t",
        "\n",
        "\r\n",
        "\x85",
        "\u2028",
        "\ufeff",
        "\x7f",
        "\x1b[31m",
        "~",
        "null",
        "Null",
        "yes",
        "no",
        "on",
        "off",
        "y",
        "0x1F",
        "0o17",
        "1_000",
        "1:20:30",
        ".nan",
        ".inf",
        "-.inf",
        "1e400",
        "1.0e+400",
        "9" * 40,
        "-0",
        "0.5",
        "08",
        "2001-12-14",
        "&a",
        "*a",
        "!!python/object:os.system",
        "!foo",
        "<<",
        "? x",
        "- x",
        "{",
        "[",
        "]",
        "}",
        "'",
        '"',
        "#",
        "%TAG",
        "---",
        "...",
        "|",
        ">",
        "@",
        "`",
        "../x",
        "a/b",
        "$(rm -rf /)",
        "a;b",
        "`id`",
        "é",
        "日本",
        "😀",
        "e\u0301",
        "AKIAIOSFODNN7EXAMPLE",
        "x" * 300,
    ]
)
TEXT = st.one_of(WEIRD_STRINGS, st.text(max_size=30))
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
SPEC_KEYS = st.sampled_from(
    [
        "version",
        "name",
        "environment",
        "region",
        "lifecycle",
        "tags",
        "network",
        "cidr",
        "tls",
        "services",
        "route",
        "path",
        "host",
        "port",
        "database",
        "monitoring",
        "backup",
        "parameters",
        "overrides",
        "prod",
        "dev",
        "environment_variables",
        "min_capacity",
        "schedule",
        "image",
    ]
)
DOCUMENTS = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(SPEC_KEYS, TEXT), children, max_size=6),
    ),
    max_leaves=40,
)


def check(text: str | bytes) -> str:
    """The property: compiles, or a SpecError of located one-line issues; nothing else."""
    try:
        spec = paycompile.load_spec_text(text, "platform.yaml")
    except SpecError as error:
        assert error.issues
        for issue in error.issues:
            assert issue.line >= 1 and issue.column >= 1, issue
            rendered = str(issue)
            assert len(rendered.splitlines()) == 1 and "\n" not in rendered, rendered
        return "refused"
    graph = paycompile.compile_spec(spec)
    assert paycompile.render(graph, "cfn")
    return "compiled"


def dump(document: Any, unicode: bool, flow: bool | None) -> str | None:
    try:
        return yaml.safe_dump(
            document, allow_unicode=unicode, default_flow_style=flow, sort_keys=False
        )
    except (yaml.YAMLError, UnicodeError):
        return None  # not every generated value can be written as YAML (surrogates)


@fuzz_settings
@given(document=DOCUMENTS, unicode=st.booleans(), flow=st.sampled_from([None, True, False]))
def test_random_yaml_documents(document: Any, unicode: bool, flow: bool | None) -> None:
    text = dump(document, unicode, flow)
    event(check(text) if text is not None else "not dumpable")  # see --hypothesis-show-statistics


@fuzz_settings
@given(data=st.one_of(st.text(max_size=400), st.binary(max_size=400), WEIRD_STRINGS))
def test_random_text_and_bytes(data: str | bytes) -> None:
    event(check(data))


def _value_line(lines: list[str], index: int, value: str) -> list[str]:
    """Replace the value of `key: value` on line `index` (or the whole line if it has none)."""
    line = lines[index]
    key, colon, _ = line.partition(":")
    lines[index] = f"{key}: {value}\n" if colon else value + "\n"
    return lines


@st.composite
def mutated_references(draw: st.DrawFn) -> str:
    """The reference spec after one to three random edits."""
    lines = list(REFERENCE_LINES)
    for _ in range(draw(st.integers(1, 3))):
        if not lines:
            break
        index = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(["delete", "value", "duplicate", "insert", "truncate"]))
        if operation == "delete":
            del lines[index]
        elif operation == "value":
            value = dump(draw(DOCUMENTS), draw(st.booleans()), True) or "x"
            lines = _value_line(lines, index, value.strip().replace("\n", " "))
        elif operation == "duplicate":
            lines.insert(index, lines[index])
        elif operation == "insert":
            text = lines[index]
            at = draw(st.integers(0, len(text)))
            lines[index] = text[:at] + draw(st.one_of(st.characters(), WEIRD_STRINGS)) + text[at:]
        else:
            text = "".join(lines)
            return text[: draw(st.integers(0, len(text)))]
    return "".join(lines)


@fuzz_settings
@given(text=mutated_references())
def test_mutations_of_the_reference_spec(text: str) -> None:
    event(check(text))


def test_the_property_holds_for_the_reference_itself() -> None:
    assert check(REFERENCE) == "compiled"
