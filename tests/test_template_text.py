"""The cfn backend's JSON text: orjson writes what `json.dumps(indent=2, sort_keys=True,
ensure_ascii=False)` writes, so a template's bytes do not depend on which of the two wrote it
(snapshots, content-addressed child templates, `diff` against an earlier build)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from paycompile.backends.cfn.template import pretty_json

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    # Below 1e-4 json writes `1e-05` and orjson `0.00001`: the one documented difference.
    | st.floats(allow_nan=False, allow_infinity=False).filter(lambda f: f == 0 or abs(f) >= 1e-4)
    | st.text()
)
_DOCUMENTS = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=40,
)


def _json_text(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


@given(_DOCUMENTS)
def test_the_text_is_what_json_writes(document: Any) -> None:
    assert pretty_json(document) == _json_text(document)


def test_an_integer_past_64_bits_takes_the_slow_path_to_the_same_text() -> None:
    document = {"Big": 2**70, "Name": "caf\u00e9 \U0001d538"}  # beyond the BMP, as a rare script
    assert pretty_json(document) == _json_text(document)
