"""Control edges and the static order T of one graph (DSL §2.4).

Pure functions over one `ExecutionGraph`, shared by validation (E002, E012, W003, W004) and
the code generator (T, edge kinds, handler regions). Nothing here names a concrete step type:
the step facts come from the step's class, `HONOURS_ON_ERROR`, and its `routes` attribute
(the labels of a branching step; empty or absent for every other step).
"""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from runtara_build.dsl.workflow import ExecutionGraph, StepBase

EdgeKind = Literal["normal", "branch", "onError", "ignored"]

ON_ERROR = "onError"


def step_routes(step: StepBase) -> tuple[str, ...]:
    """The branch labels of a branching step (Conditional, routing Switch), else ().

    Read duck-typed: a rule model that branches exposes `routes` (DSL §2.4, §5.3, §5.4).
    """
    routes = getattr(step, "routes", ())
    return tuple(routes) if routes else ()


def edge_kind(step: StepBase, label: str) -> EdgeKind:
    """Classify an edge leaving `step` with plain label `label` ("" for absent/"next")."""
    if label == ON_ERROR:
        return "onError"
    routes = step_routes(step)
    if routes:
        # Unlabelled and unknown edges out of a branching step are never followed.
        return "branch" if label in routes else "ignored"
    return "normal" if label == "" else "ignored"


@dataclass(frozen=True, slots=True)
class ClassifiedEdge:
    """One `executionPlan` edge whose endpoints are both step keys.

    index:    its position in `executionPlan` (the order edges are expanded and fired in).
    label:    the plain label: absent and "next" read as "".
    kind:     its class (DSL §2.4).
    honoured: for an onError edge, whether its source step fails into handlers at all;
              an onError edge out of any other step is ordered but never fires.
    """

    index: int
    from_step: str
    to_step: str
    label: str
    kind: EdgeKind
    honoured: bool = True

    @property
    def is_control(self) -> bool:
        """Normal, branch and onError edges are control edges; ignored edges are not."""
        return self.kind != "ignored"


def classify_edges(graph: ExecutionGraph) -> tuple[ClassifiedEdge, ...]:
    """Every edge between existing steps, classified, in `executionPlan` order.

    Edges naming a missing step are dropped: they are ignored without error (DSL §1.6).
    """
    found: list[ClassifiedEdge] = []
    for index, edge in enumerate(graph.execution_plan):
        source = graph.steps.get(edge.from_step)
        if source is None or edge.to_step not in graph.steps:
            continue
        label = edge.plain_label
        kind = edge_kind(source, label)
        honoured = kind != "onError" or source.HONOURS_ON_ERROR
        found.append(ClassifiedEdge(index, edge.from_step, edge.to_step, label, kind, honoured))
    return tuple(found)


def _adjacency(edges: Iterable[ClassifiedEdge]) -> dict[str, list[ClassifiedEdge]]:
    out: dict[str, list[ClassifiedEdge]] = {}
    for edge in edges:  # already in executionPlan order
        out.setdefault(edge.from_step, []).append(edge)
    return out


def find_back_edges(entry: str, edges: Iterable[ClassifiedEdge]) -> frozenset[int]:
    """Indices of the control edges that close a cycle, by DFS from `entry` (W004).

    Edges are expanded in `executionPlan` order; an edge whose target is on the current DFS
    path (or is its own source) is a back edge. Iterative, so long chains cannot overflow.
    """
    out = _adjacency(e for e in edges if e.is_control)
    back: set[int] = set()
    visited = {entry}
    on_path = {entry}
    stack: list[tuple[str, int]] = [(entry, 0)]
    while stack:
        node, at = stack[-1]
        successors = out.get(node, [])
        if at == len(successors):
            stack.pop()
            on_path.discard(node)
            continue
        stack[-1] = (node, at + 1)
        edge = successors[at]
        if edge.to_step in on_path:
            back.add(edge.index)
        elif edge.to_step not in visited:
            visited.add(edge.to_step)
            on_path.add(edge.to_step)
            stack.append((edge.to_step, 0))
    return frozenset(back)


