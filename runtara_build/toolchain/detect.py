"""Find and identify the musl toolchain (`rustc -vV`, target sysroot) or say what is missing."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

from runtara_build.errors import BuildError, Diagnostic

SETUP_HINT = "run `make setup` (it installs Debian's rustc-web and builds the musl std once)"


@dataclass(frozen=True, slots=True)
class Toolchain:
    rustc: str
    version_text: str  # the whole `rustc -vV`, part of every compile key
    target: str
    sysroot_lib: str

    @property
    def release(self) -> str:
        """`rustc 1.96.0` — the short form `--explain` shows."""
        first = self.version_text.splitlines()[0] if self.version_text else "rustc ?"
        return " ".join(first.split()[:2])


def detect(rustc: str = "/usr/bin/rustc", target: str = "x86_64-unknown-linux-musl") -> Toolchain:
    """Run `rustc -vV` and check the target's std is installed; RB401/RB402 otherwise."""
    try:
        proc = subprocess.run(
            [rustc, "-vV"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise BuildError(
            Diagnostic("RB401", f"the Rust compiler {rustc} must run, but {exc}", hint=SETUP_HINT)
        ) from None
    if proc.returncode != 0:
        raise BuildError(
            Diagnostic(
                "RB401",
                f"`{rustc} -vV` must succeed, but exited {proc.returncode}: {proc.stderr.strip()}",
                hint=SETUP_HINT,
            )
        )
    sysroot = Path(rustc).resolve().parent.parent / "lib" / "rustlib" / target / "lib"
    if not any(sysroot.glob("libstd-*.rlib")):
        raise BuildError(
            Diagnostic(
                "RB402",
                f"the standard library for {target} must be installed, but {sysroot} has none",
                hint=SETUP_HINT,
            )
        )
    return Toolchain(rustc, proc.stdout + _linker_version(), target, str(sysroot))


LINKER = "/usr/bin/ld.lld"


def _linker_version() -> str:
    """`ld.lld --version`, part of the toolchain identity (so of every link key)."""
    try:
        proc = subprocess.run(
            [LINKER, "--version"], capture_output=True, text=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        proc = None
    if proc is None or proc.returncode != 0:
        raise BuildError(
            Diagnostic("RB403", f"the linker {LINKER} must run, but it does not", hint=SETUP_HINT)
        )
    return proc.stdout
