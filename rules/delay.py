"""Delay: a durable sleep; the wake time is checkpointed and long sleeps suspend."""

from __future__ import annotations

from runtara_build.api import ClassVar, Field, Literal, MappingValue, Refs, StepBase, StepRule


class DelayStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Delay"
    step_type: Literal["Delay"] = Field(description="Tag: Delay.")
    duration_ms: MappingValue = Field(description="Milliseconds; must evaluate to a number.")


def refs(step: DelayStep) -> Refs:
    return Refs(wider=(("/durationMs", step.duration_ms),))


RULE = StepRule(model=DelayStep, refs=refs)
