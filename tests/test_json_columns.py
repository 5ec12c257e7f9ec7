"""JSONB values are parsed by pydantic-core on the way out of PostgreSQL (app.db.parse_json):
they must come back exactly as the json module would have read them."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.db import parse_json

JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=30,
)


@given(JSON_VALUES, st.booleans())
def test_a_value_reads_back_as_json_reads_it(value: Any, ascii_only: bool) -> None:
    """PostgreSQL sends text as UTF-8; escaped (`\\u00e9`) is tried too."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    parsed = parse_json(text)
    assert parsed == json.loads(text)
    assert json.dumps(parsed, ensure_ascii=ascii_only) == text  # same types: 1 stays an int


def test_nesting_deeper_than_pydantic_core_reads_still_reads() -> None:
    text = "[" * 500 + "]" * 500
    assert parse_json(text) == json.loads(text)
