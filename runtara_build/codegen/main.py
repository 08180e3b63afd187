"""emit_main: the tiny main crate of one binary, and the stable crate names it links.

Each scenario document is its own library crate (`emit_library`). A binary is the root's
crate plus one crate per child it reaches, tied together here: `ScenarioDef` from the root's
exports and the id -> ChildDef table (API.md §4, §5). Relinking after a child edit therefore
recompiles only this file, which is a few lines long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from runtara_build.codegen.literals import rust_bool, rust_str
from runtara_build.codegen.program import HEADER
from runtara_build.codegen.writer import RustWriter

_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def crate_name(scenario_id: str, identity: str) -> str:
    """A valid, stable crate name: readable prefix, plus a digest prefix of `identity`
    (the document's name) so that `a-b` and `a_b` never share a crate."""
    from runtara_build.keys import digest_bytes

    readable = _UNSAFE.sub("_", scenario_id)[:40]
    return f"wf_{readable}_{digest_bytes(identity.encode())[:10]}"


@dataclass(frozen=True, slots=True)
class MainInput:
    origin: str
    root_crate: str
    children: tuple[tuple[str, str], ...]  # (child id, crate name), sorted by id
    debug_mode: bool = False
    default_tenant: str = "default"


def emit_main(spec: MainInput) -> str:
    """The main crate's source: deterministic, a handful of lines."""
    out = RustWriter()
    out.line(HEADER.format(origin=spec.origin))
    out.line("#![allow(clippy::all, unused)]")
    out.line("extern crate runtara_runtime as rt;")
    out.line(f"extern crate {spec.root_crate} as root;")
    for crate in sorted({c for _, c in spec.children}):
        out.line(f"extern crate {crate};")
    out.blank()
    with out.block("static SCENARIO: rt::ScenarioDef = rt::ScenarioDef", close="};"):
        out.line("scenario_id: root::SCENARIO_ID,")
        out.line("graph: &root::G0,")
        out.line("required: root::REQUIRED,")
        out.line(f"debug_mode: {rust_bool(spec.debug_mode)},")
        out.line(f"default_tenant: {rust_str(spec.default_tenant)},")
    out.blank()
    with out.indented("static CHILDREN: rt::ChildTable = &[", "];"):
        for child_id, crate in spec.children:
            out.line(f"({rust_str(child_id)}, &{crate}::CHILD),")
    out.blank()
    with out.block("fn main()"):
        out.line("rt::main_with_children(&SCENARIO, CHILDREN)")
    return out.text()
