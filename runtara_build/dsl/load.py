"""Bytes -> workflow model, with every parse problem as an `E000` diagnostic (DSL §1.2, §11.5).

The caller passes the step union in (STYLE §3): `load(data, file, graph_model, wrapper_model)`.
Never shows a pydantic dump or a traceback: each pydantic error becomes one diagnostic with a
JSON pointer, a line and column from the position scan, and a did-you-mean hint.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from pydantic import BaseModel, ValidationError

from runtara_build.dsl.positions import PositionMap, max_depth_crossing, pointer
from runtara_build.dsl.workflow import ExecutionGraph, is_wrapper
from runtara_build.errors import Diagnostic, Location, did_you_mean, quote

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 256
MAX_GRAPH_DEPTH = 32
INT_MIN, INT_MAX = -(2**63), 2**64 - 1


def _parse_int(text: str) -> int | float:
    # Integers outside [-2^63, 2^64-1], and -0, are floats (DSL conventions).
    if len(text) > 21 or text in ("-0",):
        return _parse_float(text)
    value = int(text)
    return value if INT_MIN <= value <= INT_MAX else float(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"the number {text[:40]} is too large for a double")
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(text: str) -> Any:
    """JSON with the DSL's number rules; raises ValueError (json.JSONDecodeError included)."""
    return json.loads(
        text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_reject_constant
    )


@dataclass
class Document:
    """A loaded workflow document: raw JSON, the model (None after E000) and diagnostics."""

    file: str
    text: str
    raw: Any = None
    graph: ExecutionGraph | None = None
    debug_mode: bool = False
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Prefix of pointers into the graph: "/executionGraph" for the wrapper shape.
    root: str = ""

    @cached_property
    def positions(self) -> PositionMap:
        return PositionMap(self.text)

    def locate(self, ptr: str | None) -> Location:
        """A Location for a pointer into this document (line and column when found)."""
        if ptr is None:
            return Location(self.file)
        found = self.positions.find(ptr)
        if found is None:
            return Location(self.file, pointer=ptr)
        return Location(self.file, found[0], found[1], ptr)

    def e000(self, ptr: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic("E000", message, self.locate(ptr), hint))


def load(
    data: bytes,
    file: str,
    graph_model: type[ExecutionGraph],
    wrapper_model: type[BaseModel],
) -> Document:
    """Parse and model one workflow document; problems land in `Document.diagnostics`."""
    doc = Document(file=file, text="")
    if len(data) > MAX_BYTES:
        doc.diagnostics.append(
            Diagnostic(
                "E000",
                f"a document must be at most {MAX_BYTES} bytes, but has {len(data)}",
                Location(file),
            )
        )
        return doc
    try:
        doc.text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        doc.diagnostics.append(
            Diagnostic(
                "E000", f"a document must be UTF-8, but byte {exc.start} is not", Location(file)
            )
        )
        return doc
    if not _parse(doc):
        return doc
    if not isinstance(doc.raw, dict):
        doc.e000("", f"a workflow document must be a JSON object, but was {_json_type(doc.raw)}")
        return doc
    if not _check_graph_depth(doc):
        return doc
    _validate(doc, graph_model, wrapper_model)
    return doc


def _parse(doc: Document) -> bool:
    crossing = max_depth_crossing(doc.text, MAX_DEPTH)
    if crossing is not None:
        line = doc.text.count("\n", 0, crossing) + 1
        column = crossing - (doc.text.rfind("\n", 0, crossing) + 1) + 1
        doc.diagnostics.append(
            Diagnostic(
                "E000",
                f"a document must nest at most {MAX_DEPTH} levels of arrays and objects, "
                f"but nests deeper here",
                Location(doc.file, line, column),
            )
        )
        return False
    try:
        doc.raw = parse_json(doc.text)
    except json.JSONDecodeError as exc:
        doc.diagnostics.append(
            Diagnostic(
                "E000",
                f"a document must be valid JSON, but {exc.msg[0].lower()}{exc.msg[1:]}",
                Location(doc.file, exc.lineno, exc.colno),
            )
        )
        return False
    except (ValueError, RecursionError) as exc:
        doc.diagnostics.append(
            Diagnostic("E000", f"a document must be valid JSON, but {exc}", Location(doc.file))
        )
        return False
    return True


_NESTING = ("subgraph", "onWait")


