"""Finish: evaluate `inputMapping` and return it (or its `outputs` member) from the function."""

from __future__ import annotations

from runtara_build.api import ClassVar, Field, InputMapping, Literal, Refs, StepBase, StepRule


class FinishStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Finish"
    step_type: Literal["Finish"] = Field(description="Tag: Finish.")
    input_mapping: InputMapping = Field(
        default_factory=dict, description="The result; an `outputs` member is unwrapped."
    )


def refs(step: FinishStep) -> Refs:
    return Refs(mapping=(("/inputMapping", step.input_mapping),))


RULE = StepRule(model=FinishStep, refs=refs)
