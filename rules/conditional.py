"""Conditional: evaluate a condition and follow the first "true" or "false" edge."""

from __future__ import annotations

from runtara_build.api import ClassVar, Condition, Field, Literal, Refs, StepBase, StepRule


class ConditionalStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Conditional"
    step_type: Literal["Conditional"] = Field(description="Tag: Conditional.")
    condition: Condition = Field(description="Chooses the branch (DSL §4).")


def refs(step: ConditionalStep) -> Refs:
    return Refs(wider=(("/condition", step.condition),))


RULE = StepRule(model=ConditionalStep, refs=refs)