def _bfs(start: str, out: Mapping[str, list[ClassifiedEdge]]) -> tuple[str, ...]:
    seen = {start}
    order = [start]
    queue = deque([start])
    while queue:
        for edge in out.get(queue.popleft(), []):
            if edge.to_step not in seen:
                seen.add(edge.to_step)
                order.append(edge.to_step)
                queue.append(edge.to_step)
    return tuple(order)


def _kahn(ranked: tuple[str, ...], out: Mapping[str, list[ClassifiedEdge]]) -> tuple[str, ...]:
    """Kahn's algorithm over the reachable steps; ties go to the smallest rank."""
    rank = {key: i for i, key in enumerate(ranked)}
    indegree = dict.fromkeys(ranked, 0)
    for key in ranked:
        for edge in out.get(key, []):
            indegree[edge.to_step] += 1
    ready = [rank[k] for k in ranked if indegree[k] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        key = ranked[heapq.heappop(ready)]
        order.append(key)
        for edge in out.get(key, []):
            indegree[edge.to_step] -= 1
            if indegree[edge.to_step] == 0:
                heapq.heappush(ready, rank[edge.to_step])
    return tuple(order)


@dataclass(frozen=True, slots=True)
class StaticOrder:
    """The static order of one graph (DSL §2.4).

    edges:      every classified edge between existing steps (ignored ones included).
    back_edges: `executionPlan` indices of the back edges (sorted); they are ignored.
    ranked:     the steps reachable over forward control edges, in BFS discovery order;
                a step's rank is its position here (the entry point has rank 0).
    order:      T, a topological order of `ranked` with rank tie-breaks. Steps not in T
                never run.
    """

    entry: str
    edges: tuple[ClassifiedEdge, ...]
    back_edges: tuple[int, ...]
    ranked: tuple[str, ...]
    order: tuple[str, ...]

    @property
    def forward_edges(self) -> tuple[ClassifiedEdge, ...]:
        """The control edges that are not back edges, in `executionPlan` order."""
        back = set(self.back_edges)
        return tuple(e for e in self.edges if e.is_control and e.index not in back)

    def position(self) -> dict[str, int]:
        """Step key -> its index in T."""
        return {key: i for i, key in enumerate(self.order)}

    def rank(self) -> dict[str, int]:
        """Step key -> its BFS rank."""
        return {key: i for i, key in enumerate(self.ranked)}

    def region(self, target: str) -> frozenset[str]:
        """Steps reachable from `target` over forward control edges, `target` included.

        After an onError edge to `target` is selected, only these steps may still run (§2.5).
        """
        return frozenset(_bfs(target, _adjacency(self.forward_edges)))


def static_order(graph: ExecutionGraph) -> StaticOrder:
    """Back edges, ranks and T for `graph`; all empty when `entryPoint` is not a step key."""
    edges = classify_edges(graph)
    entry = graph.entry_point
    if entry not in graph.steps:
        return StaticOrder(entry, edges, (), (), ())
    back = find_back_edges(entry, edges)
    out = _adjacency(e for e in edges if e.is_control and e.index not in back)
    ranked = _bfs(entry, out)
    return StaticOrder(entry, edges, tuple(sorted(back)), ranked, _kahn(ranked, out))


def reachable(graph: ExecutionGraph) -> frozenset[str]:
    """Steps reachable from `entryPoint` over every edge, whatever its label (E002)."""
    if graph.entry_point not in graph.steps:
        return frozenset()
    out: dict[str, list[ClassifiedEdge]] = {}
    for index, edge in enumerate(graph.execution_plan):
        if edge.from_step in graph.steps and edge.to_step in graph.steps:
            plain = ClassifiedEdge(index, edge.from_step, edge.to_step, "", "normal")
            out.setdefault(edge.from_step, []).append(plain)
    return frozenset(_bfs(graph.entry_point, out))
