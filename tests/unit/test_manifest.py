"""The no-op fast path: replay on identical stats, miss on any change; stdlib only."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from runtara_build import manifest


def test_replays_when_nothing_changed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    doc = tmp_path / "x.json"
    doc.write_text("{}")
    argv = ["build", str(doc), "-j", "3", "--explain"]
    manifest.record(argv, tmp_path, [doc], ("out/bin\n", "", ["x.json:bin"]))
    events = tmp_path / "ev.jsonl"
    assert manifest.try_noop(["build", str(doc), "--events", str(events)], tmp_path) == 0
    assert capsys.readouterr().out == "out/bin\n"
    assert json.loads(events.read_text())["outcome"] == "hit"


def test_any_stat_change_is_a_miss(tmp_path: Path) -> None:
    doc = tmp_path / "x.json"
    doc.write_text("{}")
    manifest.record(["build", str(doc)], tmp_path, [doc], ("", "", []))
    doc.write_text("{ }")
    assert manifest.try_noop(["build", str(doc)], tmp_path) is None
    assert manifest.try_noop(["build", str(doc), "--strict"], tmp_path) is None  # other request
    assert manifest.try_noop(["check", str(doc)], tmp_path) is None


def test_another_installation_does_not_replay(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another copy of runtara-build has sources and a runtime this record never statted.
    doc = tmp_path / "x.json"
    doc.write_text("{}")
    manifest.record(["build", str(doc)], tmp_path, [doc], ("", "", []))
    monkeypatch.setattr(manifest, "__file__", "/another/venv/runtara_build/manifest.py")
    assert manifest.try_noop(["build", str(doc)], tmp_path) is None


def test_imports_nothing_heavy() -> None:
    code = (
        "import sys, runtara_build.manifest, runtara_build.cli;"
        "print(sorted(m for m in ('pydantic', 'networkx', 'xxhash') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
