"""Labels and patterns: `//tenant/scenario[:kind]`, `//...`, `//tenant/...` (DSL §11.2).

Stdlib only (the no-op fast path parses labels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from runtara_build.errors import BuildError, Diagnostic

Kind = Literal["bin", "src", "obj"]
KINDS: tuple[Kind, ...] = ("bin", "src", "obj")

SEGMENT = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
GRAMMAR = (
    "labels are //tenant/scenario[:bin|:src|:obj] and patterns //...[:kind] or "
    "//tenant/...[:kind]; segments match [A-Za-z0-9_][A-Za-z0-9_.-]*"
)


@dataclass(frozen=True, slots=True, order=True)
class Label:
    tenant: str
    scenario: str
    kind: Kind = "bin"

    @property
    def package(self) -> str:
        """The package directory relative to the workspace root."""
        return f"{self.tenant}/{self.scenario}"

    def with_kind(self, kind: Kind) -> Label:
        return Label(self.tenant, self.scenario, kind)

    def __str__(self) -> str:
        return f"//{self.package}:{self.kind}"

    @property
    def package_label(self) -> str:
        return f"//{self.package}"


@dataclass(frozen=True, slots=True)
class Pattern:
    """`//...` (tenant None) or `//tenant/...`."""

    tenant: str | None
    kind: Kind = "bin"

    def __str__(self) -> str:
        return f"//{self.tenant + '/' if self.tenant else ''}...:{self.kind}"


def _bad(text: str, why: str) -> BuildError:
    return BuildError(
        Diagnostic("RB001", f"a label must be well formed, but {text!r} {why}", hint=GRAMMAR)
    )


def _split_kind(text: str) -> tuple[str, Kind]:
    body, sep, kind = text.partition(":")
    if not sep:
        return body, "bin"
    if kind not in KINDS:
        raise _bad(text, f"has the kind {kind!r}")
    return body, kind


def _check_segment(text: str, segment: str) -> None:
    if not SEGMENT.match(segment):
        if segment in ("", ".", "..") or "/" in segment:
            raise _bad(text, "names a path outside the workspace or an empty segment")
        raise _bad(text, f"has the segment {segment!r}")


def parse(text: str) -> Label | Pattern:
    """Parse a label or pattern; raises RB001 with the grammar as hint."""
    if not text.startswith("//"):
        raise _bad(text, "does not start with //")
    body, kind = _split_kind(text[2:])
    if body == "...":
        return Pattern(None, kind)
    parts = body.split("/")
    if len(parts) != 2:
        raise _bad(text, f"has {len(parts)} path segments instead of 2 (tenant/scenario)")
    tenant, scenario = parts
    _check_segment(text, tenant)
    if scenario == "...":
        return Pattern(tenant, kind)
    _check_segment(text, scenario)
    return Label(tenant, scenario, kind)


def parse_label(text: str) -> Label:
    """Parse a single label (patterns are rejected)."""
    parsed = parse(text)
    if isinstance(parsed, Pattern):
        raise _bad(text, "is a pattern where a single label is needed")
    return parsed
