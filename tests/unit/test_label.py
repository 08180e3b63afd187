"""Labels and patterns (DSL §11.2): the grammar, kinds, and RB001 for everything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from runtara_build.errors import BuildError
from runtara_build.label import GRAMMAR, Label, Pattern, parse, parse_label


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("//acme/orders", Label("acme", "orders", "bin")),
        ("//acme/orders:bin", Label("acme", "orders", "bin")),
        ("//acme/orders:src", Label("acme", "orders", "src")),
        ("//acme/orders:obj", Label("acme", "orders", "obj")),
        ("//_x/a.b-c_9", Label("_x", "a.b-c_9")),
        ("//...", Pattern(None)),
        ("//...:src", Pattern(None, "src")),
        ("//acme/...", Pattern("acme")),
        ("//acme/...:obj", Pattern("acme", "obj")),
    ],
)
def test_parse_accepts_the_grammar(text: str, expected: Label | Pattern) -> None:
    assert parse(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "acme/orders",
        "/acme/orders",
        "//acme",
        "//acme/orders/extra",
        "//acme/orders:exe",
        "//acme/orders:",
        "//../orders",
        "//acme/..",
        "//acme/.hidden",
        "//acme/-dash",
        "//acme/",
        "///orders",
        "//ac me/orders",
        "//acme/ord\x00ers",
        "//acme/ордер",
        "//.../x",
    ],
)
def test_malformed_labels_are_rb001_with_the_grammar(text: str) -> None:
    with pytest.raises(BuildError) as info:
        parse(text)
    (diag,) = info.value.diagnostics
    assert diag.code == "RB001"
    assert diag.hint == GRAMMAR


def test_parse_label_rejects_patterns() -> None:
    with pytest.raises(BuildError) as info:
        parse_label("//acme/...")
    assert info.value.diagnostics[0].code == "RB001"
    assert "pattern" in info.value.diagnostics[0].message


def test_label_text_and_package() -> None:
    label = Label("acme", "orders", "src")
    assert str(label) == "//acme/orders:src"
    assert label.package == "acme/orders"
    assert label.package_label == "//acme/orders"
    assert label.with_kind("bin") == Label("acme", "orders")
    assert str(Pattern("acme")) == "//acme/...:bin"
    assert str(Pattern(None, "obj")) == "//...:obj"


SEGMENT = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True).filter(
    lambda s: s != "..."
)


@given(SEGMENT, SEGMENT, st.sampled_from(["bin", "src", "obj"]))
def test_str_round_trips(tenant: str, scenario: str, kind: str) -> None:
    label = Label(tenant, scenario, kind)  # type: ignore[arg-type]
    assert parse(str(label)) == label


@given(st.text(max_size=40))
def test_parse_never_raises_anything_but_build_error(text: str) -> None:
    try:
        parse(text)
    except BuildError as exc:
        assert exc.diagnostics[0].code == "RB001"
