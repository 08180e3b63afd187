"""Agent: a durable, retried call of a built-in capability (`agentId/capabilityId`)."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    Field,
    InputMapping,
    Model,
    NonNegInt,
    PositiveInt,
    Refs,
    StepBase,
    StepRule,
)


class Compensation(Model):
    compensation_step: str = Field(description="The step that undoes this one.")
    compensation_data: InputMapping | None = Field(default=None, description="Its input.")
    trigger: Literal["on_downstream_error", "on_any_error", "manual"] | None = Field(
        default=None, description="When it would run; no run-time effect."
    )
    order: int | None = Field(default=None, description="Ordering among compensations.")


class AgentStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Agent"
    HONOURS_ON_ERROR: ClassVar[bool] = True
    step_type: Literal["Agent"] = Field(description="Tag: Agent.")
    agent_id: str = Field(description="Module id, e.g. `transform` (E020).")
    capability_id: str = Field(description="Kebab-case capability id (E021).")
    connection_id: str | None = Field(default=None, description="Connection fetched per call.")
    input_mapping: InputMapping = Field(default_factory=dict, description="The capability input.")
    max_retries: NonNegInt = Field(default=3, description="Retries after the first attempt.")
    retry_delay: NonNegInt = Field(default=1000, description="Base backoff delay in ms.")
    timeout: PositiveInt | None = Field(default=None, description="Per-attempt limit in ms.")
    compensation: Compensation | None = Field(default=None, description="Silences W060 only.")


def refs(step: AgentStep) -> Refs:
    return Refs(mapping=(("/inputMapping", step.input_mapping),))


RULE = StepRule(model=AgentStep, refs=refs)
