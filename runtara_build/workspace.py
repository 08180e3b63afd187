"""The workspace: its root, WORKSPACE and BUILD.toml, and its packages (DSL §11.2, STYLE §10).

A package is a directory `<tenant>/<scenario>` exactly two levels below the root holding
`scenario.json`. Every path handed out here is checked to stay inside the root, because a
symlink or a `..` must never let a label read files from elsewhere (RB022).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from runtara_build.errors import BuildError, Diagnostic, Location, did_you_mean, quote
from runtara_build.label import SEGMENT, Label, Pattern, parse_label
from runtara_build.tomlfile import toml_line, validate_toml

WORKSPACE_FILE = "WORKSPACE"
BUILD_FILE = "BUILD.toml"
SCENARIO_FILE = "scenario.json"
VERSIONS_DIR = "versions"

_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KiB|MiB|GiB|TiB)?\s*\Z")
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12}
_UNITS |= {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def parse_size(text: str) -> int:
    """`"5GiB"` -> bytes; a bare number is bytes. Raises ValueError on anything else."""
    m = _SIZE.match(text)
    if m is None:
        raise ValueError(f'must be a size such as "5GiB" or "500MB", but was {quote(text)}')
    return int(float(m.group(1)) * _UNITS[m.group(2) or "B"])


class _Strict(BaseModel):
    # Files this project owns reject unknown keys and never coerce (STYLE §11 rule 2).
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class ToolchainConfig(_Strict):
    rustc: str = Field(default="/usr/bin/rustc", description="The rustc that owns the sysroot.")
    target: str = Field(default="x86_64-unknown-linux-musl", description="Target triple.")


class CacheConfig(_Strict):
    dir: str = Field(default="cache", description="Local store, relative to the root.")
    remote: str = Field(default="", description="Remote cache URL; empty = local only.")
    max_size: str = Field(default="5GiB", description="Trim target of `cache gc`.")

    @field_validator("max_size")
    @classmethod
    def _size(cls, value: str) -> str:
        parse_size(value)
        return value

    @field_validator("remote")
    @classmethod
    def _url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"must be empty or an http(s) URL, but was {quote(value)}")
        return value


class BuildSection(_Strict):
    jobs: int | None = Field(default=None, ge=1, description="Parallel actions; default CPUs.")


class OutputConfig(_Strict):
    dir: str = Field(default="runtara-out", description="Outputs, relative to the root.")


class WorkspaceConfig(_Strict):
    """The WORKSPACE file; every section and key is optional."""

    toolchain: ToolchainConfig = Field(default_factory=ToolchainConfig)
    cache: CacheConfig = Field(default_factory=CacheConfig)
    build: BuildSection = Field(default_factory=BuildSection)
    output: OutputConfig = Field(default_factory=OutputConfig)


class BuildConfig(_Strict):
    """A package's BUILD.toml (DSL §11.2)."""

    tenant: str | None = Field(default=None, description="Must equal the label's tenant.")
    scenario_id: str | None = Field(default=None, min_length=1, description="Default: dir name.")
    version: int | None = Field(default=None, ge=1, description="scenario.json's version.")
    children: dict[str, str] = Field(default_factory=dict, description="child id -> label.")
    variables: dict[str, Any] = Field(default_factory=dict, description="Variable overrides.")

    @field_validator("children")
    @classmethod
    def _labels(cls, value: dict[str, str]) -> dict[str, str]:
        for child, label in value.items():
            try:
                parse_label(label)
            except BuildError:
                raise ValueError(
                    f'must map child ids to labels such as "//acme/billing", but '
                    f"{quote(child)} maps to {quote(label)}"
                ) from None
        return value

    @field_validator("variables")
    @classmethod
    def _json_only(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name, item in value.items():
            if not _is_json(item):
                raise ValueError(f"must hold JSON values, but {quote(name)} is a TOML date or time")
        return value


def _is_json(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_json(v) for v in value.values())
    if isinstance(value, list):
        return all(_is_json(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


# --------------------------------------------------------------------------- packages

_WS_CODES = ("RB005", "RB003", "RB004")
_BUILD_CODES = ("RB010", "RB011", "RB012")


@dataclass(frozen=True, slots=True)
class Package:
    """One package: its label (kind "bin"), resolved directory and BUILD.toml."""

    label: Label
    path: Path
    config: BuildConfig = field(default_factory=BuildConfig)
    build_file: str | None = None  # workspace-relative BUILD.toml, when present
    build_text: str = field(default="", compare=False, repr=False)

    @property
    def scenario_id(self) -> str:
        return self.config.scenario_id or self.label.scenario

    def document_name(self, version: int | None) -> str:
        """The file of a version: latest (None) and BUILD.toml's `version` are scenario.json."""
        if version is None or version == self.config.version:
            return SCENARIO_FILE
        return f"{VERSIONS_DIR}/{version}.json"

    def check_variables(self, declared: set[str]) -> list[Diagnostic]:
        """RB014 for every [variables] key the package's top-level graph does not declare."""
        found = []
        for name in sorted(set(self.config.variables) - declared):
            line = toml_line(self.build_text, ("variables", name))
            where = Location(self.build_file, line, 1 if line else None, f"/variables/{name}")
            msg = (
                f"[variables] keys must name variables declared by {self.label.package_label}'s "
                f"scenario.json, but {quote(name)} is not declared"
            )
            found.append(Diagnostic("RB014", msg, where, did_you_mean(name, declared)))
        return found


class Workspace:
    """A workspace root with cached package lookups. Raises BuildError with RB0xx codes."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._packages: dict[Label, Package] = {}
        self._indexes: dict[str, dict[str, Label] | BuildError] = {}
        self._real_dirs: dict[Path, Path] = {}

    @classmethod
    def find(cls, start: Path) -> Workspace:
        """The nearest directory at or above `start` holding a WORKSPACE file (RB002 if none)."""
        here = start.resolve()
        for candidate in (here, *here.parents):
            if (candidate / WORKSPACE_FILE).is_file():
                return cls(candidate)
        msg = f"labels need a workspace, but no {WORKSPACE_FILE} file is in {here} or above it"
        hint = "create a WORKSPACE file at the workspace root (see WORKSPACE.example)"
        raise BuildError(Diagnostic("RB002", msg, hint=hint))

    @cached_property
    def config(self) -> WorkspaceConfig:
        return validate_toml(WorkspaceConfig, self.root / WORKSPACE_FILE, WORKSPACE_FILE, _WS_CODES)

    def relative(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def inside(self, path: Path, what: str) -> Path:
        """`path` resolved; RB022 when it (through symlinks or `..`) leaves the workspace."""
        try:
            real = self._resolve(path)
        except (OSError, RuntimeError):  # a symlink loop
            real = None
        if real is None or not real.is_relative_to(self.root):
            shown = (
                path.relative_to(self.root).as_posix() if path.is_relative_to(self.root) else path
            )
            msg = f"{what} must stay inside the workspace, but {shown} leads to {real or 'a loop'}"
            hint = "replace the symlink by a copy, or move the files into the workspace"
            raise BuildError(Diagnostic("RB022", msg, Location(str(shown)), hint))
        return real

    @cached_property
    def package_labels(self) -> tuple[Label, ...]:
        """Every package, sorted: `<tenant>/<scenario>/scenario.json` with valid segments."""
        found: list[Label] = []
        for tenant in _subdirs(self.root):
            for name in _subdirs(self.root / tenant):
                if os.path.lexists(self.root / tenant / name / SCENARIO_FILE):
                    found.append(Label(tenant, name))
        return tuple(sorted(found))

    def expand(self, target: Label | Pattern) -> tuple[Label, ...]:
        """The labels a target names: itself (checked to exist), or a pattern's packages."""
        if isinstance(target, Label):
            return (self.package(target).label.with_kind(target.kind),)
        labels = tuple(
            lb.with_kind(target.kind)
            for lb in self.package_labels
            if target.tenant is None or lb.tenant == target.tenant
        )
        if not labels:
            tenants = sorted({lb.tenant + "/..." for lb in self.package_labels})
            msg = f"a pattern must match at least one package, but {target} matches none"
            hint = did_you_mean(f"{target.tenant}/...", tenants) if target.tenant else None
            raise BuildError(Diagnostic("RB021", msg, hint=hint))
        return labels

    def package(self, label: Label) -> Package:
        """The package of a label, BUILD.toml validated (RB010–RB013, RB020, RB022)."""
        key = label.with_kind("bin")
        if key not in self._packages:
            self._packages[key] = self._load_package(key)
        return self._packages[key]

    def _load_package(self, label: Label) -> Package:
        path = self.root / label.tenant / label.scenario
        if not os.path.lexists(path / SCENARIO_FILE):
            known = [lb.package_label for lb in self.package_labels]
            state = "has no scenario.json" if path.is_dir() else "does not exist"
            msg = f"{label.package_label} must name a package, but {label.package} {state}"
            raise BuildError(
                Diagnostic("RB020", msg, hint=did_you_mean(label.package_label, known))
            )
        real = self.inside(path, f"package {label.package_label}")
        build = path / BUILD_FILE
        if not build.exists():
            return Package(label, real)
        shown = self.relative(path / BUILD_FILE)
        self.inside(build, shown)
        config = validate_toml(BuildConfig, build, shown, _BUILD_CODES)
        text = build.read_text("utf-8")
        if config.tenant is not None and config.tenant != label.tenant:
            line = toml_line(text, ("tenant",))
            msg = (
                f"'tenant' must equal the label's tenant {quote(label.tenant)}, "
                f"but was {quote(config.tenant)}"
            )
            raise BuildError(Diagnostic("RB013", msg, Location(shown, line, 1, "/tenant")))
        return Package(label, real, config, shown, text)

    def _resolve(self, path: Path) -> Path:
        """`path.resolve()`, with each directory resolved once per build: a workspace of a
        thousand packages otherwise pays a dozen lstat calls per file, twice."""
        if path.name in ("", ".", "..") or os.path.islink(path):
            return path.resolve()
        parent = path.parent
        real = self._real_dirs.get(parent)
        if real is None:
            real = self._real_dirs[parent] = self._resolve(parent)
        return real / path.name

    def document(self, package: Package, version: int | None) -> tuple[Path, str] | None:
        """(resolved file, workspace-relative path) of a version, or None when it is absent."""
        name = package.document_name(version)
        path = self.root / package.label.package / name
        if not os.path.lexists(path):
            return None
        return self.inside(path, name), self.relative(path)

    def scenario_index(self, tenant: str) -> dict[str, Label]:
        """Scenario id -> package for one tenant; RB015 when two packages share an id."""
        if tenant not in self._indexes:
            try:
                self._indexes[tenant] = self._index(tenant)
            except BuildError as exc:
                self._indexes[tenant] = exc
        found = self._indexes[tenant]
        if isinstance(found, BuildError):
            raise found
        return found

    def indexes(self) -> dict[str, dict[str, str]]:
        """The scenario indexes computed so far, as plain data: tenant -> id -> package."""
        return {
            tenant: {sid: label.package for sid, label in index.items()}
            for tenant, index in self._indexes.items()
            if not isinstance(index, BuildError)
        }

    def adopt_indexes(self, indexes: Mapping[str, Mapping[str, str]]) -> None:
        """Take indexes an earlier build computed (`indexes`) instead of reading every
        package again; only for a structure proven unchanged since (`manifest.plan`)."""
        for tenant, index in indexes.items():
            found: dict[str, Label] = {}
            for sid, package in index.items():
                owner, _, name = package.partition("/")
                found[sid] = Label(owner, name)
            self._indexes[tenant] = found

    def _index(self, tenant: str) -> dict[str, Label]:
        index: dict[str, Label] = {}
        for label in self.package_labels:
            if label.tenant != tenant:
                continue
            package = self.package(label)
            other = index.setdefault(package.scenario_id, label)
            if other != label:
                msg = (
                    f"scenario ids must be unique within tenant {quote(tenant)}, but "
                    f"{other.package_label} and {label.package_label} are both "
                    f"{quote(package.scenario_id)}"
                )
                line = toml_line(package.build_text, ("scenario_id",))
                where = Location(package.build_file or label.package, line, 1 if line else None)
                hint = "set a distinct scenario_id in one of their BUILD.toml files"
                raise BuildError(Diagnostic("RB015", msg, where, hint))
        return index


def _subdirs(path: Path) -> list[str]:
    # Names that cannot be label segments (".git", "my dir") are never packages.
    try:
        entries = list(os.scandir(path))
    except OSError:
        return []
    return sorted(e.name for e in entries if SEGMENT.match(e.name) and _is_dir(e))


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:  # a symlink loop is not a package (RB020 if named, never a crash)
        return False
