"""RustWriter: the only indentation logic of the code generator (STYLE §9)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

INDENT = "    "


class RustWriter:
    """Collects lines of Rust; `block()` opens `head {` and closes `}` with indentation."""

    def __init__(self) -> None:
        self._lines: list[str] = []
        self._depth = 0

    def line(self, text: str = "") -> None:
        if "\n" in text:
            raise ValueError("one line at a time: a newline would break the layout")
        self._lines.append(f"{INDENT * self._depth}{text}" if text else "")

    def blank(self) -> None:
        if self._lines and self._lines[-1] != "":
            self._lines.append("")

    @contextmanager
    def block(self, head: str, close: str = "}") -> Iterator[None]:
        self.line(f"{head} {{" if head else "{")
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            self.line(close)

    @contextmanager
    def indented(self, opening: str, closing: str) -> Iterator[None]:
        """`opening` and `closing` lines around an indented body, e.g. `&[` … `],`."""
        self.line(opening)
        self._depth += 1
        try:
            yield
        finally:
            self._depth -= 1
            self.line(closing)

    def text(self) -> str:
        lines = list(self._lines)
        while lines and lines[-1] == "":
            lines.pop()
        return "\n".join(lines) + "\n"
