"""The local store: two diskcache caches, `<dir>/ac` and `<dir>/cas` (diskcache lives only here).

Why diskcache: SQLite gives process-safe transactions (two builds on one cache do not corrupt
it), and it has size limits with LRU eviction built in. diskcache has no type stubs, so it is
used only through `_BytesCache`, a typed wrapper that admits `str` keys and `bytes` values.

Raw bytes only, never pickle. diskcache's `Disk` stores a `bytes` value as-is: below
`disk_min_file_size` (32 KiB) as an SQLite BLOB (mode RAW), above it as a file under the cache
directory (mode BINARY); only other Python values are pickled (mode PICKLE). `_RawDisk`
refuses to store anything but `bytes` and refuses to read any row that is not RAW or BINARY,
so a tampered or foreign row is a miss and is never unpickled (tests/unit/test_cache_local.py).

Layout and limits: `ac/` gets 1/8 of `size_limit` and `cas/` the rest, so the whole store
stays within the limit; results are a few hundred bytes, blobs are what fills the cache. Every
directory of the store is mode 0700: the cache decides what gets linked into binaries.
"""

from __future__ import annotations

import os
import sqlite3
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import diskcache

from runtara_build.cache import ActionResult, GcReport, Store, is_digest
from runtara_build.errors import error
from runtara_build.keys import digest_bytes

_MODES = (diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY)
_PRIVATE = 0o700
#: Raw (str) keys, least recently used first; the access time is what LRU eviction updates.
_OLDEST = "SELECT key FROM Cache WHERE raw = 1 ORDER BY access_time LIMIT ?"
#: Stores opened by `warm`, with the identity of their databases then.
_WARM: dict[tuple[str, int], tuple[LocalStore, tuple[tuple[int, int], ...]]] = {}


class _RawDisk(diskcache.Disk):  # type: ignore[misc]  # diskcache is untyped
    """A `Disk` for str keys and bytes values only; nothing is ever pickled or unpickled."""

    def put(self, key: Any) -> Any:
        if type(key) is not str:
            raise TypeError(f"cache keys must be str, but got {type(key).__name__}")
        return super().put(key)

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:  # a pickled key, written by someone else: refuse it
            raise OSError("refusing a pickled key")
        return super().get(key, raw)

    def store(self, value: Any, read: bool, key: Any = diskcache.core.UNKNOWN) -> Any:
        if type(value) is not bytes or read:
            raise TypeError(f"cache values must be bytes, but got {type(value).__name__}")
        return super().store(value, read, key)

    def fetch(self, mode: int, filename: Any, value: Any, read: bool) -> Any:
        # diskcache turns an OSError from fetch into a miss (the "deleted meanwhile" path).
        if mode not in _MODES or read:
            raise OSError(f"refusing a cache row of mode {mode}: only raw bytes are stored")
        return super().fetch(mode, filename, value, read)


class _BytesCache:
    """A typed view of one `diskcache.Cache`: str keys, bytes values, LRU eviction.

    Every call retries on SQLite lock timeouts (`retry=True`): concurrent builds wait for
    each other instead of failing.
    """

    def __init__(self, directory: Path, size_limit: int) -> None:
        self.directory = directory
        self._cache: Any = diskcache.Cache(
            str(directory),
            disk=_RawDisk,
            size_limit=size_limit,
            eviction_policy="least-recently-used",
        )

    def get(self, key: str) -> bytes | None:
        value = self._cache.get(key, default=None, retry=True)
        return value if type(value) is bytes else None

    def set(self, key: str, value: bytes) -> None:
        self._cache.set(key, value, retry=True)

    def delete(self, key: str) -> None:
        self._cache.delete(key, retry=True)

    def __contains__(self, key: str) -> bool:
        return bool(self._cache.__contains__(key))

    def __len__(self) -> int:
        return len(self._cache)

    def keys(self) -> Iterator[str]:
        return iter(self._cache)

    def volume(self) -> int:
        """Bytes on disk: the SQLite pages plus the blob files."""
        return int(self._cache.volume())

    def trim(self, limit: int) -> int:
        """Evict least-recently-used entries until `volume() <= limit`; the count evicted."""
        # Not `Cache.cull()`: it evicts in batches of ten, overshooting the limit by up to nine
        # entries (megabytes of binaries). Reads diskcache's `Cache` table (stable since 3.0)
        # for the order; deletes go through the public API, which also removes blob files.
        removed = 0
        while self.volume() > limit:
            oldest = self._cache._sql(_OLDEST, (64,)).fetchall()
            if not oldest:
                break
            for (key,) in oldest:
                removed += bool(self._cache.delete(key, retry=True))
                if self.volume() <= limit:
                    break
        return removed

    def clear(self) -> None:
        self._cache.clear(retry=True)

    def check(self) -> list[str]:
        """diskcache's own consistency check (files vs rows), as messages."""
        return [str(w.message) for w in self._cache.check(retry=True)]

    def close(self) -> None:
        self._cache.close()


def _private_dir(path: Path) -> None:
    """Create `path` (mode 0700) or tighten an existing one to 0700.

    A shared directory (sticky, like /tmp, or owned by another user) is never chmod-ed: a
    `[cache] dir = "/tmp"` must not lock everyone else out; `ac/` and `cas/` are still private.
    """
    path.mkdir(mode=_PRIVATE, parents=True, exist_ok=True)
    info = path.stat()
    if not stat.S_ISDIR(info.st_mode):
        raise NotADirectoryError(str(path))
    shared = info.st_mode & stat.S_ISVTX or info.st_uid != os.geteuid()
    if not shared and info.st_mode & 0o077:
        path.chmod(_PRIVATE)


