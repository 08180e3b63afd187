"""Hostile documents never crash the front end: only coded diagnostics (issue acceptance).

Hypothesis mutates real corpus documents (dropped members, wrong types, hostile strings, deep
nesting, huge arrays, duplicate ids) and feeds them to the loader and the validator.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from runtara_build import validate_workflow
from tests.shared import shared_dir

CODE = re.compile(r"^(E\d{3}|W\d{3}|RB\d{3})$")
HOSTILE = st.sampled_from(
    [
        "",
        "\x00",
        '"; } fn main() { std::process::exit(1) } //',
        "*/ /*",
        "\u202e\u2066",
        "..",
        "../../etc/passwd",
        "{{ 'a' + 1 }}",
        "{% for %}",
        "a" * 10_000,
        "steps['x'].outputs[99999999999999999999]",
        "\ud7ff\ue000\U0010ffff",
        "~0~1/",
    ]
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), HOSTILE)


def _corpus() -> list[Any]:
    root = shared_dir() / "corpus" / "runtara"
    return [json.loads(p.read_text()) for p in sorted(root.glob("*/*.json"))]


def _paths(doc: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(doc, dict):
        for k, v in doc.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            found += _paths(v, (*prefix, i))
    return found


def _mutate(doc: Any, data: st.DataObject) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 4))):
        paths = [p for p in _paths(doc) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = doc
        for part in path[:-1]:
            parent = parent[part]
        key = path[-1]
        action = data.draw(st.sampled_from(["drop", "leaf", "deep", "huge", "dup", "swap"]))
        if action == "drop":
            del parent[key]
        elif action == "leaf":
            parent[key] = data.draw(JSON_LEAF)
        elif action == "deep":
            value: Any = data.draw(JSON_LEAF)
            for _ in range(data.draw(st.integers(100, 400))):
                value = {"valueType": "composite", "value": [value]}
            parent[key] = value
        elif action == "huge":
            parent[key] = [parent[key]] * 200
        elif action == "dup" and isinstance(parent, dict) and isinstance(parent[key], dict):
            parent[f"{key}_copy"] = copy.deepcopy(parent[key])
        elif action == "swap" and isinstance(parent, dict):
            parent[key] = data.draw(st.sampled_from([[], {}, 1.5, "x", None, True]))
    return doc


@pytest.fixture(scope="module")
def corpus() -> list[Any]:
    return _corpus()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_corpus_gives_only_coded_diagnostics(
    corpus: list[Any], data: st.DataObject
) -> None:
    doc = _mutate(data.draw(st.sampled_from(corpus)), data)
    text = json.dumps(doc, ensure_ascii=data.draw(st.booleans()))
    for diag in validate_workflow(text):
        assert CODE.match(diag.code), diag
        assert diag.code != "RB399", diag
        assert "\n" not in diag.message


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_corpus_through_the_cli_exits_0_or_1(
    corpus: list[Any], data: st.DataObject, tmp_path_factory: pytest.TempPathFactory
) -> None:
    from tests.support.binaries import runtara_build

    doc = _mutate(data.draw(st.sampled_from(corpus)), data)
    work = tmp_path_factory.mktemp("fuzz")
    (work / "scenario.json").write_text(json.dumps(doc))
    result = runtara_build(["check", "scenario.json", "--output=json"], cwd=work, timeout=120)
    assert result.returncode in (0, 1), result.stderr
    assert "Traceback" not in result.stderr
    for diag in json.loads(result.stdout):
        assert CODE.match(diag["code"]) and diag["code"] != "RB399", diag
