"""Scenario references and StartScenario child resolution (DSL §11.2, §11.3).

A `ScenarioReference` names one workflow document. Its identity is the resolved file (or, for
in-memory documents, their name), so two spellings of one file are one node of the dependency
graph and one validation. The `Resolver` maps `(caller, childScenarioId, childVersion)` to a
reference: through the workspace for packages, through `--child`/`--children` for files.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from runtara_build.errors import BuildError, Diagnostic, Location, did_you_mean, quote
from runtara_build.label import SEGMENT, Label, parse_label
from runtara_build.workspace import Package, Workspace

#: Returned for a childVersion that is neither latest/current nor an integer >= 1: validation
#: reports it as E050, so resolution stays silent rather than adding an E057 for it.
INVALID_VERSION = "invalid"
#: In-memory children are shown as `children/<id>.json` in diagnostics.
MEMORY_CHILDREN = "children"


@dataclass(frozen=True, slots=True)
class ScenarioReference:
    """One workflow document: a package version (workspace), a file, or an in-memory document.

    Equality and hashing use `key` only (the resolved file), never how the path was written.
    `version` is the document's version number when known; None means "latest, unnumbered".
    `variables` are the package's BUILD.toml `[variables]` overrides, for code generation:
    each replaces the default of the variable of that name that the document declares.
    """

    key: str
    name: str = field(compare=False)  # `//acme/orders`, `//acme/orders@2`, or the path as given
    path: str = field(compare=False)  # the document, as shown in diagnostics
    scenario_id: str = field(compare=False)
    version: int | None = field(default=None, compare=False)
    label: Label | None = field(default=None, compare=False)
    tenant: str | None = field(default=None, compare=False)
    file: Path | None = field(default=None, compare=False)
    variables: tuple[tuple[str, Any], ...] = field(default=(), compare=False)

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A child that does not resolve: E057 at the call site; `problems` say why when known."""

    message: str
    hint: str | None = None
    problems: tuple[Diagnostic, ...] = ()


Resolution = ScenarioReference | Unresolved | None


def parse_version(value: object) -> int | str | None:
    """latest/current (any case) -> None; an integer >= 1 -> itself; else INVALID_VERSION."""
    if isinstance(value, str) and value.lower() in ("latest", "current"):
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    return INVALID_VERSION


