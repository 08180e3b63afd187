"""Fault injection (RUNTIME §5.1, §10): SIGKILL at 100 seeded random points, re-run until done.

A scenario of 24 Agent steps, each appending its own line to a file in the workspace, runs
under one instance id; the process is killed at a random moment, re-run with the same id,
killed again, ... until a run completes. The final output must equal the uninterrupted
run's, and each step's line must appear at least once and at most 1 + the number of kills
that could have interrupted that step (those after which it was the first step without a
checkpoint). Trials repeat with fresh instance ids until 100 kills were made. The seed is
`FAULT_SEED` (default below); the seed and every kill point are printed, and shown on failure.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.support.durable_scenarios import append, lines
from tests.support.scenarios import build, chain, checkpoints, finish, ref, run, start, status

pytestmark = [pytest.mark.rustc, pytest.mark.slow]

STEPS = [f"s{i:02d}" for i in range(24)]
KILLS = 100
DEFAULT_SEED = 20_240_611


def _key(step: str) -> str:
    return f"root::agent::file::file-append-file::{step}"


@pytest.fixture(scope="module")
def binary(tmp_path_factory: pytest.TempPathFactory, runtime_cache: Path) -> Path:
    graph = chain(
        *[append(s) for s in STEPS],
        finish(
            last=ref(f"steps.{STEPS[-1]}.outputs.path"), n=ref("steps.s00.outputs.bytes_appended")
        ),
    )
    return build(tmp_path_factory.mktemp("fi"), runtime_cache, "fi", graph)


def test_sigkill_at_random_points(binary: Path, tmp_path: Path) -> None:
    seed = int(os.environ.get("FAULT_SEED", DEFAULT_SEED))
    rng = random.Random(seed)
    store = tmp_path / "s.db"
    base_ws = tmp_path / "base"
    base_ws.mkdir()
    durations = []
    for i in range(3):
        t0 = time.monotonic()
        base = run(binary, store, f"base{i}", RUNTARA_WORKSPACE_DIR=str(base_ws))
        durations.append(time.monotonic() - t0)
        assert base.returncode == 0, base.stderr
    expected = base.stdout
    span = statistics.median(durations) * 1.3
    log = [f"seed={seed} span={span * 1000:.2f}ms"]
    kills = 0
    trial = 0
    deadline = time.monotonic() + 120
    while kills < KILLS:
        assert time.monotonic() < deadline, "\n".join(log)
        instance, ws = f"t{trial}", tmp_path / f"t{trial}"
        ws.mkdir()
        suspects: Counter[str] = Counter()
        while True:
            if kills >= KILLS:
                proc = run(binary, store, instance, RUNTARA_WORKSPACE_DIR=str(ws))
                out, rc = proc.stdout, proc.returncode
                break
            point = rng.uniform(0, span)
            p = start(binary, store, instance, RUNTARA_WORKSPACE_DIR=str(ws))
            time.sleep(point)
            if p.poll() is None:
                p.kill()
                p.communicate()
                kills += 1
                done = checkpoints(store, instance)
                first_missing = next((s for s in STEPS if _key(s) not in done), None)
                if first_missing is not None:
                    suspects[first_missing] += 1
                log.append(
                    f"kill {kills}: {instance} at {point * 1000:.3f}ms, next {first_missing}"
                )
                continue
            out, _ = p.communicate()
            rc = p.returncode
            break
        trace = "\n".join(log)
        assert rc == 0 and out == expected, (out, trace)
        assert status(store, instance)[0] == "completed"
        assert set(checkpoints(store, instance)) == {_key(s) for s in STEPS}
        seen = Counter(lines(ws / "out.txt"))
        for s in STEPS:
            assert 1 <= seen[s] <= 1 + suspects[s], (s, seen[s], suspects[s], trace)
        trial += 1
    print("\n".join(log))
    assert json.loads(expected) == {"last": "out.txt", "n": 4}
