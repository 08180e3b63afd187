"""WaitForSignal: run onWait, then wait durably for a custom signal's payload."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    EmitContext,
    ExecutionGraph,
    Field,
    MappingValue,
    PositiveInt,
    Refs,
    RustWriter,
    Schema,
    StepBase,
    StepRule,
)


class WaitForSignalStep(StepBase):
    STEP_TYPE: ClassVar[str] = "WaitForSignal"
    step_type: Literal["WaitForSignal"] = Field(description="Tag: WaitForSignal.")
    on_wait: ExecutionGraph | None = Field(
        default=None, description="Runs once, when the wait starts."
    )
    timeout_ms: MappingValue | None = Field(
        default=None, description="Deadline in ms; none waits forever."
    )
    poll_interval_ms: PositiveInt = Field(default=1000, description="Poll period in ms.")
    response_schema: Schema | None = Field(default=None, description="Passed on in the event.")

    def subgraphs(self) -> tuple[tuple[str, ExecutionGraph], ...]:
        return (("/onWait", self.on_wait),) if self.on_wait else ()

    def injected_variables(self) -> tuple[str, ...]:
        """The onWait graph also sees `_signal_id` (DSL §5.14, §12.1)."""
        return ("_signal_id",)


def refs(step: WaitForSignalStep) -> Refs:
    return Refs(wider=(("/timeoutMs", step.timeout_ms),) if step.timeout_ms else ())


def emit(step: WaitForSignalStep, out: RustWriter, ctx: EmitContext) -> None:
    on_wait = f"Some(&{ctx.graph(step.on_wait, '/onWait')})" if step.on_wait else "None"
    out.line(f"rt::steps::wait_for_signal(f, m, {ctx.config(step)}, {on_wait})")


RULE = StepRule(model=WaitForSignalStep, refs=refs, emit=emit)
