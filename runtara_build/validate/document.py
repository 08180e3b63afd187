"""Validation of one loaded document (DSL §12), and the build-time checks E120/E121.

Walks the top-level graph and, recursively, every nested graph (Split and While `subgraph`,
WaitForSignal `onWait`). Children are separate documents: the caller validates each once and
reports E056/E057; here a child is only looked up for E054/E055.
"""

from __future__ import annotations

from collections.abc import Iterator

from runtara_build.dsl.load import Document
from runtara_build.dsl.order import static_order
from runtara_build.dsl.positions import escape_token
from runtara_build.dsl.refs import mapping_references
from runtara_build.dsl.workflow import ExecutionGraph, StepBase
from runtara_build.errors import Diagnostic, quote, sort_key
from runtara_build.registry import builtin_rules, rule_for
from runtara_build.validate import structure
from runtara_build.validate.catalogue import Catalogue, builtin_catalogue
from runtara_build.validate.context import (
    CheckContext,
    ChildLookup,
    Reporter,
    Scope,
    is_secret,
    no_children,
)
from runtara_build.validate.references import StepChecker

#: Variables every function has (DSL §7, §12.1).
BUILTIN_VARIABLES = frozenset({"_scenario_id", "_instance_id", "_tenant_id"})


def validate_document(
    doc: Document, *, strict: bool = False, children: ChildLookup = no_children
) -> list[Diagnostic]:
    """Every E/W diagnostic of DSL §12 for `doc`, sorted by position.

    `children(step)` returns the graph a StartScenario step calls, or None when it cannot be
    resolved (then E054/E055 are skipped: the caller reports E057). A document that did not
    parse (`doc.graph is None`) yields nothing here; its E000s are in `doc.diagnostics`.
    With `strict`, E052 and E054 are errors instead of warnings.
    """
    if doc.graph is None:
        return []
    builtin_rules()  # the step models must be built before rules are looked up
    walker = _Walker(Reporter(doc, strict), builtin_catalogue(), children)
    accepted = BUILTIN_VARIABLES | frozenset(doc.graph.variables)
    found = list(walker.graph(doc.graph, doc.root, (), accepted))
    found.extend(structure.duplicate_names(nested_graphs(doc.graph, doc.root), walker.rep))
    return sorted(found, key=sort_key)


def nested_graphs(graph: ExecutionGraph, ptr: str) -> Iterator[tuple[str, ExecutionGraph]]:
    """(pointer, graph) for `graph` and every graph nested in it, depth first."""
    yield ptr, graph
    for key, step in graph.steps.items():
        for member, sub in step.subgraphs():
            yield from nested_graphs(sub, f"{ptr}/steps/{escape_token(key)}{member}")


def injected_variables(step: StepBase) -> frozenset[str]:
    """Variables a step adds in the graphs it nests (a rule fact, DSL §12.1)."""
    hook = getattr(step, "injected_variables", None)
    return frozenset(hook()) if callable(hook) else frozenset()


def _named_by_mappings(graph: ExecutionGraph) -> frozenset[str]:
    """Step keys named by a mapping reference in `graph` or its nested graphs (W040)."""
    names: set[str] = set()
    for _ptr, each in nested_graphs(graph, ""):
        for step in each.steps.values():
            for ptr, mapping in rule_for(step).refs(step).mapping:
                names.update(r.step for r in mapping_references(mapping, ptr) if r.step)
    return frozenset(names)


class _Walker:
    def __init__(self, rep: Reporter, catalogue: Catalogue, children: ChildLookup) -> None:
        self.rep = rep
        self.catalogue = catalogue
        self.children = children

    def graph(
        self,
        graph: ExecutionGraph,
        ptr: str,
        enclosing: tuple[ExecutionGraph, ...],
        accepted: frozenset[str],
    ) -> Iterator[Diagnostic]:
        problems = structure.entry_problems(graph, ptr, self.rep)
        yield from problems
        yield from structure.step_ids(graph, ptr, self.rep)
        yield from structure.edge_groups(graph, ptr, self.rep)
        order = None if problems else static_order(graph)
        if order is not None:
            yield from structure.reachability(graph, ptr, order, self.rep)
        secret = any(is_secret(step) for step in graph.steps.values())
        named = _named_by_mappings(graph) if secret else frozenset()
        scope = Scope(graph, ptr, enclosing, accepted, order, named)
        position = order.position() if order is not None else None
        for key, step in graph.steps.items():
            yield from self.step(scope, key, step, position)

    def step(
        self, scope: Scope, key: str, step: StepBase, position: dict[str, int] | None
    ) -> Iterator[Diagnostic]:
        rule = rule_for(step)
        yield from StepChecker(scope, key, self.rep).run(rule.refs(step), position)
        yield from rule.check(
            step, CheckContext(self.rep, scope, key, self.catalogue, self.children)
        )
        inner = (*scope.enclosing, scope.graph)
        for member, sub in step.subgraphs():
            accepted = scope.accepted | frozenset(sub.variables) | injected_variables(step)
            yield from self.graph(sub, scope.step_pointer(key) + member, inner, accepted)


def build_time_checks(doc: Document) -> list[Diagnostic]:
    """E120 (a step type that does not compile yet) and E121 (an unavailable capability).

    Run by `build`, not by plain validation (DSL §5.15, §12.1); covers nested graphs too.
    """
    if doc.graph is None:
        return []
    builtin_rules()
    rep = Reporter(doc, strict=True)
    found: list[Diagnostic] = []
    for ptr, graph in nested_graphs(doc.graph, doc.root):
        for key, step in graph.steps.items():
            found.extend(_build_time(step, f"{ptr}/steps/{escape_token(key)}", rep))
    return sorted(found, key=sort_key)


def _build_time(step: StepBase, ptr: str, rep: Reporter) -> Iterator[Diagnostic]:
    if not getattr(step, "COMPILED", True):
        message = f"{step.STEP_TYPE} steps are not supported yet, but the build met one"
        yield rep.diag("E120", message, f"{ptr}/stepType")
    called = getattr(step, "capability", None)
    if not called:
        return
    module_id, capability_id = called
    module = builtin_catalogue().module(module_id)
    found = module.capability(capability_id) if module else None
    if found is not None and not found.available:
        message = (
            f"a capability must be available in the runtime library, but "
            f"{quote(module_id + '/' + capability_id)} is not yet"
        )
        yield rep.diag("E121", message, f"{ptr}/capabilityId")
