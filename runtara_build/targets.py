"""Loaded documents -> the target graph and one action per target (STYLE §4 steps 5–6).

Everything a key needs is gathered here, once per build: the canonical digest of each
document, the generator digest, the digest of each rule file a document uses, the crate
names and child-table ids. Paths are only where outputs go; they never enter a key.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtara_build.actions import (
    Action,
    CompileRust,
    GenerateRust,
    LinkBinary,
    Output,
    document_digest,
    flags_field,
    source_fields,
)
from runtara_build.codegen.main import MainInput, crate_name, emit_main
from runtara_build.codegen.program import LibraryInput, emit_library, required_fields
from runtara_build.depgraph import walk_steps
from runtara_build.graph import Target, TargetGraph, TargetKind
from runtara_build.keys import digest_bytes, digest_json, digest_tree

if TYPE_CHECKING:
    from runtara_build.check import Loaded
    from runtara_build.resolve import ScenarioReference
    from runtara_build.toolchain.rustc import RustcFlags

PACKAGE = Path(__file__).resolve().parent


@cache
def generator_digest() -> str:
    """The code generator's own sources: emitters, models, and the key composition."""
    from runtara_build import __version__

    files = [*PACKAGE.glob("codegen/*.py"), *PACKAGE.glob("dsl/*.py")]
    files += [PACKAGE / "api.py", PACKAGE / "actions.py", PACKAGE / "targets.py"]
    return digest_json([__version__, digest_tree(PACKAGE, files)])


@cache
def file_digest(path: str) -> str:
    return digest_bytes(Path(path).read_bytes())


@dataclass(frozen=True, slots=True)
class Doc:
    """One document of the build and where its outputs go."""

    ref: ScenarioReference
    crate: str
    table_id: str  # its id in a binary's child table
    out_dir: str  # relative to the output root's src/ and obj/

    @property
    def name(self) -> str:
        return self.ref.name


class Planner:
    """The documents of one loaded request, their targets and actions."""

    def __init__(self, loaded: Loaded, out: Path, flags: RustcFlags) -> None:
        self.loaded, self.out, self.flags = loaded, out, flags
        self.docs: dict[str, Doc] = {}
        for ref in loaded.graph.documents:
            self.docs[ref.name] = self._doc(ref)

    def _doc(self, ref: ScenarioReference) -> Doc:
        if ref.label is not None:
            crate = crate_name(ref.scenario_id, ref.name)
            return Doc(ref, crate, ref.name, ref.name.removeprefix("//"))
        graph = self.loaded.graph.documents[ref].graph
        digest = document_digest(graph) if graph is not None else ""
        crate = crate_name(ref.scenario_id, f"file:{ref.scenario_id}:{digest}")
        return Doc(ref, crate, ref.scenario_id, f"_file/{crate}")

    def graph(self, requested: list[tuple[str, TargetKind]]) -> TargetGraph:
        calls = {
            d.name: [c.name for c in self.loaded.graph.children(d.ref)] for d in self.docs.values()
        }
        return TargetGraph.build(calls, requested)

    def src_path(self, doc: Doc) -> Path:
        return self.out / "src" / doc.out_dir / "lib.rs"

    def obj_path(self, doc: Doc) -> Path:
        return self.out / "obj" / doc.out_dir / f"lib{doc.crate}.rlib"

    # ---------------------------------------------------------------- actions

    def generate(self, doc: Doc) -> GenerateRust:
        document = self.loaded.graph.documents[doc.ref]
        graph = document.graph
        assert graph is not None  # validated: no E000
        child_ids: dict[int, str] = {}
        rules: dict[str, str] = {}
        for _key, _ptr, step in walk_steps(graph, ""):
            rules[step.STEP_TYPE] = _rule_digest(step)
            if not hasattr(step, "child_scenario_id"):
                continue  # duck typing, as depgraph does: the engine names no step type
            callee = self.loaded.graph.child_ref(doc.ref, step)
            if callee is not None:
                child_ids[id(step)] = self.docs[callee.name].table_id
        origin = doc.ref.label.package_label if doc.ref.label else Path(doc.ref.path).name
        spec = LibraryInput(
            origin=origin,
            scenario_id=doc.ref.scenario_id,
            graph=graph,
            required=required_fields(graph),
            variable_overrides=dict(doc.ref.variables),
            child_ids=child_ids,
        )
        identity: dict[str, Any] = {
            "origin": origin,
            "scenario_id": doc.ref.scenario_id,
            "children": sorted(set(child_ids.values())),
            "variables": [list(v) for v in doc.ref.variables],
        }
        fields = source_fields(
            scenario_json=(Path(doc.ref.path).name, document_digest(graph)),
            generator=generator_digest(),
            rules=rules,
            identity=identity,
        )
        target = Target(doc.name, "src")
        output = Output("lib.rs", self.src_path(doc))
        return GenerateRust(target, fields, (output,), lambda: emit_library(spec))

    def compile(self, doc: Doc) -> CompileRust:
        fields = (("crate", doc.crate), ("flags", flags_field(self.flags)))
        output = Output("rlib", self.obj_path(doc))
        return CompileRust(
            Target(doc.name, "obj"), fields, (output,), doc.crate, self.src_path(doc)
        )

    def link(self, doc: Doc, graph: TargetGraph, binary: Path, tenant: str) -> LinkBinary:
        closure = [self.docs[n] for n in graph.closure(doc.name)]
        children = tuple(sorted((c.table_id, c.crate) for c in closure[1:]))
        document = self.loaded.graph.documents[doc.ref]
        origin = doc.ref.label.package_label if doc.ref.label else Path(doc.ref.path).name
        spec = MainInput(origin, doc.crate, children, document.debug_mode, tenant)
        source = emit_main(spec)
        fields = (("flags", flags_field(self.flags)), ("main.rs", digest_bytes(source.encode())))
        crates = tuple((c.crate, self.obj_path(c)) for c in closure)
        output = Output("bin", binary, executable=True)
        return LinkBinary(Target(doc.name, "bin"), fields, (output,), source, crates)

    def actions(
        self, graph: TargetGraph, binaries: dict[str, tuple[Path, str]]
    ) -> dict[Target, Action]:
        """One action per non-shared target; `binaries`: name -> (binary path, tenant)."""
        found: dict[Target, Action] = {}
        for target in graph.targets():
            if target.shared:
                continue
            doc = self.docs[target.name]
            if target.kind == "src":
                found[target] = self.generate(doc)
            elif target.kind == "obj":
                found[target] = self.compile(doc)
            else:
                path, tenant = binaries[target.name]
                found[target] = self.link(doc, graph, path, tenant)
        return found


def _rule_digest(step: Any) -> str:
    from runtara_build.registry import rule_for

    return file_digest(rule_for(step).source)
