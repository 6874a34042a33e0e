"""The mutation suite: every deliberate breakage in tests/mutations/catalogue.py, applied to the
emitted template and to the mocked Pulumi plan, must be reported by the checkers with the
finding the row names (not just any finding), and the unbroken artifacts must pass."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.mutations.catalogue import MUTATIONS
from tests.mutations.run import BACKENDS, findings

CASES = [
    pytest.param(m, backend, id=f"{m.id}-{backend}")
    for m in MUTATIONS
    for backend in BACKENDS
    if getattr(m, backend) is not None
]
PLATFORMS = sorted({(m.spec, m.environment or "") for m in MUTATIONS}, key=str)


@pytest.mark.parametrize(("mutation", "backend"), CASES)
def test_the_checkers_flag_the_mutation(mutation, backend) -> None:  # type: ignore[no-untyped-def]
    found = findings(mutation, backend)
    assert any(mutation.expected(backend) in finding for finding in found), (
        f"{mutation.id} ({mutation.breaks}) went unnoticed on {backend}; found: {found}"
    )


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_platform_the_catalogue_mutates_passes_unmutated(backend: str) -> None:
    for mutation in {(m.spec, m.environment): m for m in MUTATIONS}.values():
        assert findings(mutation, backend, mutated=False) == [], (
            mutation.spec,
            mutation.environment,
        )


def test_the_catalogue_holds_at_least_forty_mutations_per_backend() -> None:
    ids = [m.id for m in MUTATIONS]
    assert len(ids) == len(set(ids))
    for backend in BACKENDS:
        assert sum(getattr(m, backend) is not None for m in MUTATIONS) >= 40, backend


def test_the_table_in_docs_lists_exactly_the_catalogue() -> None:
    """docs/testing.md's mutation table (printed by `python -m tests.mutations.table`) has one
    row per catalogue mutation, and none that the catalogue no longer holds."""
    text = (Path(__file__).resolve().parent.parent / "docs" / "testing.md").read_text()
    listed = re.findall(r"^\| `([a-z0-9-]+)` \|", text, re.M)
    assert sorted(listed) == sorted(m.id for m in MUTATIONS)
    assert "| MISSED |" not in text
