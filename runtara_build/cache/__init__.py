"""Storing and fetching bytes by key: the action cache (AC) and the content store (CAS).

The AC maps an action key (`keys.action_key`) to an `ActionResult`: the digests of the
action's outputs, its exit status and its rendered diagnostics. The CAS maps a digest
(`keys.digest_bytes`, xxh3-128) to the bytes with that digest. Both hold raw bytes only:
results are canonical JSON, never pickle, so a cache written by one version can be read (or
rejected as malformed) by any other without executing anything.

Contract of every `Store` (checked by `tests/unit/test_store_contract.py`):
- a CAS read is verified against its digest; a blob that does not verify is deleted and is a
  miss, never wrong bytes;
- an `ActionResult` whose outputs are not all in the CAS is stale: callers check
  `complete(result)` before trusting a hit, and treat an incomplete one as a miss;
- a malformed AC entry is a miss.

This package knows nothing about workflows; it may import `keys` and `errors` only.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from runtara_build.keys import canonical

__all__ = [
    "DEFAULT_MAX_SIZE",
    "ActionResult",
    "GcReport",
    "Store",
    "is_digest",
]

#: The size limit when no WORKSPACE says otherwise (`[cache] max_size = "5GiB"`).
DEFAULT_MAX_SIZE = 5 * 2**30

#: Tag of the AC's JSON encoding; a result written under another tag is a miss.
RESULT_SCHEMA = "runtara_build/ac/v1"

_DIGEST = re.compile(r"[0-9a-f]{32}\Z")

Pairs = tuple[tuple[str, str], ...]


def is_digest(text: str) -> bool:
    """True for an xxh3-128 hex digest as `keys.digest_bytes` writes it (32 lowercase hex)."""
    return _DIGEST.match(text) is not None


def _pairs(value: Any, what: str) -> Pairs:
    """`value` as pairs of strings sorted by name; ValueError on a duplicate name."""
    pairs = tuple(sorted((str(a), str(b)) for a, b in value))
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        raise ValueError(f"{what} must have distinct names, but has {names}")
    return pairs


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What the AC stores under an action key.

    `outputs` are (output name, CAS digest) pairs and `meta` small string extras (e.g. the
    explain fields of the key); both are normalised to tuples sorted by name, so equal results
    encode to equal bytes.
    """

    outputs: Pairs
    exit_code: int
    diagnostics: str = ""
    meta: Pairs = ()

    def __post_init__(self) -> None:
        # Normalise here rather than trust callers, so `to_bytes` is canonical by construction.
        if type(self.exit_code) is not int:  # a bool would encode as `true` and never decode
            raise TypeError(f"exit_code must be an int, but was {self.exit_code!r}")
        object.__setattr__(self, "outputs", _pairs(self.outputs, "outputs"))
        object.__setattr__(self, "meta", _pairs(self.meta, "meta"))
        bad = [digest for _, digest in self.outputs if not is_digest(digest)]
        if bad:
            raise ValueError(f"outputs must map names to CAS digests, but has {bad}")

    def output(self, name: str) -> str | None:
        """The digest of output `name`, or None when the action has no such output."""
        return dict(self.outputs).get(name)

    def to_bytes(self) -> bytes:
        """Canonical JSON (sorted keys, no whitespace, UTF-8), tagged with `RESULT_SCHEMA`."""
        return canonical(
            {
                "schema": RESULT_SCHEMA,
                "outputs": [list(p) for p in self.outputs],
                "exit_code": self.exit_code,
                "diagnostics": self.diagnostics,
                "meta": [list(p) for p in self.meta],
            }
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> ActionResult | None:
        """The result `to_bytes` wrote, or None for anything else (another schema, bad JSON,
        wrong types): a malformed entry is a cache miss, never an exception."""
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            return None
        if not isinstance(doc, dict) or set(doc) != {
            "schema",
            "outputs",
            "exit_code",
            "diagnostics",
            "meta",
        }:
            return None
        code, text = doc["exit_code"], doc["diagnostics"]
        if doc["schema"] != RESULT_SCHEMA or type(code) is not int or not isinstance(text, str):
            return None
        if not (_is_pairs(doc["outputs"]) and _is_pairs(doc["meta"])):
            return None
        try:
            return cls(tuple(doc["outputs"]), code, text, tuple(doc["meta"]))
        except ValueError:
            return None


def _is_pairs(value: Any) -> bool:
    return isinstance(value, list) and all(
        isinstance(p, list) and len(p) == 2 and all(isinstance(s, str) for s in p) for p in value
    )


@dataclass(frozen=True, slots=True)
class GcReport:
    """What a trim or a clean removed, and what is left (the `--output=json` object)."""

    removed_entries: int
    removed_bytes: int
    remaining_bytes: int

    def to_json(self) -> dict[str, int]:
        return {
            "removed_bytes": self.removed_bytes,
            "removed_entries": self.removed_entries,
            "remaining_bytes": self.remaining_bytes,
        }


class Store(Protocol):
    """A cache: AC (action key -> ActionResult) and CAS (digest -> bytes).

    Implementations are safe to share between threads and between processes using the same
    location. Reads never raise on corrupt or missing data: that is a miss. Writes raise
    OSError when the medium fails (a full disk); the caller decides whether that is fatal.
    """

    def get_action(self, key: str) -> ActionResult | None:
        """The result stored under `key`; None when absent or malformed."""
        ...

    def put_action(self, key: str, result: ActionResult) -> None:
        """Store `result` under `key`, replacing any previous result."""
        ...

    def has_blob(self, digest: str) -> bool:
        """True when the CAS holds an entry for `digest` (unverified: reading verifies)."""
        ...

    def get_blob(self, digest: str) -> bytes | None:
        """The blob's bytes, verified; a blob that does not hash to `digest` is deleted and
        reported as a miss (None)."""
        ...

    def put_blob(self, data: bytes) -> str:
        """Store `data`; returns its digest (`keys.digest_bytes`)."""
        ...

    def put_file(self, path: Path) -> str:
        """Store a file's bytes; returns their digest."""
        ...

    def materialize(self, digest: str, dest: Path, *, executable: bool = False) -> bool:
        """Write the verified blob to `dest` atomically (a temp file in dest's directory, then
        `os.replace`), mode 0755 if `executable` else 0644, creating parent directories. False
        on a miss or a corrupt blob, and `dest` is then left as it was."""
        ...

    def size(self) -> int:
        """Bytes the store occupies, as `gc` measures it against its limit."""
        ...

    def gc(self, max_size: int) -> GcReport:
        """Evict least-recently-used entries until `size() <= max_size` (or nothing is left)."""
        ...

    def clear(self) -> None:
        """Remove every entry."""
        ...

    def complete(self, result: ActionResult) -> bool:
        """True when every output blob of `result` is in the CAS. A hit that is not complete
        is a miss: its outputs were evicted or lost."""
        return all(self.has_blob(digest) for _, digest in result.outputs)

    def close(self) -> None:
        """Release connections; the store must not be used afterwards."""
        return None
