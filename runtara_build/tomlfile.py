"""TOML files this project owns (WORKSPACE, BUILD.toml): read, validate, locate problems.

tomllib keeps no positions, so a small line scan finds the line of a key for diagnostics
(STYLE §10's `WORKSPACE:10:1: error[RB003]: unknown key "remtoe" in [cache]`).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from runtara_build.errors import BuildError, Diagnostic, Location, did_you_mean, quote

_M = TypeVar("_M", bound=BaseModel)

_HEADER = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(?:#.*)?\Z")
_K = r"""(?:"(?:[^"\\]|\\.)*"|'[^']*'|[A-Za-z0-9_-]+)"""  # a bare or quoted key
_KEY = re.compile(rf"\s*({_K}(?:\s*\.\s*{_K})*)\s*=")
_PART = re.compile(rf"\s*({_K})\s*\.?")
_AT = re.compile(r"\(at line (\d+), column (\d+)\)")


def _key_path(text: str) -> tuple[str, ...]:
    return tuple(p.strip("\"'") for p in _PART.findall(text))


def toml_line(text: str, path: tuple[str, ...]) -> int | None:
    """The 1-based line defining `path` (a key, or else its table); a line scan, not a parser."""
    table: tuple[str, ...] = ()
    fallback: int | None = None
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            table = _key_path(header.group(1))
            if table == path:
                return number
            if fallback is None and table and path[: len(table)] == table:
                fallback = number
            continue
        key = _KEY.match(line)
        if key and table + _key_path(key.group(1)) == path:
            return number
    return fallback


def read_toml(path: Path, shown: str, code: str) -> tuple[dict[str, Any], str]:
    """Parse a TOML file; unreadable or malformed text is a `code` error at its position."""
    try:
        text = path.read_bytes().decode("utf-8")
        return tomllib.loads(text), text
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8"
        msg = f"{shown} must be a readable UTF-8 file, but {reason}"
        raise BuildError(Diagnostic(code, msg, Location(shown))) from None
    except tomllib.TOMLDecodeError as exc:
        at = _AT.search(str(exc))
        where = Location(shown, int(at.group(1)), int(at.group(2))) if at else Location(shown)
        why = _AT.sub("", str(exc)).strip().rstrip(".")
        msg = f"{shown} must be valid TOML, but {why[:1].lower()}{why[1:]}"
        raise BuildError(Diagnostic(code, msg, where)) from None


def _known(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    for part in loc:
        field_info = model.model_fields.get(str(part))
        ann = field_info.annotation if field_info else None
        if not (isinstance(ann, type) and issubclass(ann, BaseModel)):
            return []
        model = ann
    return list(model.model_fields)


def _diagnostic(
    model: type[BaseModel], err: Any, shown: str, text: str, codes: tuple[str, str]
) -> Diagnostic:
    loc = tuple(str(p) for p in err["loc"]) or (shown,)
    line = toml_line(text, loc)
    where = Location(shown, line, 1 if line else None, "/" + "/".join(loc))
    key, table = loc[-1], (f" in [{'.'.join(loc[:-1])}]" if loc[:-1] else "")
    if err["type"] == "extra_forbidden":
        hint = did_you_mean(key, _known(model, loc[:-1]))
        return Diagnostic(codes[0], f"unknown key {quote(key)}{table}", where, hint)
    if err["type"] == "value_error":
        why = str(err["ctx"]["error"])
        return Diagnostic(codes[1], f"{quote(key)}{table} {why}", where)
    from runtara_build.dsl.load import translate  # the DSL loader's "must …, but …" wording

    _, message, hint = translate(err.get("input"), {**err, "loc": ()})
    message = message.replace("the document", f"{quote(key)}{table}", 1)
    return Diagnostic(codes[1], message, where, hint)


def validate_toml(model: type[_M], path: Path, shown: str, codes: tuple[str, str, str]) -> _M:
    """Read and validate a TOML file: codes = (malformed, unknown key, bad value)."""
    data, text = read_toml(path, shown, codes[0])
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        diags = [_diagnostic(model, e, shown, text, codes[1:]) for e in exc.errors()]
        raise BuildError(*diags) from None
