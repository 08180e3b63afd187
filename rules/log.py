"""Log: emit a structured log event, then continue to the next step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    Diagnostic,
    EmitContext,
    Field,
    InputMapping,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)

if TYPE_CHECKING:
    from runtara_build.api import CheckContext


class LogStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Log"
    step_type: Literal["Log"] = Field(description="Tag: Log.")
    level: Literal["debug", "info", "warn", "error"] = Field(
        default="info", description="Severity of the emitted event."
    )
    message: str = Field(description="Event text, emitted verbatim (never interpolated).")
    context: InputMapping = Field(default_factory=dict, description="Structured context.")


def refs(step: LogStep) -> Refs:
    return Refs(mapping=(("/context", step.context),))


def emit(step: LogStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::log(f, m, {ctx.config(step, ('/context',))})")


def check(step: LogStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """E042: connection data must not reach a Log step's event (DSL §12.1)."""
    return ctx.secret_leaks("E042", "a Log 'context'", step.context, "/context")


RULE = StepRule(model=LogStep, refs=refs, check=check, emit=emit)
