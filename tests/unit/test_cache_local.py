"""LocalStore beyond the shared contract: raw bytes on disk, refusal of pickle, corruption at
the file and row level, directory modes, the size limit, and two processes at once."""

from __future__ import annotations

import multiprocessing
import os
import random
import sqlite3
import stat
from pathlib import Path
from typing import Any

import diskcache
import pytest

from runtara_build.cache import ActionResult
from runtara_build.cache.local import LocalStore
from runtara_build.errors import BuildError
from runtara_build.keys import digest_bytes

LIMIT = 64 * 2**20
SMALL = b"small blob"
LARGE = random.Random(1).randbytes(100_000)


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with LocalStore(tmp_path / "cache", LIMIT) as opened:
        yield opened


def rows(db: Path) -> list[tuple[Any, ...]]:
    with sqlite3.connect(db) as con:
        return con.execute("SELECT key, raw, mode, filename, value FROM Cache").fetchall()


def blob_file(store: LocalStore, digest: str) -> Path:
    ((filename,),) = [(r[3],) for r in rows(store.directory / "cas" / "cache.db") if r[0] == digest]
    return store.directory / "cas" / filename


class Evil:
    """Unpickling this creates a marker file: proof that something was unpickled."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (str(self.marker), "w"))


# --------------------------------------------------------------------------- raw bytes only


def test_values_are_stored_as_raw_bytes(store: LocalStore) -> None:
    small, large = store.put_blob(SMALL), store.put_blob(LARGE)
    result = ActionResult((("bin", large),), 0, "warning: x")
    store.put_action("key", result)
    cas = {r[0]: r for r in rows(store.directory / "cas" / "cache.db")}
    raw, binary = diskcache.core.MODE_RAW, diskcache.core.MODE_BINARY
    assert cas[small][1:] == (1, raw, None, SMALL)  # an SQLite BLOB, the bytes themselves
    assert cas[large][1:3] == (1, binary) and cas[large][4] is None
    assert blob_file(store, large).read_bytes() == LARGE  # a file holding the bytes themselves
    ((key, _, mode, _, value),) = rows(store.directory / "ac" / "cache.db")
    assert (key, mode, value) == ("key", raw, result.to_bytes())


@pytest.mark.parametrize("value", ["text", 42, 1.5, {"a": 1}, bytearray(b"x")])
def test_anything_but_bytes_is_refused(store: LocalStore, value: Any) -> None:
    with pytest.raises(TypeError, match="must be bytes"):
        store._cas.set("k", value)
    with pytest.raises(TypeError, match="must be str"):
        store._cas.set(1, b"x")  # type: ignore[arg-type]


def test_pickled_rows_are_never_unpickled(store: LocalStore, tmp_path: Path) -> None:
    marker = tmp_path / "unpickled"
    digest = digest_bytes(SMALL)
    for sub, key in (("cas", digest), ("ac", "key")):
        plain = diskcache.Cache(str(store.directory / sub))  # the default Disk pickles
        plain.set(key, Evil(marker))
        plain.set(Evil(marker), b"a pickled key")
        plain.close()
    assert store.get_blob(digest) is None
    assert store.get_action("key") is None
    assert not store.materialize(digest, tmp_path / "out")
    assert store.check()  # iterating meets the pickled keys: reported, not unpickled
    assert not marker.exists()
    assert store.put_blob(SMALL) == digest and store.get_blob(digest) == SMALL


# --------------------------------------------------------------------------- corruption


def test_flipped_bytes_in_a_blob_file(store: LocalStore) -> None:
    digest = store.put_blob(LARGE)
    path = blob_file(store, digest)
    path.write_bytes(LARGE[:500] + bytes([LARGE[500] ^ 1]) + LARGE[501:])
    assert store.check() == [f"cas/{digest}: missing or corrupt"]
    assert not store.has_blob(digest) and not path.exists()  # dropped with its file


def test_changed_row_of_a_small_blob(store: LocalStore) -> None:
    digest = store.put_blob(SMALL)
    with sqlite3.connect(store.directory / "cas" / "cache.db") as con:
        con.execute("UPDATE Cache SET value = ? WHERE key = ?", (b"smalL blob", digest))
    assert store.get_blob(digest) is None
    assert not store.has_blob(digest)


def test_deleted_blob_file_is_a_miss_then_restored(store: LocalStore, tmp_path: Path) -> None:
    digest = store.put_blob(LARGE)
    blob_file(store, digest).unlink()
    assert store.has_blob(digest)  # the row is there: only reading can tell
    assert not store.materialize(digest, tmp_path / "bin")
    assert store.put_blob(LARGE) == digest
    assert store.materialize(digest, tmp_path / "bin")
    assert (tmp_path / "bin").read_bytes() == LARGE


def test_malformed_action_is_a_miss_and_dropped(store: LocalStore) -> None:
    store._ac.set("key", b'{"schema": "something else"}')
    assert store.get_action("key") is None
    assert "key" not in store._ac


def test_unreadable_index_is_rb502(tmp_path: Path) -> None:
    (tmp_path / "cache" / "cas").mkdir(parents=True)
    (tmp_path / "cache" / "cas" / "cache.db").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(BuildError) as caught:
        LocalStore(tmp_path / "cache", LIMIT)
    assert caught.value.diagnostics[0].code == "RB502"
    assert "clean --expunge" in (caught.value.diagnostics[0].hint or "")


def test_a_file_in_the_way_is_rb502(tmp_path: Path) -> None:
    (tmp_path / "cache").write_text("not a directory")
    with pytest.raises(BuildError) as caught:
        LocalStore(tmp_path / "cache", LIMIT)
    assert caught.value.diagnostics[0].code == "RB502"


# --------------------------------------------------------------------------- layout, limits


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_directories_are_private(tmp_path: Path) -> None:
    LocalStore(tmp_path / "new" / "cache", LIMIT).close()
    assert [mode(tmp_path / "new" / "cache" / s) for s in ("", "ac", "cas")] == [0o700] * 3
    loose = tmp_path / "loose"
    (loose / "cas").mkdir(parents=True, mode=0o777)
    loose.chmod(0o755)
    (loose / "cas").chmod(0o777)
    LocalStore(loose, LIMIT).close()
    assert mode(loose) == mode(loose / "cas") == 0o700


def test_a_shared_sticky_directory_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    LocalStore(shared, LIMIT).close()
    assert stat.S_IMODE(shared.stat().st_mode) == 0o1777
    assert mode(shared / "ac") == mode(shared / "cas") == 0o700


def test_reopened_store_keeps_its_entries(tmp_path: Path) -> None:
    with LocalStore(tmp_path, LIMIT) as first:
        digest = first.put_blob(LARGE)
        first.put_action("k", ActionResult((("bin", digest),), 0))
    with LocalStore(tmp_path, LIMIT) as second:
        assert second.get_blob(digest) == LARGE
        got = second.get_action("k")
        assert got is not None and second.complete(got)
        assert second.entries() == 2 and second.check() == []


def test_size_limit_evicts_on_write(tmp_path: Path) -> None:
    limit = 2 * 2**20
    with LocalStore(tmp_path, limit) as store:
        digests = [store.put_blob(os.urandom(100_000)) for _ in range(40)]  # 4 MB
        assert store.size() <= limit + 10 * 100_000  # diskcache culls ten at a time
        assert store.has_blob(digests[-1]) and not store.has_blob(digests[0])


# --------------------------------------------------------------------------- two processes

SHARED = [random.Random(i).randbytes(i * 12_000) for i in range(8)]  # raw rows and files
SHARED_DIGESTS = {digest_bytes(d) for d in SHARED}


def _hammer(directory: str, worker: int, rounds: int) -> None:
    """One build process: shared and own keys, actions, materialize to one dest, gc."""
    rng = random.Random(worker)
    dest = Path(directory).parent / "out" / "bin"
    with LocalStore(Path(directory), 3 * 2**20) as store:
        for r in range(rounds):
            data = SHARED[r % len(SHARED)]
            digest = store.put_blob(data)
            assert store.get_blob(digest) in (None, data)
            own = rng.randbytes(rng.choice((10, 1_000, 40_000)))
            own_digest = store.put_blob(own)
            assert store.get_blob(own_digest) in (None, own)
            store.put_action("shared", ActionResult((("bin", digest),), worker))
            got = store.get_action("shared")
            assert got is None or got.output("bin") in SHARED_DIGESTS
            store.put_action(f"own/{worker}/{r}", ActionResult((("bin", own_digest),), r))
            got = store.get_action(f"own/{worker}/{r}")
            assert got is None or got.output("bin") == own_digest
            if store.materialize(digest, dest, executable=True):
                assert digest_bytes(dest.read_bytes()) in SHARED_DIGESTS
            if r % 40 == 39:
                store.gc(2 * 2**20)


def test_concurrent_processes_do_not_corrupt_the_store(tmp_path: Path) -> None:
    directory = tmp_path / "cache"
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_hammer, args=(str(directory), w, 160)) for w in range(3)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(timeout=120)
    assert [p.exitcode for p in workers] == [0, 0, 0]
    with LocalStore(directory, 3 * 2**20) as store:
        assert store.check() == []  # every blob verifies, every result parses, no orphans
        assert store.entries() > 0
    assert os.listdir(tmp_path / "out") == ["bin"]  # no temp files left by materialize


def test_a_warm_store_is_reused_until_its_files_change(tmp_path: Path) -> None:
    from runtara_build.cache import local

    directory = tmp_path / "cache"
    local.warm(directory, LIMIT)  # no store there yet: nothing is created
    assert not directory.exists()
    LocalStore(directory, LIMIT).close()
    local.warm(directory, LIMIT)
    warm = LocalStore.open(directory, LIMIT)
    assert LocalStore.open(directory, LIMIT) is warm
    assert LocalStore.open(directory, LIMIT // 2) is not warm  # another limit: its own store
    digest = warm.put_blob(SMALL)
    # Another store in its place (moved aside, so no inode can be reused) is not the warm one.
    directory.rename(tmp_path / "aside")
    LocalStore(directory, LIMIT).close()
    fresh = LocalStore.open(directory, LIMIT)
    assert fresh is not warm and fresh.get_blob(digest) is None


def _use_warm_store(directory: str, queue: Any) -> None:
    store = LocalStore.open(Path(directory), LIMIT)
    queue.put((store.get_blob(digest_bytes(SMALL)), store.put_blob(LARGE)))


def test_a_warm_store_works_in_a_forked_child(tmp_path: Path) -> None:
    # The build server warms a store, then forks commands that use it: no connection crosses
    # the fork (diskcache reconnects in the child).
    from runtara_build.cache import local

    directory = tmp_path / "cache"
    with LocalStore(directory, LIMIT) as first:
        first.put_blob(SMALL)
    local.warm(directory, LIMIT)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_use_warm_store, args=(str(directory), queue))
    child.start()
    small, large = queue.get(timeout=60)
    child.join(60)
    assert child.exitcode == 0 and small == SMALL
    with LocalStore(directory, LIMIT) as again:
        assert again.get_blob(large) == LARGE
