"""`check`: resolve targets, load every document once, validate each, report (DSL §11.1).

Targets are labels and patterns (workspace mode, §11.2) or workflow files (file mode, §11.3).
Every problem becomes a diagnostic and processing continues, so one run reports all of them;
a `BuildError` never escapes for bad input. The result is a frozen value for the CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtara_build.depgraph import DependencyGraph
from runtara_build.errors import BuildError, Diagnostic, sort_key
from runtara_build.label import Label, parse
from runtara_build.resolve import MEMORY_CHILDREN, Resolver, ScenarioReference
from runtara_build.workspace import Workspace

WorkflowSource = str | bytes | Mapping[str, Any] | Path
_VERSIONED = re.compile(r"(//[^@]*)@([1-9][0-9]{0,17})\Z")


@dataclass(frozen=True, slots=True)
class Request:
    """What to load: targets (labels, patterns, files) and the file-mode child options."""

    targets: tuple[str, ...] = ()
    children_dir: str | None = None
    child_files: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class CheckResult:
    """Sorted, de-duplicated diagnostics and what was checked."""

    diagnostics: tuple[Diagnostic, ...]
    roots: tuple[ScenarioReference, ...]
    documents: int

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors

    @property
    def ok(self) -> bool:
        return self.errors == 0


def finish(diagnostics: Iterable[Diagnostic]) -> tuple[Diagnostic, ...]:
    """De-duplicate (a problem met twice is reported once) and sort by place."""
    return tuple(sorted(dict.fromkeys(diagnostics), key=sort_key))


def is_label(target: str) -> bool:
    return target.startswith("//")


@dataclass(frozen=True, slots=True)
class Loaded:
    """The documents of a request, the workspace (None in file mode) and the problems met."""

    graph: DependencyGraph
    resolver: Resolver
    diagnostics: tuple[Diagnostic, ...]
    named: Mapping[str, list[ScenarioReference]] = field(default_factory=dict)

    @property
    def workspace(self) -> Workspace | None:
        return self.resolver.workspace

    def refs(self, target: str) -> list[ScenarioReference]:
        """The documents a target names (its problems are already in `diagnostics`)."""
        if target in self.named:
            return self.named[target]
        return roots(target, self.resolver)[0]


def load_request(
    request: Request, cwd: Path, indexes: Mapping[str, Mapping[str, str]] | None = None
) -> Loaded:
    """Resolve the targets and load their documents, children included. `indexes` are
    scenario indexes an earlier build computed for the same workspace structure."""
    found: list[Diagnostic] = []
    targets = request.targets or ("//...",)
    workspace = _workspace(cwd, found) if any(map(is_label, targets)) else None
    if workspace is not None and indexes:
        workspace.adopt_indexes(indexes)
    resolver = Resolver(
        workspace, children_dir=request.children_dir, child_files=dict(request.child_files)
    )
    found_roots: list[ScenarioReference] = []
    named: dict[str, list[ScenarioReference]] = {}
    for target in targets:
        refs, problems = roots(target, resolver)
        named[target] = refs
        found_roots += refs
        found += problems
    if workspace is not None:
        found += _unique_ids(workspace, found_roots)
    graph = DependencyGraph.load(found_roots, resolver)
    return Loaded(graph, resolver, (*found, *graph.diagnostics), named)


def _workspace(cwd: Path, found: list[Diagnostic]) -> Workspace | None:
    try:
        workspace = Workspace.find(cwd)
    except BuildError as exc:
        found += exc.diagnostics
        return None
    try:
        workspace.config  # noqa: B018 - a bad WORKSPACE is reported even when unused
    except BuildError as exc:
        found += exc.diagnostics
    return workspace


def roots(target: str, resolver: Resolver) -> tuple[list[ScenarioReference], list[Diagnostic]]:
    """The documents one target names (a file, a label, a pattern's packages) and problems.

    A broken package never hides the others a pattern names: each is resolved on its own.
    """
    refs: list[ScenarioReference] = []
    found: list[Diagnostic] = []
    try:
        if not is_label(target):
            return [resolver.root_file(target)], []
        # `//acme/billing@1` names version 1, as query output writes it (not a DSL label).
        versioned = _VERSIONED.match(target)
        parsed = parse(versioned.group(1) if versioned else target)
        if resolver.workspace is None:
            return [], []  # RB002 is already reported
        if versioned:
            if not isinstance(parsed, Label):
                msg = f"a version must follow a single label, but {target!r} has a pattern"
                raise BuildError(Diagnostic("RB001", msg))
            return [resolver.root_label(parsed, int(versioned.group(2)))], []
        labels = resolver.workspace.expand(parsed)
    except BuildError as exc:
        return [], list(exc.diagnostics)
    for label in labels:
        try:
            refs.append(resolver.root_label(label))
        except BuildError as exc:
            found += exc.diagnostics
    return refs, found


def _unique_ids(workspace: Workspace, roots: Sequence[ScenarioReference]) -> list[Diagnostic]:
    # RB015 is a workspace error whether or not some StartScenario happens to need the index.
    found: list[Diagnostic] = []
    for tenant in sorted({r.tenant for r in roots if r.tenant is not None}):
        try:
            workspace.scenario_index(tenant)
        except BuildError as exc:
            found += exc.diagnostics
    return found


def validate_graph(
    graph: DependencyGraph, workspace: Workspace | None, *, strict: bool
) -> list[Diagnostic]:
    """Run validation once per distinct document, children resolved through `graph`."""
    from runtara_build.validate import validate_document

    found: list[Diagnostic] = []
    for ref, doc in graph.documents.items():
        if doc.graph is None:
            continue  # E000 stops this document only (DSL §1.2)
        found += validate_document(doc, strict=strict, children=_children_of(graph, ref))
        # [variables] must name variables of the package's top-level graph: scenario.json.
        if workspace is not None and ref.label is not None and ref.name == ref.label.package_label:
            declared = set(doc.graph.variables)
            found += workspace.package(ref.label).check_variables(declared)
    return found


def _children_of(graph: DependencyGraph, ref: ScenarioReference) -> Callable[[Any], Any]:
    return lambda step: graph.child_graph(ref, step)


def check(request: Request, *, cwd: Path, strict: bool = False) -> CheckResult:
    """Validate the targets of `request` and every child they reach (DSL §11.1)."""
    loaded = load_request(request, cwd)
    found = [*loaded.diagnostics, *validate_graph(loaded.graph, loaded.workspace, strict=strict)]
    return CheckResult(finish(found), loaded.graph.roots, len(loaded.graph.documents))


def validate_workflow(
    document: WorkflowSource,
    *,
    children: Mapping[str, WorkflowSource] | None = None,
    strict: bool = False,
) -> list[Diagnostic]:
    """Validate one workflow and its children, all given in memory; never raises for bad input.

    `document` and each child are JSON text (str), bytes, a parsed object, or a file Path.
    `children` maps childScenarioId to the child (every childVersion); a child missing from
    it is E057. Diagnostics name the root `scenario.json` (or the Path) and the children
    `children/<id>.json`.
    """
    loaded = load_memory(document, children)
    if loaded.graph.roots:
        found = [*loaded.diagnostics, *validate_graph(loaded.graph, None, strict=strict)]
        return list(finish(found))
    return list(finish(loaded.diagnostics))


def load_memory(
    document: WorkflowSource,
    children: Mapping[str, WorkflowSource] | None = None,
    scenario_id: str | None = None,
) -> Loaded:
    """Load a workflow and its children given in memory (no roots when a source is unusable)."""
    found: list[Diagnostic] = []
    name = str(document) if isinstance(document, Path) else "scenario.json"
    memory = {name: _source_bytes(document, name, found)}
    for child_id, child in (children or {}).items():
        path = f"{MEMORY_CHILDREN}/{child_id}.json"
        memory[path] = _source_bytes(child, path, found)
    resolver = Resolver(memory=memory)
    if found:
        return Loaded(DependencyGraph(), resolver, tuple(found))
    root = resolver.root_memory(name, scenario_id or Path(name).stem)
    graph = DependencyGraph.load([root], resolver)
    return Loaded(graph, resolver, tuple(graph.diagnostics))


def _source_bytes(source: WorkflowSource, name: str, found: list[Diagnostic]) -> bytes:
    if isinstance(source, bytes):
        return source
    if isinstance(source, str):
        return source.encode("utf-8", "surrogatepass")
    if isinstance(source, Path):
        try:
            return source.read_bytes()
        except OSError as exc:
            msg = f"a workflow file must be readable, but {name}: {exc.strerror}"
            found.append(Diagnostic("RB023", msg))
            return b""
    try:
        text = json.dumps(source, indent=2, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        found.append(Diagnostic("E000", f"a document must be JSON, but {exc}"))
        return b""
    return text.encode("utf-8", "surrogatepass")
