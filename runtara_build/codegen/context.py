"""EmitContext: what a rule's emitter may ask of the program being generated.

It owns the constant table (user data as JSON texts, deduplicated), and hands out the Rust
names of nested graphs and children, which the program emitter then generates.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtara_build.dsl.workflow import ExecutionGraph, StepBase

#: Members the runtime never reads from a step's config constant (compiled or descriptive).
NOT_IN_CONFIG = frozenset(
    {"id", "name", "step_type", "subgraph", "on_wait", "input_schema", "output_schema",
     "compensation"}
)  # fmt: skip


def json_text(value: Any) -> str:
    """Compact JSON with the DSL's number rules (floats stay floats, e.g. `-0.0`, `1e+16`).

    Keys are sorted: the runtime reads objects as sorted maps, so member order carries no
    meaning here, and sorting makes the output independent of it. InputMappings, whose order
    does matter (DSL §3.1), arrive as `[key, value]` pair arrays, which sorting leaves alone.
    """
    return json.dumps(
        value, ensure_ascii=False, separators=(",", ":"), allow_nan=False, sort_keys=True
    )


@dataclass
class EmitContext:
    """Per-program state shared by every emitter. Names are assigned in emission order."""

    graph_name: Callable[[ExecutionGraph, str], str]
    child_name: Callable[[StepBase], str]
    consts: list[str] = field(default_factory=list)
    _index: dict[str, int] = field(default_factory=dict)

    def const_index(self, value: Any) -> int:
        """The index of the JSON constant `value` in the program's table `K`."""
        text = json_text(value)
        index = self._index.get(text)
        if index is None:
            index = self._index[text] = len(self.consts)
            self.consts.append(text)
        return index

    def const(self, value: Any) -> str:
        """A Rust expression for the parsed JSON constant `value`."""
        return f"K.get({self.const_index(value)})"

    def config(self, step: StepBase, mappings: tuple[str, ...] = ()) -> str:
        """The step's config constant: its members as written, minus what is compiled
        separately, with each InputMapping (by pointer) as `[key, value]` pairs so the
        document order survives serde's sorted objects (DSL §3.1)."""
        data = step.model_dump(by_alias=True, exclude_unset=True, exclude=set(NOT_IN_CONFIG))
        for ptr in mappings:
            _to_pairs(data, ptr.strip("/").split("/"))
        return self.const(data)

    def graph(self, graph: ExecutionGraph, member: str) -> str:
        """The name of the static GraphDef generated for a nested graph."""
        return self.graph_name(graph, member)

    def child(self, step: StepBase) -> str:
        """The id of a StartScenario's resolved child in the binary's child table (a plain
        string: quote it with `rust_str`); the child is compiled as its own crate."""
        return self.child_name(step)


def _to_pairs(data: dict[str, Any], path: list[str]) -> None:
    parent: Any = data
    for part in path[:-1]:
        parent = parent.get(part) if isinstance(parent, dict) else None
    if isinstance(parent, dict) and isinstance(parent.get(path[-1]), dict):
        parent[path[-1]] = [[k, v] for k, v in parent[path[-1]].items()]
