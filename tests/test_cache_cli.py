"""`clean [--expunge]` and `cache gc`, through the real console script, in tmp workspaces only
(never the example workspace: its cache holds the test runs' runtime rlib)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtara_build.cache import ActionResult
from runtara_build.cache.local import LocalStore
from tests.support.binaries import without_runtara

SCRIPT = Path(sys.executable).with_name("runtara-build")
REPORT_KEYS = ["removed_bytes", "removed_entries", "remaining_bytes"]


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean_env = without_runtara()
    result = subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env={**clean_env, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    return result


def report(result: subprocess.CompletedProcess[str]) -> dict[str, int]:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert list(data) == REPORT_KEYS
    return {k: int(v) for k, v in data.items()}


def fill_cache(cache: Path, blobs: int = 5, size: int = 100_000) -> list[str]:
    with LocalStore(cache, 2**30) as store:
        digests = [store.put_blob(os.urandom(size)) for _ in range(blobs)]
        store.put_action("key", ActionResult((("bin", digests[0]),), 0))
        return digests


def fill_outputs(out: Path) -> int:
    (out / "bin" / "acme" / "orders").mkdir(parents=True)
    (out / "bin" / "acme" / "orders" / "bin").write_bytes(b"x" * 1000)
    (out / "src" / "acme" / "orders").mkdir(parents=True)
    (out / "src" / "acme" / "orders" / "main.rs").write_bytes(b"fn main() {}\n")
    (out / ".manifest.json").write_text("{}")
    return 1000 + 13 + 2


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    (tmp_path / "WORKSPACE").write_text('[cache]\nmax_size = "300KB"\n')
    (tmp_path / "acme" / "orders").mkdir(parents=True)
    return tmp_path


# --------------------------------------------------------------------------- clean


def test_clean_removes_the_output_tree_and_keeps_the_cache(ws: Path) -> None:
    fill_cache(ws / "cache")
    removed = fill_outputs(ws / "runtara-out")
    result = run("clean", cwd=ws / "acme" / "orders")  # from a package: the workspace's tree
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.startswith("clean: removed 3 file(s), 1015 B; cache: ")
    assert not (ws / "runtara-out").exists()
    assert (ws / "cache" / "cas").is_dir()
    again = report(run("clean", "--output=json", cwd=ws))
    assert again["removed_entries"] == again["removed_bytes"] == 0
    assert again["remaining_bytes"] >= 500_000
    assert removed == 1015


def test_clean_expunge_empties_the_cache_but_its_readme(ws: Path) -> None:
    fill_cache(ws / "cache")
    (ws / "cache" / "README.md").write_text("tracked\n")
    (ws / "cache" / "runtime" / "abc").mkdir(parents=True)
    fill_outputs(ws / "runtara-out")
    data = report(run("clean", "--expunge", "--output=json", cwd=ws))
    assert data["removed_entries"] >= 3 + 5 + 2  # outputs, blob files, two index databases
    assert data["removed_bytes"] >= 500_000
    assert data["remaining_bytes"] == len("tracked\n")
    assert os.listdir(ws / "cache") == ["README.md"]
    assert not (ws / "runtara-out").exists()
    with LocalStore(ws / "cache", 2**30) as store:  # usable again afterwards
        assert store.entries() == 0


def test_clean_uses_the_configured_directories(ws: Path) -> None:
    (ws / "WORKSPACE").write_text('[output]\ndir = "out"\n[cache]\ndir = "out/cache"\n')
    fill_cache(ws / "out" / "cache")
    fill_outputs(ws / "out")
    run("clean", cwd=ws)
    assert os.listdir(ws / "out") == ["cache"]  # a cache inside the output tree survives
    assert (ws / "out" / "cache" / "cas").is_dir()
    run("clean", "--expunge", cwd=ws)
    assert os.listdir(ws / "out") == ["cache"] and os.listdir(ws / "out" / "cache") == []


def test_clean_never_follows_a_symlinked_output_dir(
    ws: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    (elsewhere / "precious").write_text("keep me")
    (ws / "runtara-out").symlink_to(elsewhere)
    assert run("clean", cwd=ws).returncode == 0
    assert not (ws / "runtara-out").exists()
    assert (elsewhere / "precious").read_text() == "keep me"


@pytest.mark.parametrize("setting", ['[output]\ndir = "."', '[cache]\ndir = ".."'])
def test_clean_refuses_to_delete_the_workspace(ws: Path, setting: str) -> None:
    (ws / "WORKSPACE").write_text(setting + "\n")
    fill_outputs(ws / "runtara-out")
    result = run("clean", "--expunge", cwd=ws)
    assert result.returncode == 1
    assert "error[RB503]" in result.stderr and "nothing was deleted" in result.stderr
    assert (ws / "WORKSPACE").exists() and (ws / "runtara-out" / ".manifest.json").exists()


def test_clean_outside_a_workspace_uses_file_mode(tmp_path: Path) -> None:
    work, cache = tmp_path / "work", tmp_path / "xdg" / "runtara-build"
    fill_outputs(work / "runtara-out")
    fill_cache(cache)
    env = {"RUNTARA_CACHE_DIR": str(cache)}
    data = report(run("clean", "--output=json", cwd=work, env=env))
    assert data["removed_entries"] == 3 and not (work / "runtara-out").exists()
    assert (cache / "cas").is_dir()
    data = report(run("clean", "--expunge", "--output=json", cwd=work, env=env))
    assert data["remaining_bytes"] == 0 and os.listdir(cache) == []


def test_clean_with_nothing_to_do(tmp_path: Path) -> None:
    env = {"RUNTARA_CACHE_DIR": str(tmp_path / "nowhere")}
    assert report(run("clean", "--expunge", "--output=json", cwd=tmp_path, env=env)) == {
        "removed_bytes": 0,
        "removed_entries": 0,
        "remaining_bytes": 0,
    }
    assert not (tmp_path / "nowhere").exists()


# --------------------------------------------------------------------------- cache gc


def test_gc_trims_to_max_size(ws: Path) -> None:
    digests = fill_cache(ws / "cache", blobs=8)
    data = report(run("cache", "gc", "--max-size", "500KB", "--output=json", cwd=ws))
    assert data["removed_entries"] >= 4
    assert data["remaining_bytes"] <= 500_000 < data["remaining_bytes"] + data["removed_bytes"]
    with LocalStore(ws / "cache", 2**30) as store:
        assert store.size() == data["remaining_bytes"]
        assert store.has_blob(digests[-1]) and not store.has_blob(digests[0])  # LRU order


def test_gc_defaults_to_the_workspace_max_size(ws: Path) -> None:
    fill_cache(ws / "cache", blobs=8)
    result = run("cache", "gc", cwd=ws)
    assert result.returncode == 0 and result.stdout == ""
    assert result.stderr.startswith("cache gc: removed ")
    assert "(limit 293.0 KiB)" in result.stderr  # "300KB"
    with LocalStore(ws / "cache", 2**30) as store:
        assert store.size() <= 300_000


def test_gc_does_not_create_a_missing_cache(ws: Path) -> None:
    data = report(run("cache", "gc", "--output=json", cwd=ws))
    assert data == {"removed_bytes": 0, "removed_entries": 0, "remaining_bytes": 0}
    assert not (ws / "cache").exists()


@pytest.mark.parametrize(
    "args", [("cache",), ("cache", "gc", "--max-size", "5 parsecs"), ("cache", "prune")]
)
def test_usage_errors(ws: Path, args: tuple[str, ...]) -> None:
    result = run(*args, cwd=ws)
    assert result.returncode == 2 and "error[RB030]" in result.stderr


def test_gc_reports_a_broken_cache_as_rb502(ws: Path) -> None:
    (ws / "cache" / "ac").mkdir(parents=True)
    (ws / "cache" / "cas").mkdir()
    (ws / "cache" / "ac" / "cache.db").write_bytes(b"garbage" * 1000)
    result = run("cache", "gc", cwd=ws)
    assert result.returncode == 1 and "error[RB502]" in result.stderr
    assert "clean --expunge" in result.stderr
    assert run("clean", "--expunge", cwd=ws).returncode == 0
    assert run("cache", "gc", cwd=ws).returncode == 0
