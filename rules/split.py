"""Split: run the subgraph once per element of an array, sequentially or on a pool."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    Diagnostic,
    EmitContext,
    ExecutionGraph,
    Field,
    InputMapping,
    MappingValue,
    Model,
    NonNegInt,
    PositiveInt,
    Refs,
    RustWriter,
    Schema,
    StepBase,
    StepRule,
    quote,
)

if TYPE_CHECKING:
    from runtara_build.api import CheckContext


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

    def injected_variables(self) -> tuple[str, ...]:
        """Variables every iteration gets: a dotted `config.variables` key makes its first
        segment (DSL §3.1, §12.1)."""
        own = (self.config.variables or {}) if self.config else {}
        return ("_index", "_loop_indices", *(key.split(".")[0] for key in own))


def refs(step: SplitStep) -> Refs:
    if step.config is None:
        return Refs()
    mapping = (("/config/variables", step.config.variables),) if step.config.variables else ()
    return Refs(mapping=mapping, wider=(("/config/value", step.config.value),))


def emit(step: SplitStep, out: RustWriter, ctx: EmitContext) -> None:
    graph = ctx.graph(step.subgraph, "/subgraph")
    out.line(f"rt::steps::split(f, m, {ctx.config(step, ('/config/variables',))}, &{graph})")


def check(step: SplitStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """W013 (no `config`), W030, W032, W034."""
    if step.config is None:
        message = (
            f"a Split step should have a 'config' with the 'value' to iterate, but "
            f"{quote(ctx.step_key)} has none, so it always fails with SPLIT_INVALID_VALUE"
        )
        yield ctx.diag("W013", message, "", "add 'config': {'value': ...}")
        return
    config = step.config
    values = {"maxRetries": config.max_retries, "parallelism": config.parallelism}
    yield from ctx.limits("/config", {**values, "timeout": config.timeout})


RULE = StepRule(model=SplitStep, refs=refs, check=check, emit=emit)