def _check_graph_depth(doc: Document) -> bool:
    """Graphs nest at most 32 deep; reported where the limit is crossed (DSL §1.2)."""
    top = doc.raw.get("executionGraph") if is_wrapper(doc.raw) else doc.raw
    base = "/executionGraph" if is_wrapper(doc.raw) else ""
    todo: list[tuple[Any, str, int]] = [(top, base, 1)]
    while todo:
        graph, ptr, level = todo.pop()
        if level > MAX_GRAPH_DEPTH:
            doc.e000(
                ptr, f"graphs must nest at most {MAX_GRAPH_DEPTH} deep, but this is level {level}"
            )
            return False
        steps = graph.get("steps") if isinstance(graph, dict) else None
        if not isinstance(steps, dict):
            continue
        for key, step in steps.items():
            if not isinstance(step, dict):
                continue
            for member in _NESTING:
                if isinstance(step.get(member), dict):
                    todo.append(
                        (step[member], pointer([*_split(ptr), "steps", key, member]), level + 1)
                    )
    return True


def _split(ptr: str) -> list[str | int]:
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]


def _validate(
    doc: Document, graph_model: type[ExecutionGraph], wrapper_model: type[BaseModel]
) -> None:
    wrapped = is_wrapper(doc.raw)
    try:
        if wrapped:
            model = wrapper_model.model_validate(doc.raw)
            doc.graph = model.execution_graph  # type: ignore[attr-defined]
            doc.debug_mode = bool(model.debug_mode)  # type: ignore[attr-defined]
            doc.root = "/executionGraph"
        else:
            doc.graph = graph_model.model_validate(doc.raw)
    except ValidationError as exc:
        seen: set[tuple[str, str]] = set()
        for err in exc.errors(include_url=False):
            ptr, message, hint = translate(doc.raw, err)
            if (ptr, message) not in seen:
                seen.add((ptr, message))
                doc.e000(ptr, message, hint)
    except RecursionError:
        doc.e000("", "a document must nest less deeply, but it exhausted the parser")


# --------------------------------------------------------------------------- translation

_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "bool_type": "a boolean",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "list_type": "an array",
    "string_or_integer": "a string or an integer",
}


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"the boolean {quote(value)}"
    if isinstance(value, int | float):
        return f"the number {quote(value)}"
    if isinstance(value, str):
        return f"the string {quote(value)}"
    return "an array" if isinstance(value, list) else "an object"


def _member(here: Any, part: int | str) -> tuple[bool, Any]:
    if isinstance(here, dict) and isinstance(part, str) and part in here:
        return True, here[part]
    if isinstance(here, list) and isinstance(part, int) and 0 <= part < len(here):
        return True, here[part]
    return False, None


def _real_path(raw: Any, loc: tuple[int | str, ...]) -> tuple[list[str | int], Any, bool]:
    """Walk pydantic's loc over the raw JSON, dropping union tags; (path, value, exists)."""
    path: list[str | int] = []
    here = raw
    for i, part in enumerate(loc):
        found, value = _member(here, part)
        if found:
            path.append(part)
            here = value
        elif i == len(loc) - 1 and isinstance(here, dict) and isinstance(part, str):
            path.append(part)
            return path, None, False
    return path, here, True


_DISCRIMINATOR = re.compile(r"'(\w+)'\s*\)?$")


def translate(raw: Any, err: Any) -> tuple[str, str, str | None]:
    """One pydantic error -> (pointer, 'must …, but …' message, hint)."""
    path, value, exists = _real_path(raw, tuple(err["loc"]))
    kind: str = err["type"]
    ctx = err.get("ctx") or {}
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        member = _DISCRIMINATOR.search(str(ctx.get("discriminator", "")))
        name = member.group(1) if member else "type"
        path.append(name)
        tags = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        if kind == "union_tag_not_found":
            return pointer(path), f"the member {name!r} must be present, but is missing", None
        found = value.get(name) if isinstance(value, dict) else None
        msg = f"{name!r} must be one of {', '.join(map(quote, tags))}, but was {quote(found)}"
        return pointer(path), msg, did_you_mean(str(found), tags)
    name = str(path[-1]) if path else "the document"
    subject = f"{name!r}" if path else name
    if kind == "missing" or not exists:
        return pointer(path), f"the member {name!r} must be present, but is missing", None
    if kind == "literal_error":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        msg = f"{subject} must be one of {', '.join(map(quote, options))}, but was {quote(value)}"
        return pointer(path), msg, did_you_mean(str(value), options)
    if kind in _TYPE_WORDS:
        want = _TYPE_WORDS[kind]
        return pointer(path), f"{subject} must be {want}, but was {_json_type(value)}", None
    if kind in ("greater_than_equal", "greater_than"):
        bound = ctx.get("ge", ctx.get("gt"))
        op = ">=" if kind == "greater_than_equal" else ">"
        return pointer(path), f"{subject} must be {op} {bound}, but was {quote(value)}", None
    return pointer(path), f"{subject} is invalid: {err.get('msg', kind)}", None
