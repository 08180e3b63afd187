"""Diagnostics: one value type, one renderer (DSL §11.5, STYLE §6).

Stdlib only: the no-op fast path and every layer may import this module.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

Severity = Literal["error", "warning"]

#: Exit codes of runtara-build itself (DSL §11.4).
EXIT_OK = 0
EXIT_USER = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70

ISSUE_TRACKER = "the runtara-build issue tracker"


@dataclass(frozen=True, slots=True)
class Location:
    """Where a diagnostic points: a file, an optional 1-based position, an optional pointer."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    pointer: str | None = None  # RFC 6901, without the leading '#'


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A coded error or warning. `message` says what must hold, then what was found."""

    code: str
    message: str
    location: Location = field(default_factory=Location)
    hint: str | None = None
    severity: Severity = "error"
    #: Tool output quoted verbatim after the diagnostic (e.g. rustc's), one block of lines.
    detail: str | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    def at(self, location: Location) -> Diagnostic:
        return replace(self, location=location)

    def to_json(self) -> dict[str, object]:
        loc = self.location
        return {
            "file": loc.file,
            "line": loc.line,
            "column": loc.column,
            "pointer": loc.pointer,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "hint": self.hint,
            **({"detail": self.detail} if self.detail else {}),
        }


class BuildError(Exception):
    """Raised to abort a command with one or more diagnostics (exit 1 unless `exit_code`)."""

    def __init__(self, *diagnostics: Diagnostic, exit_code: int = EXIT_USER) -> None:
        super().__init__("; ".join(d.message for d in diagnostics))
        self.diagnostics: tuple[Diagnostic, ...] = diagnostics
        self.exit_code = exit_code


def error(
    code: str, message: str, *, hint: str | None = None, location: Location | None = None
) -> BuildError:
    """Shorthand for a BuildError carrying one error diagnostic."""
    return BuildError(Diagnostic(code, message, location or Location(), hint))


def escape_control(text: str) -> str:
    """Write control characters as JSON \\u escapes so a diagnostic stays on its lines."""
    return "".join(f"\\u{ord(c):04x}" if ord(c) < 0x20 or ord(c) == 0x7F else c for c in text)


def quote(value: object) -> str:
    """A user value as it appears inside a message: JSON text, shortened, one line."""
    try:
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return escape_control(text)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A 'did you mean "x"?' hint for the closest candidate, if any is close enough."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return f'did you mean "{matches[0]}"?' if matches else None


def one_of(values: Sequence[str]) -> str:
    return ", ".join(f'"{v}"' for v in values)


def render(diag: Diagnostic) -> str:
    """The text form of DSL §11.5: location line, then `at #pointer`, then `hint:`."""
    loc = diag.location
    head = f"{diag.severity}[{diag.code}]: {escape_control(diag.message)}"
    if loc.file is not None:
        place = loc.file
        if loc.line is not None:
            place += f":{loc.line}:{loc.column or 1}"
        head = f"{escape_control(place)}: {head}"
    lines = [head]
    if loc.pointer is not None:
        lines.append(f"  at #{escape_control(loc.pointer)}")
    if diag.hint:
        lines.append(f"  hint: {escape_control(diag.hint)}")
    if diag.detail:
        lines += [f"  | {escape_control(line)}" for line in diag.detail.splitlines()]
    return "\n".join(lines)


def render_json(diags: Iterable[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in diags], ensure_ascii=False, indent=2)


def sort_key(diag: Diagnostic) -> tuple[str, int, int, str, str]:
    loc = diag.location
    return (loc.file or "", loc.line or 0, loc.column or 0, diag.code, diag.message)
