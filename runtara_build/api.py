"""The rule-author API: the one module a file under rules/ may import (STYLE §5).

A rule file exports `RULE = StepRule(model=..., ...)`. The engine never names a step type;
everything step-specific is reached through the hooks below.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from runtara_build.codegen.literals import KEYWORDS as RUST_KEYWORDS
from runtara_build.codegen.literals import rust_ident, rust_str
from runtara_build.codegen.writer import RustWriter
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
from runtara_build.errors import BuildError, Diagnostic, Location

if TYPE_CHECKING:
    from runtara_build.codegen.context import EmitContext
    from runtara_build.validate.context import CheckContext


if not TYPE_CHECKING:
    from runtara_build.codegen.context import EmitContext


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
Emitter = Callable[[Any, RustWriter, "EmitContext"], None]


def _no_refs(_step: Any) -> Refs:
    return Refs()


def _no_checks(_step: Any, _ctx: CheckContext) -> Iterator[Diagnostic]:
    return iter(())


def _no_emitter(step: Any, _out: RustWriter, _ctx: EmitContext) -> None:
    raise BuildError(Diagnostic("RB399", f"step type {step.STEP_TYPE} has no emitter"))


@dataclass(frozen=True, slots=True)
class StepRule:
    """Everything the engine knows about one step type.

    model: the pydantic model; its `step_type` Literal is the `stepType` tag.
    refs:  the step's mappings and conditions, for reference checks and dependency analysis.
    check: step-specific validation (DSL §12), yielding diagnostics with step-relative pointers.
    emit:  writes the Rust expression that runs one step (an arm of its graph's dispatch).
    """

    model: type[StepBase]
    refs: RefsOf = _no_refs
    check: Checker = _no_checks
    emit: Emitter = _no_emitter
    source: str = field(default="", compare=False)  # the rule file, filled in by discovery

    @property
    def step_type(self) -> str:
        return self.model.STEP_TYPE


__all__ = [
    "RUST_KEYWORDS",
    "BuildError",
    "ChildVersion",
    "ClassVar",
    "CompositeValue",
    "Condition",
    "Diagnostic",
    "Edge",
    "EmitContext",
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
    "RustWriter",
    "Schema",
    "SchemaField",
    "StepBase",
    "StepRule",
    "TemplateValue",
    "rust_ident",
    "rust_str",
]

# --------------------------------------------------------------------------- validation helpers
# What step checks (`check(step, ctx)`) need besides the models: reference walking and the
# message helpers of errors.py (DSL §12, STYLE §6).
from runtara_build.dsl.positions import escape_token  # noqa: E402
from runtara_build.dsl.refs import (  # noqa: E402
    Reference,
    mapping_references,
    parse_path,
    value_references,
)
from runtara_build.errors import did_you_mean, quote  # noqa: E402

if TYPE_CHECKING:
    from runtara_build.validate.catalogue import Capability as Capability
    from runtara_build.validate.catalogue import CapabilityInput as CapabilityInput
    from runtara_build.validate.context import CheckContext as CheckContext

__all__ += [
    "Capability",
    "CapabilityInput",
    "CheckContext",
    "Reference",
    "did_you_mean",
    "escape_token",
    "mapping_references",
    "parse_path",
    "quote",
    "value_references",
]
