"""Runtime benchmark: per-step durability overhead, DBOS in the same run, fsync, start-up.

Measured, with binaries built by the real `runtara-build build FILE -o OUT`:

- **per step, embedded store**: a scenario of 1,000 Agent steps (`utils/return-input`, each a
  durable unit with its checkpoint) run with `--durability normal` and `full`; the per-step
  figure is (median run time - median run time of a one-step scenario) / 1,000. Existing
  store file, fresh instance id per run.
- **per step, DBOS** (pip `dbos`, SQLite system database in the same directory): a workflow of
  1,000 `@DBOS.step` calls returning their input, timed per workflow, / 1,000. Skipped with a
  note when `dbos` is not importable (install it into the venv only for this bench).
- **fsync**: the median latency of a 4 KiB write + `fsync` on the same disk.
- **start-to-output**: a trivial scenario (one Finish) from exec to its stdout line being read,
  median of 100 runs (existing store, fresh instance id, `normal`). The same harness timing
  `/bin/echo` (spawn + one line, no work) is measured too; the goal is checked on the
  difference, the binary's own share (the raw figure includes Python's fork/exec).
- The fsync probe runs just before and just after the `full` runs (disk latency on shared
  machines drifts); both are reported and the goal uses their mean.

Table to stdout, figures to `bench/results/runtime.json`.

    .venv/bin/python bench/runtime.py [--runs 5] [--dir DIR]

Goals (issue 12): <= 0.05 ms/step (normal), >= 30x faster per step than DBOS; `full` <=
max(0.3 ms, 1.1 x fsync) per step; start-to-output <= 2 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
# A handful of one-off builds: no build server left running after the bench (docs/SERVER.md).
os.environ.setdefault("RUNTARA_BUILD_SERVER", "0")

from tests.support.binaries import TEST_CACHE  # noqa: E402
from tests.support.scenarios import agent, build, chain, finish, imm  # noqa: E402

STEPS = 1000


def _run(binary: Path, store: Path, instance: str, *args: str) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(binary), "--store", str(store), "--instance-id", instance, *args],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{binary.name} failed: {proc.stderr[-2000:]}")
    return elapsed


def start_to_output(binary: Path, store: Path | None, runs: int) -> list[float]:
    """Seconds from exec to the stdout line, `runs` times (`store` None: run `binary` bare)."""
    times = []
    for i in range(runs):
        argv = [str(binary)]
        if store is not None:
            argv += ["--store", str(store), "--instance-id", f"start-{i}-{time.time_ns()}"]
        else:
            argv += ["line"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        assert proc.stdout is not None
        line = proc.stdout.readline()
        times.append(time.perf_counter() - t0)
        proc.wait()
        assert line.endswith(b"\n") and proc.returncode == 0
    return times


def fsync_latency(directory: Path, runs: int = 200) -> float:
    path = directory / "fsync.probe"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    block = os.urandom(4096)
    times = []
    try:
        for _ in range(runs):
            os.write(fd, block)
            t0 = time.perf_counter()
            os.fsync(fd)
            times.append(time.perf_counter() - t0)
    finally:
        os.close(fd)
        path.unlink()
    return statistics.median(times)


def dbos_per_workflow(directory: Path, runs: int) -> list[float] | str:
    try:
        from dbos import DBOS, DBOSConfig
    except ImportError as exc:
        return f"dbos is not installed ({exc}): pip install dbos into the venv to compare"

    @DBOS.step()
    def return_input(value: int) -> int:
        return value

    @DBOS.workflow()
    def thousand() -> int:
        total = 0
        for i in range(STEPS):
            total += return_input(i)
        return total

    config: DBOSConfig = {
        "name": "runtara-bench",
        "system_database_url": f"sqlite:///{directory / 'dbos.sqlite'}",
        "log_level": "ERROR",
    }
    DBOS(config=config)
    DBOS.launch()
    try:
        thousand()  # warm-up
        times = []
        for _ in range(runs):
            t0 = time.perf_counter()
            thousand()
            times.append(time.perf_counter() - t0)
    finally:
        DBOS.destroy()
    return times


def build_binaries(work: Path) -> dict[str, Path]:
    steps = [agent(f"a{i}", "utils", "return-input", value=imm(i)) for i in range(STEPS)]
    big = chain(*steps, finish(last=imm(STEPS)))
    one = chain(agent("a0", "utils", "return-input", value=imm(0)), finish(last=imm(1)))
    trivial = chain(finish(ok=imm(True)))
    return {
        "steps": build(work, TEST_CACHE, "steps", big),
        "one": build(work, TEST_CACHE, "one", one),
        "trivial": build(work, TEST_CACHE, "trivial", trivial),
    }


def measure(work: Path, runs: int) -> dict[str, Any]:
    bins = build_binaries(work)
    store = work / "bench.db"
    _run(bins["trivial"], store, "warm")  # the store file exists before any measurement
    out: dict[str, Any] = {"steps": STEPS, "runs": runs, "dir": str(work)}
    for mode in ("normal", "full"):
        if mode == "full":
            out["fsync_before_ms"] = fsync_latency(work) * 1000
        base = statistics.median(
            _run(bins["one"], store, f"o-{mode}-{i}", "--durability", mode) for i in range(runs)
        )
        total = statistics.median(
            _run(bins["steps"], store, f"s-{mode}-{i}", "--durability", mode) for i in range(runs)
        )
        out[f"{mode}_run_s"] = total
        out[f"{mode}_ms_per_step"] = (total - base) * 1000 / (STEPS - 1)
    out["fsync_after_ms"] = fsync_latency(work) * 1000
    out["fsync_ms"] = (out["fsync_before_ms"] + out["fsync_after_ms"]) / 2
    dbos = dbos_per_workflow(work, runs)
    if isinstance(dbos, str):
        out["dbos_note"] = dbos
        out["dbos_ms_per_step"] = None
    else:
        out["dbos_ms_per_step"] = statistics.median(dbos) * 1000 / STEPS
    raw = statistics.median(start_to_output(bins["trivial"], store, 100)) * 1000
    echo = statistics.median(start_to_output(Path("/bin/echo"), None, 100)) * 1000
    out["start_to_output_raw_ms"] = raw
    out["spawn_echo_ms"] = echo
    out["start_to_output_ms"] = raw - echo
    return out


def goals(r: dict[str, Any]) -> list[tuple[str, str, bool | None]]:
    normal, full, dbos = r["normal_ms_per_step"], r["full_ms_per_step"], r["dbos_ms_per_step"]
    ratio = None if dbos is None else dbos / normal
    full_goal = max(0.3, 1.1 * r["fsync_ms"])
    start = r["start_to_output_ms"]
    return [
        ("normal per step <= 0.05 ms", f"{normal:.4f} ms", normal <= 0.05),
        ("DBOS / normal >= 30x", "n/a" if ratio is None else f"{ratio:.1f}x",
         None if ratio is None else ratio >= 30),
        (f"full per step <= {full_goal:.3f} ms", f"{full:.4f} ms", full <= full_goal),
        ("start-to-output <= 2 ms", f"{start:.3f} ms", start <= 2.0),
    ]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="where the stores live (default: a temp dir)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rb-bench-", dir=args.dir) as tmp:
        r = measure(Path(tmp), args.runs)
    r["goals"] = [{"goal": g, "measured": m, "met": ok} for g, m, ok in goals(r)]
    print(f"{'measure':<34} {'value':>12}")
    for key in ("normal_ms_per_step", "full_ms_per_step", "dbos_ms_per_step", "fsync_before_ms",
                "fsync_after_ms", "start_to_output_raw_ms", "spawn_echo_ms",
                "start_to_output_ms"):  # fmt: skip
        value = r[key]
        print(f"{key:<34} {'n/a' if value is None else f'{value:.4f}':>12}")
    if "dbos_note" in r:
        print(f"note: {r['dbos_note']}")
    print()
    for g, m, ok in goals(r):
        print(f"{g:<34} {m:>12}  {'met' if ok else 'n/a' if ok is None else 'NOT MET'}")
    results = REPO / "bench" / "results"
    results.mkdir(exist_ok=True)
    (results / "runtime.json").write_text(json.dumps(r, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
