"""GroupBy: group the elements of an array by the value at a key path."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    EmitContext,
    Field,
    MappingValue,
    Model,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)


class GroupByConfig(Model):
    value: MappingValue = Field(description="The array; anything else counts as [].")
    key: str = Field(description="Path looked up in each element (DSL §3.3 syntax).")
    expected_keys: list[str] | None = Field(default=None, description="Groups created up front.")


class GroupByStep(StepBase):
    STEP_TYPE: ClassVar[str] = "GroupBy"
    step_type: Literal["GroupBy"] = Field(description="Tag: GroupBy.")
    config: GroupByConfig = Field(description="What to group and by which key.")


def refs(step: GroupByStep) -> Refs:
    return Refs(wider=(("/config/value", step.config.value),))


def emit(step: GroupByStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::group_by(f, m, {ctx.config(step, ())})")


RULE = StepRule(model=GroupByStep, refs=refs, emit=emit)