def _databases(directory: Path) -> tuple[tuple[int, int], ...] | None:
    """(device, inode) of the two index databases; None when one is missing."""
    try:
        found = [os.stat(directory / sub / diskcache.core.DBNAME) for sub in ("ac", "cas")]
    except OSError:
        return None
    return tuple((st.st_dev, st.st_ino) for st in found)


def warm(directory: Path, size_limit: int) -> None:
    """Open an existing store ahead of the commands that will use it (the build server does,
    before it forks them): opening a diskcache writes every setting, ~5 ms per cache, where
    a warm one only reconnects. The connections are closed here, so none crosses a fork;
    diskcache reconnects in each process (and thread) that uses the store."""
    databases = _databases(directory)
    key = (str(directory), size_limit)
    if databases is None or (key in _WARM and _WARM[key][1] == databases):
        return
    store = LocalStore(directory, size_limit)
    store.close()
    _WARM[key] = (store, databases)


class LocalStore(Store):
    """The on-disk store at `directory` (`ac/`, `cas/`), at most about `size_limit` bytes.

    Process- and thread-safe: diskcache serialises through SQLite, blob files are written
    before their row is committed, and `materialize` writes a unique temp file and renames it.
    Raises BuildError RB502 when the directory cannot be created or its index is unreadable.
    """

    def __init__(self, directory: Path, size_limit: int) -> None:
        self.directory = directory
        self.size_limit = size_limit
        ac_limit = size_limit // 8
        try:
            _private_dir(directory)
            for sub in ("ac", "cas"):
                _private_dir(directory / sub)
            self._ac = _BytesCache(directory / "ac", ac_limit)
            self._cas = _BytesCache(directory / "cas", size_limit - ac_limit)
        except (OSError, sqlite3.Error) as exc:
            raise error(
                "RB502",
                f"the local cache must be a usable directory, but {directory} is not: {exc}",
                hint="check [cache] dir in WORKSPACE, or start afresh with "
                "`runtara-build clean --expunge`",
            ) from exc

    @classmethod
    def open(cls, directory: Path, size_limit: int) -> LocalStore:
        """The store at `directory`: the one `warm` opened, if its databases are still the
        same files, else a new one."""
        found = _WARM.get((str(directory), size_limit))
        if found is not None and found[1] == _databases(directory):
            return found[0]
        return cls(directory, size_limit)

    def __enter__(self) -> LocalStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----------------------------------------------------------------- action cache

    def get_action(self, key: str) -> ActionResult | None:
        data = self._ac.get(key)
        if data is None:
            return None
        result = ActionResult.from_bytes(data)
        if result is None:
            self._ac.delete(key)  # malformed: drop it so a rebuild can store a good one
        return result

    def put_action(self, key: str, result: ActionResult) -> None:
        self._ac.set(key, result.to_bytes())

    # ----------------------------------------------------------------- content store

    def has_blob(self, digest: str) -> bool:
        return is_digest(digest) and digest in self._cas

    def get_blob(self, digest: str) -> bytes | None:
        if not is_digest(digest):
            return None
        data = self._cas.get(digest)
        if data is None:
            return None
        if digest_bytes(data) != digest:
            self._cas.delete(digest)
            return None
        return data

    def put_blob(self, data: bytes) -> str:
        digest = digest_bytes(data)
        # A verified blob already there is kept (the read also marks it recently used); a
        # missing, refused or corrupt one is replaced.
        if self.get_blob(digest) is None:
            self._cas.set(digest, bytes(data))
        return digest

    def put_file(self, path: Path) -> str:
        return self.put_blob(path.read_bytes())

    def materialize(self, digest: str, dest: Path, *, executable: bool = False) -> bool:
        data = self.get_blob(digest)
        if data is None:
            return False
        dest.parent.mkdir(parents=True, exist_ok=True)
        # A copy, not a hard link: a linked output shares its inode with the cache, so a
        # chmod or an in-place edit of the output would change the cached blob too.
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.chmod(tmp, 0o755 if executable else 0o644)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return True

    # ----------------------------------------------------------------- size and upkeep

    def size(self) -> int:
        return self._ac.volume() + self._cas.volume()

    def gc(self, max_size: int) -> GcReport:
        """Evict from the CAS first (it holds the bytes), then from the AC if still needed.

        An AC entry whose blobs were evicted is incomplete and so a miss; it costs a few
        hundred bytes until the AC's own LRU drops it.
        """
        before = self.size()
        removed = self._cas.trim(max(max_size - self._ac.volume(), 0))
        if self.size() > max_size:
            removed += self._ac.trim(max(max_size - self._cas.volume(), 0))
        after = self.size()
        return GcReport(removed, max(before - after, 0), after)

    def clear(self) -> None:
        self._ac.clear()
        self._cas.clear()

    def entries(self) -> int:
        """Number of entries, AC and CAS together."""
        return len(self._ac) + len(self._cas)

    def check(self) -> list[str]:
        """Every problem found by reading the whole store: diskcache's consistency check,
        blobs that do not verify, malformed results. Reading deletes the bad entries."""
        problems = [*self._ac.check(), *self._cas.check()]
        try:
            digests, keys = list(self._cas.keys()), list(self._ac.keys())
        except OSError as exc:  # a pickled key planted by someone else
            return [*problems, str(exc)]
        problems += [f"cas/{d}: missing or corrupt" for d in digests if self.get_blob(d) is None]
        problems += [f"ac/{k}: missing or malformed" for k in keys if self.get_action(k) is None]
        return problems

    def close(self) -> None:
        self._ac.close()
        self._cas.close()
