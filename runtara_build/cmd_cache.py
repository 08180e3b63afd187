"""`clean [--expunge]` and `cache gc [--max-size SIZE]`: deleting outputs and trimming the cache.

In a workspace they act on `<root>/<[output] dir>` (which holds the engine's no-op manifest,
`.runtara/noop-*.manifest`) and `<root>/<[cache] dir>`; outside one, on `./runtara-out` and the
file-mode cache (`build.default_cache_dir()`). Only the stdlib is imported at module level:
`cli` builds every command's parser on every run.
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from runtara_build.cache import DEFAULT_MAX_SIZE, GcReport
from runtara_build.errors import EXIT_OK, BuildError, error

FILE_MODE_OUT = "runtara-out"
#: Kept by `--expunge`: the repository's cache/README.md is tracked and documents the directory.
KEEP_IN_CACHE = ("README.md",)


@dataclass(frozen=True, slots=True)
class Locations:
    """Where a command acts: the workspace root (the working directory in file mode), the
    output tree, the cache directory and its size limit."""

    root: Path
    out_dir: Path
    cache_dir: Path
    max_size: int
    workspace: bool = False


def _absolute(path: Path) -> Path:
    # Lexical, not resolve(): a symlinked output dir is unlinked, never followed.
    return Path(os.path.abspath(path))


def locate(cwd: Path) -> Locations:
    """The locations for `cwd`: its workspace's settings, or file mode's when it has none."""
    from runtara_build.workspace import Workspace, parse_size

    try:
        ws = Workspace.find(cwd)
    except BuildError as exc:
        if exc.diagnostics[0].code != "RB002":  # no WORKSPACE at all means file mode
            raise
        from runtara_build.build import default_cache_dir

        cache = _absolute(default_cache_dir())
        return Locations(_absolute(cwd), _absolute(cwd / FILE_MODE_OUT), cache, DEFAULT_MAX_SIZE)
    cfg = ws.config
    out, cache = _absolute(ws.root / cfg.output.dir), _absolute(ws.root / cfg.cache.dir)
    return Locations(ws.root, out, cache, parse_size(cfg.cache.max_size), workspace=True)


# --------------------------------------------------------------------------- clean


def clean(cwd: Path, *, expunge: bool) -> GcReport:
    """Delete the output tree, and with `expunge` the cache's contents too (but its README).

    `removed_*` count the files deleted; `remaining_bytes` is what is left under the cache
    directory. Raises RB503, deleting nothing, when a directory to delete contains the
    workspace root (the working directory in file mode) or the home directory.
    """
    loc = locate(cwd)
    targets = [(loc.out_dir, "[output] dir" if loc.workspace else f"./{FILE_MODE_OUT}")]
    if expunge:
        targets.append((loc.cache_dir, "[cache] dir" if loc.workspace else "the file-mode cache"))
    for path, what in targets:
        _refuse_unsafe(path, what, loc.root)
    # Without --expunge a cache inside the output tree survives; with it, only its README.
    keep = {loc.cache_dir / name for name in KEEP_IN_CACHE} if expunge else {loc.cache_dir}
    files = size = 0
    for path, _ in targets:
        f, b = _remove(path, frozenset(keep))
        files, size = files + f, size + b
    return GcReport(files, size, _tree_size(loc.cache_dir))


def _refuse_unsafe(path: Path, what: str, root: Path) -> None:
    real = path.resolve()
    for precious, name in ((root.resolve(), "the workspace root"), (Path.home(), "home")):
        if precious.is_relative_to(real):
            raise error(
                "RB503",
                f"{what} must not contain {name}, but {path} contains {precious}; "
                "nothing was deleted",
                hint="point the directory at a dedicated subdirectory",
            )


def _remove(path: Path, keep: frozenset[Path]) -> tuple[int, int]:
    """Delete `path` but the paths in `keep` (and the directories above them); (files, bytes)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return 0, 0
    if path in keep:
        return 0, 0
    if not stat.S_ISDIR(info.st_mode):  # files and symlinks: never followed
        path.unlink(missing_ok=True)
        return 1, info.st_size
    files = size = 0
    for child in sorted(path.iterdir()):
        f, b = _remove(child, keep)
        files, size = files + f, size + b
    if not any(k.is_relative_to(path) for k in keep):
        path.rmdir()
    return files, size


def _tree_size(path: Path) -> int:
    total = 0
    for parent, _, names in os.walk(path):
        for name in names:
            try:
                total += os.lstat(os.path.join(parent, name)).st_size
            except FileNotFoundError:  # a concurrent build evicted it
                continue
    return total


# --------------------------------------------------------------------------- cache gc


def gc(cwd: Path, max_size: int | None) -> tuple[GcReport, int]:
    """Trim the local cache to `max_size` (default: WORKSPACE `[cache] max_size`, 5 GiB in
    file mode), least recently used first; the report and the size trimmed to. A cache that
    does not exist is not created."""
    loc = locate(cwd)
    limit = loc.max_size if max_size is None else max_size
    if not all((loc.cache_dir / sub).is_dir() for sub in ("ac", "cas")):
        return GcReport(0, 0, 0), limit
    from runtara_build.cache.local import LocalStore

    with LocalStore(loc.cache_dir, loc.max_size) as store:
        return store.gc(limit), limit


# --------------------------------------------------------------------------- command line


def _size(text: str) -> int:
    from runtara_build.workspace import parse_size

    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", choices=("text", "json"), default="text", help="summary format")


def clean_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--expunge", action="store_true", help="also empty the local cache ([cache] dir)"
    )
    _output_option(parser)


def cache_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="cache_command", metavar="SUBCOMMAND", required=True)
    text = "trim the local cache, least recently used first"
    gc_parser = sub.add_parser("gc", help=text, description=text)
    gc_parser.add_argument(
        "--max-size",
        type=_size,
        metavar="SIZE",
        help='target size, e.g. "500MB" or "2GiB" (default: WORKSPACE [cache] max_size)',
    )
    gc_parser.add_argument("--debug", action="store_true", default=argparse.SUPPRESS)
    _output_option(gc_parser)


def run_clean(args: argparse.Namespace) -> int:
    report = clean(Path.cwd(), expunge=args.expunge)
    command = "clean --expunge" if args.expunge else "clean"
    _print(report, args.output, f"{command}: removed {report.removed_entries} file(s)", "")
    return EXIT_OK


def run_cache(args: argparse.Namespace) -> int:
    report, limit = gc(Path.cwd(), args.max_size)
    head = f"cache gc: removed {report.removed_entries} entries"
    _print(report, args.output, head, f" (limit {_human(limit)})")
    return EXIT_OK


def _print(report: GcReport, output: str, head: str, tail: str) -> None:
    """JSON on stdout, or one summary line on stderr (like `check`, never both)."""
    if output == "json":
        print(json.dumps(report.to_json()))
        return
    sizes = f"{_human(report.removed_bytes)}; cache: {_human(report.remaining_bytes)}"
    print(f"{head}, {sizes}{tail}", file=sys.stderr)


def _human(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    size = n / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
