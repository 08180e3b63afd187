"""validate: every E/W code of DSL §12 on small inline documents, with its pointer."""

from __future__ import annotations

import json
from typing import Any

import pytest

from runtara_build.dsl.load import Document, load
from runtara_build.dsl.workflow import ExecutionGraph, ScenarioDocument, StepBase
from runtara_build.errors import Diagnostic
from runtara_build.registry import builtin_rules
from runtara_build.validate import build_time_checks, validate_document

Raw = dict[str, Any]


def ref(path: str) -> Raw:
    return {"valueType": "reference", "value": path}


def imm(value: Any) -> Raw:
    return {"valueType": "immediate", "value": value}


def fin(**mapping: Raw) -> Raw:
    return {"stepType": "Finish", "inputMapping": mapping}


def log(**context: Raw) -> Raw:
    return {"stepType": "Log", "message": "m", "context": context}


def agent(module: str, capability: str, **mapping: Raw) -> Raw:
    return {
        "stepType": "Agent",
        "agentId": module,
        "capabilityId": capability,
        "inputMapping": mapping,
    }


CONN = {"stepType": "Connection", "connectionId": "c", "integrationId": "http_bearer"}
TRUE = {"type": "value", "valueType": "immediate", "value": True}


def graph(steps: dict[str, Raw], *plan: Any, entry: str | None = None, **extra: Any) -> Raw:
    """A graph; a plan item is "a>b" or an edge object. The entry defaults to the first step."""
    edges = [
        dict(zip(("fromStep", "toStep"), e.split(">"), strict=True)) if isinstance(e, str) else e
        for e in plan
    ]
    steps = {k: {"id": k, **v} for k, v in steps.items()}
    return {
        "steps": steps,
        "entryPoint": entry or next(iter(steps), ""),
        "executionPlan": edges,
        **extra,
    }


def document(raw: Raw) -> Document:
    builtin_rules()
    doc = load(json.dumps(raw).encode(), "t.json", ExecutionGraph, ScenarioDocument)
    assert not doc.diagnostics, doc.diagnostics
    return doc


def run(raw: Raw, **options: Any) -> list[Diagnostic]:
    return validate_document(document(raw), **options)


def found(diags: list[Diagnostic]) -> set[tuple[str, str | None]]:
    return {(d.code, d.location.pointer) for d in diags}


def child_of(raw: Raw) -> Any:
    graph_ = document(raw).graph

    def lookup(_step: StepBase) -> ExecutionGraph | None:
        return graph_

    return lookup


SPLIT_BODY = graph({"f": fin(i=ref("variables._index"))})
CHILD_NEEDS = graph({"f": fin()}, inputSchema={"r": {"type": "string", "required": True}})
AI: Raw = {
    "stepType": "AiAgent",
    "connectionId": "llm",
    "config": {"systemPrompt": imm("s"), "userPrompt": imm("u")},
}
AI_MEMORY: Raw = {**AI, "config": {**AI["config"], "memory": {"conversationId": imm("c")}}}
NOOP = agent("utils", "do-nothing")


def edge(source: str, target: str, label: str, **members: Any) -> Raw:
    return {"fromStep": source, "toStep": target, "label": label, **members}


def start(version: Any, **members: Any) -> Raw:
    return {"stepType": "StartScenario", "childScenarioId": "k", "childVersion": version, **members}


