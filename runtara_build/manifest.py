"""The no-op fast path: a persisted stat manifest per request (STYLE §4). Stdlib only.

After a successful build the CLI records, for that exact request (command line and working
directory), the `(mtime_ns, size, inode)` of every input the build read (documents, package
directories, BUILD.toml, WORKSPACE, rules, our own sources, the runtime's sources, the
toolchain) and of every output, plus what it printed. The next identical request stats the
same paths; if every one is unchanged, nothing can have changed, so it prints the same lines
and exits 0 without importing pydantic or networkx, hashing a file, or running rustc. Any
difference is a miss and the full pipeline runs (and verifies everything it reads).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

VERSION = 1
#: Flags that never change what a build produces, so they are not part of the request.
_VALUE_FLAGS = {"-j", "--jobs", "--events"}
_BARE_FLAGS = {"--explain", "--debug"}


def _split(argv: Sequence[str]) -> tuple[list[str], str | None]:
    """(the request's own arguments, the --events file if any)."""
    kept: list[str] = []
    events = None
    i = 0
    while i < len(argv):
        arg = argv[i]
        name, eq, value = arg.partition("=")
        if name in _VALUE_FLAGS:
            if not eq:
                i += 1
                value = argv[i] if i < len(argv) else ""
            events = value if name == "--events" else events
        elif arg not in _BARE_FLAGS and not (arg.startswith("-j") and arg[2:].isdigit()):
            kept.append(arg)
        i += 1
    return kept, events


def _out_dir(targets: Sequence[str], cwd: Path) -> Path | None:
    if not any(t.startswith("//") for t in targets):
        return cwd / "runtara-out"
    for root in (cwd, *cwd.parents):
        ws = root / "WORKSPACE"
        if ws.is_file():
            try:
                text = ws.read_text("utf-8")
                if "[output]" not in text:  # the usual case; tomllib costs an import
                    return root / "runtara-out"
                import tomllib

                config = tomllib.loads(text)
                return root / str(config.get("output", {}).get("dir", "runtara-out"))
            except (OSError, ValueError):
                return None
    return None


def _location(kept: Sequence[str], cwd: Path) -> Path | None:
    if not kept or kept[0] != "build":
        return None
    targets = [a for a in kept[1:] if not a.startswith("-")] or ["//..."]
    out = _out_dir(targets, cwd)
    if out is None:
        return None
    import hashlib

    # Which installation runs is part of the request: another copy of runtara-build (another
    # venv, a checkout on PYTHONPATH) has its own sources and runtime, which this manifest
    # never statted.
    ident = json.dumps([VERSION, str(cwd), list(kept), os.path.dirname(__file__)]).encode()
    return out / ".runtara" / f"noop-{hashlib.sha1(ident).hexdigest()[:20]}.json"


def stat_of(path: str) -> list[int]:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return []
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def try_noop(argv: Sequence[str], cwd: Path) -> int | None:
    """Exit code 0 after replaying the recorded output when nothing changed; else None."""
    kept, events = _split(argv)
    where = _location(kept, cwd)
    if where is None:
        return None
    try:
        saved = json.loads(where.read_bytes())
        paths: dict[str, list[int]] = saved["stats"]
        if saved.get("version") != VERSION:
            return None
        for path, recorded in paths.items():
            if stat_of(path) != recorded:
                return None
        stdout, stderr, targets = saved["stdout"], saved["stderr"], saved["targets"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    sys.stderr.write(stderr)
    sys.stdout.write(stdout)
    if events:
        write_events(events, ({"label": t, "kind": t.rpartition(":")[2], "outcome": "hit",
                               "duration_ms": 0, "reason": ""} for t in targets))  # fmt: skip
    return 0


def record(
    argv: Sequence[str], cwd: Path, paths: Iterable[Path], printed: tuple[str, str, list[str]]
) -> None:
    """Remember a successful build: `printed` is (stdout, stderr, target labels)."""
    kept, _ = _split(argv)
    where = _location(kept, cwd)
    if where is None:
        return
    stdout, stderr, targets = printed
    stats = {str(p): stat_of(str(p)) for p in paths}
    body = {"version": VERSION, "stats": stats, "stdout": stdout, "stderr": stderr,
            "targets": targets}  # fmt: skip
    import tempfile

    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where.parent, prefix=".noop.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(json.dumps(body, separators=(",", ":")))  # dumps: the C encoder
        os.replace(tmp, where)
    except OSError:
        pass  # the fast path is an optimisation: without it the next build is only slower


def write_events(path: str, events: Iterable[dict[str, Any]]) -> None:
    """`--events FILE`: one JSON object per line."""
    with open(path, "w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")
