"""The import rules of ARCHITECTURE.md, checked by walking `ast` imports (STYLE §3)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "runtara_build"
RULES = PKG.parent / "rules"

# module (relative to the package) -> imports it must never make
FORBIDDEN: dict[str, tuple[str, ...]] = {
    "errors.py": ("runtara_build.", "pydantic", "networkx"),
    "label.py": ("runtara_build.dsl", "runtara_build.registry", "pydantic", "networkx"),
    "codegen/literals.py": ("runtara_build.", "subprocess"),
    "codegen/writer.py": ("runtara_build.", "subprocess"),
    "toolchain/rustc.py": ("subprocess", "runtara_build."),
    "dsl/base.py": ("runtara_build.registry", "networkx", "subprocess"),
    "dsl/workflow.py": ("runtara_build.registry", "networkx", "subprocess"),
    "dsl/load.py": ("runtara_build.registry", "networkx", "subprocess"),
    # The client runs before anything heavy is imported: the stdlib only (docs/SERVER.md).
    "client.py": ("runtara_build.", "pydantic", "networkx", "diskcache", "xxhash"),
}
#: Each third-party library has one home (STYLE §3).
HOMES = {"networkx": ("depgraph.py", "graph.py"), "xxhash": ("keys.py",), "diskcache": ("cache/",)}


def _imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append(node.module)
    return found


@pytest.mark.parametrize("module", sorted(FORBIDDEN))
def test_forbidden_imports(module: str) -> None:
    path = PKG / module
    if not path.exists():
        pytest.skip(f"{module} does not exist yet")
    bad = [
        i
        for i in _imports(path)
        for f in FORBIDDEN[module]
        if i == f.rstrip(".") or i.startswith(f)
    ]
    assert not bad, f"{module} must not import {bad}"


def test_third_party_homes() -> None:
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        for lib, homes in HOMES.items():
            if any(i.split(".")[0] == lib for i in _imports(path)):
                assert any(rel.startswith(h) for h in homes), f"{rel} imports {lib}"


def test_rules_import_only_the_api() -> None:
    for path in RULES.glob("*.py"):
        for name in _imports(path):
            if name.startswith("runtara_build"):
                assert name == "runtara_build.api", f"{path.name} imports {name}"


def test_subprocess_only_in_runners() -> None:
    allowed = ("executor.py", "toolchain/detect.py", "runner.py", "cli.py", "client.py")
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG).as_posix()
        if "subprocess" in _imports(path):
            assert rel in allowed, f"{rel} imports subprocess"
