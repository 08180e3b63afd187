"""Reference paths (DSL §3.3) and the references and templates inside mapping values.

Used by validation (E010–E013, E040–E042, E051–E053, W040, W050) and by the code generator
for data dependencies. References are found inside composites and condition arguments;
template text is never searched for references (DSL §12), only syntax-checked (E011).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import minijinja

from runtara_build.dsl.base import (
    CompositeValue,
    OperationCondition,
    ReferenceCondition,
    ReferenceValue,
    TemplateValue,
)
from runtara_build.dsl.positions import escape_token

#: Roots that name the error being handled; a step with such a key is shadowed (DSL §2.2).
ERROR_ROOTS = frozenset({"__error", "error"})

_QUOTED_OPEN = re.compile(r"\[['\"]")
_QUOTED_CLOSE = re.compile(r"['\"]\]")
_INDEX = re.compile(r"\[([0-9]*)\]")


def parse_path(path: str) -> tuple[str, ...]:
    """The segments of a reference path, exactly as DSL §3.3 converts it.

    `steps['a-b'].outputs[0]` -> ("steps", "a-b", "outputs", "0"). No escaping exists, so
    `data['a.b']` is ("data", "a", "b") and any other `[X]` stays inside its segment.
    """
    text = _QUOTED_CLOSE.sub("", _QUOTED_OPEN.sub(".", path))
    return tuple(_INDEX.sub(r".\1", text).split("."))


@dataclass(frozen=True, slots=True)
class Reference:
    """One reference: its path as written and the pointer of that path string.

    pointer: JSON pointer of the reference's `value` member, relative to wherever the walk
             started (for example the step).
    """

    path: str
    pointer: str
    segments: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "segments", parse_path(self.path))

    @property
    def root(self) -> str:
        return self.segments[0]

    def _second(self, root: str) -> str | None:
        return self.segments[1] if len(self.segments) > 1 and self.root == root else None

    @property
    def step(self) -> str | None:
        """The step key X when the path starts with `steps`, X ("names step X", DSL §12)."""
        return self._second("steps")

    @property
    def variable(self) -> str | None:
        """The name in `variables.<name>…`."""
        return self._second("variables")

    @property
    def data_field(self) -> str | None:
        """The field in `data.<f>…`."""
        return self._second("data")

    @property
    def has_empty_segment(self) -> bool:
        """The path contains `..`, which the validator rejects in mappings (E011)."""
        return ".." in self.path


def _child(pointer: str, token: str | int) -> str:
    return f"{pointer}/{escape_token(str(token))}"


def _walk(value: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """(pointer, node) for every reference and template leaf under a value or condition."""
    if isinstance(value, ReferenceValue | ReferenceCondition | TemplateValue):
        yield pointer, value
    elif isinstance(value, CompositeValue):
        members = value.value.items() if isinstance(value.value, dict) else enumerate(value.value)
        base = _child(pointer, "value")
        for token, member in members:
            yield from _walk(member, _child(base, token))
    elif isinstance(value, OperationCondition):
        base = _child(pointer, "arguments")
        for index, argument in enumerate(value.arguments):
            yield from _walk(argument, _child(base, index))


def value_references(value: Any, pointer: str = "") -> Iterator[Reference]:
    """The references in a MappingValue or Condition at `pointer`, in document order."""
    for at, node in _walk(value, pointer):
        if not isinstance(node, TemplateValue):
            yield Reference(node.value, _child(at, "value"))


def mapping_references(mapping: Mapping[str, Any], pointer: str = "") -> Iterator[Reference]:
    """The references in an InputMapping at `pointer`, in document order."""
    for key, value in mapping.items():
        yield from value_references(value, _child(pointer, key))


@dataclass(frozen=True, slots=True)
class Template:
    """One template value: its text and the pointer of that text."""

    text: str
    pointer: str


def mapping_templates(mapping: Mapping[str, Any], pointer: str = "") -> Iterator[Template]:
    """The templates in an InputMapping at `pointer`, composites included, in document order."""
    for key, value in mapping.items():
        for at, node in _walk(value, _child(pointer, key)):
            if isinstance(node, TemplateValue):
                yield Template(node.value, _child(at, "value"))


_ENV = minijinja.Environment()
_LOCATION = re.compile(r"\s*\(in [^)]*\)\s*$")


@lru_cache(maxsize=4096)
def template_syntax_error(text: str) -> str | None:
    """minijinja's syntax error for a template, or None when it parses (E011, DSL §3.5).

    Parse only: the Python binding renders values differently from the Rust runtime.
    """
    try:
        _ENV.undeclared_variables_in_str(text)
    except minijinja.TemplateError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "invalid template"
        return _LOCATION.sub("", first)
    return None
