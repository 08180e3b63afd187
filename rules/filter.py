"""Filter: keep the elements of an array for which a condition (with `item`) holds."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    Condition,
    EmitContext,
    Field,
    MappingValue,
    Model,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)


class FilterConfig(Model):
    value: MappingValue = Field(description="The array; anything else counts as [].")
    condition: Condition = Field(description="Evaluated per element with the root `item`.")


class FilterStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Filter"
    step_type: Literal["Filter"] = Field(description="Tag: Filter.")
    config: FilterConfig = Field(description="What to filter and how.")


def refs(step: FilterStep) -> Refs:
    return Refs(
        wider=(("/config/value", step.config.value), ("/config/condition", step.config.condition))
    )


def emit(step: FilterStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::filter(f, m, {ctx.config(step, ())})")


RULE = StepRule(model=FilterStep, refs=refs, emit=emit)
