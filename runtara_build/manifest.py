"""The build manifest: the no-op fast path and the dirty set of an edit (STYLE §4). Stdlib only.

After a successful build the CLI records, for that exact request (command line and working
directory), the `(mtime_ns, size, inode)` of every input the build read (documents, package
directories, BUILD.toml, WORKSPACE, rules, our own sources, the runtime's sources, the
toolchain) and of every output, plus what it printed, and for each requested target the
documents it read and the targets it needed. The next identical request stats the same paths:

- nothing changed: it prints the same lines and exits 0 without importing pydantic or
  networkx, hashing a file, or running rustc (`try_noop`);
- only documents changed (a directory whose entries are the same names counts as unchanged,
  which is what an editor's save-by-rename leaves): `plan` names the requested targets that
  read one of them, and `dirty` rebuilds just those, as Bazel re-evaluates only the nodes
  below a changed file;
- anything else (a package added, BUILD.toml, WORKSPACE, rules, the toolchain, our sources):
  the full pipeline runs, and verifies everything it reads.
"""

from __future__ import annotations

import marshal
import os
import sys
from collections.abc import Iterable, Mapping, Sequence

TYPE_CHECKING = False  # as in __init__: typing is not imported on the fast path
if TYPE_CHECKING:
    from typing import Any

    Cwd = str | os.PathLike[str]

VERSION = 2
#: Flags that never change what a build produces, so they are not part of the request.
_VALUE_FLAGS = {"-j", "--jobs", "--events"}
_BARE_FLAGS = {"--explain", "--debug"}

Stat = list[int]


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


def _out_dir(targets: Sequence[str], cwd: str) -> str | None:
    if not any(t.startswith("//") for t in targets):
        return os.path.join(cwd, "runtara-out")
    root, parent = cwd, ""
    while root != parent:
        ws = os.path.join(root, "WORKSPACE")
        if os.path.isfile(ws):
            try:
                with open(ws, encoding="utf-8") as handle:
                    text = handle.read()
                if "[output]" not in text:  # the usual case; tomllib costs an import
                    return os.path.join(root, "runtara-out")
                import tomllib

                config = tomllib.loads(text)
                return os.path.join(root, str(config.get("output", {}).get("dir", "runtara-out")))
            except (OSError, ValueError):
                return None
        root, parent = os.path.dirname(root), root
    return None


def location(argv: Sequence[str], cwd: str | os.PathLike[str]) -> tuple[str, str] | None:
    """Where the manifest of this request lives and the request's identity, which the
    manifest repeats (the file name holds only a checksum of it); None if not a build."""
    kept, _ = _split(argv)
    if not kept or kept[0] != "build":
        return None
    here = os.fspath(cwd)
    targets = [a for a in kept[1:] if not a.startswith("-")] or ["//..."]
    out = _out_dir(targets, here)
    if out is None:
        return None
    import zlib  # not hashlib: its OpenSSL import costs the fast path ~3 ms

    # Which installation and interpreter run is part of the request: another copy of
    # runtara-build (another venv, a checkout on PYTHONPATH) has its own sources and runtime,
    # which this manifest never statted, and marshal's format is the interpreter's.
    ident = repr((VERSION, here, kept, os.path.dirname(__file__), sys.version))
    name = f"noop-{zlib.crc32(ident.encode()):08x}.manifest"
    return os.path.join(out, ".runtara", name), ident


def listing(directory: str) -> list[str]:
    """A directory's entries, sorted, directories marked with a trailing slash."""
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return []
    return sorted(e.name + "/" if e.is_dir() else e.name for e in entries)


class Saved:
    """A manifest as read back: its body, and what changed since it was written.

    `changed` holds the inputs that changed; only when none did are the outputs statted too
    (`outputs_checked`), their changes then in `changed`. A dirty build checks the outputs
    itself, while rustc runs (`changed_outputs`).
    """

    __slots__ = ("body", "changed", "outputs_checked")

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.changed: dict[str, Stat] = {}
        self.outputs_checked = False

    def roots(self) -> list[list[Any]]:
        """Per requested target: [label, printed path, [document indices], [target labels]]."""
        roots: list[list[Any]] = self.body["roots"]
        return roots

    def targets(self) -> list[str]:
        """Every target label of the build, once each, for --events."""
        return list(dict.fromkeys(t for root in self.roots() for t in root[3]))

    def changed_outputs(self) -> dict[str, Stat]:
        """The recorded outputs whose stat changed (a missing one counts)."""
        return _changed(self.body["outputs"])


def _load(argv: Sequence[str], cwd: Cwd) -> Saved | None:
    """The manifest of this request, as written by the last successful build."""
    found = location(argv, cwd)
    if found is None:
        return None
    where, ident = found
    try:
        with open(where, "rb") as handle:
            # marshal, not json: a fifth of the load time and no import; the file is ours,
            # in the user's own output tree, and a damaged one only raises.
            body = marshal.loads(handle.read())
        if not isinstance(body, dict) or body.get("ident") != ident:
            return None
        return Saved(body)
    except (OSError, ValueError, EOFError, TypeError):
        return None


