"""Reference checks of one step (DSL §12): E010–E013, E051–E053, W050.

"Mapping references" come from the step's InputMappings; "wider references" are those plus
the references in the step's other mapping values and conditions (`Refs` of the rule).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from runtara_build.api import Refs
from runtara_build.dsl.refs import (
    ERROR_ROOTS,
    Reference,
    mapping_references,
    mapping_templates,
    template_syntax_error,
    value_references,
)
from runtara_build.errors import Diagnostic, did_you_mean, quote
from runtara_build.validate.context import Reporter, Scope


@dataclass(frozen=True, slots=True)
class StepRefs:
    """The references of one step, with pointers relative to the step."""

    mapping: tuple[Reference, ...]
    wider: tuple[Reference, ...]  # the mapping references first, then the others


def collect(refs: Refs) -> StepRefs:
    mapping = tuple(r for ptr, m in refs.mapping for r in mapping_references(m, ptr))
    others = tuple(r for ptr, v in refs.wider for r in value_references(v, ptr))
    return StepRefs(mapping, mapping + others)


class StepChecker:
    """Runs the reference checks of one step of `scope`."""

    def __init__(self, scope: Scope, key: str, rep: Reporter) -> None:
        self.scope = scope
        self.key = key
        self.rep = rep
        self.base = scope.step_pointer(key)

    def _diag(self, code: str, message: str, ref: Reference, hint: str | None = None) -> Diagnostic:
        return self.rep.diag(code, message, self.base + ref.pointer, hint)

    def run(self, refs: Refs, position: dict[str, int] | None) -> Iterator[Diagnostic]:
        found = collect(refs)
        for ptr, mapping in refs.mapping:
            yield from self.templates(mapping, ptr)
        for ref in found.mapping:
            yield from self.mapping_ref(ref, position)
        for ref in found.wider:
            yield from self.wider_ref(ref)

    def templates(self, mapping: Mapping[str, Any], ptr: str) -> Iterator[Diagnostic]:
        for template in mapping_templates(mapping, ptr):
            problem = template_syntax_error(template.text)
            if problem is not None:
                message = f"a template must be valid minijinja syntax, but has a {problem}"
                yield self.rep.diag("E011", message, self.base + template.pointer)

    def mapping_ref(self, ref: Reference, position: dict[str, int] | None) -> Iterator[Diagnostic]:
        if ref.has_empty_segment:
            message = f"a reference path must not contain '..', but {quote(ref.path)} does"
            yield self._diag("E011", message, ref)
        yield from self.step_ref(ref, position)
        if ref.variable is not None and ref.variable not in self.scope.accepted:
            yield self.unknown_variable("E013", ref)

    def step_ref(self, ref: Reference, position: dict[str, int] | None) -> Iterator[Diagnostic]:
        target = ref.step
        if target is None or target in ERROR_ROOTS:
            return
        steps = self.scope.graph.steps
        if target not in steps:
            message = f"a reference must name a step of this graph, but {quote(target)} is not one"
            yield self._diag("E010", message, ref, did_you_mean(target, steps))
        elif target == self.key:
            message = (
                f"a step should not reference itself, but {quote(ref.path)} names {quote(target)}"
            )
            yield self._diag("W050", message, ref)
        elif position is not None and _not_before(target, self.key, position):
            message = (
                f"a reference must name a step that runs before {quote(self.key)}, but "
                f"{quote(target)} {'never runs' if target not in position else 'does not'}"
            )
            yield self._diag("E012", message, ref)

    def wider_ref(self, ref: Reference) -> Iterator[Diagnostic]:
        if ref.variable is not None and ref.variable not in self.scope.accepted:
            yield self.unknown_variable("E053", ref)
        field = ref.data_field
        if field is None or self.scope.nested:
            return
        schema = self.scope.graph.input_schema
        if schema and field not in schema:
            message = (
                f"'data.{field}' must name an 'inputSchema' field, but the schema has only "
                f"{', '.join(map(quote, schema))}"
            )
            yield self._diag("E051", message, ref, did_you_mean(field, schema))
        elif not schema:
            message = (
                f"a graph read through 'data.{field}' should declare an 'inputSchema', but has none"
            )
            yield self._diag("E052", message, ref, f"add {quote(field)} to 'inputSchema'")

    def unknown_variable(self, code: str, ref: Reference) -> Diagnostic:
        name = ref.variable or ""
        message = (
            f"'variables.{name}' must name a declared or built-in variable, "
            f"but {quote(name)} is not one"
        )
        hint = did_you_mean(name, self.scope.accepted) or "declare it under 'variables'"
        return self._diag(code, message, ref, hint)


def _not_before(target: str, key: str, position: dict[str, int]) -> bool:
    """E012: `target` is not in T, or does not come before `key` in T."""
    if target not in position:
        return True
    return key in position and position[target] >= position[key]
