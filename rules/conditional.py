"""Conditional: evaluate a condition and follow the first "true" or "false" edge."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    Condition,
    EmitContext,
    Field,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)


class ConditionalStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Conditional"
    #: Its branch labels: only edges with these labels are followed (DSL §2.4).
    routes: ClassVar[tuple[str, ...]] = ("true", "false")
    #: Edges out of a Conditional are exempt from E070/E071 (DSL §12.1).
    CHECKS_EDGE_GROUPS: ClassVar[bool] = False
    step_type: Literal["Conditional"] = Field(description="Tag: Conditional.")
    condition: Condition = Field(description="Chooses the branch (DSL §4).")


def refs(step: ConditionalStep) -> Refs:
    return Refs(wider=(("/condition", step.condition),))


def emit(step: ConditionalStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::conditional(f, m, {ctx.config(step, ())})")


RULE = StepRule(model=ConditionalStep, refs=refs, emit=emit)
