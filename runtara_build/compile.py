"""The compilation API, mirroring the crate this product replaces.

`translate_scenario` gives the generated Rust of a scenario; `compile_scenario` builds its
static binary through the same engine as the CLI (file mode, cached, incremental);
`workflow_has_side_effects` tells whether running it may touch the outside world.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtara_build.check import WorkflowSource, finish, load_memory, validate_graph
from runtara_build.errors import BuildError


@dataclass(frozen=True)
class CompilationInput:
    """A scenario, its children by childScenarioId, and where the binary goes.

    `work_dir` holds the documents and the build's output tree (`runtara-out/`); it defaults
    to the binary's directory. The scenario id is fixed at build time (RUNTIME §1).
    """

    scenario: WorkflowSource
    output: Path
    children: Mapping[str, WorkflowSource] = field(default_factory=dict)
    scenario_id: str = "scenario"
    strict: bool = False
    work_dir: Path | None = None


@dataclass(frozen=True)
class CompilationResult:
    binary: Path
    size: int  # bytes
    seconds: float
    source: Path  # the generated Rust of the scenario itself


def _text(source: WorkflowSource) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str):
        return source.encode()
    if isinstance(source, Path):
        return source.read_bytes()
    return json.dumps(source).encode()


def compile_scenario(spec: CompilationInput) -> CompilationResult:
    """Build the scenario's static binary at `spec.output`; raises BuildError on failure."""
    from runtara_build.build import BuildOptions, build
    from runtara_build.check import Request

    start = time.monotonic()
    output = spec.output.resolve()
    work = (spec.work_dir or output.parent).resolve()
    docs = work / ".runtara-build-input"
    (docs / "children").mkdir(parents=True, exist_ok=True)
    scenario = docs / f"{spec.scenario_id}.json"
    scenario.write_bytes(_text(spec.scenario))
    for child_id, child in spec.children.items():
        (docs / "children" / f"{child_id}.json").write_bytes(_text(child))
    request = Request((str(scenario),), str(docs / "children"))
    build(request, cwd=work, options=BuildOptions(strict=spec.strict, output=str(output)))
    sources = sorted((work / "runtara-out" / "src" / "_file").glob("*/lib.rs"))
    source = max(sources, key=lambda p: p.stat().st_mtime_ns) if sources else output
    return CompilationResult(output, output.stat().st_size, time.monotonic() - start, source)


def translate_scenario(
    scenario: WorkflowSource,
    *,
    children: Mapping[str, WorkflowSource] | None = None,
    scenario_id: str = "scenario",
) -> str:
    """The generated Rust (the `:src` output) of a scenario; raises BuildError if invalid."""
    from runtara_build.targets import Planner
    from runtara_build.toolchain.rustc import RustcFlags

    loaded = load_memory(scenario, children, scenario_id)
    found = finish([*loaded.diagnostics, *validate_graph(loaded.graph, None, strict=False)])
    if not loaded.graph.roots or any(d.is_error for d in found):
        raise BuildError(*[d for d in found if d.is_error])
    planner = Planner(loaded, Path("runtara-out"), RustcFlags())
    root = loaded.graph.roots[0]
    return planner.generate(planner.docs[root.name]).emit()


def workflow_has_side_effects(scenario: WorkflowSource) -> bool:
    """Whether the workflow (its nested graphs included) calls a capability with side effects
    (RUNTIME §9.1) or starts a child scenario, whose effects cannot be known from here."""
    from runtara_build.depgraph import walk_steps
    from runtara_build.validate.catalogue import builtin_catalogue

    loaded = load_memory(scenario)
    if not loaded.graph.roots:
        raise BuildError(*loaded.diagnostics)
    doc = loaded.graph.documents[loaded.graph.roots[0]]
    if doc.graph is None:
        raise BuildError(*doc.diagnostics)
    catalogue = builtin_catalogue()
    return any(_step_effects(step, catalogue) for _, _, step in walk_steps(doc.graph, ""))


def _step_effects(step: Any, catalogue: Any) -> bool:
    if getattr(step, "child_scenario_id", None) is not None:
        return True
    capability = getattr(step, "capability", None)
    if capability is None:
        return False
    module = catalogue.module(capability[0])
    found = module.capability(capability[1]) if module else None
    return bool(found and found.side_effects)
