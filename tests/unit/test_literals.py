from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtara_build.codegen.literals import rust_ident, rust_str, unescape_rust_str

CASES = [
    ("plain", '"plain"'),
    ('say "hi"\n', '"say \\"hi\\"\\n"'),
    ("back\\slash", '"back\\\\slash"'),
    ("tab\tcr\r", '"tab\\tcr\\r"'),
    ("nul\0", '"nul\\0"'),
    ("é", '"\\u{e9}"'),
    ("\u202e", '"\\u{202e}"'),  # a bidi override stays invisible to readers only as an escape
    ("*/ } fn main() {", '"*/ } fn main() {"'),
    ("😀", '"\\u{1f600}"'),
]


@pytest.mark.parametrize(("value", "rust"), CASES)
def test_rust_str_table(value: str, rust: str) -> None:
    assert rust_str(value) == rust


@given(st.text(alphabet=st.characters(exclude_categories=("Cs",))))
def test_rust_str_is_printable_ascii_and_round_trips(value: str) -> None:
    lit = rust_str(value)
    assert all(" " <= c <= "~" for c in lit)
    assert unescape_rust_str(lit) == value
    # the only unescaped quotes are the delimiters
    body = lit[1:-1].replace("\\\\", "").replace('\\"', "")
    assert '"' not in body


def test_lone_surrogate_is_rejected() -> None:
    with pytest.raises(ValueError):
        rust_str("\ud800")


@pytest.mark.parametrize("bad", ["", "1a", "fn", "a-b", "a b", "self"])
def test_rust_ident_rejects(bad: str) -> None:
    with pytest.raises(ValueError):
        rust_ident(bad)
