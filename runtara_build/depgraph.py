"""The scenario dependency graph: who calls whom through StartScenario, and which agents each uses.

Nodes are resolved documents (`ScenarioReference`: a package version or a file), so the E056
cycle check works on (package, version) pairs as DSL §11.2 asks, not on bare scenario ids.
Loading a root loads every child transitively, each distinct document once. networkx lives
only here (and in the target graph, STYLE §3). No step type is named: calls and agents are
found by duck typing on the step models (`child_scenario_id`, `agent_id`/`capability_id`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import networkx as nx

from runtara_build.errors import BuildError, Diagnostic
from runtara_build.resolve import (
    Resolution,
    Resolver,
    ScenarioReference,
    Unresolved,
    parse_version,
)

if TYPE_CHECKING:
    from runtara_build.dsl.load import Document
    from runtara_build.dsl.workflow import ExecutionGraph, StepBase


Ref = ScenarioReference


@dataclass(frozen=True, slots=True)
class Call:
    """One StartScenario call: the calling step's key and JSON pointer in the caller."""

    caller: ScenarioReference
    callee: ScenarioReference
    step: str
    pointer: str


def _name(ref: ScenarioReference) -> str:
    return ref.name


def walk_steps(graph: ExecutionGraph, base: str) -> Iterator[tuple[str, str, StepBase]]:
    """(step key, JSON pointer, step) for every step, nested graphs included."""
    from runtara_build.dsl.positions import escape_token

    for key, step in graph.steps.items():
        ptr = f"{base}/steps/{escape_token(key)}"
        yield key, ptr, step
        for member, sub in step.subgraphs():
            yield from walk_steps(sub, ptr + member)


