"""The target DAG: `:src`, `:obj` and `:bin` per document, plus the shared targets.

A node is a `Target(name, kind)`; an edge runs from a dependency to its dependent, so
`nx.topological_generations` yields layers that can run in parallel. The graph is built from
plain data (document names and who calls whom), never from models: deciding *how* a target
is built belongs to `actions`. networkx lives only here and in `depgraph` (STYLE §3).

Children are their own targets: a document's `:obj` depends on its own `:src` and the shared
runtime only, never on a child's `:obj`; a `:bin` depends on the `:obj` of its root and of
every document the root reaches. A child called by many parents is one `:src`/`:obj` pair.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import networkx as nx

TargetKind = Literal["src", "obj", "bin", "runtime", "toolchain"]
RUNTIME_NAME = "@runtime"
TOOLCHAIN_NAME = "@toolchain"


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """`name` is a document name (`//acme/orders`, `//acme/orders@2`, a file path) or a
    shared target's name (`@runtime`, `@toolchain`)."""

    name: str
    kind: TargetKind

    @property
    def shared(self) -> bool:
        return self.kind in ("runtime", "toolchain")

    def __str__(self) -> str:
        return self.name if self.shared else f"{self.name}:{self.kind}"


TOOLCHAIN = Target(TOOLCHAIN_NAME, "toolchain")
RUNTIME = Target(RUNTIME_NAME, "runtime")


class TargetGraph:
    """The DAG of one build. Build it with `TargetGraph.build`."""

    def __init__(self, calls: Mapping[str, Sequence[str]]) -> None:
        self._g: nx.DiGraph[Target] = nx.DiGraph()
        self._calls = {k: tuple(v) for k, v in calls.items()}

    @classmethod
    def build(
        cls, calls: Mapping[str, Sequence[str]], requested: Iterable[tuple[str, TargetKind]]
    ) -> TargetGraph:
        """`calls`: every document name -> the names it calls directly; `requested`: the
        (document, kind) pairs asked for. Only what they need is added."""
        self = cls(calls)
        for name, kind in requested:
            if kind == "src":
                self._g.add_node(Target(name, "src"))
            elif kind == "obj":
                self._add_obj(name)
            else:
                self._add_bin(name)
        return self

    def _add_obj(self, name: str) -> Target:
        obj = Target(name, "obj")
        self._g.add_edge(Target(name, "src"), obj)
        self._g.add_edge(RUNTIME, obj)
        self._g.add_edge(TOOLCHAIN, obj)
        self._g.add_edge(TOOLCHAIN, RUNTIME)
        return obj

    def _add_bin(self, name: str) -> None:
        binary = Target(name, "bin")
        for doc in self.closure(name):
            self._g.add_edge(self._add_obj(doc), binary)
        self._g.add_edge(RUNTIME, binary)
        self._g.add_edge(TOOLCHAIN, binary)

    # ---------------------------------------------------------------- structure

    def closure(self, name: str) -> tuple[str, ...]:
        """`name` first, then every document it reaches through calls, sorted."""
        seen: set[str] = set()
        todo = [name]
        while todo:
            doc = todo.pop()
            if doc not in seen:
                seen.add(doc)
                todo.extend(self._calls.get(doc, ()))
        return (name, *sorted(seen - {name}))

    def targets(self) -> tuple[Target, ...]:
        return tuple(sorted(self._g.nodes))

    def layers(self) -> list[list[Target]]:
        """Topological generations, each sorted: a layer's targets are independent."""
        return [sorted(layer) for layer in nx.topological_generations(self._g)]

    def dependencies(self, target: Target) -> tuple[Target, ...]:
        return tuple(sorted(self._g.predecessors(target)))

    def __contains__(self, target: object) -> bool:
        return target in self._g

    # ---------------------------------------------------------------- queries

    def deps(self, target: Target) -> tuple[Target, ...]:
        """`target` and everything it needs, transitively."""
        return tuple(sorted({target, *nx.ancestors(self._g, target)}))

    def rdeps(self, target: Target) -> tuple[Target, ...]:
        """`target` and everything that needs it, transitively."""
        return tuple(sorted({target, *nx.descendants(self._g, target)}))

    def somepath(self, src: Target, dst: Target) -> tuple[Target, ...]:
        """One shortest "needs" path from `src` down to its dependency `dst`; () if none."""
        try:
            return tuple(reversed(nx.shortest_path(self._g, dst, src)))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return ()

    def allpaths(self, src: Target, dst: Target) -> tuple[Target, ...]:
        """Every target on some path between `src` (a dependent) and `dst` (a dependency)."""
        if not self.somepath(src, dst):
            return ()
        return tuple(sorted(set(self.deps(src)) & set(self.rdeps(dst))))
