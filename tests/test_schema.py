"""The published JSON Schema: generated, committed, complete, and judged by an outside validator.

`jsonschema` (not paycompile) reads the schema and the corpus of invalid specs in
tests/spec_corpus.py: every single-field violation is refused by the schema alone, every
violation by `paycompile validate`, and no valid spec is refused by the schema.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from spec_corpus import CASES, REFERENCE, Case
from strategies import GeneratedSpec, valid_specs

import paycompile
from paycompile.cli import main
from paycompile.errors import SpecError
from paycompile.scan import SECRET_SHAPES, is_secret_name
from paycompile.spec import policy
from paycompile.spec.schema import (
    SCHEMA_ID,
    private_cidr_pattern,
    secret_key_pattern,
    secret_value_patterns,
    tag_secret_name_pattern,
)

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "schema" / "v1" / "platform.schema.json"
SPEC_DOC = ROOT / "docs" / "spec.md"


def printed_schema() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["schema"]) == 0
    return out.getvalue()


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(COMMITTED.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_errors(validator: jsonschema.Draft202012Validator, document: Any) -> list[str]:
    return [error.json_path for error in validator.iter_errors(document)]


# --- the file and the command ------------------------------------------------------------


def test_the_committed_schema_is_what_the_command_prints() -> None:
    assert COMMITTED.read_bytes() == printed_schema().encode()


def test_the_schema_has_a_stable_id_and_dialect() -> None:
    schema = json.loads(printed_schema())
    assert schema["$id"] == SCHEMA_ID == "urn:paycompile:schema:platform:1"
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA_ID in SPEC_DOC.read_text()


def _keys(node: Any, path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every (path, schema) under a `properties` anywhere in the schema."""
    found: list[tuple[str, dict[str, Any]]] = []
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            found.append((f"{path}.{key}", value))
        for key, value in node.items():
            found += _keys(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            found += _keys(item, f"{path}[{index}]")
    return found


def test_every_key_has_a_description_and_examples() -> None:
    keys = [
        (path, value)
        for path, value in _keys(json.loads(printed_schema()))
        # the branches of the Fargate cpu/memory `oneOf` restate two keys' values only
        if "/oneOf[" not in path
    ]
    assert len(keys) > 60
    bare = [
        path for path, value in keys if not (value.get("description") and value.get("examples"))
    ]
    assert bare == []


def test_the_examples_in_the_schema_are_valid(validator: jsonschema.Draft202012Validator) -> None:
    """Each example of a top-level key, put into the reference spec, keeps it valid."""
    schema = json.loads(printed_schema())
    for key, value in schema["properties"].items():
        for example in value["examples"]:
            document = yaml.safe_load(REFERENCE.read_text())
            document[key] = example
            assert schema_errors(validator, document) == [], (key, example)


def test_overrides_are_a_closed_partial_spec() -> None:
    schema = json.loads(printed_schema())
    overrides = schema["properties"]["overrides"]
    partial = schema["$defs"][overrides["additionalProperties"]["$ref"].rsplit("/", 1)[1]]
    assert partial["additionalProperties"] is False
    assert set(partial["properties"]) == set(schema["properties"]) - {
        "version",
        "name",
        "environment",
        "overrides",
    }
    for name, definition in schema["$defs"].items():
        assert definition.get("additionalProperties") is False, name


# --- the reference and every generated spec -------------------------------------------------


def test_the_reference_spec_is_valid(validator: jsonschema.Draft202012Validator) -> None:
    assert schema_errors(validator, yaml.safe_load(REFERENCE.read_text())) == []


@settings(max_examples=max(5, settings.default.max_examples // 3))
@given(generated=valid_specs())
def test_the_schema_refuses_no_valid_spec(
    validator: jsonschema.Draft202012Validator, generated: GeneratedSpec
) -> None:
    assert schema_errors(validator, yaml.safe_load(generated.text)) == []


# --- the corpus of invalid specs -------------------------------------------------------------


def _validate(case: Case, tmp_path: Path) -> tuple[int, str]:
    spec = tmp_path / "platform.yaml"
    spec.write_text(case.text())
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["validate", str(spec)])
    return code, out.getvalue()


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_validate_refuses_every_invalid_spec(case: Case, tmp_path: Path) -> None:
    code, report = _validate(case, tmp_path)
    lines = report.splitlines()
    assert code == 1, report
    assert len(lines) == 1, report
    assert re.match(rf"^{re.escape(str(tmp_path / 'platform.yaml'))}:\d+:\d+: ", lines[0])
    assert case.expect in lines[0], lines[0]


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_the_schema_alone_refuses_every_single_field_violation(
    case: Case, validator: jsonschema.Draft202012Validator
) -> None:
    """`schema=True` cases are refused by the schema; the others (cross-field rules, listed in
    docs/spec.md) pass it, so the table says exactly where the schema stops."""
    refused = bool(schema_errors(validator, case.document()))
    assert refused == case.schema


def test_the_documented_coverage_is_the_measured_one() -> None:
    refused = sum(case.schema for case in CASES)
    line = f"refuses {refused} of the {len(CASES)} invalid specs"
    assert line in SPEC_DOC.read_text(), line


# --- the patterns the schema carries agree with the Python rules ------------------------------

KEYS = st.from_regex(r"\A[A-Za-z0-9_.:/@+= -]{1,24}\Z", fullmatch=True)
SECRET_WORDS = st.sampled_from(
    [
        "password",
        "PASSWORD",
        "Password",
        "token",
        "ApiKey",
        "api_key",
        "API-KEY",
        "secretString",
        "clientSecret",
        "credentials",
        "pwd",
        "accessKey",
        "PRIVATE_KEY",
        "Passwd",
    ]
)


@given(key=st.one_of(KEYS, st.tuples(KEYS, SECRET_WORDS).map("".join)))
def test_the_secret_key_pattern_is_the_policy(key: str) -> None:
    schema_says = re.search(secret_key_pattern(), key) is not None
    assert schema_says == bool(policy.SECRET_KEY_PATTERN.search(key))


@given(key=st.one_of(KEYS, st.tuples(KEYS, SECRET_WORDS).map("".join), SECRET_WORDS))
def test_the_tag_secret_pattern_refuses_only_secret_names(key: str) -> None:
    if re.search(tag_secret_name_pattern(), key):
        assert is_secret_name(key)


@pytest.mark.parametrize(
    "key", ["DbPassword", "db_password", "API_TOKEN", "apiKey", "team/ClientSecret", "Credentials"]
)
def test_the_tag_secret_pattern_finds_common_secret_names(key: str) -> None:
    assert is_secret_name(key) and re.search(tag_secret_name_pattern(), key)


VALUES = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "AKIAIOSFODNN7EXAMPLE",
            "xAKIAIOSFODNN7EXAMPLE",
            "id=AKIAIOSFODNN7EXAMPLE;",
            "ghp_" + "a" * 36,
            "xoxb-1234567890-abc",
            "sk_live_" + "a" * 20,
            "-----BEGIN RSA PRIVATE KEY-----",
        ]
    ),
)


