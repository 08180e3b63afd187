"""Delay: a durable sleep; the wake time is checkpointed and long sleeps suspend."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    EmitContext,
    Field,
    MappingValue,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)


class DelayStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Delay"
    step_type: Literal["Delay"] = Field(description="Tag: Delay.")
    duration_ms: MappingValue = Field(description="Milliseconds; must evaluate to a number.")


def refs(step: DelayStep) -> Refs:
    return Refs(wider=(("/durationMs", step.duration_ms),))


def emit(step: DelayStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::delay(f, m, {ctx.config(step, ())})")


RULE = StepRule(model=DelayStep, refs=refs, emit=emit)
