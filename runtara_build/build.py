"""`build`: validated documents -> generated Rust -> rustc -> static binaries (DSL §11.4).

The pipeline: load and validate every document once (`check`), refuse anything the runtime
cannot compile yet (E120, E121), find the toolchain, make sure the runtime rlib exists, then
for each requested target generate its source and, unless only `:src` was asked for, link it.
Every output is written to a temporary file and renamed into place.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from runtara_build.check import Loaded, Request, finish, load_request, validate_graph
from runtara_build.codegen.program import (
    ProgramInput,
    ScenarioSource,
    emit_program,
    required_fields,
)
from runtara_build.errors import EXIT_INTERNAL, ISSUE_TRACKER, BuildError, Diagnostic
from runtara_build.label import Kind, Label, Pattern, parse
from runtara_build.resolve import ScenarioReference
from runtara_build.toolchain.detect import Toolchain, detect
from runtara_build.toolchain.rustc import RustcFlags, link_argv

FILE_OUT = Path("runtara-out/bin/_file")


@dataclass(frozen=True, slots=True)
class BuildOptions:
    strict: bool = False
    output: str | None = None  # file mode: -o OUT


@dataclass(frozen=True, slots=True)
class Built:
    """One requested target and where its output is."""

    target: str
    kind: Kind
    path: Path
    source: Path
    seconds: float


@dataclass(frozen=True, slots=True)
class BuildResult:
    built: tuple[Built, ...]
    warnings: tuple[Diagnostic, ...]


def default_cache_dir() -> Path:
    """File mode's cache: $RUNTARA_CACHE_DIR, else $XDG_CACHE_HOME/runtara-build."""
    explicit = os.environ.get("RUNTARA_CACHE_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "runtara-build"


def build(request: Request, *, cwd: Path, options: BuildOptions) -> BuildResult:
    """Build every target of `request`; raises BuildError with all diagnostics on failure."""
    loaded = load_request(request, cwd)
    found = [
        *loaded.diagnostics,
        *validate_graph(loaded.graph, loaded.workspace, strict=options.strict),
    ]
    found += _build_time_checks(loaded)
    diagnostics = finish(found)
    if any(d.is_error for d in diagnostics):
        raise BuildError(*diagnostics)
    warnings = diagnostics
    targets = _targets(request, loaded)
    if options.output is not None and len(targets) != 1:
        raise BuildError(Diagnostic("RB031", "-o must name the output of exactly one target"))
    plan = _Plan(loaded, cwd, options)
    return BuildResult(tuple(plan.build(t, ref, kind) for t, ref, kind in targets), warnings)


def _build_time_checks(loaded: Loaded) -> list[Diagnostic]:
    from runtara_build.validate import build_time_checks

    return [d for doc in loaded.graph.documents.values() for d in build_time_checks(doc)]


def _targets(request: Request, loaded: Loaded) -> list[tuple[str, ScenarioReference, Kind]]:
    found = []
    for target in request.targets or ("//...",):
        kind: Kind = "bin"
        if target.startswith("//"):
            parsed = parse(target)
            kind = parsed.kind if isinstance(parsed, Label | Pattern) else "bin"
        for ref in loaded.refs(target):
            found.append((str(ref.label.with_kind(kind)) if ref.label else target, ref, kind))
    return found


class _Plan:
    """Per-build state: the toolchain and runtime are found once, on first use."""

    def __init__(self, loaded: Loaded, cwd: Path, options: BuildOptions) -> None:
        self.loaded = loaded
        self.cwd = cwd
        self.options = options
        self.workspace = loaded.workspace
        self._toolchain: Toolchain | None = None
        self._runtime: Any = None

    def toolchain(self) -> Toolchain:
        if self._toolchain is None:
            if self.workspace is not None:
                cfg = self.workspace.config.toolchain
                self._toolchain = detect(cfg.rustc, cfg.target)
            else:
                self._toolchain = detect()
        return self._toolchain

    def runtime(self) -> Any:
        from runtara_build.runtime_lib import ensure_runtime

        if self._runtime is None:
            self._runtime = ensure_runtime(self.cache_dir(), self.toolchain())
        return self._runtime

    def cache_dir(self) -> Path:
        if self.workspace is not None:
            return self.workspace.root / self.workspace.config.cache.dir
        return default_cache_dir()

    def out_dir(self) -> Path:
        if self.workspace is not None:
            return self.workspace.root / self.workspace.config.output.dir
        return self.cwd / "runtara-out"

    def paths(self, ref: ScenarioReference) -> tuple[Path, Path]:
        """(generated source, binary) for a root document."""
        if ref.label is not None:
            pkg = ref.label.package
            return self.out_dir() / "src" / pkg / "main.rs", self.out_dir() / "bin" / pkg / "bin"
        source = self.out_dir() / "src" / "_file" / ref.scenario_id / "main.rs"
        if self.options.output is not None:
            return source, self.cwd / self.options.output
        return source, self.cwd / FILE_OUT / ref.scenario_id / "bin"

    def build(self, target: str, ref: ScenarioReference, kind: Kind) -> Built:
        start = time.monotonic()
        source, binary = self.paths(ref)
        write_atomic(source, self.translate(ref).encode())
        if kind == "src":
            return Built(target, kind, source, source, time.monotonic() - start)
        self.link(target, source, binary)
        return Built(target, kind, binary, source, time.monotonic() - start)

    def translate(self, ref: ScenarioReference) -> str:
        doc = self.loaded.graph.documents[ref]
        origin = ref.label.package_label if ref.label else Path(ref.path).name
        tenant = ref.tenant or "default"
        return emit_program(
            ProgramInput(origin, self.source(ref), doc.debug_mode, default_tenant=tenant)
        )

    def source(self, ref: ScenarioReference) -> ScenarioSource:
        graph = self.loaded.graph.documents[ref].graph
        assert graph is not None  # validated: no E000
        return ScenarioSource(
            key=ref.key,
            scenario_id=ref.scenario_id,
            graph=graph,
            required=required_fields(graph),
            variable_overrides=dict(ref.variables),
            resolve_child=self._child_resolver(ref),
        )

    def _child_resolver(self, ref: ScenarioReference) -> Callable[[Any], ScenarioSource]:
        def resolve(step: Any) -> ScenarioSource:
            child = self.loaded.graph.child_ref(ref, step)
            if child is None:  # validation reported E057 already; this is a tool bug
                raise BuildError(
                    Diagnostic("RB399", f"unresolved child {step.child_scenario_id!r}")
                )
            return self.source(child)

        return resolve

    def link(self, target: str, source: Path, binary: Path) -> None:
        from runtara_build.executor import run, scrubbed_env

        toolchain, runtime = self.toolchain(), self.runtime()
        binary.parent.mkdir(parents=True, exist_ok=True)
        tmp = binary.parent / f".{binary.name}.{os.getpid()}.tmp"
        argv = link_argv(
            toolchain.rustc,
            source.name,
            str(tmp),
            crate_name=_crate_name(source),
            runtime_rlib=str(runtime.rlib),
            deps_dir=str(runtime.deps),
            remap_from=str(source.parent),
            flags=RustcFlags(target=toolchain.target),
        )
        result = run(argv, cwd=source.parent, env=scrubbed_env())
        if result.returncode != 0:
            tmp.unlink(missing_ok=True)
            message = (
                f"generated code for {target} failed to compile; this is a runtara-build bug, "
                f"not a problem in your workflow: please report it on {ISSUE_TRACKER}"
            )
            hint = f"the generated source is kept at {source}"
            detail = result.stderr.strip()[-6000:]
            raise BuildError(
                Diagnostic("RB399", message, hint=hint, detail=detail), exit_code=EXIT_INTERNAL
            )
        os.replace(tmp, binary)


def _crate_name(source: Path) -> str:
    return "wf_" + re.sub(r"[^A-Za-z0-9_]", "_", source.parent.name)[:48]


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` through a temporary file in the same directory and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
