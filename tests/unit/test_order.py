"""dsl/order: edge classes, back edges, rank, the static order T and regions (DSL §2.4)."""

from __future__ import annotations

import json
from typing import Any

from runtara_build.dsl.load import load
from runtara_build.dsl.order import classify_edges, reachable, static_order
from runtara_build.dsl.workflow import ExecutionGraph, ScenarioDocument
from runtara_build.registry import builtin_rules


def _graph(steps: dict[str, dict[str, Any]], plan: list[Any], entry: str = "s") -> ExecutionGraph:
    builtin_rules()
    raw = {
        "steps": {k: {"id": k, **v} for k, v in steps.items()},
        "entryPoint": entry,
        "executionPlan": [
            {"fromStep": e[0], "toStep": e[1], **({"label": e[2]} if len(e) > 2 else {})}
            for e in plan
        ],
    }
    doc = load(json.dumps(raw).encode(), "t.json", ExecutionGraph, ScenarioDocument)
    assert doc.graph is not None, doc.diagnostics
    return doc.graph


LOG = {"stepType": "Log", "message": "m"}
FIN = {"stepType": "Finish"}
AGENT = {"stepType": "Agent", "agentId": "utils", "capabilityId": "do-nothing"}
COND = {
    "stepType": "Conditional",
    "condition": {"type": "value", "valueType": "immediate", "value": True},
}


def _switch(*routes: str) -> dict[str, Any]:
    cases = [
        {"matchType": "EQ", "match": r, "output": r, **({"route": r} if r else {})} for r in routes
    ]
    value = {"valueType": "immediate", "value": 1}
    return {"stepType": "Switch", "config": {"value": value, "cases": cases}}


def _kinds(graph: ExecutionGraph) -> list[tuple[int, str, bool]]:
    return [(e.index, e.kind, e.honoured) for e in classify_edges(graph)]


def test_classify_plain_steps() -> None:
    g = _graph(
        {"s": LOG, "a": LOG, "b": AGENT, "c": FIN},
        [("s", "a"), ("s", "a", "next"), ("s", "a", ""), ("s", "b", "tool"), ("a", "b"),
         ("b", "c", "onError"), ("a", "c", "onError"), ("a", "ghost")],
    )  # fmt: skip
    assert _kinds(g) == [
        (0, "normal", True),
        (1, "normal", True),
        (2, "normal", True),
        (3, "ignored", True),
        (4, "normal", True),
        (5, "onError", True),
        (6, "onError", False),  # a Log never fails into handlers
    ]  # the edge to a missing step is dropped


def test_classify_branching_steps() -> None:
    g = _graph(
        {"s": COND, "r": _switch("x", ""), "v": _switch("", ""), "f": FIN},
        [("s", "r", "true"), ("s", "f", "false"), ("s", "f"), ("s", "f", "maybe"),
         ("r", "f", "x"), ("r", "f", "default"), ("r", "v"), ("r", "f", "y"), ("v", "f")],
    )  # fmt: skip
    kinds = [k for _, k, _ in _kinds(g)]
    conditional, routing, value = kinds[:4], kinds[4:8], kinds[8:]
    assert conditional == ["branch", "branch", "ignored", "ignored"]
    assert routing == ["branch", "branch", "ignored", "ignored"]
    assert value == ["normal"]


def test_back_edges_and_self_loops() -> None:
    g = _graph(
        {"s": LOG, "a": LOG, "b": LOG, "f": FIN},
        [("s", "a"), ("a", "b"), ("b", "a"), ("b", "b"), ("b", "f"), ("s", "f")],
    )
    order = static_order(g)
    assert order.back_edges == (2, 3)
    assert order.ranked == ("s", "a", "f", "b")
    assert order.order == ("s", "a", "b", "f")


def test_order_joins_after_all_predecessors() -> None:
    # BFS order would run the join j before c; T puts it after.
    g = _graph(
        {"s": LOG, "a": LOG, "b": LOG, "c": LOG, "j": FIN},
        [("s", "a"), ("s", "b"), ("a", "j"), ("b", "c"), ("c", "j")],
    )
    order = static_order(g)
    assert order.ranked == ("s", "a", "b", "j", "c")
    assert order.order == ("s", "a", "b", "c", "j")
    assert order.rank()["c"] == 4
    assert order.position()["j"] == 4


def test_steps_behind_ignored_edges_are_not_in_t() -> None:
    g = _graph({"s": COND, "a": LOG, "f": FIN}, [("s", "a"), ("a", "f")])
    order = static_order(g)
    assert order.order == ("s",)
    assert reachable(g) == {"s", "a", "f"}


def test_region_follows_forward_control_edges() -> None:
    g = _graph(
        {"s": AGENT, "ok": LOG, "h": LOG, "h2": LOG, "f": FIN},
        [("s", "ok"), ("s", "h", "onError"), ("h", "h2"), ("h2", "f"), ("ok", "f"), ("f", "h")],
    )
    order = static_order(g)
    # DFS goes s -> ok -> f -> h -> h2 first, so h2 -> f is the edge that closes the cycle.
    assert order.back_edges == (3,)
    assert order.region("h") == {"h", "h2"}
    assert order.region("ok") == {"ok", "f", "h", "h2"}
    assert [e.index for e in order.forward_edges] == [0, 1, 2, 4, 5]


def test_missing_entry_point_gives_an_empty_order() -> None:
    g = _graph({"a": FIN}, [], entry="nope")
    order = static_order(g)
    assert (order.order, order.ranked, order.back_edges) == ((), (), ())
    assert reachable(g) == frozenset()


def test_long_chains_do_not_recurse() -> None:
    n = 3000
    steps = {f"n{i}": LOG for i in range(n)}
    g = _graph(steps, [*((f"n{i}", f"n{i + 1}") for i in range(n - 1)), ("n2999", "n0")], "n0")
    order = static_order(g)
    assert len(order.order) == n
    assert order.back_edges == (n - 1,)
