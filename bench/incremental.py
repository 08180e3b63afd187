"""Benchmark of the incremental engine (issue 10 item 8). Prints a table, writes JSON.

    .venv/bin/python bench/incremental.py --quick        # 10 scenarios + 1,000 :src no-op
    .venv/bin/python bench/incremental.py                # 10, 100, 1000 + 10,000 :src no-op

Per size N it generates a workspace of N scenarios in which every fifth one is a child
shared by the four parents after it, then measures, whole process (`runtara-build` as a
subprocess): cold, no-op, cosmetic edit, leaf edit and shared-child edit. Not yet measured:
the runtime rlib change (it needs a second runtime build, about 35 s). The baseline lays
the same generated Rust out as a cargo workspace (the runtime as a path dependency) and times
`cargo build` no-op and one leaf edit. Results go to bench/results/incremental.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "runtara-build"
CACHE = REPO / "cache" / "bench"


def finish(text: str) -> dict[str, Any]:
    mapping = {"out": {"valueType": "immediate", "value": text}}
    return {"steps": {"f": {"stepType": "Finish", "id": "f", "inputMapping": mapping}},
            "entryPoint": "f"}  # fmt: skip


def caller(child: str) -> dict[str, Any]:
    steps = {
        "call": {"stepType": "StartScenario", "id": "call", "childScenarioId": child,
                 "childVersion": "latest"},
        "f": {"stepType": "Finish", "id": "f", "inputMapping": {
            "got": {"valueType": "reference", "value": "steps.call.outputs"}}},
    }  # fmt: skip
    return {"steps": steps, "entryPoint": "call",
            "executionPlan": [{"fromStep": "call", "toStep": "f"}]}  # fmt: skip


def workspace(root: Path, n: int) -> None:
    (root / "WORKSPACE").write_text(f'[cache]\ndir = "{CACHE}"\nmax_size = "50GiB"\n')
    for i in range(n):
        doc = finish(f"s{i}") if i % 5 == 0 else caller(f"s{i - i % 5}")
        write(root, f"s{i}", doc)


def write(root: Path, name: str, doc: dict[str, Any], indent: int = 2) -> None:
    path = root / "t" / name / "scenario.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=indent))


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    return took


def best(argv: list[str], cwd: Path, runs: int = 3) -> float:
    return min(timed(argv, cwd) for _ in range(runs))


def measure(n: int, jobs: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix=f"rb-bench-{n}-"))
    workspace(root, n)
    build = [str(CLI), "build", "//...", "-j", str(jobs)]
    found = {"cold": timed(build, root), "noop": best(build, root)}
    write(root, "s1", caller("s0"), indent=6)
    found["cosmetic"] = timed(build, root)
    write(root, "s1", {**caller("s0"), "description": "leaf edit"} | {"steps": {
        **caller("s0")["steps"], "f": {"stepType": "Finish", "id": "f"}}})  # fmt: skip
    found["leaf_edit"] = timed(build, root)
    write(root, "s0", finish("child edit"))
    found["child_edit"] = timed(build, root)
    found["baseline_cargo"] = cargo_baseline(root, n)  # type: ignore[assignment]
    shutil.rmtree(root, ignore_errors=True)
    return found


def cargo_baseline(root: Path, n: int) -> Any:
    """The same generated crates as a cargo workspace: `cargo build` no-op and a leaf edit."""
    out = root / "runtara-out"
    ws = root / "cargo"
    members = []
    for lib in sorted((out / "src" / "t").glob("*/lib.rs")):
        name = lib.parent.name
        crate = ws / name
        (crate / "src").mkdir(parents=True, exist_ok=True)
        shutil.copy(lib, crate / "src" / "lib.rs")
        (crate / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
            f'[dependencies]\nruntara_runtime = {{ path = "{REPO / "runtime"}" }}\n'
        )
        members.append(name)
    (ws / "Cargo.toml").write_text(
        f'[workspace]\nresolver = "2"\nmembers = {json.dumps(members)}\n'
        '[profile.dev]\nopt-level = "s"\n'
    )
    env = {**os.environ, "PATH": "/usr/bin:" + os.environ["PATH"], "RUSTC": "/usr/bin/rustc",
           "CC_x86_64_unknown_linux_musl": "musl-gcc",
           "CARGO_TARGET_DIR": str(CACHE / "cargo-target")}  # fmt: skip
    argv = ["/usr/bin/cargo", "build", "-q", "--offline", "--target", "x86_64-unknown-linux-musl"]
    if subprocess.run(argv, cwd=ws, env=env, capture_output=True, check=False).returncode:
        return {"error": "cargo build failed"}
    start = time.perf_counter()
    subprocess.run(argv, cwd=ws, env=env, capture_output=True, check=False)
    noop = time.perf_counter() - start
    lib = ws / members[1] / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\n// edit\n")
    start = time.perf_counter()
    subprocess.run(argv, cwd=ws, env=env, capture_output=True, check=False)
    return {"noop": noop, "leaf_edit": time.perf_counter() - start, "n": n}


def src_noop(n: int) -> float:
    root = Path(tempfile.mkdtemp(prefix=f"rb-bench-src-{n}-"))
    workspace(root, n)
    argv = [str(CLI), "build", "//...:src"]
    timed(argv, root)
    took = best(argv, root, runs=5)
    shutil.rmtree(root, ignore_errors=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 scenarios, 1,000 :src no-op")
    parser.add_argument("-j", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    sizes = [10] if args.quick else [10, 100, 1000]
    results: dict[str, Any] = {"sizes": {}}
    for n in sizes:
        results["sizes"][str(n)] = measure(n, args.j)
    src_n = 1000 if args.quick else 10_000
    results["src_noop"] = {"n": src_n, "seconds": src_noop(src_n)}
    print(f"{'N':>6} {'cold':>8} {'no-op':>8} {'cosmetic':>9} {'leaf':>8} {'child':>8} "
          f"{'cargo no-op':>12} {'cargo leaf':>11}")  # fmt: skip
    for n, r in results["sizes"].items():
        cargo = r["baseline_cargo"]
        c_noop, c_leaf = cargo.get("noop", float("nan")), cargo.get("leaf_edit", float("nan"))
        print(
            f"{n:>6} {r['cold']:8.2f} {r['noop']:8.3f} {r['cosmetic']:9.2f} "
            f"{r['leaf_edit']:8.2f} {r['child_edit']:8.2f} {c_noop:12.3f} {c_leaf:11.2f}"
        )
    print(f"no-op of //...:src over {src_n}: {results['src_noop']['seconds']:.3f}s")
    out = REPO / "bench" / "results" / "incremental.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
