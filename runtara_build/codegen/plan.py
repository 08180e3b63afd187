"""GraphPlan: the tables the runtime's graph driver needs, from the static order (DSL §2.4)."""

from __future__ import annotations

from dataclasses import dataclass

from runtara_build.dsl.order import StaticOrder, static_order
from runtara_build.dsl.workflow import Edge, ExecutionGraph


@dataclass(frozen=True)
class GraphPlan:
    """Step keys in document order, T as indices, and the forward edges per step.

    `on_error` is in selection order (DSL §2.5): conditional edges by descending priority
    (ties: plan order), then the unconditional ones in plan order. Back edges and edges
    the step does not honour are left out: the runtime never sees them.
    """

    keys: tuple[str, ...]
    index: dict[str, int]
    order: tuple[int, ...]
    normal: dict[str, tuple[str, ...]]
    branches: dict[str, tuple[tuple[str, str], ...]]
    on_error: dict[str, tuple[Edge, ...]]
    static: StaticOrder

    def region(self, target: str) -> frozenset[str]:
        return self.static.region(target)


def plan_graph(graph: ExecutionGraph) -> GraphPlan:
    static = static_order(graph)
    # Indices follow the sorted step keys: member order in `steps` means nothing (DSL §2.4).
    keys = tuple(sorted(graph.steps))
    index = {k: i for i, k in enumerate(keys)}
    normal: dict[str, list[str]] = {}
    branches: dict[str, list[tuple[str, str]]] = {}
    handlers: dict[str, list[tuple[int, Edge]]] = {}
    for edge in static.forward_edges:
        if edge.kind == "normal":
            normal.setdefault(edge.from_step, []).append(edge.to_step)
        elif edge.kind == "branch":
            branches.setdefault(edge.from_step, []).append((edge.label, edge.to_step))
        elif edge.kind == "onError" and edge.honoured:
            model = graph.execution_plan[edge.index]
            handlers.setdefault(edge.from_step, []).append((edge.index, model))
    return GraphPlan(
        keys=keys,
        index=index,
        order=tuple(index[k] for k in static.order),
        normal={k: tuple(v) for k, v in normal.items()},
        branches={k: tuple(v) for k, v in branches.items()},
        on_error={k: _selection_order(v) for k, v in handlers.items()},
        static=static,
    )


def _selection_order(edges: list[tuple[int, Edge]]) -> tuple[Edge, ...]:
    conditional = sorted(
        (e for e in edges if e[1].condition is not None), key=lambda e: (-e[1].priority, e[0])
    )
    plain = [e for e in edges if e[1].condition is None]
    return tuple(e for _, e in (*conditional, *plain))
