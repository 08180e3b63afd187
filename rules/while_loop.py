"""While: run the subgraph while a condition holds, at most `maxIterations` times."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    Condition,
    ExecutionGraph,
    Field,
    Model,
    NonNegInt,
    PositiveInt,
    Refs,
    StepBase,
    StepRule,
)


class WhileConfig(Model):
    max_iterations: NonNegInt = Field(default=10, description="Iteration cap (no error).")
    timeout: PositiveInt | None = Field(default=None, description="Limit for the whole loop.")


class WhileStep(StepBase):
    STEP_TYPE: ClassVar[str] = "While"
    HONOURS_ON_ERROR: ClassVar[bool] = True
    step_type: Literal["While"] = Field(description="Tag: While.")
    condition: Condition = Field(description="Checked before each iteration, with `loop`.")
    subgraph: ExecutionGraph = Field(description="The loop body.")
    config: WhileConfig | None = Field(default=None, description="Caps and timeout.")

    def subgraphs(self) -> tuple[tuple[str, ExecutionGraph], ...]:
        return (("/subgraph", self.subgraph),)


def refs(step: WhileStep) -> Refs:
    return Refs(wider=(("/condition", step.condition),))


RULE = StepRule(model=WhileStep, refs=refs)
