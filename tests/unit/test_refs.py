"""dsl/refs: path segments (DSL §3.3), reference and template collection, template syntax."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import TypeAdapter

from runtara_build.dsl.base import Condition, InputMapping
from runtara_build.dsl.refs import (
    Reference,
    mapping_references,
    mapping_templates,
    parse_path,
    template_syntax_error,
    value_references,
)


@pytest.mark.parametrize(
    ("path", "segments"),
    [
        ("data", ("data",)),
        ("steps.a.outputs.x", ("steps", "a", "outputs", "x")),
        ("steps['step-1'].outputs", ("steps", "step-1", "outputs")),
        ('steps["step-1"].outputs', ("steps", "step-1", "outputs")),
        ("items[0]", ("items", "0")),
        ("items.0", ("items", "0")),
        ("a[07].b", ("a", "07", "b")),
        ("a[]", ("a", "")),
        ("a[x].b", ("a[x]", "b")),
        ("data['a.b']", ("data", "a", "b")),
        ("data..z", ("data", "", "z")),
        ("", ("",)),
    ],
)
def test_parse_path(path: str, segments: tuple[str, ...]) -> None:
    assert parse_path(path) == segments


def test_reference_roles() -> None:
    assert Reference("steps['x'].outputs", "").step == "x"
    assert Reference("steps", "").step is None
    assert Reference("variables.v.deep", "").variable == "v"
    assert Reference("data.f", "").data_field == "f"
    assert Reference("data", "").data_field is None
    assert Reference("scenario.inputs.data.f", "").data_field is None
    assert Reference("a..b", "").has_empty_segment


def _mapping(raw: dict[str, Any]) -> InputMapping:
    return TypeAdapter(InputMapping).validate_python(raw, strict=True)


def _ref(path: str) -> dict[str, Any]:
    return {"valueType": "reference", "value": path}


def test_mapping_references_walk_composites_in_document_order() -> None:
    mapping = _mapping(
        {
            "a/b": _ref("data.x"),
            "c": {
                "valueType": "composite",
                "value": {
                    "k": _ref("steps.s.outputs"),
                    "l": {"valueType": "immediate", "value": 1},
                },
            },
            "d": {"valueType": "composite", "value": [_ref("variables.v")]},
            "t": {"valueType": "template", "value": "{{ steps.hidden.outputs }}"},
        }
    )
    found = [(r.path, r.pointer) for r in mapping_references(mapping, "/inputMapping")]
    assert found == [
        ("data.x", "/inputMapping/a~1b/value"),
        ("steps.s.outputs", "/inputMapping/c/value/k/value"),
        ("variables.v", "/inputMapping/d/value/0/value"),
    ]  # template text is not searched
    templates = [(t.text, t.pointer) for t in mapping_templates(mapping, "/m")]
    assert templates == [("{{ steps.hidden.outputs }}", "/m/t/value")]


def test_condition_references_include_nested_arguments() -> None:
    condition = TypeAdapter(Condition).validate_python(
        {
            "type": "operation",
            "op": "AND",
            "arguments": [
                {"type": "value", "valueType": "reference", "value": "data.a"},
                {
                    "type": "operation",
                    "op": "GT",
                    "arguments": [_ref("steps.x.outputs"), {"valueType": "immediate", "value": 1}],
                },
            ],
        },
        strict=True,
    )
    found = [(r.path, r.pointer) for r in value_references(condition, "/condition")]
    assert found == [
        ("data.a", "/condition/arguments/0/value"),
        ("steps.x.outputs", "/condition/arguments/1/arguments/0/value"),
    ]


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("plain", True),
        ("{{ data.name | upper }}", True),
        ("{% for x in data.items %}{% if loop.first %}{% break %}{% endif %}{% endfor %}", True),
        ("{{ 'a' + 1 }}", True),  # a render-time error, not a syntax error
        ("{{ x", False),
        ("{% for %}", False),
        ("{% endif %}", False),
    ],
)
def test_template_syntax(text: str, ok: bool) -> None:
    problem = template_syntax_error(text)
    assert (problem is None) == ok
    if problem is not None:
        assert problem.startswith("syntax error") and "\n" not in problem
