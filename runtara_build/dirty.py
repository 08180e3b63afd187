"""Rebuild only the requested targets an edit touched; record what the next build needs.

The fast path (`manifest.look`, stdlib only) names the requested targets that read a changed
document when nothing else changed. Those targets alone go through the ordinary pipeline:
loaded, validated, planned and run by the engine, keys and early cutoff as always. Everything
the previous build said about the other targets is still true, because nothing they read
changed: they are reported as hits, their documents' warnings are kept (warnings are recorded
per document, and every warning points into the document that produced it), and their stats
are kept. This is Bazel's change pruning without a resident graph: the graph is the manifest.

A dirty build that fails (an edit introduced an error) gives way to the full build, which
reports every document's problems in one sorted list, exactly as a cold build would.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from runtara_build import manifest
from runtara_build.errors import BuildError, Diagnostic, render, sort_key

if TYPE_CHECKING:
    from runtara_build.build import BuildOptions, BuildResult, Built, Footprint
    from runtara_build.check import Request

#: A recorded warning: its sort key (file, line, column, code, message), then its text.
Recorded = list[Any]


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """A dirty build, merged with what the previous build recorded."""

    result: BuildResult  # the dirty targets' build (its outcomes carry --explain)
    stdout: str
    stderr: str
    targets: tuple[str, ...]  # every target of the request, for --events

    def events(self) -> dict[str, dict[str, Any]]:
        """label -> --events line of the targets this build looked at (the rest were hits)."""
        return {str(o.target): o.event() for o in self.result.outcomes if not o.target.shared}


def record(argv: Sequence[str], cwd: Path, result: BuildResult, stdout: str) -> None:
    """Remember a successful build for the next identical request."""
    stats: dict[str, manifest.Stat] = {}
    listings: dict[str, list[str]] = {}
    _stat_into(stats, listings, (str(p) for p in result.read()))
    # A missing path need not be statted when its directory is: creating it changes the
    # directory's mtime (a thousand packages without BUILD.toml are a thousand stats saved).
    stats = {p: st for p, st in stats.items() if st or not stats.get(os.path.dirname(p))}
    outputs: dict[str, manifest.Stat] = {}
    _stat_into(outputs, {}, (str(p) for p in result.outputs))
    roots, warnings = _roots(stats, result.built, result.footprints, result.warnings)
    if roots is None:
        return  # a document the inputs missed: no record beats a wrong one
    body = manifest.body((stats, outputs), (stdout, _stderr(result.warnings)), roots, {})
    body.update(listings=listings, warnings=warnings, indexes=result.indexes)
    manifest.save(argv, cwd, body)


def rebuild(
    argv: Sequence[str], cwd: Path, request: Request, options: BuildOptions, plan: manifest.Plan
) -> Rebuilt | None:
    """The dirty build of an edit, or None when only a full build will do."""
    from runtara_build.build import BuildResult

    saved, dirty = plan.saved, plan.dirty
    if saved.body.get("warnings", {}).get(""):
        return None
    roots = saved.roots()
    labels = list(dict.fromkeys(roots[i][0] for i in dirty))
    if not all(label.startswith("//") and "@" not in label for label in labels):
        return None
    rustc = any(t.endswith((":obj", ":bin")) for i in dirty for t in roots[i][3])
    outputs = _OutputCheck(saved, rustc=rustc)  # the other targets' outputs
    result = BuildResult((), ())  # no label: only directories changed, to the same names
    if labels:
        built = _build(request, labels, cwd, options, saved.body.get("indexes"))
        if built is None or not _same_outputs(
            built.built, {roots[i][0]: roots[i][1] for i in dirty}
        ):
            return None
        result = built
    if outputs.moved(result.outputs):
        return None  # an output of a target this build did not look at changed
    return _merge(saved, dirty, result, argv, cwd)


class _OutputCheck:
    """The stat of every recorded output, on a thread of its own, while the build's main
    thread waits on rustc. rustc starts some 20 ms into a dirty build (after loading,
    planning and generating its source), so the thread waits that long rather than compete
    with that work for the interpreter; a build that ends sooner starts it at once."""

    DELAY = 0.02

    def __init__(self, saved: manifest.Saved, *, rustc: bool) -> None:
        import threading

        self._changed: dict[str, manifest.Stat] = {}
        self._go = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(saved, self.DELAY if rustc else 0.0), daemon=True
        )
        self._thread.start()

    def _run(self, saved: manifest.Saved, delay: float) -> None:
        self._go.wait(delay)
        self._changed = saved.changed_outputs()

    def moved(self, rebuilt: Iterable[Path]) -> bool:
        """Did an output change that this build did not write?"""
        self._go.set()
        self._thread.join()
        return bool(set(self._changed) - {str(p) for p in rebuilt})


def _build(
    request: Request,
    labels: list[str],
    cwd: Path,
    options: BuildOptions,
    indexes: Mapping[str, Mapping[str, str]] | None,
) -> BuildResult | None:
    from dataclasses import replace

    from runtara_build.build import build

    restricted = replace(request, targets=tuple(labels))
    try:
        return build(restricted, cwd=cwd, options=options, indexes=indexes)
    except BuildError:
        return None


def _same_outputs(built: Iterable[Built], recorded: Mapping[str, str]) -> bool:
    return all(recorded.get(b.target) == str(b.path) for b in built)


def _merge(
    saved: manifest.Saved, dirty: list[int], result: BuildResult, argv: Sequence[str], cwd: Path
) -> Rebuilt | None:
    body = saved.body
    stats: dict[str, manifest.Stat] = dict(body["stats"])
    listings: dict[str, list[str]] = dict(body["listings"])
    stats.update(saved.changed)  # taken before this build read them: a later edit still shows
    fresh = [str(p) for fp in result.footprints for f, _ in fp.documents for p in (f, f.parent)]
    _stat_into(stats, listings, (p for p in fresh if p not in saved.changed), refresh=False)
    outputs: dict[str, manifest.Stat] = dict(body["outputs"])
    _stat_into(outputs, {}, (str(p) for p in result.outputs))
    roots, warnings = _roots(stats, result.built, result.footprints, result.warnings)
    if roots is None:
        return None
    by_label = {root[0]: root for root in roots}
    merged = list(body["roots"])
    for i in dirty:
        merged[i] = by_label[merged[i][0]]
    # Each document's warnings: from this build for the documents it loaded, else as recorded.
    kept = {int(k): v for k, v in body["warnings"].items()}
    loaded = {i for root in roots for i in root[2]}
    kept = {i: v for i, v in kept.items() if i not in loaded}
    kept.update({int(k): v for k, v in warnings.items()})
    live = {i for root in merged for i in root[2]}
    lines = sorted((w for i in live for w in kept.get(i, ())), key=lambda w: w[:5])
    stderr = "".join(dict.fromkeys(w[5] + "\n" for w in lines))
    new = manifest.body((stats, outputs), (body["stdout"], stderr), merged, {})
    new.update(listings=listings, warnings={str(i): kept[i] for i in live if i in kept})
    new["indexes"] = {**body.get("indexes", {}), **result.indexes}
    manifest.save(argv, cwd, new)
    targets = tuple(dict.fromkeys(t for root in merged for t in root[3]))
    return Rebuilt(result, body["stdout"], stderr, targets)


def _roots(
    stats: Mapping[str, manifest.Stat],
    built: Sequence[Built],
    footprints: Sequence[Footprint],
    diagnostics: Iterable[Diagnostic],
) -> tuple[list[list[Any]] | None, dict[str, list[Recorded]]]:
    """The manifest's roots and its warnings per document index ("" for any that points
    at no document: a manifest holding one never takes the dirty path)."""
    index = {path: i for i, path in enumerate(stats)}
    shown: dict[str, int] = {}
    roots: list[list[Any]] = []
    for b, fp in zip(built, footprints, strict=True):
        docs = []
        for file, display in fp.documents:
            if str(file) not in index:
                return None, {}
            docs.append(index[str(file)])
            shown[display] = index[str(file)]
        roots.append([b.target, str(b.path), docs, list(fp.targets)])
    warnings: dict[str, list[Recorded]] = {}
    for diag in diagnostics:
        owner = shown.get(diag.location.file or "")
        key = "" if owner is None else str(owner)
        warnings.setdefault(key, []).append([*sort_key(diag), render(diag)])
    return roots, warnings


def _stat_into(
    stats: dict[str, manifest.Stat],
    listings: dict[str, list[str]],
    paths: Iterable[str],
    *,
    refresh: bool = True,
) -> None:
    """Stat `paths` into `stats`, and list the directories among them."""
    for path in paths:
        if not refresh and path in stats:
            continue
        try:
            st = os.stat(path)
        except (OSError, ValueError):
            stats[path] = []
            continue
        stats[path] = [st.st_mtime_ns, st.st_size, st.st_ino]
        if stat.S_ISDIR(st.st_mode):
            listings[path] = manifest.listing(path)


def _stderr(warnings: Iterable[Diagnostic]) -> str:
    return "".join(render(d) + "\n" for d in warnings)
