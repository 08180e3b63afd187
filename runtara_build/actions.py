"""Frozen action values: what each target runs, its static key fields and its outputs.

An action is data: the executor looks its key up in the cache and runs it only on a miss.
The static `fields` are the key inputs known before the build (document digest, generator,
rules, crate name, flags); the executor adds one field per dependency output, so a `:obj`
key holds the digest of the generated Rust (early cutoff) and a `:bin` key the digests of
the rlibs it links. No field holds an absolute path, an mtime or the environment.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtara_build.keys import digest_bytes, digest_json

if TYPE_CHECKING:
    from runtara_build.graph import Target

Fields = tuple[tuple[str, str], ...]

#: Graph members codegen never reads: display and documentation only (the top level's
#: `name` is not the step `name`, which codegen emits as stepName).
IGNORED_GRAPH_MEMBERS = frozenset({"name", "description", "notes", "output_schema"})


@dataclass(frozen=True, slots=True)
class Output:
    """One declared output: its name in the action result and where it is materialised."""

    name: str
    path: Path
    executable: bool = False


@dataclass(frozen=True, slots=True)
class GenerateRust:
    """`:src`: run the in-process emitter; the output is the crate's `lib.rs`."""

    target: Target
    fields: Fields
    outputs: tuple[Output, ...]
    emit: Callable[[], str] = field(compare=False, repr=False)
    mnemonic: str = "Generate"


@dataclass(frozen=True, slots=True)
class CompileRust:
    """`:obj`: rustc the generated library (`source`, the `:src` output) into an rlib."""

    target: Target
    fields: Fields
    outputs: tuple[Output, ...]
    crate: str
    source: Path
    mnemonic: str = "Rustc"


@dataclass(frozen=True, slots=True)
class LinkBinary:
    """`:bin`: compile the tiny main crate and link it with `crates` (name, rlib path)."""

    target: Target
    fields: Fields
    outputs: tuple[Output, ...]
    main_source: str
    crates: tuple[tuple[str, Path], ...]
    mnemonic: str = "Link"


@dataclass(frozen=True, slots=True)
class SharedInput:
    """A shared target (toolchain, runtime rlib): `resolve()` -> (identity, built it now?).

    Its identity goes into the key of every action that depends on it."""

    target: Target
    resolve: Callable[[], tuple[str, bool]] = field(compare=False, repr=False)
    fields: Fields = ()
    outputs: tuple[Output, ...] = ()
    mnemonic: str = "Shared"


Action = GenerateRust | CompileRust | LinkBinary | SharedInput


def document_digest(graph: Any) -> str:
    """The canonical digest of a workflow's top-level graph model.

    Whitespace never matters (the model is hashed, not the text), and neither does the
    order of model members (pydantic dumps them in field order) or an unknown member (the
    models drop them). Object values that are dicts keep their document order: InputMapping
    order is semantic (DSL §3.1), and step and composite-object order shapes the generated
    code, so the key must see it.
    """
    dumped = graph.model_dump(
        mode="json", by_alias=True, exclude_unset=True, exclude=set(IGNORED_GRAPH_MEMBERS)
    )
    return digest_bytes(_ordered_json(dumped))


def _ordered_json(value: Any) -> bytes:
    import json

    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def source_fields(
    *,
    scenario_json: tuple[str, str],
    generator: str,
    rules: Mapping[str, str],
    identity: Mapping[str, Any],
) -> Fields:
    """Key fields of a GenerateRust: the document (`(file name, digest)`), the generator,
    each rule file used (`rule <stepType>`), and what else shapes the text (`identity`:
    origin, scenario id, child ids, variable overrides)."""
    name, digest = scenario_json
    found = {name: digest, "generator": generator, "identity": digest_json(dict(identity))}
    found |= {f"rule {tag}": rules[tag] for tag in sorted(rules)}
    return tuple(sorted(found.items()))


@functools.cache  # one flags value per build, asked for by every rustc target
def flags_field(flags: Any) -> str:
    """The rustc flags as one key field (a dataclass of strings and ints)."""
    from dataclasses import asdict

    return digest_json(asdict(flags))
