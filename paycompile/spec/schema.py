"""The JSON Schema of `platform.yaml`, generated from the spec model (`paycompile schema`).

Everything comes from the pydantic model and the policy data it reads: the structure, types,
defaults, descriptions and examples from the fields, and each single-field rule from the
`SchemaFacts` next to the validator that enforces it in Python. Cross-field rules (a prod
environment must be retained, no two routes may overlap, ...) stay with `paycompile validate`;
docs/spec.md lists them. `overrides.<env>` is a partial spec derived from the same schema: every
key optional, the same single-field rules, no unknown keys.

Only `paycompile schema` and the tests import this module; loading a spec never does.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from functools import cache
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue
from pydantic_core import CoreSchema, core_schema

from paycompile.scan import SECRET_SHAPES
from paycompile.spec import policy
from paycompile.spec.loader import NOT_OVERRIDABLE
from paycompile.spec.model import PlatformSpec

SCHEMA_ID = "urn:paycompile:schema:platform:1"
DIALECT = "https://json-schema.org/draft/2020-12/schema"
PARTIAL = "Override"
Facts = dict[str, Any]


def schema_text() -> str:
    """The schema as `paycompile schema` prints it and `schema/v1/` keeps it: stable bytes."""
    return json.dumps(platform_schema(), indent=2, sort_keys=True) + "\n"


@cache
def platform_schema() -> Facts:
    return PlatformSpec.model_json_schema(schema_generator=_Generator)


class _Generator(GenerateJsonSchema):
    """pydantic's generator, with dict keys as `propertyNames` and the spec's own additions."""

    def generate(self, schema: CoreSchema, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        generated = super().generate(schema, mode)
        _add_overrides(generated)
        return {
            **generated,
            "$schema": DIALECT,
            "$id": SCHEMA_ID,
            "title": "paycompile platform.yaml (version 1)",
            "description": "One declarative spec of a compliant AWS payment platform. The "
            "policy's single-field rules are here; `paycompile validate` checks all of them "
            "and the cross-field rules too.",
        }

    def dict_schema(self, schema: core_schema.DictSchema) -> JsonSchemaValue:
        # pydantic writes constrained keys as `patternProperties`, which lets every other key
        # through; a spec's keys must all match, so: `propertyNames` and `additionalProperties`.
        json_schema = super().dict_schema(schema)
        patterns = json_schema.pop("patternProperties", None)
        if patterns:
            ((pattern, values),) = patterns.items()
            json_schema.setdefault("propertyNames", {})["pattern"] = pattern
            json_schema["additionalProperties"] = values
        return json_schema


# --- overrides.<env>: a partial spec ---------------------------------------------------------


def _add_overrides(schema: Facts) -> None:
    definitions = schema["$defs"]
    for name in list(definitions):
        definitions[name + PARTIAL] = _partial_model(name, definitions[name])
    top = {key: value for key, value in schema["properties"].items() if key not in NOT_OVERRIDABLE}
    definitions["Platform" + PARTIAL] = {
        "type": "object",
        "title": "Platform" + PARTIAL,
        "description": "Changes merged into the spec when building one environment: every key "
        "optional, mappings merged key by key, services by name.",
        "additionalProperties": False,
        "properties": {key: _partial_value(value) for key, value in top.items()},
    }
    # The model keeps an override as a plain mapping (the loader merges and validates it);
    # the schema describes what it may hold.
    schema["properties"]["overrides"]["additionalProperties"] = {
        "$ref": f"#/$defs/Platform{PARTIAL}"
    }


def _partial_model(name: str, model: Facts) -> Facts:
    partial = {
        key: value for key, value in model.items() if key not in ("required", "oneOf", "title")
    }
    partial["title"] = name + PARTIAL
    partial["properties"] = {
        key: _partial_value(value) for key, value in model["properties"].items()
    }
    if name == "Service":  # an override entry names the service it changes
        partial["required"] = ["name"]
    return partial


def _partial_value(value: Facts) -> Facts:
    """A property as an override gives it: no default, no required keys, refs to partials."""
    partial = copy.deepcopy(value)
    partial.pop("default", None)
    partial.pop("required", None)  # the required tags come from the base spec
    partial.pop("minItems", None)  # services merge by name: any number of entries
    partial.pop("maxItems", None)
    _point_to_partials(partial)
    return partial


def _point_to_partials(node: Any) -> None:
    if isinstance(node, dict):
        reference = node.get("$ref")
        if isinstance(reference, str) and reference.startswith("#/$defs/"):
            node["$ref"] = reference + PARTIAL
        for value in node.values():
            _point_to_partials(value)
    elif isinstance(node, list):
        for item in node:
            _point_to_partials(item)


# --- patterns: policy data in the dialect of JSON Schema (ECMA-262, no flags) ---------------


def case_insensitive(pattern: str) -> str:
    """`pattern` (letters, `_`, `|`, anchors and groups only) matching letters in either case."""
    return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in pattern)


def secret_key_pattern() -> str:
    """`policy.SECRET_KEY_PATTERN` (case-insensitive) as a plain pattern."""
    return case_insensitive(policy.SECRET_KEY_PATTERN.pattern)


# Words (split where `scan.is_secret_name` may find a word break) whose key is a secret name.
_SECRET_NAME_WORDS = (
    ("password",),
    ("passwd",),
    ("pwd",),
    ("secret",),
    ("token",),
    ("credential",),
    ("credentials",),
    ("api", "key"),
    ("access", "key"),
    ("private", "key"),
    ("secret", "key"),
    ("secret", "string"),
    ("client", "secret"),
)


def tag_secret_name_pattern() -> str:
    """Tag keys `scan.is_secret_name` refuses, in the forms a pattern can tell apart.

    It splits camelCase (`dbPassword`), so the last word counts only after a separator or a
    lower-case letter or digit, and each word is written lower, UPPER or Capitalised. Some rare
    mixes (`PAssword`) are left to `paycompile validate`; nothing accepted by it is refused here.
    """
    any_case = [_word(parts, first_upper=False) for parts in _SECRET_NAME_WORDS]
    upper_first = [_word(parts, first_upper=True) for parts in _SECRET_NAME_WORDS]
    return f"(^|[/._-])({'|'.join(any_case)})$|[a-z0-9]({'|'.join(upper_first)})$"


def _word(parts: tuple[str, ...], first_upper: bool) -> str:
    forms = []
    for index, part in enumerate(parts):
        variants = [part.upper(), part.capitalize()]
        if not (first_upper and index == 0):
            variants.append(part)
        forms.append("(" + "|".join(variants) + ")")
    return "[_-]?".join(forms)


def secret_value_patterns() -> list[str]:
    """`scan.SECRET_SHAPES` without lookbehind (which not every JSON Schema validator has)."""
    return [
        re.sub(r"\(\?<!\[([^\]]*)\]\)", r"(?:^|[^\1])", pattern.pattern)
        for _, pattern in SECRET_SHAPES
    ]


def private_cidr_pattern() -> str:
    """The canonical CIDR strings of private networks from /16 to /20 (host bits zero)."""
    octet = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
    alternatives = []
    low, high = policy.VPC_PREFIX_RANGE
    for block in map(ipaddress.IPv4Network, policy.PRIVATE_RANGES):
        first, second = str(block.network_address).split(".")[:2]
        seconds = octet if block.prefixlen == 8 else _range(int(second), block)
        for prefix in range(low, high + 1):
            thirds = "|".join(str(n) for n in range(0, 256, 2 ** (24 - prefix)))
            alternatives.append(rf"{first}\.{seconds}\.({thirds})\.0/{prefix}")
    return "^(" + "|".join(alternatives) + ")$"


def _range(second: int, block: ipaddress.IPv4Network) -> str:
    count = 2 ** (16 - block.prefixlen)
    return "(" + "|".join(str(n) for n in range(second, second + count)) + ")"


def _in_class(characters: str) -> str:
    """`characters` for a character class, escaped the way ECMA-262 (unicode mode) allows."""
    return "".join("\\" + c if c in "\\]^-" else c for c in characters)


def tag_facts() -> Facts:
    allowed = "^[^" + _in_class(policy.TAG_FORBIDDEN_ASCII) + r"\x00-\x1f\x7f-\x9f]*$"
    value = {
        "type": "string",
        "minLength": 1,
        "maxLength": policy.TAG_VALUE_MAX,
        "pattern": allowed,
        "not": {"anyOf": [{"pattern": pattern} for pattern in secret_value_patterns()]},
    }
    required = {
        tag: {
            **value,
            "allOf": [{"pattern": r"\S"}],
            "description": f"Required tag {tag}.",
            "examples": [example],
        }
        for tag, example in zip(policy.REQUIRED_TAGS, ("FinTech", "Production"), strict=True)
    }
    return {
        "required": list(policy.REQUIRED_TAGS),
        "properties": required,
        "maxProperties": policy.MAX_USER_TAGS,
        "propertyNames": {
            "minLength": 1,
            "maxLength": policy.TAG_KEY_MAX,
            "pattern": allowed,
            "not": {
                "anyOf": [
                    {"enum": list(policy.DERIVED_TAGS)},
                    {"pattern": "^" + case_insensitive("aws") + ":"},
                    {"pattern": f"^({case_insensitive('|'.join(policy.BOOLEAN_TAG_KEYS))})$"},
                    {"pattern": tag_secret_name_pattern()},
                ]
            },
        },
        "additionalProperties": value,
    }
