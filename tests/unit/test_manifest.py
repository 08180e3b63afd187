"""The manifest: replay on identical stats, the dirty set of a document edit, a miss on
anything else; stdlib only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtara_build import manifest


def _stat(path: str) -> list[int]:
    st = os.stat(path)
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _record(
    argv: list[str],
    cwd: Path,
    docs: list[Path],
    dirs: tuple[Path, ...] = (),
    out: Path | None = None,
) -> None:
    """A manifest of two requested targets: //t/a reads a.json, //t/b reads a.json and b.json."""
    paths = [str(p) for p in [*docs, *dirs]]
    stats = {p: _stat(p) for p in paths}
    outputs = {str(out): _stat(str(out))} if out else {}
    roots = [["//t/a:bin", "out/a", [0], ["//t/a:bin", "//t/a:obj", "//t/a:src"]]]
    if len(docs) > 1:
        roots.append(["//t/b:bin", "out/b", [0, 1], ["//t/b:bin", "//t/b:obj", "//t/b:src"]])
    listings = {str(d): manifest.listing(str(d)) for d in dirs}
    printed = ("out/a\n", "")
    body = manifest.body((stats, outputs), printed, roots, {"listings": listings, "warnings": {}})
    manifest.save(argv, cwd, body)


def _docs(tmp_path: Path) -> tuple[Path, Path, Path]:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    a, b = pkg / "a.json", pkg / "b.json"
    a.write_text("{}")
    b.write_text("{}")
    return a, b, pkg


def test_replays_when_nothing_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a, _, _ = _docs(tmp_path)
    _record(["build", str(a), "-j", "3", "--explain"], tmp_path, [a])
    events = tmp_path / "ev.jsonl"
    assert manifest.try_noop(["build", str(a), "--events", str(events)], tmp_path) == 0
    assert capsys.readouterr().out == "out/a\n"
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(e["label"], e["kind"], e["outcome"]) for e in lines] == [
        ("//t/a:bin", "bin", "hit"), ("//t/a:obj", "obj", "hit"), ("//t/a:src", "src", "hit")]  # fmt: skip


def test_any_stat_change_is_a_miss(tmp_path: Path) -> None:
    a, _, _ = _docs(tmp_path)
    _record(["build", str(a)], tmp_path, [a])
    a.write_text("{ }")
    assert manifest.try_noop(["build", str(a)], tmp_path) is None
    assert manifest.try_noop(["build", str(a), "--strict"], tmp_path) is None  # other request
    assert manifest.try_noop(["check", str(a)], tmp_path) is None


def test_a_changed_output_is_a_miss_and_no_dirty_set(tmp_path: Path) -> None:
    a, _, pkg = _docs(tmp_path)
    out = tmp_path / "out.bin"
    out.write_text("binary")
    argv = ["build", "//..."]
    (tmp_path / "WORKSPACE").write_text("")
    _record(argv, tmp_path, [a], (pkg,), out)
    assert manifest.try_noop(argv, tmp_path) == 0
    out.write_text("tampered")
    assert manifest.look(argv, tmp_path) == (None, None)
    # With a document edited too, the outputs are left to the dirty build (`dirty`).
    a.write_text('{"x": 3}')
    found = manifest.look(argv, tmp_path)[1]
    assert found is not None and not found.saved.outputs_checked
    assert list(found.saved.changed_outputs()) == [str(out)]


def test_another_installation_does_not_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another copy of runtara-build has sources and a runtime this record never statted.
    a, _, _ = _docs(tmp_path)
    _record(["build", str(a)], tmp_path, [a])
    monkeypatch.setattr(manifest, "__file__", "/another/venv/runtara_build/manifest.py")
    assert manifest.try_noop(["build", str(a)], tmp_path) is None


def test_a_damaged_manifest_is_a_miss(tmp_path: Path) -> None:
    a, _, _ = _docs(tmp_path)
    argv = ["build", str(a)]
    _record(argv, tmp_path, [a])
    found = manifest.location(argv, tmp_path)
    assert found is not None
    where = Path(found[0])
    where.write_bytes(where.read_bytes()[: where.stat().st_size // 2])
    assert manifest.look(argv, tmp_path) == (None, None)
    where.write_bytes(b"\x00garbage")
    assert manifest.look(argv, tmp_path) == (None, None)


def test_a_document_edit_names_the_targets_that_read_it(tmp_path: Path) -> None:
    a, b, pkg = _docs(tmp_path)
    argv = ["build", "//..."]
    (tmp_path / "WORKSPACE").write_text("")
    _record(argv, tmp_path, [a, b], (pkg,))
    b.write_text('{"x": 1}')
    assert manifest.look(argv, tmp_path)[1].dirty == [1]  # type: ignore[union-attr]
    a.write_text('{"x": 2}')
    assert manifest.look(argv, tmp_path)[1].dirty == [0, 1]  # type: ignore[union-attr]


def test_a_save_by_rename_is_still_a_document_edit(tmp_path: Path) -> None:
    a, b, pkg = _docs(tmp_path)
    argv = ["build", "//..."]
    (tmp_path / "WORKSPACE").write_text("")
    _record(argv, tmp_path, [a, b], (pkg,))
    os.utime(pkg, ns=(1, 1))  # the directory changed, but it holds the same names
    tmp = pkg / ".b.json.swp"
    tmp.write_text('{"y": 1}')
    tmp.replace(b)
    assert manifest.look(argv, tmp_path)[1].dirty == [1]  # type: ignore[union-attr]


def test_anything_but_a_document_edit_needs_the_full_build(tmp_path: Path) -> None:
    a, b, pkg = _docs(tmp_path)
    argv = ["build", "//..."]
    (tmp_path / "WORKSPACE").write_text("")
    _record(argv, tmp_path, [a, b], (pkg,))
    (pkg / "BUILD.toml").write_text("")  # a new entry in a listed directory
    assert manifest.look(argv, tmp_path) == (None, None)
    (pkg / "BUILD.toml").unlink()
    b.unlink()  # a deleted document
    assert manifest.look(argv, tmp_path) == (None, None)


def _imported(modules: str, names: tuple[str, ...]) -> list[str]:
    code = f"import sys, {modules}; print(sorted(m for m in {names!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return list(json.loads(out.stdout.replace("'", '"')))


def test_imports_nothing_heavy() -> None:
    assert _imported("runtara_build.cli", ("pydantic", "networkx", "xxhash")) == []
    # What every command imports before it is answered or handed to the server.
    fast = "runtara_build.entry, runtara_build.manifest, runtara_build.client"
    assert _imported(fast, ("json", "pathlib", "typing", "hashlib")) == []