class DependencyGraph:
    """Documents and their StartScenario calls. Build it with `DependencyGraph.load`."""

    def __init__(self) -> None:
        self._graph: nx.DiGraph[ScenarioReference] = nx.DiGraph()
        self.roots: tuple[ScenarioReference, ...] = ()
        self.documents: dict[ScenarioReference, Document] = {}
        #: E000, E056, E057 and the RB problems met while resolving, in discovery order.
        self.diagnostics: list[Diagnostic] = []
        self._resolved: dict[tuple[ScenarioReference, str, Any], Resolution] = {}
        self._agents: dict[ScenarioReference, tuple[str, ...]] = {}

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(cls, roots: Iterable[ScenarioReference], resolver: Resolver) -> DependencyGraph:
        """Load the roots and, transitively, every child they call; then check for cycles."""
        from runtara_build.registry import builtin_rules

        builtin_rules()  # the step union must exist before any document is modelled
        self = cls()
        self.roots = tuple(dict.fromkeys(roots))
        todo = list(reversed(self.roots))
        while todo:
            ref = todo.pop()
            if ref not in self.documents:
                todo.extend(reversed(self._add(ref, resolver)))
        self._check_cycles()
        return self

    def _add(self, ref: ScenarioReference, resolver: Resolver) -> list[ScenarioReference]:
        from runtara_build.dsl.load import Document, load
        from runtara_build.dsl.workflow import ExecutionGraph, ScenarioDocument

        self._graph.add_node(ref)
        try:
            doc = load(resolver.read(ref), ref.path, ExecutionGraph, ScenarioDocument)
        except BuildError as exc:
            doc = Document(file=ref.path, text="", diagnostics=list(exc.diagnostics))
        self.documents[ref] = doc
        self.diagnostics.extend(doc.diagnostics)
        if doc.graph is None:
            return []
        agents: set[str] = set()
        found: list[ScenarioReference] = []
        for key, ptr, step in walk_steps(doc.graph, doc.root):
            agent, capability = (
                getattr(step, "agent_id", None),
                getattr(step, "capability_id", None),
            )
            if isinstance(agent, str) and isinstance(capability, str):
                agents.add(f"{agent}/{capability}")
            child_id = getattr(step, "child_scenario_id", None)
            if isinstance(child_id, str):
                callee = self._call(ref, doc, (key, ptr, child_id, step), resolver)
                found += [callee] if callee is not None else []
        self._agents[ref] = tuple(sorted(agents))
        return found

    def _call(
        self,
        ref: ScenarioReference,
        doc: Document,
        site: tuple[str, str, str, Any],
        resolver: Resolver,
    ) -> ScenarioReference | None:
        key, ptr, child_id, step = site
        version = getattr(step, "child_version", None)
        memo = (ref, child_id, parse_version(version))
        if memo not in self._resolved:
            self._resolved[memo] = resolver.child(ref, child_id, version)
        result = self._resolved[memo]
        if isinstance(result, Unresolved):
            where = doc.locate(f"{ptr}/childScenarioId")
            self.diagnostics.append(Diagnostic("E057", result.message, where, result.hint))
            self.diagnostics.extend(result.problems)
            return None
        if result is None:
            return None
        call = Call(ref, result, key, ptr)
        if self._graph.has_edge(ref, result):
            self._graph.edges[ref, result]["calls"].append(call)
        else:
            self._graph.add_edge(ref, result, calls=[call])
        return result

    def _check_cycles(self) -> None:
        """One E056 per strongly connected set of calls, at the call that starts the cycle."""
        for scc in nx.strongly_connected_components(self._graph):
            start = min(scc, key=_name)
            if len(scc) == 1 and not self._graph.has_edge(start, start):
                continue
            sub = self._graph.subgraph(scc)
            loops = [[start, *nx.shortest_path(sub, nxt, start)] for nxt in sub.successors(start)]
            cycle = min(loops, key=lambda p: (len(p), [_name(r) for r in p]))
            call = self._graph.edges[cycle[0], cycle[1]]["calls"][0]
            where = self.documents[start].locate(f"{call.pointer}/childScenarioId")
            text = " → ".join(_name(r) for r in cycle)
            msg = f"StartScenario calls must not form a cycle, but {text} does"
            hint = "a scenario must never call itself, directly or through its children"
            self.diagnostics.append(Diagnostic("E056", msg, where, hint))

    # ---------------------------------------------------------------- queries

    def child_ref(self, ref: ScenarioReference, step: Any) -> ScenarioReference | None:
        """The document a StartScenario step of `ref` calls (None: unresolved, or E050)."""
        memo = (ref, step.child_scenario_id, parse_version(step.child_version))
        callee = self._resolved.get(memo)
        return callee if isinstance(callee, ScenarioReference) else None

    def child_graph(self, ref: ScenarioReference, step: Any) -> ExecutionGraph | None:
        """The graph a StartScenario step of `ref` calls (None: unresolved, or E000)."""
        callee = self.child_ref(ref, step)
        return None if callee is None else self.documents[callee].graph

    def nodes(self) -> tuple[ScenarioReference, ...]:
        return tuple(sorted(self._graph.nodes, key=_name))

    def children(self, ref: ScenarioReference) -> tuple[ScenarioReference, ...]:
        return tuple(sorted(self._graph.successors(ref), key=_name))

    def calls(self, ref: ScenarioReference) -> tuple[Call, ...]:
        """Every call `ref` makes, by callee then step key."""
        found = [c for child in self.children(ref) for c in self._graph.edges[ref, child]["calls"]]
        return tuple(sorted(found, key=lambda c: (_name(c.callee), c.step)))

    def agents(self, ref: ScenarioReference, *, transitive: bool = False) -> tuple[str, ...]:
        """`agentId/capabilityId` of the Agent steps of `ref` (and of its children)."""
        refs = self.deps(ref) if transitive else (ref,)
        return tuple(sorted({a for r in refs for a in self._agents.get(r, ())}))

    def deps(self, ref: ScenarioReference) -> tuple[ScenarioReference, ...]:
        """`ref` and everything it calls, transitively."""
        return tuple(sorted({ref, *nx.descendants(self._graph, ref)}, key=_name))

    def rdeps(self, ref: ScenarioReference) -> tuple[ScenarioReference, ...]:
        """`ref` and every loaded document that calls it, transitively."""
        return tuple(sorted({ref, *nx.ancestors(self._graph, ref)}, key=_name))

    def somepath(
        self, src: ScenarioReference, dst: ScenarioReference
    ) -> tuple[ScenarioReference, ...]:
        """One shortest call path from `src` to `dst`, or () when there is none."""
        try:
            return tuple(nx.shortest_path(self._graph, src, dst))
        except (nx.NetworkXNoPath, nx.NodeNotFound):
            return ()

    def allpaths(
        self, src: ScenarioReference, dst: ScenarioReference
    ) -> tuple[ScenarioReference, ...]:
        """Every document on some call path from `src` to `dst` (sorted), or ()."""
        if not self.somepath(src, dst):
            return ()
        forward = {src, *nx.descendants(self._graph, src)}
        backward = {dst, *nx.ancestors(self._graph, dst)}
        return tuple(sorted(forward & backward, key=_name))

    # ---------------------------------------------------------------- export

    def to_labels(self, refs: Iterable[ScenarioReference]) -> str:
        """One name per line (a label, `label@version`, or a file path)."""
        return "".join(f"{_name(r)}\n" for r in refs)

    def to_json(self, refs: Iterable[ScenarioReference]) -> dict[str, Any]:
        """`{"nodes": [...], "edges": [...]}` over `refs` (order kept) and the calls among them."""
        chosen = list(dict.fromkeys(refs))
        nodes = [
            {
                "name": r.name,
                "label": r.label.package_label if r.label else None,
                "file": r.path,
                "scenario_id": r.scenario_id,
                "tenant": r.tenant,
                "version": r.version,
                "agents": list(self.agents(r)),
                "children": [c.name for c in self.children(r)],
            }
            for r in chosen
        ]
        return {"nodes": nodes, "edges": [_edge_json(c) for c in self._calls_among(chosen)]}

    def to_dot(self, refs: Iterable[ScenarioReference]) -> str:
        """A Graphviz digraph of `refs` and the calls among them, edges labelled by step key."""
        chosen = list(dict.fromkeys(refs))
        lines = ["digraph runtara {"]
        lines += [f"  {_dot_id(r.name)};" for r in chosen]
        lines += [
            f"  {_dot_id(c.caller.name)} -> {_dot_id(c.callee.name)} [label={_dot_id(c.step)}];"
            for c in self._calls_among(chosen)
        ]
        return "\n".join([*lines, "}"]) + "\n"

    def _calls_among(self, chosen: list[ScenarioReference]) -> list[Call]:
        inside = set(chosen)
        return [c for r in chosen for c in self.calls(r) if c.callee in inside]


def _edge_json(call: Call) -> dict[str, Any]:
    return {
        "from": call.caller.name,
        "to": call.callee.name,
        "step": call.step,
        "pointer": call.pointer,
    }


def _dot_id(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
