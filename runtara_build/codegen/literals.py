"""The only escaping logic for generated Rust (STYLE §9). User data never shapes code.

Every user-supplied string reaches Rust through `rust_str`, which emits a plain string literal
whose characters are all printable ASCII: anything else becomes a `\\u{…}` escape, so no input
can close the literal, start a comment, smuggle a bidi override or break a line.
"""

from __future__ import annotations

import re

_SIMPLE = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"}
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
KEYWORDS = frozenset(
    [
        "as",
        "async",
        "await",
        "break",
        "const",
        "continue",
        "crate",
        "dyn",
        "else",
        "enum",
        "extern",
        "false",
        "fn",
        "for",
        "gen",
        "if",
        "impl",
        "in",
        "let",
        "loop",
        "match",
        "mod",
        "move",
        "mut",
        "pub",
        "ref",
        "return",
        "self",
        "Self",
        "static",
        "struct",
        "super",
        "trait",
        "true",
        "type",
        "unsafe",
        "use",
        "where",
        "while",
        "abstract",
        "become",
        "box",
        "do",
        "final",
        "macro",
        "override",
        "priv",
        "try",
        "typeof",
        "unsized",
        "virtual",
        "yield",
        "union",
    ]
)


def _escape_char(c: str) -> str:
    simple = _SIMPLE.get(c)
    if simple is not None:
        return simple
    if " " <= c <= "~":
        return c
    return f"\\u{{{ord(c):x}}}"


def rust_str(text: str) -> str:
    """A Rust `&'static str` literal equal to `text`.

    Lone surrogates cannot exist in a Rust string; they are rejected (the loader only hands
    over text decoded from UTF-8, which has none).
    """
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):
        raise ValueError("a Rust string cannot hold a lone surrogate")
    return '"' + "".join(_escape_char(c) for c in text) + '"'


def rust_ident(name: str) -> str:
    """A name the generator chose (never user text) as a Rust identifier."""
    if not _IDENT.match(name) or name in KEYWORDS:
        raise ValueError(f"not a safe Rust identifier: {name!r}")
    return name


def rust_bool(value: bool) -> str:
    return "true" if value else "false"


def unescape_rust_str(literal: str) -> str:
    """Parse a literal produced by `rust_str` back to text (for tests and fuzzing)."""
    if len(literal) < 2 or literal[0] != '"' or literal[-1] != '"':
        raise ValueError("not a string literal")
    out: list[str] = []
    body, i = literal[1:-1], 0
    inverse = {v[1]: k for k, v in _SIMPLE.items()}
    while i < len(body):
        c = body[i]
        if c == '"':
            raise ValueError("unescaped quote")
        if c != "\\":
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if nxt == "u":
            end = body.index("}", i)
            out.append(chr(int(body[i + 3 : end], 16)))
            i = end + 1
        else:
            out.append(inverse[nxt])
            i += 2
    return "".join(out)
