"""Error: emit an error event and fail the function with a structured business error."""

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


class ErrorStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Error"
    step_type: Literal["Error"] = Field(description="Tag: Error.")
    category: Literal["transient", "permanent"] = Field(
        default="permanent", description="Retry class of the raised error."
    )
    code: str = Field(description="Machine-readable error code.")
    message: str = Field(description="Error text, verbatim (never interpolated).")
    severity: Literal["info", "warning", "error", "critical"] = Field(
        default="error", description="Severity of the raised error."
    )
    context: InputMapping = Field(default_factory=dict, description="Structured context.")


def refs(step: ErrorStep) -> Refs:
    return Refs(mapping=(("/context", step.context),))


def emit(step: ErrorStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::error(f, m, {ctx.config(step, ('/context',))})")


def check(step: ErrorStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """E042: connection data must not reach an Error step's event (DSL §12.1)."""
    return ctx.secret_leaks("E042", "an Error 'context'", step.context, "/context")


RULE = StepRule(model=ErrorStep, refs=refs, check=check, emit=emit)