CASES: list[tuple[str, Raw, str, str]] = [
    ("E001", graph({"f": fin()}, entry="fin"), "E001", "/entryPoint"),
    ("E002", graph({"a": log(), "f": fin(), "o": fin()}, "a>f"), "E002", "/steps/o"),
    (
        "E003",
        graph({"a": {**log(), "id": "x"}, "b": {**fin(), "id": "x"}}, "a>b"),
        "E003",
        "/steps/b/id",
    ),
    ("E004", graph({}, entry="x"), "E004", "/steps"),
    (
        "E010",
        graph({"f": fin(x=ref("steps.ghost.outputs"))}),
        "E010",
        "/steps/f/inputMapping/x/value",
    ),
    ("E011 path", graph({"f": fin(x=ref("data..z"))}), "E011", "/steps/f/inputMapping/x/value"),
    (
        "E011 template",
        graph({"f": fin(t={"valueType": "template", "value": "{{ x"})}),
        "E011",
        "/steps/f/inputMapping/t/value",
    ),
    (
        "E012",
        graph({"a": log(x=ref("steps.f.outputs")), "f": fin()}, "a>f"),
        "E012",
        "/steps/a/context/x/value",
    ),
    (
        "E012 not in T",
        graph({"a": log(x=ref("steps.o")), "f": fin(), "o": fin()}, "a>f"),
        "E012",
        "/steps/a/context/x/value",
    ),
    ("E013", graph({"f": fin(x=ref("variables.nope"))}), "E013", "/steps/f/inputMapping/x/value"),
    (
        "E053 mapping",
        graph({"f": fin(x=ref("variables.nope"))}),
        "E053",
        "/steps/f/inputMapping/x/value",
    ),
    (
        "E053",
        graph(
            {
                "c": {
                    "stepType": "Conditional",
                    "condition": {**TRUE, "valueType": "reference", "value": "variables.v"},
                }
            }
        ),
        "E053",
        "/steps/c/condition/value",
    ),
    ("E020", graph({"a": agent("htpp", "http-request")}), "E020", "/steps/a/agentId"),
    ("E021", graph({"a": agent("http", "request")}), "E021", "/steps/a/capabilityId"),
    (
        "E021 object_model",
        graph({"a": agent("object_model", "x")}),
        "E021",
        "/steps/a/capabilityId",
    ),
    ("E022", graph({"a": agent("utils", "random-array")}), "E022", "/steps/a/inputMapping"),
    (
        "E023",
        graph({"a": agent("utils", "random-array", size=imm("3"))}),
        "E023",
        "/steps/a/inputMapping/size/value",
    ),
    (
        "E023 null",
        graph({"a": agent("utils", "random-array", size=imm(None))}),
        "E023",
        "/steps/a/inputMapping/size/value",
    ),
    (
        "E024",
        graph({"a": agent("http", "http-request", url=imm("u"), method=imm("FETCH"))}),
        "E024",
        "/steps/a/inputMapping/method/value",
    ),
    ("E030", graph({"c": {**CONN, "integrationId": "bearer"}}), "E030", "/steps/c/integrationId"),
    (
        "E040",
        graph(
            {"c": CONN, "a": agent("utils", "return-input", value=ref("steps.c.outputs"))}, "c>a"
        ),
        "E040",
        "/steps/a/inputMapping/value/value",
    ),
    (
        "E041",
        graph({"c": CONN, "f": fin(x=ref("steps.c.outputs"))}, "c>f"),
        "E041",
        "/steps/f/inputMapping/x/value",
    ),
    (
        "E042 log",
        graph({"c": CONN, "l": log(x=ref("steps.c"))}, "c>l"),
        "E042",
        "/steps/l/context/x/value",
    ),
    (
        "E042 error",
        graph(
            {
                "c": CONN,
                "e": {
                    "stepType": "Error",
                    "code": "X",
                    "message": "m",
                    "context": {"x": ref("steps['c']")},
                },
            },
            "c>e",
        ),
        "E042",
        "/steps/e/context/x/value",
    ),
    ("E050 word", graph({"s": start("v2")}), "E050", "/steps/s/childVersion"),
    ("E050 zero", graph({"s": start(0)}), "E050", "/steps/s/childVersion"),
    (
        "E051",
        graph({"f": fin(x=ref("data.b"))}, inputSchema={"a": {"type": "string"}}),
        "E051",
        "/steps/f/inputMapping/x/value",
    ),
    (
        "E060",
        graph(
            {
                "s": {
                    "stepType": "Split",
                    "name": "N",
                    "config": {"value": imm([])},
                    "subgraph": graph({"f": {**fin(), "name": "N"}}),
                }
            }
        ),
        "E060",
        "/steps/s/subgraph/steps/f/name",
    ),
    (
        "E060 onWait",
        graph(
            {
                "w": {
                    "stepType": "WaitForSignal",
                    "name": "N",
                    "onWait": graph({"f": {**fin(), "name": "N"}}),
                }
            }
        ),
        "E060",
        "/steps/w/onWait/steps/f/name",
    ),
    (
        "E070",
        graph(
            {"a": NOOP, "f": fin(), "g": fin()},
            "a>f",
            edge("a", "f", "onError", condition=TRUE),
            edge("a", "g", "onError", condition=TRUE),
        ),
        "E070",
        "/executionPlan/2/priority",
    ),
    (
        "E071",
        graph(
            {"a": NOOP, "f": fin(), "g": fin()},
            edge("a", "f", "onError"),
            edge("a", "g", "onError"),
        ),
        "E071",
        "/executionPlan/1",
    ),
    (
        "E071 next",
        graph({"a": log(), "f": fin(), "g": fin()}, edge("a", "f", "next"), edge("a", "g", "next")),
        "E071",
        "/executionPlan/1",
    ),
    (
        "E110",
        graph({"ai": AI, "t": NOOP}, edge("ai", "t", "tool"), edge("ai", "t", "tool")),
        "E110",
        "/executionPlan/1/label",
    ),
    (
        "E111",
        graph({"ai": AI, "t": NOOP}, edge("ai", "t", "bad-name")),
        "E111",
        "/executionPlan/0/label",
    ),
    ("E112", graph({"ai": {**AI, "connectionId": None}}), "E112", "/steps/ai"),
    (
        "E113",
        graph({"ai": AI_MEMORY, "m": NOOP}, edge("ai", "m", "memory"), edge("ai", "m", "memory")),
        "E113",
        "/executionPlan/1",
    ),
    (
        "E114",
        graph({"ai": AI_MEMORY, "m": log()}, edge("ai", "m", "memory")),
        "E114",
        "/executionPlan/0/toStep",
    ),
    ("E115", graph({"ai": AI_MEMORY}), "E115", "/steps/ai/config/memory"),
    ("E116", graph({"ai": AI, "m": NOOP}, edge("ai", "m", "memory")), "E116", "/executionPlan/0"),
    ("W003", graph({"a": log()}), "W003", "/steps/a"),
    (
        "W004",
        graph({"a": log(), "b": log(), "f": fin()}, "a>b", "b>a", "b>f"),
        "W004",
        "/executionPlan/1",
    ),
    ("W005", graph({"a": {**fin(), "id": "b"}}), "W005", "/steps/a/id"),
    ("W013", graph({"s": {"stepType": "Split", "subgraph": SPLIT_BODY}}), "W013", "/steps/s"),
    (
        "W020",
        graph({"a": agent("utils", "random-array", size=imm(1), sizee=imm(2))}),
        "W020",
        "/steps/a/inputMapping/sizee",
    ),
    ("W030", graph({"a": {**NOOP, "maxRetries": 51}}), "W030", "/steps/a/maxRetries"),
    ("W031", graph({"a": {**NOOP, "retryDelay": 3_600_001}}), "W031", "/steps/a/retryDelay"),
    (
        "W032",
        graph(
            {
                "s": {
                    "stepType": "Split",
                    "config": {"value": imm([]), "parallelism": 101},
                    "subgraph": SPLIT_BODY,
                }
            }
        ),
        "W032",
        "/steps/s/config/parallelism",
    ),
    (
        "W033",
        graph(
            {
                "w": {
                    "stepType": "While",
                    "condition": TRUE,
                    "config": {"maxIterations": 10_001},
                    "subgraph": SPLIT_BODY,
                }
            }
        ),
        "W033",
        "/steps/w/config/maxIterations",
    ),
    ("W034", graph({"s": start(1, timeout=3_600_001)}), "W034", "/steps/s/timeout"),
    ("W040", graph({"c": CONN, "f": fin()}, "c>f"), "W040", "/steps/c"),
    ("W050", graph({"f": fin(x=ref("steps.f.outputs"))}), "W050", "/steps/f/inputMapping/x/value"),
    (
        "W060",
        graph({"a": agent("file", "file-delete-file", path=imm("p"))}),
        "W060",
        "/steps/a/capabilityId",
    ),
]


