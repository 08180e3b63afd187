"""Every file and directory a build read, for the no-op fast path's stat manifest (STYLE §4).

Directories are listed too: creating, deleting or renaming an entry changes a directory's
mtime, which is how "no package was added or removed" is decided without listing anything.
The list errs on the side of more: a spurious miss costs one full (cached) build; a missing
input would cost a wrong no-op.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runtara_build.registry import builtin_rules_dir
from runtara_build.runtime_lib import runtime_source_dir, runtime_sources
from runtara_build.toolchain.identity import sysroot_of

if TYPE_CHECKING:
    from runtara_build.check import Loaded
    from runtara_build.toolchain.identity import Identity

PACKAGE = Path(__file__).resolve().parent


def build_inputs(loaded: Loaded, identity: Identity, cwd: Path) -> tuple[Path, ...]:
    """Documents, workspace structure, rules, our own sources, runtime sources, toolchain."""
    found: list[Path] = []
    for ref in loaded.graph.documents:
        if ref.file is not None:
            found += [ref.file, ref.file.parent]
    ws = loaded.workspace
    if ws is not None:
        found += _workspace(loaded)
    elif loaded.resolver.children_dir is not None:
        found.append(cwd / loaded.resolver.children_dir)
    found += _tree(builtin_rules_dir(), "*.py")
    found += _tree(PACKAGE, "**/*.py")
    root = runtime_source_dir()
    found += runtime_sources(root)
    tc = identity.toolchain
    found += [Path(tc.rustc), sysroot_of(tc.rustc, tc.target)]
    return tuple(dict.fromkeys(found))


def _workspace(loaded: Loaded) -> list[Path]:
    ws = loaded.workspace
    assert ws is not None
    found = [ws.root, ws.root / "WORKSPACE"]
    tenants = {label.tenant for label in ws.package_labels}
    found += [ws.root / t for t in sorted(tenants)]
    for label in ws.package_labels:
        package = ws.root / label.package
        found += [package, package / "BUILD.toml", package / "versions"]
    return found


def _tree(root: Path, pattern: str) -> list[Path]:
    # __pycache__ changes whenever Python writes bytecode; it is never an input.
    found = [root, *(p for p in root.glob("**/") if "__pycache__" not in p.parts)]
    if "**" not in pattern:
        found = [root]
    files = (p for p in root.glob(pattern) if p.is_file() and "__pycache__" not in p.parts)
    return [*found, *sorted(files)]
