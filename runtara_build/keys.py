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


def action_key(kind: str, fields: Mapping[str, str]) -> str:
    """The one function that composes a cache key (STYLE §11 rule 4).

    `fields` names every input of the action by role, each a digest or a short identity text:
    the canonical document, the generator and the rule files it uses, the toolchain identity,
    the runtime rlib, and one `dep <label>` per dependency output. The same mapping is what
    `--explain` compares between builds, so a rebuild can always name what changed. Callers
    must keep absolute paths, mtimes and the environment out of it.
    """
    return digest_json({"tag": f"{SCHEMA}/{kind}", "fields": dict(fields)})
