"""The agent catalogue (RUNTIME.md §9, §9.13, §9.15) as frozen values, for E020–E024, W020, W060.

Read once from `runtara_build/catalogue/agents.json`, which ships inside the package.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

CATALOGUE_FILE = Path(__file__).resolve().parent.parent / "catalogue" / "agents.json"


@dataclass(frozen=True, slots=True)
class Input:
    """One capability input. `type` is a JSON type name, "any", or a tuple of JSON types."""

    name: str
    aliases: tuple[str, ...]
    type: str | tuple[str, ...]
    required: bool
    enum: tuple[str, ...] | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """The wire name first, then its snake_case aliases (RUNTIME.md §9.1)."""
        return (self.name, *self.aliases)


#: The name rule files know it by.
CapabilityInput = Input


@dataclass(frozen=True, slots=True)
class Capability:
    id: str
    available: bool
    side_effects: bool
    inputs: tuple[Input, ...]

    def input(self, name: str) -> Input | None:
        """The input whose wire name or alias is `name`."""
        return next((i for i in self.inputs if name in i.names), None)

    @property
    def input_names(self) -> tuple[str, ...]:
        return tuple(n for i in self.inputs for n in i.names)


@dataclass(frozen=True, slots=True)
class Module:
    id: str
    secure: bool
    capabilities: tuple[Capability, ...]

    def capability(self, capability_id: str) -> Capability | None:
        return next((c for c in self.capabilities if c.id == capability_id), None)

    @property
    def capability_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.capabilities)


@dataclass(frozen=True, slots=True)
class Catalogue:
    modules: tuple[Module, ...]

    def module(self, module_id: str) -> Module | None:
        """The module with exactly this id (E020 compares exactly, DSL §12.1)."""
        return next((m for m in self.modules if m.id == module_id), None)

    @property
    def module_ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.modules)


def _input(raw: dict[str, Any]) -> Input:
    kind = raw["type"]
    enum = raw.get("enum")
    return Input(
        name=raw["name"],
        aliases=tuple(raw.get("aliases", ())),
        type=tuple(kind) if isinstance(kind, list) else kind,
        required=bool(raw.get("required")),
        enum=tuple(enum) if enum is not None else None,
    )


def parse(raw: dict[str, Any]) -> Catalogue:
    """A catalogue from the `agents.json` data (RUNTIME.md §9.15)."""
    return Catalogue(
        tuple(
            Module(
                m["id"],
                bool(m["secure"]),
                tuple(
                    Capability(
                        c["id"],
                        bool(c["available"]),
                        bool(c["side_effects"]),
                        tuple(_input(i) for i in c["inputs"]),
                    )
                    for c in m["capabilities"]
                ),
            )
            for m in raw["modules"]
        )
    )


@cache
def builtin_catalogue() -> Catalogue:
    """The catalogue shipped with runtara-build."""
    return parse(json.loads(CATALOGUE_FILE.read_text(encoding="utf-8")))
