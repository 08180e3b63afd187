"""Building small scenarios in Python and running their binaries (durability tests, bench)."""

from __future__ import annotations

import itertools
import json
import sqlite3
import subprocess
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.support.binaries import build_env, runtara_build, without_runtara

Json = Any


def imm(value: Json) -> dict[str, Json]:
    return {"valueType": "immediate", "value": value}


def ref(path: str) -> dict[str, Json]:
    return {"valueType": "reference", "value": path}


def agent(key: str, module: str, cap: str, **mapping: Json) -> tuple[str, dict[str, Json]]:
    step = {"stepType": "Agent", "id": key, "agentId": module, "capabilityId": cap}
    step["inputMapping"] = mapping
    return key, step


def step(key: str, step_type: str, **members: Json) -> tuple[str, dict[str, Json]]:
    return key, {"stepType": step_type, "id": key, **members}


def chain(*steps: tuple[str, dict[str, Json]], **extra: Json) -> dict[str, Json]:
    """A graph running `steps` in order."""
    keys = [k for k, _ in steps]
    plan = [{"fromStep": a, "toStep": b} for a, b in itertools.pairwise(keys)]
    return {"steps": dict(steps), "entryPoint": keys[0], "executionPlan": plan, **extra}


def finish(key: str = "finish", **mapping: Json) -> tuple[str, dict[str, Json]]:
    return step(key, "Finish", inputMapping=mapping)


def build(
    tmp: Path,
    cache: Path,
    name: str,
    graph: Mapping[str, Json],
    children: Mapping[str, Mapping[str, Json]] | None = None,
) -> Path:
    """Write `tmp/name.json` (+ children) and build it with the real CLI in file mode."""
    src = tmp / "src"
    (src / "children").mkdir(parents=True, exist_ok=True)
    for child, doc in (children or {}).items():
        (src / "children" / f"{child}.json").write_text(json.dumps(doc))
    (src / f"{name}.json").write_text(json.dumps(graph))
    out = tmp / name
    proc = runtara_build(
        ["build", str(src / f"{name}.json"), "--children", str(src / "children"), "-o", str(out)],
        cwd=tmp,
        env=build_env(cache),
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


def env(**extra: str) -> dict[str, str]:
    base = without_runtara()
    return {**base, **extra}


def argv(binary: Path, store: Path, instance: str, *args: str) -> list[str]:
    return [str(binary), "--store", str(store), "--instance-id", instance, *args]


def run(
    binary: Path, store: Path, instance: str, *args: str, timeout: float = 60, **extra: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv(binary, store, instance, *args),
        cwd=store.parent,
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start(
    binary: Path, store: Path, instance: str, *args: str, **extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        argv(binary, store, instance, *args),
        cwd=store.parent,
        env=env(**extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def last_line(stderr: str) -> Json:
    return json.loads([line for line in stderr.splitlines() if line.strip()][-1])


def query(store: Path, sql: str, *params: Json) -> list[tuple[Json, ...]]:
    conn = sqlite3.connect(store, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def checkpoints(store: Path, instance: str) -> dict[str, Json]:
    rows = query(
        store, "SELECT checkpoint_id, state FROM checkpoints WHERE instance_id = ?", instance
    )
    return {k: json.loads(v) for k, v in rows}


def status(store: Path, instance: str) -> tuple[Json, ...] | None:
    rows = query(
        store,
        "SELECT status, suspend_reason, wake_at_ms FROM instances WHERE instance_id = ?",
        instance,
    )
    return rows[0] if rows else None


def wait_for(store: Path, sql: str, *params: Json, timeout: float = 20) -> None:
    """Poll until `sql` returns a row."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if store.exists():
            try:
                if query(store, sql, *params):
                    return
            except sqlite3.OperationalError:
                pass
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {sql} {params}")