class Resolver:
    """Resolves roots and children; a caller's mode (package, file, memory) picks the rules."""

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        children_dir: str | None = None,
        child_files: Mapping[str, str] | None = None,
        memory: Mapping[str, bytes] | None = None,
    ) -> None:
        self.workspace = workspace
        self.children_dir = children_dir
        self.child_files = dict(child_files or {})
        self.memory = dict(memory or {})

    # ---------------------------------------------------------------- roots

    def root_label(self, label: Label, version: int | None = None) -> ScenarioReference:
        """A version of a package, by default its `scenario.json` (raises RB0xx BuildErrors)."""
        ws = self._ws()
        package = ws.package(label)
        found = ws.document(package, version)
        if found is None:  # a missing version, or a dangling scenario.json symlink
            name = package.document_name(version)
            msg = f"{label.package_label} must have {name}, but it is missing"
            raise BuildError(Diagnostic("RB020", msg))
        return _package_ref(package, version, *found)

    def root_file(self, path: str) -> ScenarioReference:
        """A workflow file outside any package; its scenario id is its base name (§11.3)."""
        file = Path(path)
        if not is_file(file):
            state = "is not a file" if _exists(file) else "does not exist"
            msg = f"a workflow file must exist, but {path} {state}"
            raise BuildError(Diagnostic("RB023", msg, Location(path)))
        return _file_ref(file, path, file.stem)

    def root_memory(self, path: str, scenario_id: str) -> ScenarioReference:
        """An in-memory document, `memory[path]` (the public `validate_workflow` API)."""
        return ScenarioReference(f"memory:{path}", path, path, scenario_id)

    # ---------------------------------------------------------------- children

    def child(self, parent: ScenarioReference, child_id: str, version: object) -> Resolution:
        """The document a StartScenario of `parent` calls; None when its version is invalid."""
        if parent.label is not None:
            return self._package_child(parent.label, child_id, parse_version(version))
        if parent.file is None:
            return self._memory_child(child_id)
        return self._file_child(child_id)

    def read(self, ref: ScenarioReference) -> bytes:
        """The document's bytes; an unreadable file is RB023."""
        if ref.file is None:
            return self.memory[ref.path]
        try:
            return ref.file.read_bytes()
        except OSError as exc:
            msg = f"a workflow file must be readable, but {ref.path}: {exc.strerror}"
            raise BuildError(Diagnostic("RB023", msg, Location(ref.path))) from None

    def _ws(self) -> Workspace:
        if self.workspace is None:
            raise BuildError(Diagnostic("RB002", "labels need a workspace, but none was found"))
        return self.workspace

    def _memory_child(self, child_id: str) -> Resolution:
        path = f"{MEMORY_CHILDREN}/{child_id}.json"
        if path in self.memory:
            return self.root_memory(path, child_id)
        prefix = MEMORY_CHILDREN + "/"
        known = [p[len(prefix) : -5] for p in self.memory if p.startswith(prefix)]
        msg = f"child {quote(child_id)} must be one of the given children, but is not"
        return Unresolved(msg, did_you_mean(child_id, known))

    def _file_child(self, child_id: str) -> Resolution:
        given = self.child_files.get(child_id)
        if given is not None:
            if is_file(Path(given)):
                return _file_ref(Path(given), given, child_id)
            msg = f"--child {child_id}={given} must name a workflow file, but it does not exist"
            return Unresolved(msg)
        # A child id is a file name here, never a path: "../x" must not read outside DIR.
        safe = child_id not in ("", ".", "..") and not any(c in child_id for c in "/\\\0")
        if self.children_dir is not None and safe:
            shown = os.path.join(self.children_dir, child_id + ".json")
            if is_file(Path(shown)):
                return _file_ref(Path(shown), shown, child_id)
        return Unresolved(self._file_miss(child_id), self._file_hint(child_id))

    def _file_miss(self, child_id: str) -> str:
        want = f"child {quote(child_id)} must resolve to a workflow file"
        if self.children_dir is None:
            return f"{want}, but neither --children DIR nor --child {child_id}=PATH was given"
        return f"{want}, but {self.children_dir} has no {child_id}.json and no --child was given"

    def _file_hint(self, child_id: str) -> str | None:
        names = set(self.child_files)
        try:
            if self.children_dir is not None:
                names |= {n[:-5] for n in os.listdir(self.children_dir) if n.endswith(".json")}
        except (OSError, ValueError):
            pass
        return did_you_mean(child_id, names)

    def _package_child(self, caller: Label, child_id: str, version: int | str | None) -> Resolution:
        ws = self._ws()
        try:
            package = ws.package(self._child_package(ws, ws.package(caller), child_id))
            if isinstance(version, str):  # INVALID_VERSION: E050 says why
                return None
            found = ws.document(package, version)
        except _Missing as miss:
            return Unresolved(miss.message, miss.hint)
        except BuildError as exc:
            msg = f"child {quote(child_id)} must resolve to a valid package, but it does not"
            return Unresolved(msg, problems=exc.diagnostics)
        if found is None:
            msg = (
                f"version {version} of {package.label.package_label} must exist, but neither "
                f"its BUILD.toml version nor {package.document_name(version)} provides it"
            )
            return Unresolved(msg)
        return _package_ref(package, version, *found)

    def _child_package(self, ws: Workspace, caller: Package, child_id: str) -> Label:
        """[children] of the caller, else the tenant's scenario id, else `<tenant>/<id>`."""
        mapped = caller.config.children.get(child_id)
        if mapped is not None:
            label = parse_label(mapped)  # validated with BUILD.toml
            if label.with_kind("bin") not in ws.package_labels:
                raise _Missing(
                    f"child {quote(child_id)} must resolve to a package, but "
                    f"{caller.build_file} maps it to {label.package_label}, which does not exist",
                    did_you_mean(label.package_label, [p.package_label for p in ws.package_labels]),
                )
            return label
        tenant = caller.label.tenant
        index = ws.scenario_index(tenant)
        if child_id in index:
            return index[child_id]
        if SEGMENT.match(child_id) and Label(tenant, child_id) in ws.package_labels:
            return Label(tenant, child_id)
        raise _Missing(
            f"child {quote(child_id)} must resolve to a package of tenant {quote(tenant)}, but "
            f"no package has that scenario id and {tenant}/{child_id} does not exist",
            did_you_mean(child_id, [*index, *caller.config.children]),
        )


def is_file(path: Path) -> bool:
    """Path.is_file() that says False, not raises, for NUL bytes and over-long names."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except (OSError, ValueError):
        return False


class _Missing(Exception):
    def __init__(self, message: str, hint: str | None) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _package_ref(
    package: Package, version: int | None, file: Path, shown: str
) -> ScenarioReference:
    label = package.label
    numbered = package.document_name(version) != "scenario.json"
    return ScenarioReference(
        key=str(file),
        name=f"{label.package_label}@{version}" if numbered else label.package_label,
        path=shown,
        scenario_id=package.scenario_id,
        version=version if numbered else package.config.version,
        label=label,
        tenant=label.tenant,
        file=file,
        variables=tuple(sorted(package.config.variables.items())),
    )


def _file_ref(file: Path, shown: str, scenario_id: str) -> ScenarioReference:
    return ScenarioReference(str(file.resolve()), shown, shown, scenario_id, file=file.resolve())
