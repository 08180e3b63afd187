"""The scenario dependency graph: transitive loading, E056 cycles, E057, queries, exports."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from runtara_build.depgraph import DependencyGraph
from runtara_build.label import Label
from runtara_build.resolve import Resolver, ScenarioReference
from runtara_build.workspace import Workspace


def workflow(*calls: tuple[str, Any], agents: tuple[str, ...] = (), wrapped: bool = False) -> str:
    """A chain: one StartScenario per call, one Agent per agent (inside a Split), a Finish."""
    steps: dict[str, Any] = {}
    keys: list[str] = []
    for i, (child, version) in enumerate(calls):
        key = f"call_{child}_{i}"
        steps[key] = {
            "stepType": "StartScenario",
            "id": key,
            "childScenarioId": child,
            "childVersion": version,
        }
        keys.append(key)
    if agents:
        inner = {
            f"a{i}": {"stepType": "Agent", "id": f"a{i}", "agentId": a.split("/")[0],
                      "capabilityId": a.split("/")[1]}
            for i, a in enumerate(agents)
        }  # fmt: skip
        steps["each"] = {
            "stepType": "Split",
            "id": "each",
            "subgraph": {"steps": inner, "entryPoint": "a0"},
        }
        keys.append("each")
    steps["done"] = {"stepType": "Finish", "id": "done"}
    keys.append("done")
    plan = [{"fromStep": a, "toStep": b} for a, b in pairwise(keys)]
    graph = {"steps": steps, "entryPoint": keys[0], "executionPlan": plan}
    return json.dumps({"executionGraph": graph} if wrapped else graph, indent=2)


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def load_files(
    root: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]
) -> tuple[DependencyGraph, dict[str, ScenarioReference]]:
    monkeypatch.chdir(write(root, files))
    resolver = Resolver(children_dir="children")
    graph = DependencyGraph.load([resolver.root_file("main.json")], resolver)
    return graph, {r.scenario_id: r for r in graph.nodes()}


def codes(graph: DependencyGraph) -> list[str]:
    return [d.code for d in graph.diagnostics]


def test_loads_every_child_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph, refs = load_files(
        tmp_path,
        monkeypatch,
        {
            "main.json": workflow(("a", "latest"), ("b", 1), ("a", "CURRENT")),
            "children/a.json": workflow(("leaf", 1), wrapped=True),
            "children/b.json": workflow(("leaf", "latest"), ("a", 2)),
            "children/leaf.json": workflow(agents=("utils/return-input",)),
        },
    )
    assert codes(graph) == []
    assert sorted(refs) == ["a", "b", "leaf", "main"]
    assert len(graph.documents) == 4
    main = refs["main"]
    assert graph.roots == (main,)
    assert graph.children(main) == (refs["a"], refs["b"])
    assert [(c.step, c.callee.scenario_id) for c in graph.calls(main)] == [
        ("call_a_0", "a"),
        ("call_a_2", "a"),
        ("call_b_1", "b"),
    ]
    assert graph.deps(refs["b"]) == (refs["a"], refs["b"], refs["leaf"])
    assert graph.rdeps(refs["leaf"]) == tuple(refs[k] for k in ("a", "b", "leaf", "main"))
    assert graph.somepath(main, refs["leaf"]) == (main, refs["a"], refs["leaf"])
    assert graph.somepath(refs["leaf"], main) == ()
    assert graph.allpaths(main, refs["a"]) == (refs["a"], refs["b"], main)
    assert graph.allpaths(refs["a"], refs["b"]) == ()
    assert graph.agents(refs["leaf"]) == ("utils/return-input",)
    assert graph.agents(main) == ()
    assert graph.agents(main, transitive=True) == ("utils/return-input",)


def test_child_graph_for_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph, refs = load_files(
        tmp_path,
        monkeypatch,
        {"main.json": workflow(("a", "latest"), ("zz", 1)), "children/a.json": workflow()},
    )
    steps = graph.documents[refs["main"]].graph.steps  # type: ignore[union-attr]
    assert graph.child_graph(refs["main"], steps["call_a_0"]) is graph.documents[refs["a"]].graph
    assert graph.child_graph(refs["main"], steps["call_zz_1"]) is None


def test_unresolved_child_is_e057_at_the_child_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, _ = load_files(
        tmp_path,
        monkeypatch,
        {"main.json": workflow(("lef", "latest"), ("lef", 1)), "children/leaf.json": workflow()},
    )
    first, second = graph.diagnostics
    assert (first.code, first.hint) == ("E057", 'did you mean "leaf"?')
    assert first.location.file == "main.json"
    assert first.location.pointer == "/steps/call_lef_0/childScenarioId"
    assert (first.location.line, first.location.column) == (6, 26)
    assert second.location.pointer == "/steps/call_lef_1/childScenarioId"


def test_cycle_is_e056_and_prints_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph, _ = load_files(
        tmp_path,
        monkeypatch,
        {
            "main.json": workflow(("a", "latest")),
            "children/a.json": workflow(("b", "latest")),
            "children/b.json": workflow(("a", 1)),
        },
    )
    (diag,) = graph.diagnostics
    assert diag.code == "E056"
    assert "children/a.json → children/b.json → children/a.json" in diag.message
    assert diag.location.file == "children/a.json"
    assert diag.location.pointer == "/steps/call_b_0/childScenarioId"


def test_self_call_is_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(write(tmp_path, {"main.json": workflow(("main", 1))}))
    resolver = Resolver(child_files={"main": "main.json"})
    graph = DependencyGraph.load([resolver.root_file("main.json")], resolver)
    (diag,) = graph.diagnostics
    assert diag.code == "E056"
    assert "main.json → main.json" in diag.message


def test_e000_child_is_reported_and_not_followed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph, refs = load_files(
        tmp_path,
        monkeypatch,
        {"main.json": workflow(("bad", "latest")), "children/bad.json": '{"steps": 3}'},
    )
    assert set(codes(graph)) == {"E000"}
    assert all(d.location.file == "children/bad.json" for d in graph.diagnostics)
    assert graph.documents[refs["bad"]].graph is None


# --------------------------------------------------------------------------- workspace nodes


def test_cycles_are_over_package_versions(tmp_path: Path) -> None:
    """//acme/x at latest calling //acme/x at version 1 is a cycle only if 1 calls back."""
    write(
        tmp_path,
        {
            "WORKSPACE": "",
            "acme/x/scenario.json": workflow(("x", 1)),
            "acme/x/versions/1.json": workflow(),
            "acme/y/scenario.json": workflow(("y", 1)),
            "acme/y/versions/1.json": workflow(("y", "latest")),
        },
    )
    resolver = Resolver(Workspace(tmp_path))
    x = resolver.root_label(Label("acme", "x"))
    y = resolver.root_label(Label("acme", "y"))
    assert DependencyGraph.load([x], resolver).diagnostics == []
    (diag,) = DependencyGraph.load([y], resolver).diagnostics
    assert diag.code == "E056"
    assert "//acme/y → //acme/y@1 → //acme/y" in diag.message
    assert diag.location.file == "acme/y/scenario.json"


# --------------------------------------------------------------------------- exports


def test_exports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph, refs = load_files(
        tmp_path,
        monkeypatch,
        {
            "main.json": workflow(("a", "latest"), agents=("utils/do-nothing",)),
            "children/a.json": workflow(),
        },
    )
    order = graph.deps(refs["main"])
    assert graph.to_labels(order) == "children/a.json\nmain.json\n"
    data = graph.to_json(order)
    assert data["edges"] == [
        {
            "from": "main.json",
            "to": "children/a.json",
            "step": "call_a_0",
            "pointer": "/steps/call_a_0",
        }
    ]
    assert data["nodes"][1] == {
        "name": "main.json",
        "label": None,
        "file": "main.json",
        "scenario_id": "main",
        "tenant": None,
        "version": None,
        "agents": ["utils/do-nothing"],
        "children": ["children/a.json"],
    }
    assert graph.to_dot(order) == (
        "digraph runtara {\n"
        '  "children/a.json";\n'
        '  "main.json";\n'
        '  "main.json" -> "children/a.json" [label="call_a_0"];\n'
        "}\n"
    )
    # Edges leaving the chosen nodes are not exported.
    assert graph.to_json([refs["main"]])["edges"] == []