def read(argv: Sequence[str], cwd: Cwd) -> Saved | None:
    """The manifest of this request with `changed` filled in; None when there is none."""
    saved = _load(argv, cwd)
    if saved is None:
        return None
    try:
        saved.changed = _changed(saved.body["stats"])
        if not saved.changed:
            saved.changed = _changed(saved.body["outputs"])
            saved.outputs_checked = True
    except (KeyError, TypeError, AttributeError, IndexError):
        return None
    return saved


def _changed(stats: Mapping[str, Stat]) -> dict[str, Stat]:
    """The paths whose stat is not the recorded one, with their stat now."""
    changed: dict[str, Stat] = {}
    stat = os.stat
    # The hot loop of every no-op: a stat and three comparisons per path, nothing else.
    for path, recorded in stats.items():
        try:
            st = stat(path)
        except (OSError, ValueError):
            if recorded:
                changed[path] = []
            continue
        if (
            not recorded
            or st.st_mtime_ns != recorded[0]
            or st.st_size != recorded[1]
            or st.st_ino != recorded[2]
        ):
            changed[path] = [st.st_mtime_ns, st.st_size, st.st_ino]
    return changed


def replay(saved: Saved, argv: Sequence[str]) -> int:
    """Print what the recorded build printed; its targets were all hits."""
    _, events = _split(argv)
    sys.stderr.write(saved.body["stderr"])
    sys.stdout.write(saved.body["stdout"])
    if events:
        write_hits(events, saved.targets(), {})
    return 0


def try_noop(argv: Sequence[str], cwd: Cwd) -> int | None:
    """Exit code 0 after replaying the recorded output when nothing changed; else None."""
    return look(argv, cwd)[0]


class Plan:
    """An edit's dirty set: the manifest, and the indices of the requested targets (its
    `roots`) that read a changed document."""

    __slots__ = ("dirty", "saved")

    def __init__(self, saved: Saved, dirty: list[int]) -> None:
        self.saved, self.dirty = saved, dirty


def look(argv: Sequence[str], cwd: Cwd) -> tuple[int | None, Plan | None]:
    """The fast path: (0, None) after a replay when nothing changed; (None, the `Plan`) when
    only documents changed; (None, None) otherwise."""
    saved = read(argv, cwd)
    if saved is None:
        return None, None
    if saved.changed:
        dirty = plan(saved)
        return None, None if dirty is None else Plan(saved, dirty)
    try:
        return replay(saved, argv), None
    except (KeyError, TypeError, IndexError):
        return None, None


def plan(saved: Saved) -> list[int] | None:
    """The indices of the requested targets an edit touches, when only documents changed;
    None when something else changed (a directory whose entries are the same names, as a
    save by rename leaves it, has not)."""
    body = saved.body
    try:
        paths = list(body["stats"])
        docs = {paths[i] for root in body["roots"] for i in root[2]}
        listings: Mapping[str, list[str]] = body["listings"]
        for path, now in saved.changed.items():
            if path in docs:
                if not now:
                    return None  # a deleted document: its package is gone or broken
            elif path not in listings or listing(path) != listings[path]:
                return None
        index = {p: i for i, p in enumerate(paths)}
        changed = {index[p] for p in saved.changed if p in docs}
        return [i for i, root in enumerate(body["roots"]) if changed.intersection(root[2])]
    except (KeyError, TypeError, IndexError, ValueError):
        return None


def save(argv: Sequence[str], cwd: Cwd, body: dict[str, Any]) -> None:
    """Write the request's manifest atomically; a failure only costs the next build its
    shortcut."""
    import tempfile

    found = location(argv, cwd)
    if found is None:
        return
    where, ident = found
    try:
        os.makedirs(os.path.dirname(where), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(where), prefix=".noop.")
        with os.fdopen(fd, "wb") as handle:
            handle.write(marshal.dumps({**body, "ident": ident}))
        os.replace(tmp, where)
    except (OSError, ValueError):
        pass


def body(
    stats: tuple[Mapping[str, Stat], Mapping[str, Stat]],
    printed: tuple[str, str],
    roots: Iterable[list[Any]],
    extra: Mapping[str, Any],
) -> dict[str, Any]:
    """A manifest: `stats` of (inputs, outputs), `printed` (stdout, stderr); `extra` holds
    listings, warnings and scenario indexes."""
    return {"stats": dict(stats[0]), "outputs": dict(stats[1]), "stdout": printed[0],
            "stderr": printed[1], "roots": list(roots), **extra}  # fmt: skip


def write_hits(path: str, labels: Iterable[str], ran: Mapping[str, dict[str, Any]]) -> None:
    """`--events FILE` for targets that were hits, except those in `ran` (label -> event)."""
    import json
    from json.encoder import encode_basestring

    with open(path, "w", encoding="utf-8") as handle:
        for label in labels:
            event = ran.get(label)
            if event is not None:
                handle.write(json.dumps(event, ensure_ascii=False) + "\n")
                continue
            kind = label.rpartition(":")[2]
            handle.write(f'{{"label": {encode_basestring(label)}, "kind": '
                         f'{encode_basestring(kind)}, "outcome": "hit", "duration_ms": 0, '
                         f'"reason": ""}}\n')  # fmt: skip


def write_events(path: str, events: Iterable[dict[str, Any]]) -> None:
    """`--events FILE`: one JSON object per line."""
    import json

    with open(path, "w", encoding="utf-8") as handle:
        for event in events:
            handle.write(json.dumps(event, ensure_ascii=False) + "\n")
