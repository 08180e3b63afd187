"""What a step check sees: its graph, the enclosing graphs, accepted variables and helpers.

Rule files receive a `CheckContext` in their `check(step, ctx)` hook and report through
`ctx.diag(...)` with pointers relative to the step; the context makes them absolute document
locations and picks the severity (DSL §12: W codes warn; E052 and E054 warn unless strict).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runtara_build.dsl.load import Document
from runtara_build.dsl.order import StaticOrder
from runtara_build.dsl.positions import escape_token
from runtara_build.dsl.refs import Reference, mapping_references
from runtara_build.dsl.workflow import Edge, ExecutionGraph, StepBase
from runtara_build.errors import Diagnostic, Severity, quote
from runtara_build.validate.catalogue import Catalogue

#: The child graph a StartScenario step calls, or None when it cannot be resolved.
ChildLookup = Callable[[StepBase], "ExecutionGraph | None"]

#: Errors that are warnings unless --strict (DSL §12.1, §13 item 16).
STRICT_ONLY = frozenset({"E052", "E054"})

#: Members whose large values warn: member -> (code, limit) (DSL §12.2).
LIMITS = {
    "maxRetries": ("W030", 50),
    "retryDelay": ("W031", 3_600_000),
    "parallelism": ("W032", 100),
    "maxIterations": ("W033", 10_000),
    "timeout": ("W034", 3_600_000),
}


def no_children(_step: StepBase) -> ExecutionGraph | None:
    """The default child lookup: no child is known, so E054/E055 are skipped."""
    return None


def is_secret(step: StepBase | None) -> bool:
    """Does this step's envelope hold secret connection data (E040–E042)? A rule fact."""
    return bool(getattr(step, "SECRET_OUTPUTS", False))


@dataclass(frozen=True, slots=True)
class Reporter:
    """Turns (code, message, absolute pointer) into a located Diagnostic."""

    doc: Document
    strict: bool

    def severity(self, code: str) -> Severity:
        if code.startswith("W") or (code in STRICT_ONLY and not self.strict):
            return "warning"
        return "error"

    def diag(self, code: str, message: str, pointer: str, hint: str | None = None) -> Diagnostic:
        return Diagnostic(code, message, self.doc.locate(pointer), hint, self.severity(code))


@dataclass(frozen=True, slots=True)
class Scope:
    """One graph under validation.

    pointer:   absolute JSON pointer of the graph in its document.
    enclosing: the graphs around it, outermost first (empty for a top-level or child graph).
    accepted:  the accepted variable names in this graph (DSL §12.1).
    order:     its static order, or None when E001/E004 make it meaningless.
    named:     step keys named by a mapping reference in this graph or its nested graphs (W040).
    """

    graph: ExecutionGraph
    pointer: str
    enclosing: tuple[ExecutionGraph, ...]
    accepted: frozenset[str]
    order: StaticOrder | None
    named: frozenset[str]

    @property
    def nested(self) -> bool:
        """Split, While and onWait graphs: `data.*` is not checked there (E051/E052)."""
        return bool(self.enclosing)

    def step_pointer(self, key: str) -> str:
        return f"{self.pointer}/steps/{escape_token(key)}"


@dataclass(frozen=True, slots=True)
class CheckContext:
    """The context of one step's checks. Pointers given to `diag` are relative to the step."""

    reporter: Reporter
    scope: Scope
    step_key: str
    catalogue: Catalogue
    children: ChildLookup = no_children

    @property
    def graph(self) -> ExecutionGraph:
        return self.scope.graph

    @property
    def strict(self) -> bool:
        return self.reporter.strict

    def diag(
        self, code: str, message: str, pointer: str = "", hint: str | None = None
    ) -> Diagnostic:
        """A diagnostic at `pointer` relative to this step (for example "/inputMapping")."""
        return self.reporter.diag(
            code, message, self.scope.step_pointer(self.step_key) + pointer, hint
        )

    def edge_diag(
        self, code: str, message: str, index: int, member: str = "", hint: str | None = None
    ) -> Diagnostic:
        """A diagnostic at `executionPlan[index]` of this graph, or at its `member`."""
        at = f"{self.scope.pointer}/executionPlan/{index}{member}"
        return self.reporter.diag(code, message, at, hint)

    def limits(self, pointer: str, values: Mapping[str, int | None]) -> Iterator[Diagnostic]:
        """W030–W034 for the members (name -> value) at step-relative `pointer` (DSL §12.2)."""
        for member, value in values.items():
            code, limit = LIMITS[member]
            if value is not None and value > limit:
                message = f"{member!r} should be at most {limit:,}, but was {value:,}"
                yield self.diag(code, message, f"{pointer}/{member}")

    def out_edges(self) -> Iterator[tuple[int, Edge]]:
        """(index, edge) for every `executionPlan` edge leaving this step."""
        for index, edge in enumerate(self.graph.execution_plan):
            if edge.from_step == self.step_key:
                yield index, edge

    def child(self, step: StepBase) -> ExecutionGraph | None:
        """The child graph a StartScenario calls; None when unresolved (the caller's E057)."""
        return self.children(step)

    def secret_references(self, mapping: Mapping[str, Any], pointer: str) -> Iterator[Reference]:
        """References in `mapping` (at step-relative `pointer`) naming a secret step here."""
        for ref in mapping_references(mapping, pointer):
            if ref.step is not None and is_secret(self.graph.steps.get(ref.step)):
                yield ref

    def secret_leaks(
        self, code: str, where: str, mapping: Mapping[str, Any], pointer: str
    ) -> Iterator[Diagnostic]:
        """E041/E042: `where` (e.g. "a Log 'context'") must not carry connection data."""
        for ref in self.secret_references(mapping, pointer):
            message = (
                f"{where} must not reference connection data, but {quote(ref.path)} names "
                f"the Connection step {quote(ref.step)}"
            )
            yield self.diag(code, message, ref.pointer, "pass it only to an http or sftp Agent")

    def is_named(self, key: str) -> bool:
        """Does a mapping reference in this graph or its nested graphs name step `key`?"""
        return key in self.scope.named
