"""Durable execution end to end (RUNTIME §4–§6): checkpoints, replay, signals, sleeps, stores.

Every scenario is built with the real CLI in file mode, run as a process against a store
file, and checked from outside: exit codes, outcome lines, and the store's tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.durable_scenarios import build_all, events, lines, signal, write_input
from tests.support.scenarios import build, checkpoints, last_line, query, run, status

pytestmark = [pytest.mark.rustc, pytest.mark.slow]


@pytest.fixture(scope="module")
def bins(tmp_path_factory: pytest.TempPathFactory, runtime_cache: Path) -> dict[str, Path]:
    return build_all(tmp_path_factory.mktemp("bins"), runtime_cache)


# --------------------------------------------------------------------------- keys, replay

KEYS = {
    "root::agent::utils::return-input::ag%2E1",
    "root::split::each",
    "root::split_item::each[0]",
    "root::split_item::each[1]",
    "root/each[0]::agent::utils::return-input::in%5Bner%5D",
    "root/each[1]::agent::utils::return-input::in%5Bner%5D",
    "root/each[0]/loop%20w[0]::agent::utils::return-input::x",
    "root/each[0]/loop%20w[1]::agent::utils::return-input::x",
    "root/each[1]/loop%20w[0]::agent::utils::return-input::x",
    "root/each[1]/loop%20w[1]::agent::utils::return-input::x",
    "root::start_scenario::call",
    "root/call::agent::utils::return-input::k",
    "root/wait.onWait::agent::utils::return-input::notify",
    "root::signal_wait::wait",
    "root::signal::wait",
    "root::delay::d",
}


def test_checkpoint_keys_and_replay(
    bins: dict[str, Path], tmp_path: Path, runtime_cache: Path
) -> None:
    store = tmp_path / "s.db"
    signal(store, "k1", "custom", "--signal-id", "k1/keys/wait", "--payload", '{"ok": true}')
    first = run(bins["keys"], store, "k1")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {
        "each": [{"v": 10}, {"v": 20}], "call": {"k": 5}, "sig": {"ok": True},
    }  # fmt: skip
    stored = checkpoints(store, "k1")
    assert set(stored) == KEYS
    assert stored["root::signal::wait"] == {"payload": {"ok": True}}
    assert stored["root::split::each"] == {"outputs": [{"v": 10}, {"v": 20}]}
    assert set(stored["root::signal_wait::wait"]) == {"signalId", "startedAtMs", "deadlineMs"}
    assert query(store, "SELECT count(*) FROM custom_signals")[0][0] == 0
    # A rebuild of the unchanged scenario replays under the same keys: force a full replay.
    rebuilt = build(tmp_path / "again", runtime_cache, "keys", json.loads(
        (bins["keys"].parent / "src" / "keys.json").read_text()),
        {"kid": json.loads((bins["keys"].parent / "src" / "children" / "kid.json").read_text())},
    )  # fmt: skip
    query(store, "SELECT 1")  # store readable
    _force_running(store, "k1")
    replay = run(rebuilt, store, "k1")
    assert replay.returncode == 0, replay.stderr
    assert replay.stdout == first.stdout
    assert checkpoints(store, "k1") == stored
    assert events(store, "k1", "external_input_requested") == 1  # onWait not repeated


def _force_running(store: Path, instance: str) -> None:
    """As if the process died after printing, before committing `completed` (RUNTIME §3)."""
    import sqlite3

    conn = sqlite3.connect(store)
    with conn:
        conn.execute("UPDATE instances SET status = 'running' WHERE instance_id = ?", (instance,))
    conn.close()


def test_replay_writes_nothing_and_repeats_no_side_effect(
    bins: dict[str, Path], tmp_path: Path
) -> None:
    store, out = tmp_path / "s.db", tmp_path / "out.txt"
    inp = write_input(tmp_path, {"ms": 5})
    first = run(bins["fx"], store, "r1", "--input", inp, RUNTARA_WORKSPACE_DIR=str(tmp_path))
    assert first.returncode == 0, first.stderr
    assert lines(out) == ["a1", "a2", "a3", "a4"]
    rows = query(store, "SELECT checkpoint_id, state, created_at_ms FROM checkpoints ORDER BY 1")
    assert len(rows) == 5
    for attempt in range(2):
        _force_running(store, "r1")
        again = run(bins["fx"], store, "r1", RUNTARA_WORKSPACE_DIR=str(tmp_path))
        assert again.returncode == 0, again.stderr
        assert again.stdout == first.stdout
        assert lines(out) == ["a1", "a2", "a3", "a4"]
        assert (
            query(store, "SELECT checkpoint_id, state, created_at_ms FROM checkpoints ORDER BY 1")
            == rows
        )
        assert events(store, "r1", "started") == 2 + attempt
        assert events(store, "r1", "workflow_log") == 2 + attempt  # Log runs again
    assert events(store, "r1", "retry") == 0
    assert status(store, "r1") == ("completed", None, None)
    # A completed instance short-circuits with the same line.
    assert run(bins["fx"], store, "r1").stdout == first.stdout


def test_input_mismatch_changes_nothing(bins: dict[str, Path], tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    inp = write_input(tmp_path, {"ms": 60_000})
    first = run(bins["fx"], store, "m1", "--input", inp, RUNTARA_WORKSPACE_DIR=str(tmp_path),
                RUNTARA_SUSPEND_AFTER_MS="100")  # fmt: skip
    assert first.returncode == 3, first.stderr
    snapshot = query(store, "SELECT * FROM instances"), query(store, "SELECT count(*) FROM events")
    other = write_input(tmp_path, {"ms": 1}, "other.json")
    bad = run(bins["fx"], store, "m1", "--input", other, RUNTARA_WORKSPACE_DIR=str(tmp_path))
    assert bad.returncode == 2 and bad.stdout == ""
    err = last_line(bad.stderr)
    assert err["code"] == "INPUT_MISMATCH" and err["instanceId"] == "m1"
    assert (
        query(store, "SELECT * FROM instances"),
        query(store, "SELECT count(*) FROM events"),
    ) == snapshot
    # The same input (members reordered) or none at all is allowed.
    same = write_input(tmp_path, {"ms": 60_000}, "same.json")
    assert run(bins["fx"], store, "m1", "--input", same, RUNTARA_SUSPEND_AFTER_MS="100",
               RUNTARA_WORKSPACE_DIR=str(tmp_path)).returncode == 3  # fmt: skip


def test_durability_full_and_invalid(bins: dict[str, Path], tmp_path: Path) -> None:
    store = tmp_path / "s.db"
    inp = write_input(tmp_path, {"ms": 0})
    ok = run(bins["fx"], store, "f1", "--input", inp, "--durability", "full",
             RUNTARA_WORKSPACE_DIR=str(tmp_path))  # fmt: skip
    assert ok.returncode == 0, ok.stderr
    assert len(checkpoints(store, "f1")) == 5
    env_ok = run(bins["fx"], store, "f2", "--input", inp, RUNTARA_DURABILITY="full",
                 RUNTARA_WORKSPACE_DIR=str(tmp_path))  # fmt: skip
    assert env_ok.returncode == 0, env_ok.stderr
    bad = run(bins["fx"], store, "f3", "--input", inp, "--durability", "paranoid")
    assert bad.returncode == 2 and last_line(bad.stderr)["code"] == "INVALID_ARGUMENTS"
    assert status(store, "f3") is None


def test_signal_and_binary_create_the_same_schema(bins: dict[str, Path], tmp_path: Path) -> None:
    """The store schema is written in two languages (store_cli.py, store.rs): keep them one."""
    import sqlite3

    from_cli, from_binary = tmp_path / "cli.db", tmp_path / "bin.db"
    signal(from_cli, "i", "cancel")
    run(next(iter(bins.values())), from_binary, "i")

    def schema(db: Path) -> list[tuple[str, str]]:
        with sqlite3.connect(db) as conn:
            rows = conn.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        return [*sorted((n, " ".join(s.split())) for n, s in rows), ("user_version", version)]

    assert schema(from_cli) == schema(from_binary)
