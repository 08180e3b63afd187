"""Agent: a durable, retried call of a built-in capability (`agentId/capabilityId`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    Diagnostic,
    EmitContext,
    Field,
    ImmediateValue,
    InputMapping,
    Json,
    Model,
    NonNegInt,
    PositiveInt,
    Refs,
    RustWriter,
    StepBase,
    StepRule,
    did_you_mean,
    escape_token,
    quote,
)

if TYPE_CHECKING:
    from runtara_build.api import Capability, CapabilityInput, CheckContext


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

    @property
    def capability(self) -> tuple[str, str]:
        """The catalogue capability called: (lower-cased module id, capability id)."""
        return self.agent_id.lower(), self.capability_id


def refs(step: AgentStep) -> Refs:
    return Refs(mapping=(("/inputMapping", step.input_mapping),))


def emit(step: AgentStep, out: RustWriter, ctx: EmitContext) -> None:
    if step.connection_id is not None:
        raise ctx.unsupported(
            "RB301", "an Agent with connectionId", "connections arrive with the agents issue"
        )
    out.line(f"rt::steps::agent(f, m, {ctx.config(step, ('/inputMapping',))})")


def check(step: AgentStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """E020–E024, E040, W020, W060 against the agent catalogue, and W030/W031/W034."""
    limits = {"maxRetries": step.max_retries, "retryDelay": step.retry_delay}
    yield from ctx.limits("", {**limits, "timeout": step.timeout})
    module = ctx.catalogue.module(step.agent_id.lower())
    if ctx.catalogue.module(step.agent_id) is None:
        yield _unknown_module(step, ctx)
    if module is None or not module.secure:
        yield from _leaks(step, ctx)
    if module is None:
        return
    capability = module.capability(step.capability_id)
    if capability is None:
        if ctx.catalogue.module(step.agent_id) is not None:
            yield _unknown_capability(step, ctx, module.capability_ids)
        return
    yield from _inputs(step, ctx, capability)
    if capability.side_effects and step.compensation is None:
        message = (
            f"an Agent calling {quote(_called(step))}, which has side effects, should declare "
            f"a 'compensation', but has none"
        )
        yield ctx.diag("W060", message, "/capabilityId")


def _called(step: AgentStep) -> str:
    return f"{step.agent_id}/{step.capability_id}"


def _unknown_module(step: AgentStep, ctx: CheckContext) -> Diagnostic:
    modules = ctx.catalogue.module_ids
    message = (
        f"'agentId' must be a module of the registry ({', '.join(modules)}), "
        f"but was {quote(step.agent_id)}"
    )
    lower = step.agent_id.lower()
    hint = f'did you mean "{lower}"?' if lower in modules else did_you_mean(lower, modules)
    return ctx.diag("E020", message, "/agentId", hint)


def _unknown_capability(step: AgentStep, ctx: CheckContext, known: tuple[str, ...]) -> Diagnostic:
    message = (
        f"'capabilityId' must be a capability of module {quote(step.agent_id.lower())}, "
        f"but {quote(step.capability_id)} is not one"
    )
    hint = did_you_mean(step.capability_id, known)
    return ctx.diag("E021", message, "/capabilityId", hint)


def _leaks(step: AgentStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    for ref in ctx.secret_references(step.input_mapping, "/inputMapping"):
        message = (
            f"only http and sftp Agents may receive connection data, but "
            f"{quote(_called(step))} gets {quote(ref.path)}"
        )
        yield ctx.diag("E040", message, ref.pointer)


def _inputs(step: AgentStep, ctx: CheckContext, capability: Capability) -> Iterator[Diagnostic]:
    mapped = {key.split(".")[0] for key in step.input_mapping}
    for needed in capability.inputs:
        if needed.required and needed.name != "_connection" and mapped.isdisjoint(needed.names):
            message = (
                f"{quote(_called(step))} requires the input {quote(needed.name)}, "
                f"but 'inputMapping' does not set it"
            )
            yield ctx.diag("E022", message, "/inputMapping")
    for key, value in step.input_mapping.items():
        at = f"/inputMapping/{escape_token(key)}"
        first = key.split(".")[0]
        declared = capability.input(first)
        if declared is None and not first.startswith("_"):
            message = (
                f"an 'inputMapping' key should name an input of {quote(_called(step))}, "
                f"but {quote(first)} is not one"
            )
            hint = did_you_mean(first, capability.input_names)
            yield ctx.diag("W020", message, at, hint)
        elif declared is not None and key == first and isinstance(value, ImmediateValue):
            yield from _immediate(declared, value.value, ctx, f"{at}/value")


#: JSON types E023 checks (RUNTIME.md §9.13); other declared types are not checked.
_FITS = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def _immediate(
    declared: CapabilityInput, value: Json, ctx: CheckContext, at: str
) -> Iterator[Diagnostic]:
    fits = _FITS.get(declared.type) if isinstance(declared.type, str) else None
    if value is None:
        if declared.required:
            message = f"the required input {quote(declared.name)} must not be null, but was null"
            yield ctx.diag("E023", message, at)
        return
    if fits is not None and not fits(value):
        message = (
            f"the input {quote(declared.name)} must be {declared.type}, but was {quote(value)}"
        )
        yield ctx.diag("E023", message, at)
    elif declared.enum is not None and isinstance(value, str) and value not in declared.enum:
        message = (
            f"the input {quote(declared.name)} must be one of "
            f"{', '.join(map(quote, declared.enum))}, but was {quote(value)}"
        )
        yield ctx.diag("E024", message, at, did_you_mean(value, declared.enum))


RULE = StepRule(model=AgentStep, refs=refs, check=check, emit=emit)
