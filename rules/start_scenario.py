"""StartScenario: run a child workflow in-process as one durable, retried unit."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    ChildVersion,
    Diagnostic,
    EmitContext,
    ExecutionGraph,
    Field,
    InputMapping,
    NonNegInt,
    PositiveInt,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
    quote,
    rust_str,
)

if TYPE_CHECKING:
    from runtara_build.api import CheckContext


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


def emit(step: StartScenarioStep, out: RustWriter, ctx: EmitContext) -> None:
    child = rust_str(ctx.child(step))
    config = ctx.config(step, ("/inputMapping",))
    out.line(f"rt::steps::start_scenario_id(f, m, {config}, {child})")


#: The version words accepted in any letter case (DSL §5.6).
VERSION_WORDS = ("latest", "current")


def check(step: StartScenarioStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """E050 (child version), E054/E055 (against the child, when it resolves), W030/W031/W034."""
    limits = {"maxRetries": step.max_retries, "retryDelay": step.retry_delay}
    yield from ctx.limits("", {**limits, "timeout": step.timeout})
    version = step.child_version
    if isinstance(version, str) and version.lower() not in VERSION_WORDS:
        message = (
            f'\'childVersion\' must be "latest", "current" or an integer >= 1, '
            f"but was {quote(version)}"
        )
        yield ctx.diag("E050", message, "/childVersion")
    elif isinstance(version, int) and version < 1:
        message = f"an integer 'childVersion' must be >= 1, but was {version}"
        yield ctx.diag("E050", message, "/childVersion")
    child = ctx.child(step)
    if child is not None:
        yield from _against_child(step, ctx, child)


def _against_child(
    step: StartScenarioStep, ctx: CheckContext, child: ExecutionGraph
) -> Iterator[Diagnostic]:
    name = quote(step.child_scenario_id)
    if step.input_mapping and not child.input_schema:
        message = (
            f"the child {name} should declare an 'inputSchema' for its mapped inputs, but has none"
        )
        yield ctx.diag("E054", message, "/inputMapping")
    mapped = {key.split(".")[0] for key in step.input_mapping}
    missing = sorted(f for f, s in child.input_schema.items() if s.required and f not in mapped)
    if missing:
        message = (
            f"'inputMapping' must set every required input of the child {name}, "
            f"but misses {', '.join(map(quote, missing))}"
        )
        yield ctx.diag("E055", message, "/inputMapping")


RULE = StepRule(model=StartScenarioStep, refs=refs, check=check, emit=emit)
