"""Durable execution end to end, part 2: signals, durable sleep and waits, concurrency, and
stores that cannot be written (RUNTIME §3, §4.3, §5.5, §5.6, §6)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.durable_scenarios import build_all, events, lines, signal, write_input
from tests.support.mounts import fill, remount_read_only, tmpfs
from tests.support.scenarios import checkpoints, last_line, query, run, start, status, wait_for

pytestmark = [pytest.mark.rustc, pytest.mark.slow]

NAP = "SELECT 1 FROM checkpoints WHERE instance_id = ? AND checkpoint_id = 'root::delay::nap'"


@pytest.fixture(scope="module")
def bins(tmp_path_factory: pytest.TempPathFactory, runtime_cache: Path) -> dict[str, Path]:
    return build_all(tmp_path_factory.mktemp("bins"), runtime_cache)


def test_pause_then_resume_by_rerun(bins: dict[str, Path], tmp_path: Path) -> None:
    store, ws = tmp_path / "s.db", {"RUNTARA_WORKSPACE_DIR": str(tmp_path)}
    inp = write_input(tmp_path, {"ms": 2500})
    proc = start(bins["fx"], store, "p1", "--input", inp, **ws)
    wait_for(store, NAP, "p1")
    signal(store, "p1", "pause")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 3 and out == ""
    assert last_line(err) == {"status": "suspended", "reason": "paused", "instanceId": "p1"}
    assert status(store, "p1") == ("suspended", "paused", None)
    assert lines(tmp_path / "out.txt") == ["a1", "a2", "a3"]
    t0 = time.monotonic()
    again = run(bins["fx"], store, "p1", **ws)
    assert again.returncode == 0, again.stderr
    assert time.monotonic() - t0 < 2.5  # only the remainder of the sleep
    assert json.loads(again.stdout) == {"n": 3, "ms": 2500}
    assert lines(tmp_path / "out.txt") == ["a1", "a2", "a3", "a4"]
    assert status(store, "p1") == ("completed", None, None)


def test_cancel_is_terminal(bins: dict[str, Path], tmp_path: Path) -> None:
    store, ws = tmp_path / "s.db", {"RUNTARA_WORKSPACE_DIR": str(tmp_path)}
    inp = write_input(tmp_path, {"ms": 5000})
    proc = start(bins["fx"], store, "c1", "--input", inp, **ws)
    wait_for(store, NAP, "c1")
    signal(store, "c1", "cancel")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 4 and out == ""
    assert last_line(err) == {"status": "cancelled", "instanceId": "c1"}
    assert status(store, "c1")[0] == "cancelled"
    started = events(store, "c1", "step_started")
    signal(store, "c1", "resume")
    for _ in range(2):
        again = run(bins["fx"], store, "c1", **ws)
        assert again.returncode == 4 and again.stdout == ""
        assert last_line(again.stderr) == {"status": "cancelled", "instanceId": "c1"}
    assert events(store, "c1", "step_started") == started
    assert lines(tmp_path / "out.txt") == ["a1", "a2", "a3"]
    # A cancel sent before the first run: no step runs at all.
    signal(store, "c2", "cancel")
    fresh = run(bins["fx"], store, "c2", "--input", inp, **ws)
    assert fresh.returncode == 4
    assert events(store, "c2", "step_started") == 0


def test_signals_to_a_completed_instance_change_nothing(
    bins: dict[str, Path], tmp_path: Path
) -> None:
    store, ws = tmp_path / "s.db", {"RUNTARA_WORKSPACE_DIR": str(tmp_path)}
    inp = write_input(tmp_path, {"ms": 0})
    first = run(bins["fx"], store, "d1", "--input", inp, **ws)
    assert first.returncode == 0, first.stderr
    for kind in ("pause", "resume", "cancel"):
        signal(store, "d1", kind)
        again = run(bins["fx"], store, "d1", **ws)
        assert (again.returncode, again.stdout) == (0, first.stdout), again.stderr
        assert status(store, "d1") == ("completed", None, None)
        assert query(store, "SELECT acknowledged_at_ms IS NOT NULL FROM signals")[0] == (1,)
    assert lines(tmp_path / "out.txt") == ["a1", "a2", "a3", "a4"]


def test_wait_for_signal_sent_while_waiting(bins: dict[str, Path], tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    proc = start(bins["wait"], store, "w1", "--input", write_input(tmp_path, {"timeout": None}))
    wait_for(store, "SELECT 1 FROM checkpoints WHERE checkpoint_id = 'root::signal_wait::approve'")
    signal(store, "w1", "custom", "--signal-id", "w1/wait/approve", "--payload", '{"yes": [1]}')
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert json.loads(out) == {"got": {"yes": [1]}}
    assert checkpoints(store, "w1")["root::signal::approve"] == {"payload": {"yes": [1]}}
    assert query(store, "SELECT count(*) FROM custom_signals") == [(0,)]


def test_long_signal_wait_suspends_then_resumes(bins: dict[str, Path], tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    inp = write_input(tmp_path, {"timeout": 600_000})
    fast = {"RUNTARA_SUSPEND_AFTER_MS": "200"}
    first = run(bins["wait"], store, "w2", "--input", inp, **fast)
    assert first.returncode == 3, first.stderr
    line = last_line(first.stderr)
    wait = checkpoints(store, "w2")["root::signal_wait::approve"]
    assert line == {"status": "suspended", "reason": "waiting_for_signal", "instanceId": "w2",
                    "signalId": "w2/wait/approve", "wakeAt": wait["deadlineMs"]}  # fmt: skip
    assert status(store, "w2") == ("suspended", "waiting_for_signal", wait["deadlineMs"])
    assert run(bins["wait"], store, "w2", **fast).returncode == 3  # still nothing
    signal(store, "w2", "custom", "--signal-id", "w2/wait/approve", "--payload", '"approved"')
    done = run(bins["wait"], store, "w2", **fast)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"got": "approved"}
    assert checkpoints(store, "w2")["root::signal_wait::approve"] == wait  # deadline kept
    assert events(store, "w2", "external_input_requested") == 1
    assert events(store, "w2", "workflow_log") == 1  # onWait ran once


def test_long_delay_suspends_and_rerun_sleeps_the_remainder(
    bins: dict[str, Path], tmp_path: Path
) -> None:
    store, ws = tmp_path / "s.db", {"RUNTARA_WORKSPACE_DIR": str(tmp_path)}
    inp = write_input(tmp_path, {"ms": 1500})
    before = int(time.time() * 1000)
    first = run(bins["fx"], store, "s1", "--input", inp, RUNTARA_SUSPEND_AFTER_MS="300", **ws)
    assert first.returncode == 3, first.stderr
    line = last_line(first.stderr)
    assert line["reason"] == "sleeping" and line["instanceId"] == "s1"
    wake = line["wakeAt"]
    assert before + 1500 <= wake <= int(time.time() * 1000) + 1500
    assert status(store, "s1") == ("suspended", "sleeping", wake)
    again = run(bins["fx"], store, "s1", RUNTARA_SUSPEND_AFTER_MS="300", **ws)
    assert again.returncode == 3 and last_line(again.stderr)["wakeAt"] == wake
    time.sleep(max(0.0, (wake - 900) / 1000 - time.time()))  # about 0.9 s remain
    now = time.time()
    done = run(bins["fx"], store, "s1", **ws)
    elapsed = time.time() - now
    assert done.returncode == 0, done.stderr
    remainder = wake / 1000 - now
    assert remainder - 0.05 <= elapsed < remainder + 0.4 < 1.4
    assert lines(tmp_path / "out.txt") == ["a1", "a2", "a3", "a4"]


def test_twenty_concurrent_instances_on_one_store(bins: dict[str, Path], tmp_path: Path) -> None:
    store, ws = tmp_path / "s.db", {"RUNTARA_WORKSPACE_DIR": str(tmp_path)}
    inp = write_input(tmp_path, {"ms": 50})
    procs = [start(bins["fx"], store, f"n{i}", "--input", inp, **ws) for i in range(20)]
    results = [p.communicate(timeout=60) for p in procs]
    for p, (out, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err
        assert json.loads(out) == {"n": 3, "ms": 50}
    rows = query(store, "SELECT status, count(*) FROM instances GROUP BY status")
    assert rows == [("completed", 20)]
    assert query(store, "SELECT count(*) FROM checkpoints") == [(100,)]
    assert sorted(lines(tmp_path / "out.txt")) == sorted(["a1", "a2", "a3", "a4"] * 20)


def _store_error(proc_stderr: str) -> None:
    err = last_line(proc_stderr)
    assert err["code"] == "STORE_ERROR" and err["category"] == "transient", err
    assert (err["stepId"], err["stepName"], err["stepType"]) == (None, None, None)


def test_full_disk_is_a_store_error(bins: dict[str, Path], tmp_path: Path) -> None:
    # Its own file: the input of the `ok` run below must not overwrite it.
    big = write_input(tmp_path, {"big": "x" * 40_000}, "big.json")
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        store = mnt / "s.db"
        small = write_input(tmp_path, {"timeout": 1})
        ok = run(bins["wait"], store, "ok", "--input", small)
        assert ok.returncode == 1 and last_line(ok.stderr)["code"] == "SIGNAL_TIMEOUT"
        fill(mnt)
        # A new instance, and an existing one (with its stored input).
        for instance, inp in (("fresh", big), ("ok", small)):
            proc = run(bins["big"], store, instance, "--input", inp)
            assert proc.returncode == 1 and proc.stdout == "", proc.stderr
            _store_error(proc.stderr)
        (mnt / "filler").unlink()
        # Room for the store to start, not for twenty 40 KB checkpoints.
        fill_to = mnt / "filler2"
        fill_to.write_bytes(b"\0" * (1024 * 1024 - 400 * 1024))
        mid = run(bins["big"], store, "mid", "--input", big)
        assert mid.returncode == 1 and mid.stdout == "", mid.stderr
        _store_error(mid.stderr)
        fresh_db = run(bins["big"], mnt / "new.db", "x", "--input", big)
        assert fresh_db.returncode == 1 and fresh_db.stdout == ""


def test_read_only_store_is_a_store_error(bins: dict[str, Path], tmp_path: Path) -> None:
    inp = write_input(tmp_path, {"timeout": 1})
    with tmpfs(tmp_path / "mnt", "1m") as mnt:
        store = mnt / "s.db"
        assert run(bins["wait"], store, "a", "--input", inp).returncode == 1
        remount_read_only(mnt)
        for instance in ("b", "a"):
            proc = run(bins["wait"], store, instance, "--input", inp)
            assert proc.returncode == 1 and proc.stdout == "", proc.stderr
            _store_error(proc.stderr)
        proc = run(bins["wait"], mnt / "absent.db", "c", "--input", inp)
        assert proc.returncode == 1
        _store_error(proc.stderr)
