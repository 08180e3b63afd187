"""Split: run the subgraph once per element of an array, sequentially or on a pool."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    ExecutionGraph,
    Field,
    InputMapping,
    MappingValue,
    Model,
    NonNegInt,
    PositiveInt,
    Refs,
    Schema,
    StepBase,
    StepRule,
)


class SplitConfig(Model):
    value: MappingValue = Field(description="The array to iterate.")
    parallelism: NonNegInt = Field(default=0, description="<= 1 sequential; N > 1 a pool of N.")
    sequential: bool = Field(default=False, description="Forces sequential execution.")
    dont_stop_on_failed: bool = Field(default=False, description="Collect failures instead.")
    variables: InputMapping | None = Field(default=None, description="Added to each iteration.")
    max_retries: NonNegInt = Field(default=0, description="Retries of the whole Split.")
    retry_delay: NonNegInt = Field(default=1000, description="Base backoff delay in ms.")
    timeout: PositiveInt | None = Field(default=None, description="Per-attempt limit in ms.")
    allow_null: bool = Field(default=False, description="null means zero iterations.")
    convert_single_value: bool = Field(default=False, description="Wrap a non-array value.")


class SplitStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Split"
    HONOURS_ON_ERROR: ClassVar[bool] = True
    step_type: Literal["Split"] = Field(description="Tag: Split.")
    subgraph: ExecutionGraph = Field(description="Runs once per element.")
    config: SplitConfig | None = Field(default=None, description="Without it: W013, fails.")
    input_schema: Schema | None = Field(default=None, description="Documentation only.")
    output_schema: Schema | None = Field(default=None, description="Documentation only.")

    def subgraphs(self) -> tuple[tuple[str, ExecutionGraph], ...]:
        return (("/subgraph", self.subgraph),)


def refs(step: SplitStep) -> Refs:
    if step.config is None:
        return Refs()
    mapping = (("/config/variables", step.config.variables),) if step.config.variables else ()
    return Refs(mapping=mapping, wider=(("/config/value", step.config.value),))


RULE = StepRule(model=SplitStep, refs=refs)
