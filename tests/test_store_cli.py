"""`runtara-build signal` and `inspect` (RUNTIME §4.2, §6.4; docs/STORE.md), in process."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from runtara_build.cli import main
from tests.support.mounts import remount_read_only, tmpfs

INST = "inst-1"


def signal(store: Path, *args: str, instance: str = INST) -> int:
    return main(["signal", "--store", str(store), "--instance", instance, *args])


def pending(store: Path, instance: str = INST) -> tuple[str, int | None] | None:
    with sqlite3.connect(store) as conn:
        row = conn.execute(
            "SELECT signal_type, acknowledged_at_ms FROM signals WHERE instance_id = ?",
            (instance,),
        ).fetchone()
    return None if row is None else (row[0], row[1])


def test_creates_schema_wal_and_user_version(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    assert signal(store, "pause") == 0
    with sqlite3.connect(store) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 1
        assert conn.execute("PRAGMA page_size").fetchone()[0] == 1024  # as the binary's
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"instances", "checkpoints", "signals", "custom_signals", "events"} <= tables
    assert pending(store) == ("pause", None)


def test_cancel_is_never_replaced(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s.db"
    assert signal(store, "cancel") == 0
    assert signal(store, "pause") == 0
    assert "cancel is pending" in capsys.readouterr().err
    assert signal(store, "resume") == 0
    assert "cancel is pending" in capsys.readouterr().err
    assert pending(store) == ("cancel", None)
    assert capsys.readouterr().out == ""


def test_resume_removes_a_pending_pause(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    assert signal(store, "pause") == 0
    assert signal(store, "resume") == 0
    assert pending(store) is None
    assert signal(store, "resume") == 0  # nothing pending: a resume row
    assert pending(store) == ("resume", None)
    assert signal(store, "pause") == 0  # replaces the resume
    assert pending(store) == ("pause", None)
    assert signal(store, "cancel") == 0  # cancel replaces a pause
    assert pending(store) == ("cancel", None)


def test_acknowledged_signal_is_replaced(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    assert signal(store, "cancel") == 0
    with sqlite3.connect(store) as conn:
        conn.execute("UPDATE signals SET acknowledged_at_ms = 1")
    assert signal(store, "pause") == 0
    assert pending(store) == ("pause", None)


def test_custom_payload_is_compact_and_replaced(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    sid = f"{INST}/orders/approve"
    assert signal(store, "custom", "--signal-id", sid, "--payload", '{"b": 1, "a": [1, 2.5]}') == 0
    assert signal(store, "custom", "--signal-id", sid, "--payload", '{"ok": true, "é": "x"}') == 0
    with sqlite3.connect(store) as conn:
        rows = conn.execute("SELECT instance_id, signal_id, payload FROM custom_signals").fetchall()
    assert rows == [(INST, sid, '{"ok":true,"é":"x"}'.encode())]


@pytest.mark.parametrize("payload", ["nope", "{", "NaN", "[1,]", ""])
def test_custom_payload_must_be_json(tmp_path: Path, payload: str) -> None:
    store = tmp_path / "s.db"
    assert signal(store, "custom", "--signal-id", "x", "--payload", payload) == 2
    assert not store.exists()


@pytest.mark.parametrize(
    "args",
    [
        ["custom", "--payload", "1"],
        ["custom", "--signal-id", "x"],
        ["pause", "--payload", "1"],
        ["stop"],
        [],
    ],
)
def test_bad_arguments_exit_2(tmp_path: Path, args: list[str]) -> None:
    assert signal(tmp_path / "s.db", *args) == 2


def test_missing_store_dir_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert signal(tmp_path / "no" / "such" / "s.db", "cancel") == 1
    assert "RB040" in capsys.readouterr().err


def test_not_sqlite_exits_1(tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    store.write_bytes(b"this is not a database" * 100)
    assert signal(store, "cancel") == 1
    assert main(["inspect", "--store", str(store)]) == 1


def test_read_only_store_exits_1(tmp_path: Path) -> None:
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        store = mnt / "s.db"
        assert signal(store, "pause") == 0
        remount_read_only(mnt)
        assert signal(store, "cancel") == 1
        assert signal(mnt / "new.db", "cancel") == 1
        assert main(["inspect", "--store", str(store)]) == 0  # reading still works
    assert not (tmp_path / "mnt" / "s.db").exists()


def _seed(store: Path) -> None:
    assert signal(store, "pause") == 0
    with sqlite3.connect(store) as conn:
        conn.execute(
            "INSERT INTO instances VALUES (?, 'default', 'orders', 'suspended', '{\"data\":{}}',"
            " NULL, NULL, 'paused', NULL, 'root::agent::utils::do-nothing::a', 10, 20)",
            (INST,),
        )
        conn.execute(
            "INSERT INTO checkpoints VALUES (?, 'root::agent::utils::do-nothing::a', 'null', 11)",
            (INST,),
        )
        events = [
            ("started", None, None),
            ("custom", "step_started", {"step_id": "a", "step_type": "Agent", "scope": "root"}),
            ("custom", "retry", {"checkpoint_id": "k", "attempt": 1, "error_message": "boom"}),
            ("custom", "workflow_log", {"step_id": "l", "level": "info", "message": "hi"}),
            ("custom", "step_completed", {"step_id": "a", "step_type": "Agent", "scope": "root",
                                          "duration_ms": 3}),
            ("custom", "step_failed", {"step_id": "b", "step_type": "Agent", "scope": "root",
                                       "duration_ms": 1, "error": {"code": "X"}}),
            ("suspended", None, {"reason": "paused", "wake_at_ms": None}),
        ]  # fmt: skip
        for n, (kind, sub, payload) in enumerate(events):
            text = None if payload is None else json.dumps(payload).encode()
            conn.execute(
                "INSERT INTO events (instance_id, event_type, subtype, payload, created_at_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (INST, kind, sub, text, 12 + n),
            )


def test_inspect_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s.db"
    _seed(store)
    capsys.readouterr()
    assert main(["inspect", "--store", str(store), "--output=json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    (item,) = doc["instances"]
    assert item["status"] == "suspended" and item["suspendReason"] == "paused"
    assert item["input"] == {"data": {}}
    assert item["signal"] == {"type": "pause", "createdAtMs": item["signal"]["createdAtMs"],
                              "acknowledgedAtMs": None}  # fmt: skip
    assert item["summary"] == {"runs": 1, "checkpoints": 1, "events": 7, "stepsStarted": 1,
                               "stepsCompleted": 1, "stepsFailed": 1, "retries": 1, "logs": 1,
                               "errors": 0}  # fmt: skip
    assert "events" not in item and "checkpoints" not in item
    assert main(["inspect", "--store", str(store), "--instance", INST, "--output", "json"]) == 0
    (full,) = json.loads(capsys.readouterr().out)["instances"]
    assert full["checkpoints"] == [
        {"key": "root::agent::utils::do-nothing::a", "state": None, "createdAtMs": 11}
    ]
    assert [e["subtype"] or e["type"] for e in full["events"]] == [
        "started", "step_started", "retry", "workflow_log", "step_completed", "step_failed",
        "suspended",
    ]  # fmt: skip
    assert full["events"][2]["payload"]["error_message"] == "boom"


def test_inspect_text(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s.db"
    _seed(store)
    capsys.readouterr()
    assert main(["inspect", "--store", str(store), "--instance", INST]) == 0
    out = capsys.readouterr().out
    assert f"instance {INST}  scenario orders" in out and "status suspended (paused)" in out
    assert "root::agent::utils::do-nothing::a  null" in out
    for text in ["retry", "attempt 1: boom", "log info", "step_failed", "root a (Agent) 3 ms"]:
        assert text in out, text


def test_inspect_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", "--store", str(tmp_path / "missing.db")]) == 1
    assert not (tmp_path / "missing.db").exists()
    store = tmp_path / "s.db"
    _seed(store)
    assert main(["inspect", "--store", str(store), "--instance", "other"]) == 1
    assert "RB041" in capsys.readouterr().err
    empty = tmp_path / "e.db"
    assert signal(empty, "cancel", instance="x") == 0
    assert main(["inspect", "--store", str(empty)]) == 0
    assert capsys.readouterr().out == "no instances\n"
