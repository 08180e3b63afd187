"""The ExecutionGraph, its edges, the step base class and the two document shapes (DSL §1)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field

from runtara_build.dsl.base import Condition, Model, Schema, Variable


class StepBase(Model):
    """Every step has `id` and an optional `name`; a step is identified by its key (§1.2)."""

    #: The `stepType` tag; each rule's model narrows it to one Literal.
    STEP_TYPE: ClassVar[str] = ""
    #: Does this step type honour onError edges (DSL §2.4)?
    HONOURS_ON_ERROR: ClassVar[bool] = False

    id: str = Field(description="The step id; should equal the step key (W005).")
    name: str | None = Field(default=None, description="Display name; E060 if repeated.")

    def subgraphs(self) -> tuple[tuple[str, ExecutionGraph], ...]:
        """Nested graphs as (member path, graph): Split/While `subgraph`, WaitForSignal `onWait`."""
        return ()


class Edge(Model):
    from_step: str = Field(description="Step key the edge leaves.")
    to_step: str = Field(description="Step key the edge enters; unknown keys are ignored.")
    label: str | None = Field(default=None, description='"", "next" or absent: a normal edge.')
    condition: Condition | None = Field(default=None, description="onError edges only.")
    priority: int = Field(default=0, description="Order among conditional onError edges.")

    @property
    def plain_label(self) -> str:
        """The label with absent and "next" read as "" (DSL §2.4)."""
        return "" if self.label in (None, "next") else self.label


class Note(Model):
    id: str | None = Field(default=None, description="UI only.")
    text: str | None = Field(default=None, description="UI only.")


if TYPE_CHECKING:
    AnyStep = StepBase


class ExecutionGraph(Model):
    """A graph of steps: the top level, a Split/While subgraph, an onWait, or a child."""

    name: str | None = Field(default=None, description="Display name.")
    description: str | None = Field(default=None, description="Free text.")
    steps: dict[str, AnyStep] = Field(description="Step key -> step.")
    entry_point: str = Field(description="Key of the first step.")
    execution_plan: list[Edge] = Field(default_factory=list, description="Control-flow edges.")
    variables: dict[str, Variable] = Field(default_factory=dict, description="Declared variables.")
    input_schema: Schema = Field(default_factory=dict, description="Expected shape of data.")
    output_schema: Schema = Field(default_factory=dict, description="Documentation only.")
    notes: list[Note] | None = Field(default=None, description="UI only; ignored.")


class ScenarioDocument(Model):
    """The `{"executionGraph": ...}` wrapper (DSL §1.1)."""

    execution_graph: ExecutionGraph = Field(description="The graph.")
    memory_tier: Literal["S", "M", "L", "XL"] | None = Field(
        default=None, description="Ignored by the build."
    )
    debug_mode: bool = Field(default=False, description="Enables debug events.")


def is_wrapper(raw: Any) -> bool:
    return isinstance(raw, dict) and "executionGraph" in raw
