"""The rule-author API: the one module a file under rules/ may import (STYLE §5).

A rule file exports `RULE = StepRule(model=..., ...)`. The engine never names a step type;
everything step-specific is reached through the hooks below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from runtara_build.dsl.base import (
    ChildVersion,
    CompositeValue,
    Condition,
    ImmediateValue,
    InputMapping,
    Json,
    MappingValue,
    Model,
    NonNegInt,
    OperationCondition,
    PositiveInt,
    ReferenceValue,
    Schema,
    SchemaField,
    TemplateValue,
)
from runtara_build.dsl.workflow import Edge, ExecutionGraph, StepBase
from runtara_build.errors import Diagnostic, Location

if TYPE_CHECKING:
    from runtara_build.validate.context import CheckContext


@dataclass(frozen=True, slots=True)
class Refs:
    """The expressions of a step, by the reference class validation gives them (DSL §12).

    `mapping` holds the step's InputMappings (their references are "the mapping references");
    `wider` holds the other mapping values and conditions ("the wider references").
    Each entry is (JSON pointer relative to the step, value).
    """

    mapping: tuple[tuple[str, InputMapping], ...] = ()
    wider: tuple[tuple[str, MappingValue | Condition], ...] = ()


Checker = Callable[[Any, "CheckContext"], Iterator[Diagnostic]]
RefsOf = Callable[[Any], Refs]


def _no_refs(_step: Any) -> Refs:
    return Refs()


def _no_checks(_step: Any, _ctx: CheckContext) -> Iterator[Diagnostic]:
    return iter(())


@dataclass(frozen=True, slots=True)
class StepRule:
    """Everything the engine knows about one step type.

    model: the pydantic model; its `step_type` Literal is the `stepType` tag.
    refs:  the step's mappings and conditions, for reference checks and dependency analysis.
    check: step-specific validation (DSL §12), yielding diagnostics with step-relative pointers.
    """

    model: type[StepBase]
    refs: RefsOf = _no_refs
    check: Checker = _no_checks
    source: str = field(default="", compare=False)  # the rule file, filled in by discovery

    @property
    def step_type(self) -> str:
        return self.model.STEP_TYPE


__all__ = [
    "ChildVersion",
    "ClassVar",
    "CompositeValue",
    "Condition",
    "Diagnostic",
    "Edge",
    "ExecutionGraph",
    "Field",
    "ImmediateValue",
    "InputMapping",
    "Json",
    "Literal",
    "Location",
    "MappingValue",
    "Model",
    "NonNegInt",
    "OperationCondition",
    "PositiveInt",
    "ReferenceValue",
    "Refs",
    "Schema",
    "SchemaField",
    "StepBase",
    "StepRule",
    "TemplateValue",
]
