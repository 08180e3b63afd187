"""Why a target was rebuilt: the `--explain` lines and the per-label record they compare with.

One grammar (STYLE §6): `<label> <field>: <old> → <new>`, digests shortened to 12 hex digits,
`(none)` for a target with no previous record and `(missing)` for a missing output. The
record (`Records`) keeps, per label, the key fields of its last successful build and the
digest and stat of each materialised output, in a small SQLite file in the output tree. A lost
record makes explanations say `(none)` and sends every target to the action cache; a target
whose fields and output stats still match it is up to date without a cache read (the no-op
fast path's trust in materialised outputs, STYLE §4, per target).
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_DIGEST = re.compile(r"\b[0-9a-f]{32}\b")
NONE = "(none)"
MISSING = "(missing)"


def short(value: str) -> str:
    """Digests inside `value` cut to their first 12 hex digits."""
    return _DIGEST.sub(lambda m: m.group(0)[:12], value)


def changed_fields(
    label: str, old: Mapping[str, str] | None, new: Mapping[str, str]
) -> tuple[str, ...]:
    """One line per field whose value differs (a field only on one side counts)."""
    if old is None:
        return tuple(f"{label} {k}: {NONE} → {short(new[k])}" for k in sorted(new))
    lines = []
    for name in sorted({*old, *new}):
        before, after = old.get(name), new.get(name)
        if before != after:
            lines.append(f"{label} {name}: {short(before or NONE)} → {short(after or NONE)}")
    return tuple(lines)


class Records:
    """label -> {"fields": {...}, "outputs": {name: [digest, mtime_ns, size, inode]}}.

    One SQLite table in the output tree, read a label at a time: a build of a few targets in
    a workspace of thousands reads and writes a few rows, not a file of every label. Writes
    wait in memory until `save`, one transaction; a concurrent build waits its turn.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._read: dict[str, dict[str, Any] | None] = {}
        self._pending: dict[str, str] = {}

    def _connect(self) -> sqlite3.Connection | None:
        if self._db is None:
            for attempt in range(2):
                try:
                    self._db = _open(self.path)
                    break
                except sqlite3.DatabaseError:
                    if attempt == 0:  # not a database (a torn or foreign file): start afresh
                        for suffix in ("", "-wal", "-shm"):
                            Path(f"{self.path}{suffix}").unlink(missing_ok=True)
                except (sqlite3.Error, OSError):
                    break  # unusable: explanations say (none), every target asks the cache
        return self._db

    def _entry(self, label: str) -> dict[str, Any] | None:
        if label not in self._read:
            db, found = self._connect(), None
            try:
                row = (
                    db.execute("SELECT body FROM records WHERE label=?", (label,)).fetchone()
                    if db
                    else None
                )
                found = json.loads(row[0]) if row else None
            except (sqlite3.Error, ValueError, TypeError):
                found = None
            self._read[label] = found if isinstance(found, dict) else None
        return self._read[label]

    def fields(self, label: str) -> dict[str, str] | None:
        entry = self._entry(label)
        found = entry.get("fields") if entry is not None else None
        return found if isinstance(found, dict) else None

    def output_stat(self, label: str, name: str) -> list[Any] | None:
        entry = self._entry(label)
        outputs = entry.get("outputs") if entry is not None else None
        found = outputs.get(name) if isinstance(outputs, dict) else None
        return found if isinstance(found, list) else None

    def update(self, label: str, fields: Mapping[str, str], outputs: Mapping[str, Any]) -> None:
        entry = {"fields": dict(fields), "outputs": dict(outputs)}
        if entry != self._read.get(label):
            self._read[label] = entry
            self._pending[label] = json.dumps(entry, sort_keys=True, separators=(",", ":"))

    def save(self) -> None:
        """Write what changed in one transaction; failing costs only detail, never a build."""
        db = self._connect() if self._pending else None
        if db is None:
            return
        try:
            with db:  # the connection autocommits: BEGIN makes this one transaction
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT OR REPLACE INTO records (label, body) VALUES (?, ?)",
                    self._pending.items(),
                )
            self._pending.clear()
        except sqlite3.Error:
            pass
        finally:
            db.close()
            self._db = None


def _open(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        # A record lost to a crash only costs a cache read: no fsync per build.
        db.execute("PRAGMA synchronous=OFF")
        db.execute("CREATE TABLE IF NOT EXISTS records (label TEXT PRIMARY KEY, body TEXT)")
    except sqlite3.Error:
        db.close()
        raise
    return db
