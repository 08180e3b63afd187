"""Why a target was rebuilt: the `--explain` lines and the per-label record they compare with.

One grammar (STYLE §6): `<label> <field>: <old> → <new>`, digests shortened to 12 hex digits,
`(none)` for a target with no previous record and `(missing)` for a missing output. The
record (`Records`) keeps, per label, the key fields of its last successful build and the
digest and stat of each materialised output, in one JSON file in the output tree. A lost
record makes explanations say `(none)` and sends every target to the action cache; a target
whose fields and output stats still match it is up to date without a cache read (the no-op
fast path's trust in materialised outputs, STYLE §4, per target).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
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
    """label -> {"fields": {...}, "outputs": {name: [digest, mtime_ns, size, inode]}}."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, Any] = {}
        try:
            loaded = json.loads(path.read_text("utf-8"))
            if isinstance(loaded, dict):
                self._data = loaded
        except (OSError, ValueError):
            pass  # no record yet, or a torn one: explanations say (none)

    def fields(self, label: str) -> dict[str, str] | None:
        entry = self._data.get(label)
        return entry.get("fields") if isinstance(entry, dict) else None

    def output_stat(self, label: str, name: str) -> list[Any] | None:
        entry = self._data.get(label)
        outputs = entry.get("outputs", {}) if isinstance(entry, dict) else {}
        found = outputs.get(name)
        return found if isinstance(found, list) else None

    def update(self, label: str, fields: Mapping[str, str], outputs: Mapping[str, Any]) -> None:
        self._data[label] = {"fields": dict(fields), "outputs": dict(outputs)}

    def save(self) -> None:
        """Write atomically; a concurrent build may win the race, which costs only detail."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".records.")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            # dumps, not dump: only dumps takes the C encoder (5-10x on a 1,000-target file)
            handle.write(json.dumps(self._data, sort_keys=True, separators=(",", ":")))
        os.replace(tmp, self.path)
