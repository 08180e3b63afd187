"""Graph-shape checks of one graph (DSL §12): E001–E004, E060, E070, E071, W003–W005."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator

from runtara_build.dsl.order import StaticOrder, reachable
from runtara_build.dsl.positions import escape_token
from runtara_build.dsl.workflow import Edge, ExecutionGraph, StepBase
from runtara_build.errors import Diagnostic, did_you_mean, quote
from runtara_build.validate.context import Reporter


def entry_problems(graph: ExecutionGraph, ptr: str, rep: Reporter) -> list[Diagnostic]:
    """E004 and E001: the problems that make the static order meaningless."""
    if not graph.steps:
        return [
            rep.diag(
                "E004", "a graph must have at least one step, but 'steps' is empty", f"{ptr}/steps"
            )
        ]
    if graph.entry_point in graph.steps:
        return []
    message = (
        f"'entryPoint' must be a step key, but {quote(graph.entry_point)} is not one "
        f"(steps: {', '.join(map(quote, graph.steps))})"
    )
    hint = did_you_mean(graph.entry_point, graph.steps)
    return [rep.diag("E001", message, f"{ptr}/entryPoint", hint)]


def step_ids(graph: ExecutionGraph, ptr: str, rep: Reporter) -> Iterator[Diagnostic]:
    """E003 for an `id` used twice in one graph, W005 for an `id` that differs from its key."""
    first: dict[str, str] = {}
    for key, step in graph.steps.items():
        at = f"{ptr}/steps/{escape_token(key)}/id"
        if step.id != key:
            message = f"a step's 'id' should equal its key {quote(key)}, but was {quote(step.id)}"
            yield rep.diag("W005", message, at, "the runtime identifies steps by their key")
        if step.id in first:
            message = (
                f"step ids must be unique in a graph, but {quote(step.id)} is the id of both "
                f"{quote(first[step.id])} and {quote(key)}"
            )
            yield rep.diag("E003", message, at)
        else:
            first[step.id] = key


def reachability(
    graph: ExecutionGraph, ptr: str, order: StaticOrder, rep: Reporter
) -> Iterator[Diagnostic]:
    """E002 (all edges), W003 (no outgoing edge) and W004 (back edges). Needs a valid entry."""
    seen = reachable(graph)
    sources = {edge.from_step for edge in graph.execution_plan}
    for key, step in graph.steps.items():
        at = f"{ptr}/steps/{escape_token(key)}"
        if key not in seen:
            message = (
                f"every step must be reachable from the entry point {quote(graph.entry_point)}, "
                f"but {quote(key)} is not"
            )
            yield rep.diag("E002", message, at, "add an edge to it, or remove it")
        if key not in sources and not getattr(step, "RETURNS", False):
            message = (
                f"a step that is not a Finish should have an outgoing edge, "
                f"but {quote(key)} has none"
            )
            yield rep.diag("W003", message, at)
    for index in order.back_edges:
        edge = graph.execution_plan[index]
        message = (
            f"control edges must not form a cycle, but {quote(edge.from_step)} -> "
            f"{quote(edge.to_step)} closes one and is ignored"
        )
        yield rep.diag("W004", message, f"{ptr}/executionPlan/{index}", "use a While step to loop")


def edge_groups(graph: ExecutionGraph, ptr: str, rep: Reporter) -> Iterator[Diagnostic]:
    """E070 and E071 over edges grouped by (fromStep, label as written)."""
    groups: dict[tuple[str, str | None], list[tuple[int, Edge]]] = defaultdict(list)
    for index, edge in enumerate(graph.execution_plan):
        step = graph.steps.get(edge.from_step)
        if step is None or edge.to_step not in graph.steps or not _checks_groups(step):
            continue
        groups[edge.from_step, edge.label].append((index, edge))
    for (source, label), members in groups.items():
        yield from _group(source, label, members, f"{ptr}/executionPlan", rep)


def _checks_groups(step: StepBase) -> bool:
    # A rule fact: edges out of a Conditional are exempt (DSL §12.1).
    return bool(getattr(step, "CHECKS_EDGE_GROUPS", True))


def _group(
    source: str, label: str | None, members: list[tuple[int, Edge]], ptr: str, rep: Reporter
) -> Iterator[Diagnostic]:
    shown = "no label" if label is None else f"label {quote(label)}"
    conditional = [(i, e) for i, e in members if e.condition is not None]
    priorities: dict[int, int] = {}
    for index, edge in conditional:
        if edge.priority in priorities:
            message = (
                f"conditional edges from {quote(source)} with {shown} must have distinct "
                f"priorities, but edges {priorities[edge.priority]} and {index} both have "
                f"{edge.priority}"
            )
            yield rep.diag("E070", message, f"{ptr}/{index}/priority")
        else:
            priorities[edge.priority] = index
    plain = [i for i, e in members if e.condition is None]
    if len(plain) > 1 and (label is not None or conditional):
        for index in plain[1:]:
            message = (
                f"edges from {quote(source)} with {shown} must have at most one default "
                f"(condition-less) edge, but edges {plain[0]} and {index} both are"
            )
            yield rep.diag("E071", message, f"{ptr}/{index}")


def duplicate_names(
    graphs: Iterable[tuple[str, ExecutionGraph]], rep: Reporter
) -> Iterator[Diagnostic]:
    """E060 across a graph and its nested graphs, given as (pointer, graph) pairs."""
    first: dict[str, str] = {}
    for ptr, graph in graphs:
        for key, step in graph.steps.items():
            if step.name is None:
                continue
            at = f"{ptr}/steps/{escape_token(key)}/name"
            if step.name in first:
                message = (
                    f"step names must be unique across a graph and its subgraphs, but "
                    f"{quote(step.name)} is also the name of the step at {first[step.name]}"
                )
                yield rep.diag("E060", message, at)
            else:
                first[step.name] = f"#{ptr}/steps/{escape_token(key)}"
