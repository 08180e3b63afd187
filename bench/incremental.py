"""Benchmark of the incremental engine (issue 10 item 8). Prints a table, writes JSON.

    .venv/bin/python bench/incremental.py --quick        # 10 scenarios + 1,000 :src no-op
    .venv/bin/python bench/incremental.py                # 10, 100, 1000 + 10,000 :src no-op

Per size N it generates a workspace of N scenarios in which every fifth one is a child
shared by the four parents after it, then measures, whole process (`runtara-build` as a
subprocess, with the build server on as by default): cold (an empty cache but for the
runtime rlib, whose build is the runtime-change row), no-op, cosmetic edit, leaf edit
(with the server, and each in a process of its own), shared-child edit; plus the no-op of
`//...:src` over 10,000 scenarios and a runtime rlib change (N=10: a copy of the sources with
one runtime file touched, so its rlib is rebuilt by cargo, then every obj and bin). The
baseline lays the same generated Rust out as a cargo workspace, one binary per scenario
(library + generated main, children and the runtime as path dependencies, the same profile
and linker), and times `cargo build` no-op and one leaf edit. Results go to
bench/results/incremental.json.
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


def workspace(root: Path, n: int, cache: Path = CACHE) -> None:
    (root / "WORKSPACE").write_text(f'[cache]\ndir = "{cache}"\nmax_size = "50GiB"\n')
    for i in range(n):
        doc = finish(f"s{i}") if i % 5 == 0 else caller(f"s{i - i % 5}")
        write(root, f"s{i}", doc)


def write(root: Path, name: str, doc: dict[str, Any], indent: int = 2) -> None:
    path = root / "t" / name / "scenario.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=indent))


def timed(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, env=env)
    took = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stderr[-3000:]}")
    return took


def best(argv: list[str], cwd: Path, runs: int = 3, env: dict[str, str] | None = None) -> float:
    return min(timed(argv, cwd, env) for _ in range(runs))


def rustc_ms(events: Path) -> int:
    """Milliseconds of the rustc targets of a build (they run one after the other here)."""
    lines = [json.loads(line) for line in events.read_text().splitlines()]
    return sum(e["duration_ms"] for e in lines if e["outcome"] == "built"
               and e["kind"] in ("obj", "bin"))  # fmt: skip


def edit_leaf(root: Path, tag: str) -> None:
    """A leaf edit: s1's Finish maps a new constant (s1 calls s0; nothing calls s1)."""
    doc = caller("s0")
    doc["steps"]["f"]["inputMapping"]["tag"] = {"valueType": "immediate", "value": tag}
    write(root, "s1", doc)


def cold_cache() -> Path:
    """An empty cache but for the runtime rlib (its build is the runtime-change row)."""
    fresh = Path(tempfile.mkdtemp(prefix="rb-bench-cache-"))
    (CACHE / "runtime").mkdir(parents=True, exist_ok=True)
    (fresh / "runtime").symlink_to(CACHE / "runtime")
    return fresh


def measure(n: int, jobs: int, env: dict[str, str]) -> dict[str, Any]:
    root = Path(tempfile.mkdtemp(prefix=f"rb-bench-{n}-"))
    cache = cold_cache()
    workspace(root, n, cache)
    build = [str(CLI), "build", "//...", "-j", str(jobs)]
    events = root.parent / f"{root.name}-events.jsonl"  # not in the root: that is structure
    found: dict[str, Any] = {"cold": timed(build, root, env), "noop": best(build, root, env=env)}
    write(root, "s1", caller("s0"), indent=6)
    found["cosmetic"] = timed(build, root, env)
    leaf, cold_leaf = [], []
    for i in range(3):  # warm server (the default), then each in a process of its own
        edit_leaf(root, f"warm {i} {time.time_ns()}")  # new content: never in the cache
        took = timed([*build, "--events", str(events)], root, env)
        leaf.append((took, rustc_ms(events)))
        edit_leaf(root, f"cold {i} {time.time_ns()}")
        took = timed([*build, "--events", str(events)], root, {**env, "RUNTARA_BUILD_SERVER": "0"})
        cold_leaf.append((took, rustc_ms(events)))
    found["leaf_edit"], found["leaf_rustc_ms"] = min(leaf)
    found["leaf_edit_no_server"], found["leaf_no_server_rustc_ms"] = min(cold_leaf)
    write(root, "s0", finish(f"child edit {time.time_ns()}"))
    found["child_edit"] = timed(build, root, env)
    found["baseline_cargo"] = cargo_baseline(root, n)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(cache, ignore_errors=True)
    events.unlink(missing_ok=True)
    return found


