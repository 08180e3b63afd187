"""AiAgent: an LLM agent with tool edges. Parsed and validated; not compiled yet (E120)."""

from __future__ import annotations

from typing import ClassVar, Literal

from runtara_build.api import (
    Field,
    MappingValue,
    Model,
    NonNegInt,
    Refs,
    Schema,
    StepBase,
    StepRule,
)


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


RULE = StepRule(model=AiAgentStep, refs=refs)
