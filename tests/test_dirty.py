"""The dirty build: an edit of documents rebuilds only the requested targets that read them,
and says exactly what a full build would (stdout, warnings, errors, --events outcomes).

Through the console script, as a user runs it: `entry` finds the dirty set from the manifest
and hands it to the CLI. `:src` targets keep most of these tests free of rustc; the last one
builds binaries.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.test_incremental import caller, finish, value

CLI = Path(sys.executable).parent / "runtara-build"


class Ws:
    """A workspace of four packages: p1 and p2 call shared; leaf calls nobody."""

    def __init__(self, root: Path, cache: Path) -> None:
        self.root = root
        root.mkdir(parents=True)
        (root / "WORKSPACE").write_text(f'[cache]\ndir = "{cache}"\n')
        self.write("leaf", finish({"a": value(1)}))
        self.write("shared", finish({"who": value("shared")}))
        self.write("p1", caller("shared"))
        self.write("p2", caller("shared"))

    def write(self, name: str, doc: dict[str, Any], indent: int = 2) -> None:
        path = self.root / "acme" / name / "scenario.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=indent))

    def build(self, *targets: str, full: bool = False) -> tuple[int, str, str, dict[str, str]]:
        """(exit code, stdout, stderr without progress lines, label -> outcome); `full`
        drops the manifests first, so the whole pipeline runs."""
        if full:
            for manifest in (self.root / "runtara-out" / ".runtara").glob("noop-*"):
                manifest.unlink()
        # Outside the workspace: a file coming and going in its root is a change of structure.
        events = self.root.parent / f"{self.root.name}-events.jsonl"
        events.unlink(missing_ok=True)
        argv = [str(CLI), "build", *(targets or ("//...:src",)), "--events", str(events)]
        proc = subprocess.run(argv, cwd=self.root, capture_output=True, text=True, check=False)
        outcomes = {}
        if events.exists():
            for line in events.read_text().splitlines():
                event = json.loads(line)
                outcomes[event["label"]] = event["outcome"]
        shown = [ln for ln in proc.stderr.splitlines() if not re.match(r"\[\d+/\d+\] ", ln)]
        return proc.returncode, proc.stdout, "\n".join(shown), outcomes

    def progress(self, *targets: str) -> str:
        argv = [str(CLI), "build", *(targets or ("//...:src",))]
        proc = subprocess.run(argv, cwd=self.root, capture_output=True, text=True, check=True)
        return proc.stderr


@pytest.fixture
def ws(tmp_path: Path) -> Ws:
    found = Ws(tmp_path / "ws", tmp_path / "cache")
    assert found.build()[0] == 0
    return found


def built(outcomes: dict[str, str]) -> set[str]:
    return {label for label, outcome in outcomes.items() if outcome == "built"}


def test_a_leaf_edit_looks_at_the_leaf_only(ws: Ws) -> None:
    first = ws.build()
    ws.write("leaf", finish({"a": value(2)}))
    # Progress counts the targets a build looked at: one, not the workspace's four.
    assert ws.progress().splitlines() == ["[1/1] Generate //acme/leaf:src"]
    ws.write("leaf", finish({"a": value(3)}))
    code, stdout, _, outcomes = ws.build()
    assert (code, stdout) == (0, first[1])
    assert built(outcomes) == {"//acme/leaf:src"}
    assert set(outcomes) == set(first[3])  # every target still reported, the rest as hits


def test_a_directory_that_changed_back_needs_no_build(ws: Ws) -> None:
    first = ws.build()
    scratch = ws.root / "acme" / "leaf" / ".scenario.json.swp"  # an editor came and went
    scratch.write_text("")
    scratch.unlink()
    assert ws.progress() == ""
    code, stdout, stderr, outcomes = ws.build()
    assert (code, stdout, stderr) == (0, first[1], "")
    assert built(outcomes) == set() and set(outcomes) == set(first[3])


def test_an_output_changed_elsewhere_is_put_back(ws: Ws) -> None:
    # A dirty build looks at the leaf only; p2's deleted output needs the full build.
    p2 = ws.root / "runtara-out" / "src" / "acme" / "p2" / "lib.rs"
    text = p2.read_text()
    p2.unlink()
    ws.write("leaf", finish({"a": value(6)}))
    code, _, _, outcomes = ws.build()
    assert code == 0 and p2.read_text() == text
    leaf = ws.root / "runtara-out" / "src" / "acme" / "leaf" / "lib.rs"
    assert outcomes["//acme/p2:src"] == "hit" and "6" in leaf.read_text()


def test_a_child_edit_looks_at_its_callers(ws: Ws) -> None:
    ws.write("shared", finish({"who": value("changed")}))
    lines = ws.progress().splitlines()
    assert lines == ["[3/3] Generate //acme/shared:src"]  # p1 and p2 looked at first: hits
    assert built(ws.build()[3]) == set()


def test_dirty_builds_say_what_a_full_build_says(tmp_path: Path) -> None:
    # Caches of their own: a target one built is a hit for the other in a shared one.
    dirty, full = Ws(tmp_path / "dirty", tmp_path / "c1"), Ws(tmp_path / "full", tmp_path / "c2")
    assert dirty.build()[0] == full.build()[0] == 0

    def same() -> tuple[int, str, str, dict[str, str]]:
        found = dirty.build()
        expected = full.build(full=True)
        assert found[0] == expected[0]
        assert found[1].replace(str(dirty.root), "") == expected[1].replace(str(full.root), "")
        assert found[2] == expected[2]
        assert found[3] == expected[3]
        return found

    edits: list[tuple[str, dict[str, Any]]] = [
        ("leaf", finish({"a": value(1)}, step_id="g")),  # a warning (W005)
        ("p1", finish({"x": value(1)}, step_id="h")),  # a second one, in another document
        ("leaf", finish({"a": value(4)})),  # the first one goes away
        ("p1", caller("leaf")),  # p1 now reads leaf instead of shared
        ("leaf", {"steps": {}, "entryPoint": "nowhere"}),  # an error: exit 1, all reported
        ("leaf", finish({"a": value(5)})),  # mended
        ("shared", finish({"who": value("s")}, step_id="k")),  # a warning in a child
    ]
    for name, doc in edits:
        for ws in (dirty, full):
            ws.write(name, doc)
        found = same()
        assert found[0] == (1 if doc.get("entryPoint") == "nowhere" else 0)
    assert "W005" in found[2]

    # An editor's save by rename leaves the package directory with the same names.
    for ws in (dirty, full):
        tmp = ws.root / "acme" / "p2" / ".scenario.json.tmp"
        tmp.write_text(json.dumps(caller("leaf"), indent=1))
        os.replace(tmp, ws.root / "acme" / "p2" / "scenario.json")
    assert dirty.progress().splitlines()[0] == "[1/1] Generate //acme/p2:src"
    full.build(full=True)
    same()

    # A new package is a change of structure: the full pipeline runs, and says the same.
    for ws in (dirty, full):
        ws.write("new", caller("shared"))
    assert "//acme/new:src" in same()[3]


@pytest.mark.rustc
@pytest.mark.slow
def test_a_leaf_edit_of_binaries_relinks_only_its_binary(
    tmp_path: Path, runtime_cache: Path
) -> None:
    ws = Ws(tmp_path / "ws", runtime_cache / "runtara-build")
    first = ws.build("//...")
    assert first[0] == 0, first[2]
    edited = f"edited {time.time_ns()}"  # the test cache outlives runs: never a cache hit
    ws.write("leaf", finish({"a": value(edited)}))
    code, stdout, stderr, outcomes = ws.build("//...")
    assert (code, stdout) == (0, first[1]), stderr
    assert built(outcomes) == {"//acme/leaf:src", "//acme/leaf:obj", "//acme/leaf:bin"}
    assert set(outcomes) == set(first[3])
    binary = ws.root / "runtara-out" / "bin" / "acme" / "leaf" / "bin"
    ran = subprocess.run([str(binary), "--input", "-"], input="{}", capture_output=True, text=True,
                         cwd=tmp_path, check=False)  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert edited in ran.stdout