def runtime_change(env: dict[str, str], jobs: int) -> dict[str, Any]:
    """The runtime rlib changes (a copy of the repository with one runtime source touched by
    a comment): every scenario's obj and bin rebuild; measured at N=10."""
    copy = Path(tempfile.mkdtemp(prefix="rb-bench-runtime-"))
    for part in ("runtara_build", "rules", "runtime"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("target"))
    lib = copy / "runtime" / "src" / "lib.rs"
    lib.write_text(lib.read_text() + f"\n// bench runtime change {time.time_ns()}\n")
    root = Path(tempfile.mkdtemp(prefix="rb-bench-rt-"))
    workspace(root, 10)
    build = [str(CLI), "build", "//...", "-j", str(jobs)]
    timed(build, root, env)
    moved = {**env, "PYTHONPATH": str(copy), "RUNTARA_BUILD_SERVER": "0"}
    took = timed(build, root, moved)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(copy, ignore_errors=True)
    return {"n": 10, "seconds": took}


def cargo_baseline(root: Path, n: int) -> Any:
    """The same generated Rust as a cargo workspace, one binary per scenario (its library
    and the generated main, children as path dependencies, the runtime as a path
    dependency, the same profile and linker): `cargo build` no-op and one leaf edit."""
    from runtara_build.codegen.main import MainInput, emit_main

    out = root / "runtara-out"
    ws = root / "cargo"
    crates = {lib.parent.name: next((out / "obj" / "t" / lib.parent.name).glob("lib*.rlib"))
              .name[3:-5] for lib in (out / "src" / "t").glob("*/lib.rs")}  # fmt: skip
    for name, crate in crates.items():
        pkg = ws / name
        (pkg / "src").mkdir(parents=True, exist_ok=True)
        shutil.copy(out / "src" / "t" / name / "lib.rs", pkg / "src" / "lib.rs")
        i = int(name[1:])
        child = f"s{i - i % 5}" if i % 5 else None
        children = ((f"//t/{child}", crates[child]),) if child else ()
        (pkg / "src" / "main.rs").write_text(emit_main(MainInput(f"//t/{name}", crate, children,
                                                                  False, "t")))  # fmt: skip
        dep = f'{child} = {{ path = "../{child}" }}\n' if child else ""
        (pkg / "Cargo.toml").write_text(
            f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
            f'[lib]\nname = "{crate}"\npath = "src/lib.rs"\n'
            f'[[bin]]\nname = "{name}"\npath = "src/main.rs"\n'
            f'[dependencies]\nruntara_runtime = {{ path = "{REPO / "runtime"}" }}\n{dep}'
        )
    (ws / "Cargo.toml").write_text(
        f'[workspace]\nresolver = "2"\nmembers = {json.dumps(sorted(crates))}\n'
        '[profile.dev]\nopt-level = "s"\ndebug = 0\ncodegen-units = 16\nstrip = "symbols"\n'
        "incremental = false\n"
    )
    env = {**os.environ, "PATH": "/usr/bin:" + os.environ["PATH"], "RUSTC": "/usr/bin/rustc",
           "CC_x86_64_unknown_linux_musl": "musl-gcc",
           "RUSTFLAGS": "-C link-arg=-fuse-ld=lld -C link-arg=-Wl,--icf=all",
           "CARGO_TARGET_DIR": str(CACHE / "cargo-target")}  # fmt: skip
    argv = ["/usr/bin/cargo", "build", "-q", "--offline", "--target", "x86_64-unknown-linux-musl"]
    if subprocess.run(argv, cwd=ws, env=env, capture_output=True, check=False).returncode:
        return {"error": "cargo build failed"}
    noop = min(timed(argv, ws, env) for _ in range(3))
    lib = ws / "s1" / "src" / "lib.rs"
    lib.write_text(lib.read_text() + "\n// edit\n")
    return {"noop": noop, "leaf_edit": timed(argv, ws, env), "n": n}


