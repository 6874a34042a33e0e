"""The library API as docs/library.md shows it: every example there runs here, as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import paycompile
from paycompile import SpecError
from tests.conftest import ROOT

LIBRARY_DOC = ROOT / "docs" / "library.md"
EXAMPLES = re.findall(r"```python\n(.*?)```", LIBRARY_DOC.read_text(), re.DOTALL)


def test_the_doc_has_examples() -> None:
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"example-{n}" for n in range(len(EXAMPLES))])
def test_each_documented_example_runs(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(example, str(LIBRARY_DOC), "exec"), {})  # our own docs, run as written


def test_the_doc_names_every_public_function() -> None:
    text = LIBRARY_DOC.read_text()
    functions = [name for name in paycompile.__all__ if callable(getattr(paycompile, name))]
    public = [name for name in functions if name[0].islower() and name not in ("get_backend",)]
    assert [name for name in public if f"`{name}(" not in text and name != "build_graph"] == []


def test_with_changes_merges_as_an_override_does(reference_spec_path: Path) -> None:
    """The same change, made through `overrides.prod` in the file and through `with_changes`
    on the dev spec, gives the same prod spec."""
    from_file = paycompile.load_spec(reference_spec_path, "prod")
    text = reference_spec_path.read_text()
    base = paycompile.load_spec_text(text.split("overrides:")[0])
    edited = base.with_changes(
        {
            "environment": "prod",
            "lifecycle": "retained",
            "network": {"nat_gateways": 3},
            "services": [{"name": "api", "desired_count": 6}],
        }
    )
    assert edited.model_dump(exclude={"overrides"}) == from_file.model_dump(exclude={"overrides"})


def test_compile_spec_validates_the_spec_it_is_given(reference_spec_path: Path) -> None:
    spec = paycompile.load_spec(reference_spec_path)
    network = type(spec.network).model_construct(
        cidr="10.0.0.0/16", availability_zones=2, nat_gateways=1, flow_logs=True
    )
    unchecked = type(spec).model_construct(**{**dict(spec), "network": network})
    with pytest.raises(SpecError, match="availability_zones: must be exactly 3"):
        paycompile.compile_spec(unchecked)


def test_the_schema_is_a_copy() -> None:
    schema = paycompile.spec_schema()
    schema["properties"].clear()
    assert paycompile.spec_schema()["properties"]
