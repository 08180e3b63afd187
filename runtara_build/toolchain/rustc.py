"""Pure argv builders for rustc (STYLE §3: no subprocess here). Analysis tests assert on them."""

from __future__ import annotations

from dataclasses import dataclass

#: Only these variables reach rustc; everything else (RUSTFLAGS, CARGO_*, HOME) is scrubbed.
ENV_ALLOWLIST = ("PATH", "LANG", "LC_ALL", "TMPDIR")
RUSTC_PATH = "/usr/bin:/bin"


@dataclass(frozen=True, slots=True)
class RustcFlags:
    """What shapes rustc's output besides its inputs; all of it is part of the compile key."""

    target: str = "x86_64-unknown-linux-musl"
    edition: str = "2021"
    opt_level: str = "s"
    codegen_units: int = 16

    def codegen(self) -> tuple[str, ...]:
        return (
            "--edition",
            self.edition,
            "--target",
            self.target,
            "-C",
            f"opt-level={self.opt_level}",
            "-C",
            f"codegen-units={self.codegen_units}",
            "-C",
            "panic=unwind",
            "-C",
            "debuginfo=0",
        )


def link_argv(  # noqa: PLR0913 - every argument is a distinct path rustc needs
    rustc: str,
    source: str,
    output: str,
    *,
    crate_name: str,
    runtime_rlib: str,
    deps_dir: str,
    remap_from: str,
    flags: RustcFlags,
) -> tuple[str, ...]:
    """Compile and link one generated program into a stripped static binary.

    `source` and `output` are relative to the working directory rustc runs in, and that
    directory is remapped, so no absolute path of this checkout reaches the binary.
    """
    return (
        rustc,
        *flags.codegen(),
        "--crate-type",
        "bin",
        "--crate-name",
        crate_name,
        "--extern",
        f"runtara_runtime={runtime_rlib}",
        "-L",
        f"dependency={deps_dir}",
        "-C",
        "strip=symbols",
        "--remap-path-prefix",
        f"{remap_from}=.",
        "--cap-lints",
        "allow",
        "-o",
        output,
        source,
    )