@pytest.mark.parametrize(
    ("raw", "code", "pointer"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_code_at_pointer(raw: Raw, code: str, pointer: str) -> None:
    diags = run(raw)
    assert (code, pointer) in found(diags), diags
    (diag,) = [d for d in diags if (d.code, d.location.pointer) == (code, pointer)]
    assert diag.severity == ("warning" if code.startswith("W") else "error")
    assert " must " in diag.message or " should " in diag.message
    assert diag.location.line is not None


def test_hints_suggest_names() -> None:
    diags = run(graph({"step_one": fin(x=ref("steps.step_on.outputs"))}, entry="step_oen"))
    hints = {d.code: d.hint for d in diags}
    assert hints["E001"] == 'did you mean "step_one"?'
    assert hints["E010"] == 'did you mean "step_one"?'
    upper = run(graph({"a": agent("HTTP", "http-request", url=imm("u"))}))
    assert [d.hint for d in upper if d.code == "E020"] == ['did you mean "http"?']


def test_entry_problems_skip_order_checks() -> None:
    raw = graph({"a": log(x=ref("steps.b.outputs")), "b": log()}, entry="zzz")
    assert {d.code for d in run(raw)} == {"E001"}


def test_clean_graph_with_all_the_roots() -> None:
    raw = graph(
        {
            "a": NOOP,
            "h": log(e=ref("__error.code"), s=ref("steps.error.message"), v=ref("variables._tenant_id")),
            "f": fin(x=ref("steps['a'].outputs"), d=ref("data.in"), c=ref("steps.h.outputs")),
        },
        "a>f", edge("a", "h", "onError"), "h>f",
        inputSchema={"in": {"type": "string"}},
    )  # fmt: skip
    assert run(raw) == []


def test_nested_graphs_accept_their_variables() -> None:
    split = {
        "stepType": "Split",
        "config": {"value": ref("data.items"), "variables": {"v.a": ref("variables.top")}},
        "subgraph": graph(
            {"f": fin(a=ref("variables._index"), b=ref("variables.v"), c=ref("variables.top"),
                      d=ref("variables.inner"), e=ref("data.anything"), g=ref("item.x"))},
            variables={"inner": {"type": "string", "value": "x"}},
        ),
    }  # fmt: skip
    loop = {
        "stepType": "While",
        "condition": TRUE,
        "subgraph": graph({"f": fin(p=ref("variables._previousOutputs"), q=ref("variables.v"))}),
    }
    wait = {"stepType": "WaitForSignal", "onWait": graph({"f": fin(s=ref("variables._signal_id"))})}
    raw = graph(
        {"s": split, "w": loop, "x": wait, "f": fin()},
        "s>w", "w>x", "x>f",
        variables={"top": {"type": "string", "value": "t"}},
        inputSchema={"items": {"type": "array"}},
    )  # fmt: skip
    assert found(run(raw)) == {("E013", "/steps/w/subgraph/steps/f/inputMapping/q/value"),
                               ("E053", "/steps/w/subgraph/steps/f/inputMapping/q/value")}  # fmt: skip


def test_nested_graph_problems_have_nested_pointers() -> None:
    wait = {"stepType": "WaitForSignal", "onWait": graph({"f": fin(x=ref("steps.nope"))})}
    raw = {"executionGraph": graph({"w": wait, "f": fin()}, "w>f")}
    assert found(run(raw)) == {
        ("E010", "/executionGraph/steps/w/onWait/steps/f/inputMapping/x/value")
    }


def test_strict_turns_e052_and_e054_into_errors() -> None:
    raw = graph({"s": {"stepType": "StartScenario", "childScenarioId": "k", "childVersion": "LATEST",
                       "inputMapping": {"a": ref("data.a")}}, "f": fin()}, "s>f")  # fmt: skip
    child = child_of(graph({"f": fin()}))
    loose = run(raw, children=child)
    strict = run(raw, children=child, strict=True)
    assert {(d.code, d.severity) for d in loose} == {("E052", "warning"), ("E054", "warning")}
    assert {(d.code, d.severity) for d in strict} == {("E052", "error"), ("E054", "error")}
    assert {d.location.pointer for d in strict} == {
        "/steps/s/inputMapping",
        "/steps/s/inputMapping/a/value",
    }


def test_child_required_inputs() -> None:
    raw = graph({"s": {"stepType": "StartScenario", "childScenarioId": "k", "childVersion": 2,
                       "inputMapping": {"q.x": imm(1)}}, "f": fin()}, "s>f")  # fmt: skip
    assert found(run(raw, children=child_of(CHILD_NEEDS))) == {("E055", "/steps/s/inputMapping")}
    assert run(raw) == []  # without the child: nothing here, the caller reports E057
    mapped = {**raw["steps"]["s"], "inputMapping": {"r.deep": imm(1)}}
    assert (
        run({**raw, "steps": {**raw["steps"], "s": mapped}}, children=child_of(CHILD_NEEDS)) == []
    )


def test_diagnostics_are_sorted_by_position() -> None:
    diags = run(graph({"a": log(x=ref("steps.z")), "b": log(y=ref("variables.q"))}, "a>b"))
    positions = [(d.location.line, d.location.column) for d in diags]
    assert positions == sorted(positions) and len(diags) >= 3


def test_build_time_checks() -> None:
    raw = graph(
        {"a": agent("sftp", "sftp-list-files", path=imm("/")), "w": {"stepType": "While", "condition": TRUE,
         "subgraph": graph({"ai": AI})}, "f": fin()},
        "a>w", "w>f",
    )  # fmt: skip
    doc = document(raw)
    assert found(build_time_checks(doc)) == {
        ("E121", "/steps/a/capabilityId"),
        ("E120", "/steps/w/subgraph/steps/ai/stepType"),
    }
    assert not {"E120", "E121"} & {d.code for d in validate_document(doc)}


def test_agent_id_case() -> None:
    # E020 compares exactly; E021 and the run time use the lower-cased module (DSL §12.1).
    diags = run(graph({"a": agent("HTTP", "request")}))
    assert {(d.code, d.hint) for d in diags if d.is_error} == {
        ("E020", 'did you mean "http"?'),
        ("E021", 'did you mean "http-request"?'),
    }


def test_connection_used_from_a_nested_graph_is_not_unused() -> None:
    body = graph({"f": fin(x=ref("steps.c.outputs"))})
    loop = {"stepType": "While", "condition": TRUE, "subgraph": body}
    codes = {d.code for d in run(graph({"c": CONN, "w": loop, "f": fin()}, "c>w", "w>f"))}
    assert "W040" not in codes
    assert "E010" in codes  # the subgraph has its own steps context
