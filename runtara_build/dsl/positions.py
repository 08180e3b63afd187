"""A position-tracking JSON scan (STYLE §12): JSON pointer -> (line, column) of each value.

The stdlib `json` module keeps no positions, so diagnostics find theirs here. The scan is
iterative (hostile nesting cannot overflow the stack) and assumes the text already parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_SCALAR = re.compile(r"[^\s,\]\}:]+")
_SPACE = re.compile(r"[ \t\n\r]*")


def escape_token(token: str) -> str:
    """One RFC 6901 reference token."""
    return token.replace("~", "~0").replace("/", "~1")


def pointer(parts: tuple[str | int, ...] | list[str | int]) -> str:
    return "".join("/" + escape_token(str(p)) for p in parts)


@dataclass(slots=True)
class _Frame:
    path: str
    is_object: bool
    index: int = 0
    key: str | None = None


def _decode_key(raw: str) -> str:
    import json

    value: str = json.loads(raw)
    return value


class PositionMap:
    """Maps pointers to 1-based (line, column); columns count characters."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self._positions: dict[str, int] = {}
        self._scan()

    def _line_col(self, offset: int) -> tuple[int, int]:
        import bisect

        line = bisect.bisect_right(self._line_starts, offset) - 1
        return line + 1, offset - self._line_starts[line] + 1

    def find(self, ptr: str) -> tuple[int, int] | None:
        """The position of the value at `ptr`, or of its nearest existing ancestor."""
        while True:
            offset = self._positions.get(ptr)
            if offset is not None:
                return self._line_col(offset)
            if not ptr:
                return None
            ptr = ptr[: ptr.rfind("/")]

    def _scan(self) -> None:  # noqa: C901, PLR0912, PLR0915 - one small state machine reads best inline
        text, pos, end = self._text, 0, len(self._text)
        stack: list[_Frame] = []
        expect_value = True
        while True:
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if pos >= end:
                return
            ch = text[pos]
            if expect_value:
                here = stack[-1] if stack else None
                if here is None:
                    path = ""
                elif here.is_object:
                    path = f"{here.path}/{escape_token(here.key or '')}"
                else:
                    path = f"{here.path}/{here.index}"
                if ch == "]" and here is not None and not here.is_object:
                    stack.pop()
                    expect_value = False
                    pos += 1
                    continue
                self._positions.setdefault(path, pos)
                if ch in "{[":
                    stack.append(_Frame(path, ch == "{"))
                    pos += 1
                    if ch == "{":
                        pos = self._read_key(stack[-1], pos)
                        if pos < 0:
                            return
                        if stack[-1].key is None:  # empty object
                            stack.pop()
                            expect_value = False
                        continue
                    continue
                m = _STRING.match(text, pos) if ch == '"' else _SCALAR.match(text, pos)
                if m is None:
                    return
                pos = m.end()
                expect_value = False
                continue
            if not stack:
                return
            top = stack[-1]
            if ch == ",":
                pos += 1
                if top.is_object:
                    pos = self._read_key(top, pos)
                    if pos < 0:
                        return
                else:
                    top.index += 1
                expect_value = True
            elif ch in "}]":
                stack.pop()
                pos += 1
            else:
                return

    def _read_key(self, frame: _Frame, pos: int) -> int:
        """Read `"key" :` (or the closing brace of an empty object); -1 on malformed text."""
        text = self._text
        pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        if pos < len(text) and text[pos] == "}":
            frame.key = None
            return pos + 1
        m = _STRING.match(text, pos)
        if m is None:
            return -1
        frame.key = _decode_key(m.group())
        pos = _SPACE.match(text, m.end()).end()  # type: ignore[union-attr]
        if pos >= len(text) or text[pos] != ":":
            return -1
        return pos + 1


def max_depth_crossing(text: str, limit: int) -> int | None:
    """Offset of the first bracket that nests deeper than `limit`, or None. Strings skipped."""
    depth = 0
    for m in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text, re.DOTALL):
        tok = m.group()
        if tok in "[{":
            depth += 1
            if depth > limit:
                return m.start()
        elif tok in "]}":
            depth -= 1
    return None
