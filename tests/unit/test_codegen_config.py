"""Step config constants round-trip: what codegen serialises is what the document said."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

from runtara_build.codegen.context import NOT_IN_CONFIG, EmitContext
from runtara_build.depgraph import walk_steps
from runtara_build.registry import rule_for
from tests.shared import load_document, shared_dir


def _documents() -> list[Path]:
    root = shared_dir()
    return sorted(
        [
            *root.glob("conformance/*/scenario.json"),
            *root.glob("conformance/*/children/*.json"),
            *root.glob("corpus/runtara/*/*.json"),
        ]
    )


def test_configs_round_trip() -> None:
    ctx = EmitContext(graph_name=lambda g, m: "G", child_name=lambda s: "C")
    checked = 0
    for path in _documents():
        doc = load_document(path)
        assert doc.graph is not None, path
        for _key, _ptr, step in walk_steps(doc.graph, ""):
            mappings = tuple(p for p, _ in rule_for(step).refs(step).mapping)
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a serialiser fallback would be a silent loss
                text = ctx.consts[ctx.const_index(_config(ctx, step, mappings))]
            data = json.loads(text)
            for ptr in mappings:  # pairs back to objects, then compare models
                _from_pairs(data, ptr.strip("/").split("/"))
            fields = {
                f.alias or n for n, f in type(step).model_fields.items() if n in NOT_IN_CONFIG
            }
            raw = step.model_dump(by_alias=True, exclude_unset=True)
            expected = {k: v for k, v in raw.items() if k not in fields}
            assert data == json.loads(json.dumps(expected)), (path, _key)
            checked += 1
    assert checked > 300


def _config(ctx: EmitContext, step: object, mappings: tuple[str, ...]) -> object:
    index = int(ctx.config(step, mappings)[len("K.get(") : -1])  # type: ignore[arg-type]
    return json.loads(ctx.consts[index])


def _from_pairs(data: dict, path: list[str]) -> None:
    parent = data
    for part in path[:-1]:
        parent = parent.get(part, {})
    if isinstance(parent.get(path[-1]), list):
        parent[path[-1]] = dict(parent[path[-1]])


def test_value_condition_keeps_its_tag() -> None:
    from runtara_build.dsl.base import OperationCondition

    raw = {
        "type": "operation",
        "op": "EQ",
        "arguments": [
            {"type": "value", "valueType": "immediate", "value": 5},
            {"valueType": "reference", "value": "data.x", "type": "integer"},
        ],
    }
    model = OperationCondition.model_validate(raw)
    assert model.model_dump(by_alias=True, exclude_unset=True) == raw
