"""Write paycompile/changes/create_only.py: what replaces each resource type paycompile emits.

The table comes from the CloudFormation registry schemas that cfn-lint ships (its bundled data,
never the user's download cache, so that the pinned cfn-lint decides): for every type in
`KIND_OF_TYPE` and `HELPER_TYPES`, the create-only properties (a change replaces the resource),
the conditionally create-only ones (a change may replace it), whether the type is replaced
delete-first, and the property that holds a custom physical name.

The schemas do not mark the name property, so it is derived, in this order:

1. the primary identifier, when it is one writable create-only property (`LogGroupName`,
   `RoleName`, `DBClusterIdentifier`, `BackupVaultName`, ...): the resource is known by a name
   the template may choose;
2. else a create-only top-level property `Name`, or `<X>Name` where `<X>` ends the type's own
   name (`TopicName` of `Topic`, `GroupName` of `SecurityGroup`, `ServiceName` of `Service`).

Run `python scripts/generate_create_only.py` after upgrading cfn-lint (tests/test_create_only.py
regenerates the table in memory and fails when the committed one differs). The runtime never
imports cfn-lint.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "paycompile" / "changes" / "create_only.py"
REGION = "us-east-1"
PREFIX = "/properties/"


def bundled_schemas() -> Any:
    """cfn-lint's schema manager reading the schemas in its own package, not the cache."""
    import cfnlint
    from cfnlint.schema.manager import ProviderSchemaManager

    data = Path(cfnlint.__file__).parent / "data" / "schemas"
    return ProviderSchemaManager(data / "providers", data / "resources"), data


def _paths(pointers: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(pointer.removeprefix(PREFIX) for pointer in pointers))


def name_property(type_name: str, schema: dict[str, Any]) -> str | None:
    create_only = set(_paths(schema.get("createOnlyProperties", [])))
    read_only = set(_paths(schema.get("readOnlyProperties", [])))
    identifier = _paths(schema.get("primaryIdentifier", []))
    if len(identifier) == 1 and identifier[0] in create_only and identifier[0] not in read_only:
        return identifier[0]
    own = type_name.rsplit("::", 1)[-1]
    for prop in sorted(create_only):
        if "/" in prop or not prop.endswith("Name"):
            continue
        if own.endswith(prop.removesuffix("Name")):
            return prop
    return None


def rules_of(type_name: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "create_only": _paths(schema.get("createOnlyProperties", [])),
        "conditional": _paths(schema.get("conditionalCreateOnlyProperties", [])),
        "name": name_property(type_name, schema),
        "delete_first": schema.get("replacementStrategy") == "delete_then_create",
    }


def _tuple(items: tuple[str, ...], indent: str) -> str:
    if len(items) < 2:
        return f'("{items[0]}",)' if items else "()"
    inner = "".join(f'{indent}    "{item}",\n' for item in items)
    return f"(\n{inner}{indent})"


def render(types: Iterable[str]) -> str:
    """The module text for `types`, sorted, in the form `ruff format` leaves unchanged."""
    manager, data = bundled_schemas()
    import json

    schema_date = json.loads((data / "version.json").read_text())["schema_date"]
    version = metadata.version("cfn-lint")
    rules = {
        name: rules_of(name, manager.get_resource_schema(REGION, name).schema)
        for name in sorted(set(types))
    }
    lines = [
        '"""What replaces each CloudFormation type paycompile emits (generated: do not edit).',
        "",
        f"From the registry schemas cfn-lint {version} ships (schema date {schema_date}, "
        f"{REGION}),",
        "by scripts/generate_create_only.py; tests/test_create_only.py checks it against them.",
        "Property paths drop the leading /properties/; `*` stands for every item of a list.",
        '"""',
        "",
        f'SOURCE = "cfn-lint {version}, registry schemas of {schema_date}, {REGION}"',
        "",
        "# A change to one of these properties replaces the resource.",
        "CREATE_ONLY: dict[str, tuple[str, ...]] = {",
        *(f'    "{name}": {_tuple(rule["create_only"], "    ")},' for name, rule in rules.items()),
        "}",
        "# A change to one of these may replace the resource, depending on the values.",
        "CONDITIONAL: dict[str, tuple[str, ...]] = {",
        *(
            f'    "{name}": {_tuple(rule["conditional"], "    ")},'
            for name, rule in rules.items()
            if rule["conditional"]
        ),
        "}",
        "# The property that holds a custom physical name, where the type has one.",
        "NAME_PROPERTY: dict[str, str] = {",
        *(f'    "{name}": "{rule["name"]}",' for name, rule in rules.items() if rule["name"]),
        "}",
        "# Types CloudFormation replaces by deleting the old resource first.",
        "DELETE_FIRST: frozenset[str] = frozenset(",
        "    {",
        *(f'        "{name}",' for name, rule in rules.items() if rule["delete_first"]),
        "    }",
        ")",
    ]
    return "\n".join(lines) + "\n"


def emitted_types() -> list[str]:
    sys.path.insert(0, str(ROOT))
    from paycompile.changes.cloudformation import HELPER_TYPES, KIND_OF_TYPE

    return sorted({*KIND_OF_TYPE, *HELPER_TYPES})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is stale")
    args = parser.parse_args()
    text = render(emitted_types())
    if args.check:
        current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is stale: run {Path(__file__).name}")
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