@given(value=VALUES)
def test_the_secret_value_patterns_are_the_scanners(value: str) -> None:
    for pattern, (_, original) in zip(secret_value_patterns(), SECRET_SHAPES, strict=True):
        assert (re.search(pattern, value) is not None) == bool(original.search(value))


PRIVATE_ADDRESSES = st.sampled_from(policy.PRIVATE_RANGES).flatmap(
    lambda block: st.integers(
        int(ipaddress.IPv4Network(block).network_address),
        int(ipaddress.IPv4Network(block).broadcast_address),
    )
)
ALIGNED = st.tuples(PRIVATE_ADDRESSES, st.integers(14, 22)).map(
    lambda pair: (pair[0] >> (32 - pair[1]) << (32 - pair[1]), pair[1])
)


@given(
    network=st.one_of(
        st.tuples(st.integers(0, 2**32 - 1), st.integers(8, 24)),
        st.tuples(PRIVATE_ADDRESSES, st.integers(14, 22)),
        ALIGNED,
    ).map(lambda pair: f"{ipaddress.IPv4Address(pair[0])}/{pair[1]}")
)
def test_the_cidr_pattern_is_the_policy(network: str) -> None:
    try:
        paycompile.load_spec_text(
            REFERENCE.read_text().replace("cidr: 10.0.0.0/16", f"cidr: {network}", 1)
        )
        accepted = True
    except SpecError:
        accepted = False
    assert (re.fullmatch(private_cidr_pattern(), network) is not None) == accepted


def test_the_cidr_pattern_takes_every_private_network() -> None:
    low, high = policy.VPC_PREFIX_RANGE
    for block in map(ipaddress.IPv4Network, policy.PRIVATE_RANGES):
        for prefix in range(low, high + 1):
            for network in block.subnets(new_prefix=prefix):
                assert re.fullmatch(private_cidr_pattern(), str(network)), network
