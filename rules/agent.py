"""Agent: a durable, retried call of a built-in capability (`agentId/capabilityId`)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    RUST_KEYWORDS,
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
    rust_ident,
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


def capability_path(step: AgentStep) -> str:
    """`rt::agents::<module>::<capability, '-' as '_'>`: naming the function lets the linker
    drop every capability the scenario does not call (RUNTIME §9, runtime/API.md §3.1)."""
    name = step.capability_id.replace("-", "_")
    if name in RUST_KEYWORDS:
        name += "_"
    return f"rt::agents::{rust_ident(step.agent_id.lower())}::{rust_ident(name)}"


def emit(step: AgentStep, out: RustWriter, ctx: EmitContext) -> None:
    # The connection variant fetches the connection inside each executed attempt (never on
    # replay); keeping it separate keeps the HTTP client out of binaries that need none.
    helper = "agent" if step.connection_id is None else "agent_with_connection"
    config = ctx.config(step, ("/inputMapping",))
    out.line(f"rt::steps::{helper}(f, m, {config}, {capability_path(step)})")


#: Declared input types that E023 checks, with the JSON values that fit them (RUNTIME §9.13).
TYPE_FITS: dict[str, Callable[[Json], bool]] = {
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
}


def check(step: AgentStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """E020–E024, E040, W020, W060 against the catalogue; W030/W031/W034 limits."""
    limits = {"maxRetries": step.max_retries, "retryDelay": step.retry_delay}
    yield from ctx.limits("", {**limits, "timeout": step.timeout})
    modules = ctx.catalogue.module_ids
    if ctx.catalogue.module(step.agent_id) is None:
        message = (
            f"'agentId' must be one of {', '.join(map(quote, modules))}, "
            f"but was {quote(step.agent_id)}"
        )
        yield ctx.diag("E020", message, "/agentId", did_you_mean(step.agent_id.lower(), modules))
    module = ctx.catalogue.module(step.agent_id.lower())
    if module is None:
        return  # E020 says it all: no capability list to compare against
    if not module.secure:
        yield from _leaks(step, ctx, module.id)
    capability = module.capability(step.capability_id)
    if capability is None:
        message = (
            f"'capabilityId' must name a capability of module {quote(module.id)}, "
            f"but {quote(step.capability_id)} is none"
        )
        hint = did_you_mean(step.capability_id, module.capability_ids)
        yield ctx.diag("E021", message, "/capabilityId", hint)
        return
    yield from _inputs(step, ctx, capability)
    if capability.side_effects and step.compensation is None:
        message = (
            f"a capability with side effects should have a 'compensation', "
            f"but {quote(step.capability_id)} has none"
        )
        yield ctx.diag("W060", message, "/capabilityId")


def _leaks(step: AgentStep, ctx: CheckContext, module: str) -> Iterator[Diagnostic]:
    for ref in ctx.secret_references(step.input_mapping, "/inputMapping"):
        message = (
            f"connection data must reach only http or sftp Agents, but {quote(ref.path)} "
            f"passes the Connection step {quote(ref.step)} to {quote(module)}"
        )
        yield ctx.diag("E040", message, ref.pointer, "map it into an http Agent's '_connection'")


def _inputs(step: AgentStep, ctx: CheckContext, capability: Capability) -> Iterator[Diagnostic]:
    mapped = {key.split(".")[0] for key in step.input_mapping}
    for needed in capability.inputs:
        if needed.required and needed.name != "_connection" and not mapped & set(needed.names):
            message = (
                f"'inputMapping' must set the required input {quote(needed.name)}, but does not"
            )
            yield ctx.diag("E022", message, "/inputMapping")
    for key, value in step.input_mapping.items():
        first = key.split(".")[0]
        item = capability.input(first)
        ptr = f"/inputMapping/{escape_token(key)}"
        if item is None:
            if not first.startswith("_"):
                message = (
                    f"inputMapping keys should name inputs of {quote(capability.id)}, "
                    f"but {quote(first)} is none"
                )
                yield ctx.diag("W020", message, ptr, did_you_mean(first, capability.input_names))
        elif key == first and isinstance(value, ImmediateValue):
            yield from _immediate(ctx, item, value.value, f"{ptr}/value")


def _immediate(
    ctx: CheckContext, item: CapabilityInput, value: Json, ptr: str
) -> Iterator[Diagnostic]:
    if value is None and not item.required:
        return
    fits = TYPE_FITS.get(item.type) if isinstance(item.type, str) else None
    if fits is not None and not fits(value):
        message = f"input {quote(item.name)} must be of type {item.type}, but was {quote(value)}"
        yield ctx.diag("E023", message, ptr)
    elif item.enum is not None and isinstance(value, str) and value not in item.enum:
        allowed = ", ".join(map(quote, item.enum))
        message = f"input {quote(item.name)} must be one of {allowed}, but was {quote(value)}"
        yield ctx.diag("E024", message, ptr, did_you_mean(value, item.enum))


RULE = StepRule(model=AgentStep, refs=refs, check=check, emit=emit)
