"""The E000 scope of DSL §1.2: what is a parse error, what is left to validation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtara_build.dsl.load import load
from runtara_build.dsl.workflow import ExecutionGraph, ScenarioDocument
from runtara_build.errors import render
from runtara_build.registry import builtin_rules

builtin_rules()


def _doc(steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"entryPoint": next(iter(steps), "a"), "steps": steps, **extra}


def _load(doc: Any) -> list[tuple[str, str | None]]:
    text = doc if isinstance(doc, str) else json.dumps(doc, indent=2)
    loaded = load(text.encode(), "w.json", ExecutionGraph, ScenarioDocument)
    return [(d.code, d.location.pointer) for d in loaded.diagnostics]


def finish(**kw: Any) -> dict[str, Any]:
    return {"id": "a", "stepType": "Finish", **kw}


def agent(**kw: Any) -> dict[str, Any]:
    return {"id": "a", "stepType": "Agent", "agentId": "utils", "capabilityId": "x", **kw}


def start(**kw: Any) -> dict[str, Any]:
    return {"id": "a", "stepType": "StartScenario", "childScenarioId": "c", **kw}


PARSE_ERRORS = [
    ("unknown stepType", _doc({"a": {"id": "a", "stepType": "Start"}}), "/steps/a/stepType"),
    ("missing id", _doc({"a": {"stepType": "Finish"}}), "/steps/a/id"),
    ("missing entryPoint", {"steps": {}}, "/entryPoint"),
    ("float for integer", _doc({"a": agent(maxRetries=3.0)}), "/steps/a/maxRetries"),
    ("string for integer", _doc({"a": agent(retryDelay="3")}), "/steps/a/retryDelay"),
    ("bool for integer", _doc({"a": agent(maxRetries=True)}), "/steps/a/maxRetries"),
    ("negative retries", _doc({"a": agent(maxRetries=-1)}), "/steps/a/maxRetries"),
    ("zero timeout", _doc({"a": agent(timeout=0)}), "/steps/a/timeout"),
    ("number for string", _doc({"a": {"id": 5, "stepType": "Finish"}}), "/steps/a/id"),
    ("log level enum", _doc({"a": {"id": "a", "stepType": "Log", "message": "m", "level": "x"}}),
     "/steps/a/level"),
    ("valueType enum", _doc({"a": finish(inputMapping={"k": {"valueType": "ref", "value": 1}})}),
     "/steps/a/inputMapping/k/valueType"),
    ("type hint enum", _doc({"a": finish(inputMapping={
        "k": {"valueType": "reference", "value": "data", "type": "int"}})}),
     "/steps/a/inputMapping/k/type"),
    ("missing childVersion", _doc({"a": start()}), "/steps/a/childVersion"),
    ("childVersion float", _doc({"a": start(childVersion=1.5)}), "/steps/a/childVersion"),
    ("required null", _doc({"a": {"id": None, "stepType": "Finish"}}), "/steps/a/id"),
    ("immediate without value", _doc({"a": finish(inputMapping={"k": {"valueType": "immediate"}})}),
     "/steps/a/inputMapping/k/value"),
    ("condition op", _doc({"a": {"id": "a", "stepType": "Conditional",
                                 "condition": {"type": "operation", "op": "XOR", "arguments": []}}}),
     "/steps/a/condition/op"),
]  # fmt: skip


@pytest.mark.parametrize(("why", "doc", "ptr"), PARSE_ERRORS, ids=[c[0] for c in PARSE_ERRORS])
def test_parse_errors(why: str, doc: Any, ptr: str) -> None:
    assert ("E000", ptr) in _load(doc)


NOT_PARSE_ERRORS = [
    ("unknown members ignored", _doc({"a": finish(outputs={"x": 1}, foo=[1])}, x=1)),
    ("childVersion any string", _doc({"a": start(childVersion="bogus")})),
    ("childVersion zero", _doc({"a": start(childVersion=0)})),
    ("agentId any string", _doc({"a": agent(agentId="HTTP")})),
    ("optional null is absent", _doc({"a": agent(maxRetries=None, timeout=None)})),
    ("immediate null value", _doc({"a": finish(inputMapping={"k": {"valueType": "immediate",
                                                                   "value": None}})})),
    ("empty steps parse", {"entryPoint": "a", "steps": {}}),
]  # fmt: skip


@pytest.mark.parametrize(("why", "doc"), NOT_PARSE_ERRORS, ids=[c[0] for c in NOT_PARSE_ERRORS])
def test_not_parse_errors(why: str, doc: Any) -> None:
    assert _load(doc) == []


def test_malformed_json_has_line_and_column() -> None:
    loaded = load(b'{\n  "steps": {,}\n}', "w.json", ExecutionGraph, ScenarioDocument)
    (diag,) = loaded.diagnostics
    assert (diag.code, diag.location.line, diag.location.column) == ("E000", 2, 13)


def test_depth_limit() -> None:
    deep = '{"entryPoint": "a", "steps": {"a": ' + "[" * 300 + "]" * 300 + "}}"
    assert [c for c, _ in _load(deep)] == ["E000"]


def test_graph_nesting_limit() -> None:
    graph: dict[str, Any] = _doc({"a": finish()})
    for _ in range(33):
        graph = _doc({"a": {"id": "a", "stepType": "While", "subgraph": graph,
                            "condition": {"type": "value", "valueType": "immediate", "value": 1}}})  # fmt: skip
    assert [c for c, _ in _load(graph)] == ["E000"]


def test_size_limit() -> None:
    big = b" " * (16 * 1024 * 1024 + 1)
    assert load(big, "w.json", ExecutionGraph, ScenarioDocument).diagnostics[0].code == "E000"


def test_rendered_form() -> None:
    step = '{"id": "a", "stepType": "Log", "message": "m", "level": "wrn"}'
    text = '{\n  "entryPoint": "a",\n  "steps": {"a": ' + step + "}\n}"
    loaded = load(text.encode(), "acme/x/scenario.json", ExecutionGraph, ScenarioDocument)
    assert render(loaded.diagnostics[0]) == (
        'acme/x/scenario.json:3:74: error[E000]: \'level\' must be one of "debug", "info", '
        '"warn", "error", but was "wrn"\n  at #/steps/a/level\n  hint: did you mean "warn"?'
    )


def test_wrapper_shape_pointer() -> None:
    doc = {"executionGraph": _doc({"a": {"id": "a", "stepType": "Bogus"}}), "debugMode": True}
    assert _load(doc) == [("E000", "/executionGraph/steps/a/stepType")]


def test_big_integers_are_floats() -> None:
    doc = _doc({"a": agent(maxRetries=18446744073709551616)})
    assert _load(doc) == [("E000", "/steps/a/maxRetries")]
