"""Finish: evaluate `inputMapping` and return it (or its `outputs` member) from the function."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    Diagnostic,
    EmitContext,
    Field,
    InputMapping,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)

if TYPE_CHECKING:
    from runtara_build.api import CheckContext


class FinishStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Finish"
    #: Ends the function with a value: a Finish without outgoing edges is not dangling (W003).
    RETURNS: ClassVar[bool] = True
    step_type: Literal["Finish"] = Field(description="Tag: Finish.")
    input_mapping: InputMapping = Field(
        default_factory=dict, description="The result; an `outputs` member is unwrapped."
    )


def refs(step: FinishStep) -> Refs:
    return Refs(mapping=(("/inputMapping", step.input_mapping),))


def emit(step: FinishStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::finish(f, m, {ctx.config(step, ('/inputMapping',))})")


def check(step: FinishStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """E041: connection data must not reach a Finish step's result (DSL §12.1)."""
    return ctx.secret_leaks("E041", "a Finish 'inputMapping'", step.input_mapping, "/inputMapping")


RULE = StepRule(model=FinishStep, refs=refs, check=check, emit=emit)
