"""Upgrading paycompile never replaces resources silently.

The reference templates of each release are kept under tests/snapshots/released/<version>/.
Today's build of the reference spec is classified against the 0.1.0 ones, and every resource
it would replace or remove must be named in CHANGELOG.md's Unreleased section.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import paycompile
from paycompile.changes.classify import classify
from paycompile.changes.model import Action, Change

ROOT = Path(__file__).resolve().parent.parent
RELEASED = ROOT / "tests" / "snapshots" / "released"
CHANGELOG = ROOT / "CHANGELOG.md"
REFERENCE = ROOT / "examples" / "platform.yaml"


def unreleased_section() -> str:
    text = CHANGELOG.read_text(encoding="utf-8")
    match = re.search(r"^## Unreleased\n(.*?)(?=^## )", text, re.MULTILINE | re.DOTALL)
    assert match, "CHANGELOG.md has no '## Unreleased' section followed by a release"
    return match.group(1)


def today(environment: str) -> dict[str, Any]:
    graph = paycompile.compile_spec(paycompile.load_spec(REFERENCE, environment))
    template: dict[str, Any] = json.loads(paycompile.render(graph, "cfn"))
    return template


def upgrade(version: str, environment: str) -> list[Change]:
    released = json.loads((RELEASED / version / f"payment-{environment}.template.json").read_text())
    return classify(released, today(environment))


def unlisted(changes: list[Change], section: str) -> list[str]:
    """The resources the changes replace or remove that the section does not name."""
    return [
        change.logical_id
        for change in changes
        if change.action in (Action.REPLACE, Action.REMOVE)
        and f"`{change.logical_id}`" not in section
    ]


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_every_resource_an_upgrade_replaces_is_in_the_changelog(environment: str) -> None:
    missing = unlisted(upgrade("0.1.0", environment), unreleased_section())
    assert missing == [], f"replaced or removed on upgrade but not in CHANGELOG.md: {missing}"


@pytest.mark.parametrize("environment", ["dev", "prod"])
def test_the_upgrade_from_0_1_0_loses_no_data_and_is_not_blocked(environment: str) -> None:
    risky = [
        (change.logical_id, sorted(map(str, change.risks)))
        for change in upgrade("0.1.0", environment)
        if change.blocked or change.loses_data
    ]
    assert risky == []


def test_the_check_sees_an_unlisted_replacement() -> None:
    """Not vacuous: the upgrade replaces resources, and one the section omits is reported."""
    changes = upgrade("0.1.0", "dev")
    section = unreleased_section()
    assert "BackupVault" in [c.logical_id for c in changes if c.action is Action.REPLACE]
    assert unlisted(changes, section.replace("`BackupVault`", "the vault")) == ["BackupVault"]


def test_released_snapshots_are_frozen() -> None:
    """Each release keeps its dev and prod reference templates, and they are templates."""
    for version in ("0.1.0",):
        for environment in ("dev", "prod"):
            path = RELEASED / version / f"payment-{environment}.template.json"
            assert "Resources" in json.loads(path.read_text()), path
