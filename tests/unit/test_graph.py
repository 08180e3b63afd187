"""The target DAG: which targets a request adds, their layers, and the queries."""

from __future__ import annotations

from runtara_build.graph import RUNTIME, TOOLCHAIN, Target, TargetGraph

CALLS = {"//a/p1": ["//a/kid"], "//a/p2": ["//a/kid"], "//a/kid": ["//a/leaf"], "//a/leaf": []}


def t(name: str, kind: str) -> Target:
    return Target(name, kind)  # type: ignore[arg-type]


def test_src_only_needs_nothing_else() -> None:
    graph = TargetGraph.build(CALLS, [("//a/p1", "src")])
    assert graph.targets() == (t("//a/p1", "src"),)


def test_bin_links_every_reached_crate_and_no_obj_depends_on_a_child() -> None:
    graph = TargetGraph.build(CALLS, [("//a/p1", "bin"), ("//a/p2", "bin")])
    deps = graph.dependencies(t("//a/p1", "bin"))
    objs = {d.name for d in deps if d.kind == "obj"}
    assert objs == {"//a/p1", "//a/kid", "//a/leaf"}
    assert set(graph.dependencies(t("//a/p1", "obj"))) == {RUNTIME, t("//a/p1", "src"), TOOLCHAIN}
    # the shared child is one :src/:obj pair for both parents
    assert sum(1 for x in graph.targets() if x == t("//a/kid", "obj")) == 1


def test_layers_put_dependencies_first() -> None:
    graph = TargetGraph.build(CALLS, [("//a/p1", "bin")])
    order = [x for layer in graph.layers() for x in layer]
    assert order.index(TOOLCHAIN) < order.index(RUNTIME) < order.index(t("//a/kid", "obj"))
    assert order[-1] == t("//a/p1", "bin")


def test_queries() -> None:
    graph = TargetGraph.build(CALLS, [("//a/p1", "bin"), ("//a/p2", "bin")])
    rdeps = graph.rdeps(t("//a/leaf", "src"))
    assert {str(x) for x in rdeps} == {"//a/leaf:src", "//a/leaf:obj", "//a/p1:bin", "//a/p2:bin"}
    path = graph.somepath(t("//a/p1", "bin"), t("//a/leaf", "src"))
    assert [str(x) for x in path] == ["//a/p1:bin", "//a/leaf:obj", "//a/leaf:src"]
    assert graph.somepath(t("//a/leaf", "src"), t("//a/p1", "bin")) == ()
    assert t("//a/kid", "src") in graph.allpaths(t("//a/p1", "bin"), t("//a/kid", "src"))
    assert graph.closure("//a/p1") == ("//a/p1", "//a/kid", "//a/leaf")
