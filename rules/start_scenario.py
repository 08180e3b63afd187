"""StartScenario: run a child workflow in-process as one durable, retried unit."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    ChildVersion,
    Field,
    InputMapping,
    NonNegInt,
    PositiveInt,
    Refs,
    StepBase,
    StepRule,
)


class StartScenarioStep(StepBase):
    STEP_TYPE: ClassVar[str] = "StartScenario"
    HONOURS_ON_ERROR: ClassVar[bool] = True
    step_type: Literal["StartScenario"] = Field(description="Tag: StartScenario.")
    child_scenario_id: str = Field(description="The child's scenario id.")
    child_version: ChildVersion = Field(description='"latest", "current" or an integer >= 1.')
    input_mapping: InputMapping = Field(default_factory=dict, description="The child's data.")
    max_retries: NonNegInt = Field(default=3, description="Retries after the first attempt.")
    retry_delay: NonNegInt = Field(default=1000, description="Base backoff delay in ms.")
    timeout: PositiveInt | None = Field(default=None, description="Per-attempt limit in ms.")


def refs(step: StartScenarioStep) -> Refs:
    return Refs(mapping=(("/inputMapping", step.input_mapping),))


RULE = StepRule(model=StartScenarioStep, refs=refs)
