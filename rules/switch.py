"""Switch: match a value against cases; a value Switch outputs, a routing Switch also routes."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    EmitContext,
    Field,
    Json,
    MappingValue,
    Model,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
)

MatchType = Literal[
    "EQ", "NE", "GT", "GTE", "LT", "LTE", "STARTS_WITH", "ENDS_WITH", "CONTAINS", "IN",
    "NOT_IN", "IS_DEFINED", "IS_EMPTY", "IS_NOT_EMPTY", "BETWEEN", "RANGE",
]  # fmt: skip


class SwitchCase(Model):
    match_type: MatchType = Field(description="How `match` is compared (DSL §5.4).")
    match: Json = Field(description="The right operand, as an immediate.")
    output: Json = Field(description="The result when this case matches.")
    route: str | None = Field(default=None, description="Makes the Switch a routing Switch.")


class SwitchConfig(Model):
    value: MappingValue = Field(description="The left operand, re-evaluated per case.")
    cases: list[SwitchCase] = Field(default_factory=list, description="Tried in order.")
    default: Json = Field(default=None, description="The result when no case matches.")


class SwitchStep(StepBase):
    STEP_TYPE: ClassVar[str] = "Switch"
    step_type: Literal["Switch"] = Field(description="Tag: Switch.")
    config: SwitchConfig | None = Field(default=None, description="Without it, outputs {}.")

    @property
    def routes(self) -> tuple[str, ...]:
        """The routes of a routing Switch ("default" included); () for a value Switch."""
        cases = self.config.cases if self.config else []
        found = [c.route for c in cases if c.route is not None]
        return (*dict.fromkeys(found), "default") if found else ()


def refs(step: SwitchStep) -> Refs:
    return Refs(wider=(("/config/value", step.config.value),) if step.config else ())


def emit(step: SwitchStep, out: RustWriter, ctx: EmitContext) -> None:
    out.line(f"rt::steps::switch(f, m, {ctx.config(step, ())})")


RULE = StepRule(model=SwitchStep, refs=refs, emit=emit)
