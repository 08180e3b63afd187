"""The runtime crate as a cached, precompiled rlib (built once per source and toolchain).

The crate ships with the package (`runtime/` in a checkout, `runtara_build/_runtime` in a
wheel). It is built with Debian's cargo for the musl target into a directory keyed by the
digest of its sources and the toolchain identity, then only its rlib and its dependencies'
rlibs are kept: `<cache>/runtime/<key>/{libruntara_runtime.rlib, deps/}`. Paths are remapped
so the rlib, and every binary linked against it, is the same from any checkout.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runtara_build.errors import BuildError, Diagnostic
from runtara_build.executor import run, scrubbed_env
from runtara_build.keys import action_key, digest_tree
from runtara_build.toolchain.detect import SETUP_HINT, Toolchain

CARGO = "/usr/bin/cargo"
RLIB = "libruntara_runtime.rlib"


@dataclass(frozen=True, slots=True)
class RuntimeLib:
    rlib: Path
    deps: Path
    digest: str  # the key the library was built under; part of every link key
    built: bool = False  # built by this call (not found in the cache)


def runtime_source_dir() -> Path:
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "runtime", here / "_runtime"):
        if (candidate / "Cargo.toml").is_file():
            return candidate
    raise BuildError(Diagnostic("RB399", "the runtime crate is missing from the installation"))


def runtime_sources(root: Path) -> list[Path]:
    """Every file the runtime rlib is built from; its digest keys the build."""
    files = [root / "Cargo.toml", root / "Cargo.lock", root / ".cargo" / "config.toml"]
    files += [p for p in (root / "src").rglob("*") if p.is_file()]
    return [p for p in files if p.is_file()]


def runtime_key(toolchain: Toolchain, root: Path | None = None) -> str:
    root = root or runtime_source_dir()
    fields = {
        "sources": digest_tree(root, runtime_sources(root)),
        "rustc": toolchain.version_text,
        "target": toolchain.target,
        "profile": "release",
    }
    return action_key("RuntimeLib", fields)


def ensure_runtime(cache_dir: Path, toolchain: Toolchain) -> RuntimeLib:
    """The runtime rlib for this toolchain, building it on first use (under a file lock)."""
    root = runtime_source_dir()
    key = runtime_key(toolchain, root)
    home = cache_dir / "runtime"
    done = home / key
    if (done / RLIB).is_file():
        return RuntimeLib(done / RLIB, done / "deps", key)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        built = not (done / RLIB).is_file()  # another process may have built it meanwhile
        if built:
            _build(root, home, done, toolchain)
    return RuntimeLib(done / RLIB, done / "deps", key, built)


def _build(root: Path, home: Path, done: Path, toolchain: Toolchain) -> None:
    target_dir = home / "cargo-target"
    cargo_home = Path(os.environ.get("CARGO_HOME", Path.home() / ".cargo"))
    remap = " ".join(
        f"--remap-path-prefix={src}={dst}"
        for src, dst in ((root, "runtime"), (cargo_home, "cargo"), (target_dir, "target"))
    )
    env = scrubbed_env(
        {
            "RUSTC": toolchain.rustc,
            "CARGO_HOME": str(cargo_home),
            "CARGO_TARGET_DIR": str(target_dir),
            "CC_x86_64_unknown_linux_musl": "musl-gcc",
            "RUSTFLAGS": remap,
            "HOME": str(Path.home()),
        }
    )
    argv = (CARGO, "build", "--release", "--locked", "--target", toolchain.target, "-q")
    result = run(argv, cwd=root, env=env)
    if result.returncode != 0:
        raise BuildError(
            Diagnostic(
                "RB410",
                f"the runtime crate must build, but cargo exited {result.returncode}:\n"
                + result.stderr.strip()[-4000:],
                hint=SETUP_HINT,
            )
        )
    built = target_dir / toolchain.target / "release"
    staging = Path(tempfile.mkdtemp(dir=home, prefix=".staging-"))
    shutil.copy2(built / RLIB, staging / RLIB)
    (staging / "deps").mkdir()
    # Proc-macro crates are built for the host, outside the target directory.
    host_macros = (target_dir / "release" / "deps").glob("*.so")
    for dep in [*(built / "deps").glob("*.rlib"), *host_macros]:
        if not dep.name.startswith("libruntara_runtime-"):
            shutil.copy2(dep, staging / "deps" / dep.name)
    os.replace(staging, done)
