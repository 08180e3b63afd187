"""The toolchain's identity, stat-cached: `rustc -vV`, the target and a sysroot digest.

Hashing the musl sysroot (about 112 MB) and running `rustc -vV` cost tens of milliseconds,
so both are remembered in `<cache>/toolchain.json` under the `(mtime_ns, size, inode)` of
the compiler and of every sysroot file: when none of those changed, neither did the
identity. The digest itself is over contents only, so it is the same on every machine with
the same toolchain and never holds a path or an mtime.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from runtara_build.keys import digest_bytes, digest_json
from runtara_build.toolchain.detect import LINKER, Toolchain, detect


@dataclass(frozen=True, slots=True)
class Identity:
    toolchain: Toolchain
    sysroot_digest: str

    @property
    def field(self) -> str:
        """The key field: the short release for people, then a digest of everything."""
        whole = digest_json([self.toolchain.version_text, self.toolchain.target,
                             self.sysroot_digest])  # fmt: skip
        return f"{self.toolchain.release} {whole}"


def _files(sysroot: Path) -> list[Path]:
    try:
        return sorted(p for p in sysroot.iterdir() if p.is_file())
    except OSError:
        return []


def _stats(rustc: str, sysroot: Path) -> list[list[object]]:
    found: list[list[object]] = []
    # The linker is part of the identity: a package upgrade changes its stat, so it is re-read.
    for path in [Path(rustc), Path(LINKER).resolve(), *_files(sysroot)]:
        try:
            st = os.stat(path)
        except OSError:
            continue
        found.append([path.name, st.st_mtime_ns, st.st_size, st.st_ino])
    return found


def sysroot_of(rustc: str, target: str) -> Path:
    return Path(rustc).resolve().parent.parent / "lib" / "rustlib" / target / "lib"


def identify(rustc: str, target: str, cache_dir: Path) -> Identity:
    """The identity of (`rustc`, `target`), from `cache_dir` when nothing stats differently."""
    memo = cache_dir / "toolchain.json"
    stats = _stats(rustc, sysroot_of(rustc, target))
    try:
        saved = json.loads(memo.read_text("utf-8"))
        entry = saved.get(f"{rustc} {target}")
        if entry and entry["stats"] == stats:
            tc = Toolchain(rustc, entry["version_text"], target, entry["sysroot_lib"])
            return Identity(tc, entry["sysroot_digest"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        saved = {}
    tc = detect(rustc, target)
    digest = digest_json(
        [[p.name, digest_bytes(p.read_bytes())] for p in _files(Path(tc.sysroot_lib))]
    )
    saved = saved if isinstance(saved, dict) else {}
    saved[f"{rustc} {target}"] = {
        "stats": stats,
        "version_text": tc.version_text,
        "sysroot_lib": tc.sysroot_lib,
        "sysroot_digest": digest,
    }
    _write(memo, saved)
    return Identity(tc, digest)


def _write(path: Path, data: object) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".toolchain.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.replace(tmp, path)
    except OSError:
        pass  # only a memo: the next build recomputes it
