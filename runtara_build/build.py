"""`build`: validated documents -> target graph -> cached actions -> outputs (DSL §11.4).

The pipeline (STYLE §4): load and validate every document once (`check`), refuse what the
runtime cannot compile (E120, E121), build the target DAG and one action per target
(`targets`), then let the `executor` look every key up in the cache and run only the misses.
Outputs land in the output tree, `<out>/{src,obj,bin}/<tenant>/<scenario>/...` (file mode:
`-o OUT`, or `runtara-out/bin/_file/<id>/bin`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from runtara_build.check import Loaded, Request, finish, load_request, validate_graph
from runtara_build.errors import EXIT_INTERNAL, ISSUE_TRACKER, BuildError, Diagnostic
from runtara_build.label import Kind, Label, Pattern, parse
from runtara_build.resolve import ScenarioReference

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from runtara_build.actions import Action
    from runtara_build.cache import Store
    from runtara_build.executor import Outcome
    from runtara_build.graph import Target, TargetGraph
    from runtara_build.targets import Planner
    from runtara_build.toolchain.identity import Identity
    from runtara_build.workspace import Workspace

FILE_OUT = Path("runtara-out/bin/_file")


@dataclass(frozen=True, slots=True)
class BuildOptions:
    strict: bool = False
    output: str | None = None  # file mode: -o OUT
    jobs: int = 0  # 0: WORKSPACE [build] jobs, else the CPU count
    progress: Callable[[Outcome, int, int], None] | None = None


@dataclass(frozen=True, slots=True)
class Overrides:
    """Test seams: a store, a toolchain identity or a cache directory to use instead."""

    store: Store | None = None
    identity: Identity | None = None
    cache_dir: Path | None = None


@dataclass(frozen=True, slots=True)
class Built:
    """One requested target and where its output is."""

    target: str
    kind: Kind
    path: Path


@dataclass(frozen=True, slots=True)
class Footprint:
    """What one requested target read: its documents (file, as diagnostics show it), every
    document it reaches included, and the labels of the targets it needed."""

    documents: tuple[tuple[Path, str], ...]
    targets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BuildResult:
    built: tuple[Built, ...]
    warnings: tuple[Diagnostic, ...]
    outcomes: tuple[Outcome, ...] = ()
    #: Per requested target, in the order of `built`.
    footprints: tuple[Footprint, ...] = field(default=(), repr=False)
    #: Every output of the build's targets.
    outputs: tuple[Path, ...] = field(default=(), repr=False)
    out_dir: Path | None = None
    #: The workspace's scenario indexes (tenant -> scenario id -> package) it computed.
    indexes: Mapping[str, Mapping[str, str]] = field(default_factory=dict, repr=False)
    #: Everything else the no-op fast path must stat (computed on demand: it lists the
    #: workspace, which a build of a few targets in a big workspace does not need).
    read: Callable[[], tuple[Path, ...]] = field(default=tuple, repr=False, compare=False)

    def outcome(self, label: str) -> str | None:
        """ "hit", "built" or "failed" for a target label such as `//acme/x:obj`."""
        found = [o.outcome for o in self.outcomes if str(o.target) == label]
        return found[0] if found else None


def default_cache_dir() -> Path:
    """File mode's cache: $RUNTARA_CACHE_DIR, else $XDG_CACHE_HOME/runtara-build."""
    explicit = os.environ.get("RUNTARA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "runtara-build"


def build(
    request: Request,
    *,
    cwd: Path,
    options: BuildOptions,
    overrides: Overrides | None = None,
    indexes: Mapping[str, Mapping[str, str]] | None = None,
) -> BuildResult:
    """Build every target of `request`; raises BuildError with all diagnostics on failure.
    `indexes`: the scenario indexes of an earlier build of the same workspace structure."""
    loaded = load_request(request, cwd, indexes)
    found = [
        *loaded.diagnostics,
        *validate_graph(loaded.graph, loaded.workspace, strict=options.strict),
    ]
    found += _build_time_checks(loaded)
    warnings = finish(found)
    if any(d.is_error for d in warnings):
        raise BuildError(*warnings)
    requested = _targets(request, loaded)
    if options.output is not None and len(requested) != 1:
        raise BuildError(Diagnostic("RB031", "-o must name the output of exactly one target"))
    session = _Session(loaded, cwd, options, overrides or Overrides())
    return session.run(requested, warnings)


def _build_time_checks(loaded: Loaded) -> list[Diagnostic]:
    from runtara_build.validate import build_time_checks

    return [d for doc in loaded.graph.documents.values() for d in build_time_checks(doc)]


def _targets(request: Request, loaded: Loaded) -> list[tuple[str, Kind, ScenarioReference]]:
    """(label shown, kind, reference) per requested target, in request order."""
    found: list[tuple[str, Kind, ScenarioReference]] = []
    for target in request.targets or ("//...",):
        kind: Kind = "bin"
        if target.startswith("//"):
            parsed = parse(target)
            kind = parsed.kind if isinstance(parsed, Label | Pattern) else "bin"
        for ref in loaded.refs(target):
            found.append((str(ref.label.with_kind(kind)) if ref.label else target, kind, ref))
    return found


class _Session:
    """One build: where things go, the toolchain, the store, then the engine."""

    def __init__(
        self, loaded: Loaded, cwd: Path, options: BuildOptions, overrides: Overrides
    ) -> None:
        self.loaded, self.cwd, self.options, self.overrides = loaded, cwd, options, overrides
        ws = loaded.workspace
        self.out = ws.root / ws.config.output.dir if ws is not None else cwd / "runtara-out"
        self.cache_dir = overrides.cache_dir or (
            _cache_dir(ws) if ws is not None else default_cache_dir()
        )

    def run(
        self, requested: list[tuple[str, Kind, ScenarioReference]], warnings: tuple[Diagnostic, ...]
    ) -> BuildResult:
        from runtara_build.executor import Engine, RustcContext
        from runtara_build.explain import Records
        from runtara_build.graph import Target
        from runtara_build.inputs import build_inputs
        from runtara_build.targets import Planner
        from runtara_build.toolchain.rustc import RustcFlags

        identity = self._identity()
        flags = RustcFlags(target=identity.toolchain.target)
        planner = Planner(self.loaded, self.out, flags)
        graph = planner.graph([(r.name, k) for _, k, r in requested])
        binaries = {r.name: self._binary(r) for _, k, r in requested if k == "bin"}
        actions = planner.actions(graph, binaries)
        runtime = _RuntimeOnce(self.cache_dir, identity)
        actions.update(_shared(graph, identity, runtime))
        records = Records(self.out / ".runtara" / "records.sqlite")
        scratch = self.out / ".runtara" / "tmp"
        rustc = RustcContext(identity.toolchain.rustc, flags, runtime.paths, scratch)
        store = self.overrides.store or self._store()
        engine = Engine(store, records, rustc, jobs=self._jobs(), progress=self.options.progress)
        try:
            outcomes = engine.run(graph, actions)
        finally:
            records.save()
        _raise_failures(outcomes, planner)
        built = tuple(
            Built(label, kind, actions[Target(r.name, kind)].outputs[0].path)
            for label, kind, r in requested
        )
        footprints = tuple(_footprint(graph, planner, kind, r) for _, kind, r in requested)
        outputs = tuple(o.path for a in actions.values() for o in a.outputs)
        loaded, cwd = self.loaded, self.cwd
        return BuildResult(
            built,
            warnings,
            tuple(outcomes),
            footprints,
            outputs,
            self.out,
            loaded.workspace.indexes() if loaded.workspace is not None else {},
            lambda: build_inputs(loaded, identity, cwd),
        )

    def _identity(self) -> Identity:
        from runtara_build.toolchain.identity import identify

        if self.overrides.identity is not None:
            return self.overrides.identity
        ws = self.loaded.workspace
        rustc, target = ("/usr/bin/rustc", "x86_64-unknown-linux-musl")
        if ws is not None:
            rustc, target = ws.config.toolchain.rustc, ws.config.toolchain.target
        return identify(rustc, target, self.cache_dir)

    def _store(self) -> Store:
        from runtara_build.cache.local import LocalStore

        return LocalStore.open(self.cache_dir, _size_limit(self.loaded.workspace))

    def _jobs(self) -> int:
        ws = self.loaded.workspace
        configured = ws.config.build.jobs if ws is not None else None
        return self.options.jobs or configured or os.cpu_count() or 1

    def _binary(self, ref: ScenarioReference) -> tuple[Path, str]:
        if ref.label is not None:
            return self.out / "bin" / ref.name.removeprefix("//") / "bin", ref.tenant or "default"
        if self.options.output is not None:
            return self.cwd / self.options.output, "default"
        return self.cwd / FILE_OUT / ref.scenario_id / "bin", "default"


def _cache_dir(ws: Workspace) -> Path:
    return ws.root / ws.config.cache.dir


def _size_limit(ws: Workspace | None) -> int:
    from runtara_build.cache import DEFAULT_MAX_SIZE
    from runtara_build.workspace import parse_size

    return parse_size(ws.config.cache.max_size) if ws is not None else DEFAULT_MAX_SIZE


def warm_store(cwd: Path) -> None:
    """Open the store of the workspace at `cwd` ahead of its next build (the build server
    does, between commands); a workspace whose store does not exist yet is left alone."""
    from runtara_build.cache.local import warm
    from runtara_build.workspace import Workspace

    try:
        ws = Workspace.find(cwd)
        warm(_cache_dir(ws), _size_limit(ws))
    except BuildError:
        pass


class _RuntimeOnce:
    """The runtime rlib, ensured on first use (the `@runtime` target), then remembered."""

    def __init__(self, cache_dir: Path, identity: Identity) -> None:
        self.cache_dir, self.identity = cache_dir, identity
        self._lib: tuple[str, str] | None = None

    def resolve(self) -> tuple[str, bool]:
        from runtara_build.runtime_lib import ensure_runtime

        lib = ensure_runtime(self.cache_dir, self.identity.toolchain)
        self._lib = (str(lib.rlib), str(lib.deps))
        return lib.digest, lib.built

    def paths(self) -> tuple[str, str]:
        if self._lib is None:
            self.resolve()
        assert self._lib is not None
        return self._lib


def _footprint(
    graph: TargetGraph, planner: Planner, kind: Kind, ref: ScenarioReference
) -> Footprint:
    """Every document a request for this target loads (to validate it, whatever the kind)
    and every target it needs."""
    from runtara_build.graph import Target

    docs = [planner.docs[name].ref for name in graph.closure(ref.name)]
    documents = tuple((d.file, d.path) for d in docs if d.file is not None)
    needed = graph.deps(Target(ref.name, kind))
    return Footprint(documents, tuple(str(t) for t in needed if not t.shared))


def _shared(graph: TargetGraph, identity: Identity, runtime: _RuntimeOnce) -> dict[Target, Action]:
    from runtara_build.actions import SharedInput
    from runtara_build.graph import RUNTIME, TOOLCHAIN

    found: dict[Target, Action] = {}
    if TOOLCHAIN in graph:
        found[TOOLCHAIN] = SharedInput(TOOLCHAIN, lambda: (identity.field, False))
    if RUNTIME in graph:
        found[RUNTIME] = SharedInput(RUNTIME, runtime.resolve)
    return found


def _raise_failures(outcomes: list[Outcome], planner: Planner) -> None:
    failed = [o for o in outcomes if o.outcome == "failed"]
    if not failed:
        return
    first = failed[0]
    message = (
        f"generated code for {first.target} failed to compile; this is a runtara-build bug, "
        f"not a problem in your workflow: please report it on {ISSUE_TRACKER}"
    )
    doc = planner.docs.get(first.target.name)
    hint = f"the generated source is kept at {planner.src_path(doc)}" if doc else None
    raise BuildError(
        Diagnostic("RB399", message, hint=hint, detail=first.error), exit_code=EXIT_INTERNAL
    )
