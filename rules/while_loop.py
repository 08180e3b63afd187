"""While: run the subgraph while a condition holds, at most `maxIterations` times."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    Condition,
    Diagnostic,
    EmitContext,
    ExecutionGraph,
    Field,
    Model,
    NonNegInt,
    PositiveInt,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)

if TYPE_CHECKING:
    from runtara_build.api import CheckContext


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

    def injected_variables(self) -> tuple[str, ...]:
        """Variables every iteration gets (DSL §5.7, §12.1)."""
        return ("_index", "_loop_indices", "_previousOutputs")


def refs(step: WhileStep) -> Refs:
    return Refs(wider=(("/condition", step.condition),))


def emit(step: WhileStep, out: RustWriter, ctx: EmitContext) -> None:
    graph = ctx.graph(step.subgraph, "/subgraph")
    out.line(f"rt::steps::while_loop(f, m, {ctx.config(step)}, &{graph})")


def check(step: WhileStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """W033 and W034 on `config`."""
    if step.config is not None:
        values = {"maxIterations": step.config.max_iterations, "timeout": step.config.timeout}
        yield from ctx.limits("/config", values)


RULE = StepRule(model=WhileStep, refs=refs, check=check, emit=emit)
