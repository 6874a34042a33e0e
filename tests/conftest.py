"""Shared fixtures and the hypothesis profiles that size property runs (not what they check)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parent.parent
REFERENCE_SPEC = ROOT / "examples" / "platform.yaml"

# `ci` (the default under `make test`) replays a fixed set of examples (`derandomize`), so a
# submission is never failed by chance; `dev` runs a few random ones while editing; `thorough`
# (`make thorough`) runs many with fresh random seeds, for long runs that look for new failures.
# A failure found that way is pinned with `@example` next to its test.
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough",
    max_examples=500,
    deadline=None,
    derandomize=False,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

# For a property test whose every example renders a whole platform through a backend and then
# an outside judge or the other backend (up to several seconds per example): an eighth of the
# profile's examples (18 in CI), so that `make test` keeps its time budget. The strategies still
# reach the spec's bounds; `make thorough` runs an eighth of its 500 (62), with random seeds.
COSTLY = settings(max_examples=max(5, settings.default.max_examples // 8))
# For a property test whose every example renders two whole platforms (before and after an
# edit) and compares them: a third of the profile's examples (50 in CI, 166 under thorough).
TWO_PLATFORMS = settings(max_examples=max(5, settings.default.max_examples // 3))


@pytest.fixture(scope="session")
def reference_spec_path() -> Path:
    return REFERENCE_SPEC