def src_noop(n: int, env: dict[str, str]) -> float:
    root = Path(tempfile.mkdtemp(prefix=f"rb-bench-src-{n}-"))
    workspace(root, n)
    argv = [str(CLI), "build", "//...:src"]
    timed(argv, root, env)
    took = best(argv, root, runs=5, env=env)
    shutil.rmtree(root, ignore_errors=True)
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 scenarios, 1,000 :src no-op")
    parser.add_argument("--sizes", help="comma-separated sizes (default 10,100,1000)")
    parser.add_argument("-j", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    sizes = [10] if args.quick else [int(x) for x in (args.sizes or "10,100,1000").split(",")]
    server_dir = Path(tempfile.mkdtemp(prefix="rbb-", dir="/tmp"))
    # The CLI runs the code of this checkout (and so its runtime sources), whatever the venv's
    # editable install points at: a bench in a frozen worktree is not disturbed by edits here.
    env = {**os.environ, "RUNTARA_BUILD_SERVER": "1", "RUNTARA_BUILD_SERVER_DIR": str(server_dir),
           "PYTHONPATH": str(REPO)}  # fmt: skip
    # As `make setup` and a pip install do: with PYTHONDONTWRITEBYTECODE set, stale bytecode
    # would have every command compile the client's modules again.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "runtara_build"),
                    str(REPO / "rules")], check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    results: dict[str, Any] = {"sizes": {}}
    try:
        for n in sizes:
            results["sizes"][str(n)] = measure(n, args.j, env)
        src_n = 1000 if args.quick else 10_000
        results["src_noop"] = {"n": src_n, "seconds": src_noop(src_n, env)}
        if not args.quick:
            results["runtime_change"] = runtime_change(env, args.j)
    finally:
        subprocess.run([str(CLI), "shutdown"], env=env, check=False)
        shutil.rmtree(server_dir, ignore_errors=True)
    report(results)
    out = REPO / "bench" / "results" / "incremental.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2) + "\n")


def report(results: dict[str, Any]) -> None:
    print(f"{'N':>5} {'cold':>7} {'no-op':>7} {'cargo':>7} {'ratio':>6} {'cosm.':>6} "
          f"{'leaf':>6} {'rustc':>6} {'over':>6} {'leaf*':>6} {'over*':>6} {'child':>6} "
          f"{'cargo leaf':>10}")  # fmt: skip
    for n, r in results["sizes"].items():
        cargo = r["baseline_cargo"]
        c_noop, c_leaf = cargo.get("noop", float("nan")), cargo.get("leaf_edit", float("nan"))
        over = r["leaf_edit"] - r["leaf_rustc_ms"] / 1000
        over_cold = r["leaf_edit_no_server"] - r["leaf_no_server_rustc_ms"] / 1000
        print(f"{n:>5} {r['cold']:7.1f} {r['noop']:7.3f} {c_noop:7.3f} {c_noop / r['noop']:5.1f}x "
              f"{r['cosmetic']:6.2f} {r['leaf_edit']:6.2f} {r['leaf_rustc_ms'] / 1000:6.2f} "
              f"{over:6.3f} {r['leaf_edit_no_server']:6.2f} {over_cold:6.3f} "
              f"{r['child_edit']:6.2f} {c_leaf:10.2f}")  # fmt: skip
    print(
        "leaf: warm server; rustc: its obj + bin rustc targets; over: leaf - rustc; "
        "*: without the server (RUNTARA_BUILD_SERVER=0)"
    )
    src = results["src_noop"]
    print(f"no-op of //...:src over {src['n']}: {src['seconds']:.3f} s")
    if "runtime_change" in results:
        print(f"runtime rlib change, N=10: {results['runtime_change']['seconds']:.1f} s")


if __name__ == "__main__":
    main()
