"""The `Store` contract, written once and run against every implementation (STYLE §8, §11 rule 11).

An implementation joins by adding a `Harness` to `HARNESSES`: how to open a store, and how to
plant wrong bytes under a digest (corruption has no portable API, by design).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from runtara_build.cache import ActionResult, GcReport, Store, is_digest
from runtara_build.keys import digest_bytes


@dataclass(frozen=True)
class Harness:
    open: Callable[[Path], Store]
    corrupt: Callable[[Store, str, bytes], None]  # store `data` under `digest`, unverified


def _open_local(tmp: Path) -> Store:
    from runtara_build.cache.local import LocalStore

    return LocalStore(tmp / "cache", 64 * 2**20)


def _corrupt_local(store: Store, digest: str, data: bytes) -> None:
    from runtara_build.cache.local import LocalStore

    assert isinstance(store, LocalStore)
    store._cas.set(digest, data)


HARNESSES = {"local": Harness(_open_local, _corrupt_local)}

SMALL = b"fn main() {}\n"
LARGE = os.urandom(200_000)  # above diskcache's 32 KiB file threshold: stored as a file


@pytest.fixture(params=sorted(HARNESSES))
def harness(request: pytest.FixtureRequest) -> Harness:
    return HARNESSES[request.param]


@pytest.fixture
def store(harness: Harness, tmp_path: Path) -> Iterator[Store]:
    opened = harness.open(tmp_path)
    yield opened
    opened.close()


def result(*outputs: tuple[str, str], code: int = 0) -> ActionResult:
    return ActionResult(outputs, code, "warning: unused variable", (("toolchain", "rustc 1.96"),))


# --------------------------------------------------------------------------- action cache


def test_action_round_trip(store: Store) -> None:
    digest = store.put_blob(SMALL)
    stored = result(("src", digest))
    assert store.get_action("k1") is None
    store.put_action("k1", stored)
    assert store.get_action("k1") == stored
    assert store.get_action("k2") is None


def test_put_action_replaces(store: Store) -> None:
    store.put_action("k", result(code=1))
    store.put_action("k", result(code=0))
    got = store.get_action("k")
    assert got is not None and got.exit_code == 0


def test_complete_needs_every_output_blob(store: Store) -> None:
    present = store.put_blob(SMALL)
    absent = digest_bytes(b"never stored")
    assert store.complete(result(("a", present)))
    assert store.complete(result())
    assert not store.complete(result(("a", present), ("b", absent)))


# --------------------------------------------------------------------------- content store


@pytest.mark.parametrize("data", [b"", SMALL, LARGE], ids=["empty", "small", "large"])
def test_blob_round_trip(store: Store, data: bytes) -> None:
    digest = store.put_blob(data)
    assert digest == digest_bytes(data) and is_digest(digest)
    assert store.has_blob(digest)
    assert store.get_blob(digest) == data
    assert store.put_blob(data) == digest  # idempotent


def test_blob_misses(store: Store) -> None:
    absent = digest_bytes(b"absent")
    assert not store.has_blob(absent)
    assert store.get_blob(absent) is None
    for bad in ("", "../etc/passwd", "ABCDEF", absent.upper()):
        assert not store.has_blob(bad)
        assert store.get_blob(bad) is None


def test_put_file(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "bin"
    path.write_bytes(LARGE)
    assert store.put_file(path) == digest_bytes(LARGE)
    assert store.get_blob(digest_bytes(LARGE)) == LARGE


@pytest.mark.parametrize("data", [SMALL, LARGE], ids=["small", "large"])
def test_corrupt_blob_is_a_miss_and_is_dropped(harness: Harness, store: Store, data: bytes) -> None:
    digest = store.put_blob(data)
    store.put_action("k", result(("bin", digest)))
    harness.corrupt(store, digest, data[:-1] + b"!")
    assert store.get_blob(digest) is None
    assert not store.has_blob(digest)  # dropped, so the action is incomplete: a miss
    stored = store.get_action("k")
    assert stored is not None and not store.complete(stored)
    assert store.put_blob(data) == digest  # a rebuild stores it again
    assert store.get_blob(digest) == data


def test_put_blob_replaces_a_corrupt_entry(harness: Harness, store: Store) -> None:
    digest = digest_bytes(SMALL)
    harness.corrupt(store, digest, b"garbage")
    assert store.put_blob(SMALL) == digest
    assert store.get_blob(digest) == SMALL


# --------------------------------------------------------------------------- materialize


def test_materialize(store: Store, tmp_path: Path) -> None:
    digest = store.put_blob(LARGE)
    dest = tmp_path / "out" / "bin" / "acme" / "orders" / "bin"
    assert store.materialize(digest, dest, executable=True)
    assert dest.read_bytes() == LARGE
    assert stat.S_IMODE(dest.stat().st_mode) == 0o755
    assert os.listdir(dest.parent) == ["bin"]  # no temp file left behind


def test_materialize_replaces_and_is_not_executable_by_default(
    store: Store, tmp_path: Path
) -> None:
    dest = tmp_path / "main.rs"
    dest.write_bytes(b"old")
    old_inode = dest.stat().st_ino
    assert store.materialize(store.put_blob(SMALL), dest)
    assert dest.read_bytes() == SMALL
    assert stat.S_IMODE(dest.stat().st_mode) == 0o644
    assert dest.stat().st_ino != old_inode  # renamed into place, never written in place


def test_materialize_miss_leaves_dest_alone(harness: Harness, store: Store, tmp_path: Path) -> None:
    dest = tmp_path / "out" / "bin"
    dest.parent.mkdir()
    dest.write_bytes(b"previous")
    assert not store.materialize(digest_bytes(b"absent"), dest)
    digest = store.put_blob(SMALL)
    harness.corrupt(store, digest, b"wrong")
    assert not store.materialize(digest, dest)
    assert dest.read_bytes() == b"previous"
    assert os.listdir(dest.parent) == ["bin"]


# --------------------------------------------------------------------------- size, gc, clear


def test_size_gc_and_clear(store: Store) -> None:
    empty = store.size()
    blobs = [store.put_blob(os.urandom(100_000)) for _ in range(10)]
    store.put_action("k", result(*((f"o{i}", d) for i, d in enumerate(blobs))))
    full = store.size()
    assert full >= empty + 1_000_000

    report = store.gc(full)
    assert report == GcReport(0, 0, store.size())

    report = store.gc(empty + 500_000)
    assert report.removed_entries >= 5
    assert report.remaining_bytes == store.size() <= empty + 500_000
    assert report.removed_bytes == full - report.remaining_bytes

    store.clear()
    assert not any(store.has_blob(d) for d in blobs)
    assert store.get_action("k") is None


def test_gc_evicts_least_recently_used(store: Store) -> None:
    blobs = [store.put_blob(os.urandom(100_000)) for _ in range(6)]
    for digest in blobs[:3]:
        assert store.get_blob(digest) is not None  # used again: now the most recent
    report = store.gc(store.size() - 250_000)  # needs three of the six gone, the oldest three
    assert report.removed_entries == 3
    assert all(store.has_blob(d) for d in blobs[:3])
    assert not any(store.has_blob(d) for d in blobs[3:])


# --------------------------------------------------------------------------- ActionResult


def test_action_result_is_canonical() -> None:
    a, b = digest_bytes(b"a"), digest_bytes(b"b")
    one = ActionResult((("z", b), ("a", a)), 0, meta=(("y", "2"), ("x", "1")))
    two = ActionResult((("a", a), ("z", b)), 0, meta=(("x", "1"), ("y", "2")))
    assert one == two and one.to_bytes() == two.to_bytes()
    assert one.outputs == (("a", a), ("z", b)) and one.output("z") == b and one.output("q") is None
    assert ActionResult.from_bytes(one.to_bytes()) == one
    assert b"pickle" not in one.to_bytes() and one.to_bytes().startswith(b"{")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\xff",
        b"[]",
        b"{}",
        b"\x80\x04\x95",  # a pickle header
        b'{"schema":"runtara_build/ac/v0","outputs":[],"exit_code":0,"diagnostics":"","meta":[]}',
        b'{"schema":"runtara_build/ac/v1","outputs":[],"exit_code":true,"diagnostics":"","meta":[]}',
        b'{"schema":"runtara_build/ac/v1","outputs":[["a","nothex"]],"exit_code":0,"diagnostics":"","meta":[]}',
        b'{"schema":"runtara_build/ac/v1","outputs":[["a"]],"exit_code":0,"diagnostics":"","meta":[]}',
        b'{"schema":"runtara_build/ac/v1","outputs":[],"exit_code":0,"diagnostics":1,"meta":[]}',
        b'{"schema":"runtara_build/ac/v1","outputs":[],"exit_code":0,"diagnostics":"","meta":[],"x":1}',
        b"[" * 100_000,
    ],
)
def test_malformed_action_result_is_none(data: bytes) -> None:
    assert ActionResult.from_bytes(data) is None


def test_action_result_rejects_bad_values() -> None:
    with pytest.raises(ValueError, match="distinct"):
        ActionResult((("a", digest_bytes(b"1")), ("a", digest_bytes(b"2"))), 0)
    with pytest.raises(ValueError, match="digests"):
        ActionResult((("a", "not a digest"),), 0)
    with pytest.raises(TypeError):
        ActionResult((), True)
