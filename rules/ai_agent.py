"""AiAgent: an LLM agent with tool edges. Parsed and validated; not compiled yet (E120)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Literal

from runtara_build.api import (
    BuildError,
    Diagnostic,
    Edge,
    EmitContext,
    Field,
    MappingValue,
    Model,
    NonNegInt,
    Refs,
    RustWriter,
    Schema,
    StepBase,
    StepRule,
    quote,
)

if TYPE_CHECKING:
    from runtara_build.api import CheckContext


class Compaction(Model):
    max_messages: NonNegInt = Field(default=50, description="Messages kept before compaction.")
    strategy: Literal["summarize", "slidingWindow"] | None = Field(
        default=None, description="How old messages are compacted."
    )


class Memory(Model):
    conversation_id: MappingValue = Field(description="Identifies the conversation.")
    compaction: Compaction | None = Field(default=None, description="Compaction settings.")


class AiAgentConfig(Model):
    system_prompt: MappingValue = Field(description="The system prompt.")
    user_prompt: MappingValue = Field(description="The user prompt.")
    model: str | None = Field(default=None, description="Model name.")
    max_iterations: NonNegInt = Field(default=10, description="Tool-call rounds.")
    temperature: float = Field(default=0.7, description="Sampling temperature.")
    max_tokens: int | None = Field(default=None, description="Token limit.")
    output_schema: Schema | None = Field(default=None, description="Structured output shape.")
    memory: Memory | None = Field(default=None, description="Conversation memory (E115/E116).")


class AiAgentStep(StepBase):
    STEP_TYPE: ClassVar[str] = "AiAgent"
    #: Not compiled yet: a build that meets one fails with E120 (DSL §5.15).
    COMPILED: ClassVar[bool] = False
    step_type: Literal["AiAgent"] = Field(description="Tag: AiAgent.")
    connection_id: str | None = Field(default=None, description="The LLM connection (E112).")
    config: AiAgentConfig | None = Field(default=None, description="Prompts and settings.")


def refs(step: AiAgentStep) -> Refs:
    if step.config is None:
        return Refs()
    wider: list[tuple[str, MappingValue]] = [
        ("/config/systemPrompt", step.config.system_prompt),
        ("/config/userPrompt", step.config.user_prompt),
    ]
    if step.config.memory:
        wider.append(("/config/memory/conversationId", step.config.memory.conversation_id))
    return Refs(wider=tuple(wider))


def emit(step: AiAgentStep, out: RustWriter, ctx: EmitContext) -> None:
    raise BuildError(Diagnostic("E120", "AiAgent steps are not supported yet"))


MEMORY = "memory"
_TOOL_LABEL = re.compile(r"[A-Za-z0-9_]+")


def check(step: AiAgentStep, ctx: CheckContext) -> Iterator[Diagnostic]:
    """E110–E116: tool labels, the LLM connection and the memory edge (DSL §5.15, §12.1)."""
    if step.connection_id is None:
        message = f"an AiAgent step must have a 'connectionId', but {quote(ctx.step_key)} has none"
        yield ctx.diag("E112", message)
    edges = list(ctx.out_edges())
    yield from _tools([(i, e) for i, e in edges if e.plain_label not in ("", MEMORY)], ctx)
    yield from _memory(step, [(i, e) for i, e in edges if e.plain_label == MEMORY], ctx)


def _tools(tools: list[tuple[int, Edge]], ctx: CheckContext) -> Iterator[Diagnostic]:
    seen: dict[str, int] = {}
    for index, edge in tools:
        label = edge.plain_label
        if not _TOOL_LABEL.fullmatch(label):
            message = (
                f"a tool label must use only ASCII letters, digits and '_', but was {quote(label)}"
            )
            yield ctx.edge_diag("E111", message, index, "/label")
        if label in seen:
            message = (
                f"tool labels must be unique per AiAgent, but {quote(label)} is also the "
                f"label of edge {seen[label]}"
            )
            yield ctx.edge_diag("E110", message, index, "/label")
        else:
            seen[label] = index


def _memory(
    step: AiAgentStep, memory: list[tuple[int, Edge]], ctx: CheckContext
) -> Iterator[Diagnostic]:
    configured = step.config is not None and step.config.memory is not None
    if configured and not memory:
        message = "an AiAgent with 'config.memory' must have a 'memory' edge, but has none"
        yield ctx.diag("E115", message, "/config/memory")
    for count, (index, edge) in enumerate(memory):
        if count == 1:
            message = (
                f"an AiAgent must have at most one 'memory' edge, but {quote(ctx.step_key)} "
                f"has {len(memory)}"
            )
            yield ctx.edge_diag("E113", message, index)
        target = ctx.graph.steps.get(edge.to_step)
        if target is not None and target.STEP_TYPE != "Agent":
            message = (
                f"a 'memory' edge must target an Agent step, but {quote(edge.to_step)} is "
                f"a {target.STEP_TYPE} step"
            )
            yield ctx.edge_diag("E114", message, index, "/toStep")
        if not configured:
            message = "an AiAgent with a 'memory' edge must set 'config.memory', but does not"
            yield ctx.edge_diag("E116", message, index)


RULE = StepRule(model=AiAgentStep, refs=refs, check=check, emit=emit)
