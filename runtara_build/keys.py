"""Digests and key composition (xxhash lives only here; STYLE §3, §11 rule 4).

A key is xxh3-128 over canonical JSON: sorted keys, no whitespace, UTF-8. Callers that hash
InputMappings encode them as `[[key, value], ...]` so their semantic order survives.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import xxhash

SCHEMA = "runtara_build/v1"


def digest_bytes(data: bytes) -> str:
    return xxhash.xxh3_128_hexdigest(data)


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def digest_json(value: Any) -> str:
    return digest_bytes(canonical(value))


def digest_tree(root: Path, files: Iterable[Path]) -> str:
    """One digest over files' root-relative paths and contents (sorted, path-independent)."""
    h = xxhash.xxh3_128()
    for path in sorted(files):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def action_key(kind: str, inputs: Mapping[str, str], params: Mapping[str, Any]) -> str:
    """The one function that composes a cache key: a domain tag, input digests by role, and
    the parameters that shape the output (toolchain identity, argv, generator version)."""
    return digest_json({"tag": f"{SCHEMA}/{kind}", "inputs": dict(inputs), "params": dict(params)})
