"""Finish: evaluate `inputMapping` and return it (or its `outputs` member) from the function."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    EmitContext,
    Field,
    InputMapping,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)


class FinishStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Finish"
    step_type: Literal["Finish"] = Field(description="Tag: Finish.")
    input_mapping: InputMapping = Field(
        default_factory=dict, description="The result; an `outputs` member is unwrapped."
    )


def refs(step: FinishStep) -> Refs:
    return Refs(mapping=(("/inputMapping", step.input_mapping),))


def emit(step: FinishStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::finish(f, m, {ctx.config(step, ('/inputMapping',))})")


RULE = StepRule(model=FinishStep, refs=refs, emit=emit)
