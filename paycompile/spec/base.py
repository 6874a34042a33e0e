"""What every part of the spec model shares: the strict base model, value types, policy errors.

A spec model is frozen, and it cannot be changed without being validated again: `model_copy`
re-runs the model and its policy (nested models included), so a library user cannot build a
platform the rules refuse by editing a validated spec.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetJsonSchemaHandler,
    StringConstraints,
    ValidationError,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, InitErrorDetails, PydanticCustomError

from paycompile.scan import secret_shape

# Names become parts of physical names (`<name>-<part>-<environment>`), so each is the
# contract's pattern less what AWS refuses in those: RDS identifiers take no `--`, and load
# balancer, target group and RDS names cannot end in `-`. Hyphens only between alphanumerics.
HYPHENATED = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"
ENVIRONMENT_NAME = re.compile(HYPHENATED)
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x9f\u2028\u2029]"


def policy_error(rule: str, message: str) -> PydanticCustomError:
    return PydanticCustomError(
        "policy", "{message} (policy {rule})", {"message": message, "rule": rule}
    )


# A broken rule at a key path: (path below the model that finds it, the error, the bad value).
Problem = tuple[tuple[str | int, ...], PydanticCustomError, object]


def located(*errors: Problem) -> ValidationError:
    """A validation error at given key paths (below the model that raises it).

    Cross-field rules run once a whole model is valid; raising this instead of a bare error
    blames the key a user must change (`network.nat_gateways`), not the model around it.
    """
    details = [InitErrorDetails(type=error, loc=loc, input=value) for loc, error, value in errors]
    return ValidationError.from_exception_data("PlatformSpec", details)


class StrictModel(BaseModel):
    """Unknown keys are errors; YAML types are taken as written, never coerced.

    Frozen, and revalidated whenever it is copied or handed to another model: an edit through
    `model_copy(update=...)` runs every validator again, and a nested model built without
    validation (`model_construct`) is validated when it is put into a spec.
    """

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        allow_inf_nan=False,
        revalidate_instances="always",
    )

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy with `update` applied, validated again (pydantic's own skips validation)."""
        from paycompile.spec.edit import revalidate, unknown_keys

        unknown_keys(type(self), update or {})
        return revalidate(super().model_copy(update=update, deep=deep))


Facts = dict[str, Any]
TIGHTER = {"minimum": max, "maximum": min, "minLength": max, "maxLength": min}
# Keywords whose subschema (or map of subschemas) must hold whole: two of them merge into one.
# (Not `not`: not(A) and not(B) is not not(A and B).)
CONJUNCTIVE = ("propertyNames", "additionalProperties", "items", "properties")


def merge_facts(schema: Facts, facts: Facts) -> Facts:
    """`schema` with `facts` added; a keyword both already have is kept twice, under `allOf`
    (two bounds keep the tighter; two conjunctive subschemas that agree on the keywords they
    share merge into one)."""
    for key, value in facts.items():
        current = schema.get(key)
        if current is None or current == value:
            schema[key] = value
        elif key in TIGHTER:  # two bounds of one kind: the tighter one is both
            schema[key] = TIGHTER[key](current, value)
        elif key in CONJUNCTIVE and _compatible(current, value):
            schema[key] = {**current, **value}  # one subschema with both keywords: both hold
        else:
            schema.setdefault("allOf", []).append({key: value})
    return schema


def _compatible(first: Facts, second: Facts) -> bool:
    return all(first[key] == second[key] for key in first.keys() & second.keys())


@dataclass(frozen=True)
class SchemaFacts:
    """Annotation: what a value's policy says, as JSON Schema keywords for `paycompile schema`.

    The facts are computed from the policy data only when a schema is generated, so loading a
    spec pays nothing for them; the validators next to them enforce the same data in Python.
    """

    facts: Callable[[], Facts]

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return merge_facts(handler(core_schema), self.facts())


def _no_secret_value(value: object) -> object:
    """PAY-SEC-003 for values: a credential by its shape alone, whatever key it is under.

    Runs before the type's own checks so that no later error message quotes the value back.
    """
    if isinstance(value, str):
        kind = secret_shape(value)
        if kind:
            raise policy_error(
                "PAY-SEC-003",
                f"the value looks like a credential ({kind}): "
                "keep it in Secrets Manager, not in the spec",
            )
    return value


def _no_secret_facts() -> Facts:
    from paycompile.spec.schema import secret_value_patterns

    return {"not": {"anyOf": [{"pattern": pattern} for pattern in secret_value_patterns()]}}


NoSecret = BeforeValidator(_no_secret_value)
NoSecretFacts = SchemaFacts(_no_secret_facts)


_CONTROL_CHARACTER = re.compile(CONTROL_CHARACTERS)  # compiled once: every text field runs it


def _no_control(value: str) -> str:
    """No control characters at all, tab and newline included: values end up in JSON, YAML,
    SSM and process environments, where a line break or a NUL is an injection point."""
    found = _CONTROL_CHARACTER.search(value)
    if found:
        code = f"U+{ord(found.group()):04X}"
        raise PydanticCustomError(
            "control", "must not contain control characters (found {c})", {"c": code}
        )
    return value


ConfigValue = Annotated[
    str,
    StringConstraints(max_length=4096),
    NoSecret,
    AfterValidator(_no_control),
    SchemaFacts(lambda: {"pattern": f"^[^{CONTROL_CHARACTERS[1:-1]}]*$"}),
    NoSecretFacts,
]
