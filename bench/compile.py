"""Compile-time and binary-size benchmark of `runtara-build` against a `cargo build` baseline.

For generated scenarios of 10, 50 and 200 steps (a realistic mix of Log, Conditional, Switch,
Filter, utils Agents and a Finish), this measures, with the runtime rlib already built:

- **runtara-build**: the wall time of a cold `runtara-build build FILE -o OUT` (a fresh
  working directory, and a scenario variant the cache has never seen), the part of it spent in
  the build's actions (generate, compile, link: `--events` durations), and the stripped size
  of the binary;
- **cargo (baseline)**: the same generated program (the `runtara-out/src/**.rs` files the build
  leaves; when it keeps only the library crates, plus the few-line main crate the tool links)
  built by `cargo build --release` in a one-off crate with a path dependency on the runtime
  crate. Its dependencies are built once, beforehand, in a shared target directory, so each
  measured build compiles only the one-off crate. Same profile as the tool uses (opt-level
  "s", 16 codegen units, unwind, no debug info, stripped). Its binary must print the same
  output as the tool's.

Each figure is the median of `--repeat` runs (default 3). The table goes to stdout and the
figures to `bench/results/compile.json` (git-ignored).

    .venv/bin/python bench/compile.py [--sizes 10,50,200] [--repeat 3] [--no-baseline]

Goals (issue 9): a 50-step scenario compiles in <= 1 s; its stripped binary is <= 3 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).parent / "runtara-build"
RESULTS = REPO / "bench" / "results" / "compile.json"
TARGET = "x86_64-unknown-linux-musl"
RUSTC = "/usr/bin/rustc"
CARGO = "/usr/bin/cargo"
GOAL_SECONDS_50 = 1.0
GOAL_BYTES = 3_000_000  # "3 MB", read as 10^6 bytes (the stricter reading)
NONCE = f"{time.time_ns():x}"


# --------------------------------------------------------------------------- scenarios


def _ref(path: str) -> dict[str, Any]:
    return {"valueType": "reference", "value": path}


def _imm(value: Any) -> dict[str, Any]:
    return {"valueType": "immediate", "value": value}


def _op(op: str, *args: Any) -> dict[str, Any]:
    return {"type": "operation", "op": op, "arguments": list(args)}


def _agent(key: str, capability: str, mapping: dict[str, Any]) -> dict[str, Any]:
    return {
        "stepType": "Agent",
        "id": key,
        "agentId": "utils",
        "capabilityId": capability,
        "inputMapping": mapping,
        "maxRetries": 0,
    }


def _block(kind: int, k: int) -> tuple[list[dict[str, Any]], list[tuple[str, str, str]], list[str]]:
    """One unit of the mix: (steps, inner edges (from, to, label), exits). Entry = steps[0]."""
    s = f"s{k}"
    if kind == 0:
        step = {
            "stepType": "Log",
            "id": s,
            "level": "info",
            "message": f"checkpoint {k}",
            "context": {"x": _ref("data.x"), "k": _imm(k)},
        }
        return [step], [], [s]
    if kind == 1:
        mapping = {
            "expression": _imm(f"x * 2 + {k}"),
            "variables": {"valueType": "composite", "value": {"x": _ref("data.x")}},
        }
        return [_agent(s, "calculate", mapping)], [], [s]
    if kind == 2:  # a Conditional with a one-step branch on each side
        cond = {
            "stepType": "Conditional",
            "id": s,
            "condition": _op(
                "AND",
                _op("GT", _ref("data.x"), _imm(k % 11)),
                _op("IS_NOT_EMPTY", _ref("data.items")),
            ),
        }
        yes = _agent(f"{s}_yes", "return-input", {"value": _imm({"branch": "yes", "k": k})})
        no = {"stepType": "Log", "id": f"{s}_no", "level": "debug", "message": f"no {k}"}
        edges = [(s, f"{s}_yes", "true"), (s, f"{s}_no", "false")]
        return [cond, yes, no], edges, [f"{s}_yes", f"{s}_no"]
    if kind == 3:
        cases = [
            {"matchType": "GT", "match": 100, "output": "big"},
            {"matchType": "BETWEEN", "match": [5, 100], "output": {"mid": _ref("data.x")}},
            {"matchType": "EQ", "match": [1, 2, 3], "output": "small"},
        ]
        step = {
            "stepType": "Switch",
            "id": s,
            "config": {"value": _ref("data.x"), "cases": cases, "default": "none"},
        }
        return [step], [], [s]
    if kind == 4:
        step = {
            "stepType": "Filter",
            "id": s,
            "config": {
                "value": _ref("data.items"),
                "condition": _op("GT", _ref("item.v"), _imm(k % 5)),
            },
        }
        return [step], [], [s]
    template = {"valueType": "template", "value": f"item {{{{ data.x }}}} at {k}"}
    return [_agent(s, "return-input", {"value": template})], [], [s]


BLOCK_SIZES = (1, 1, 3, 1, 1, 1)


def make_scenario(n: int, variant: str) -> dict[str, Any]:
    """A graph of exactly `n` steps (n >= 2); `variant` changes one message, nothing else."""
    steps: list[dict[str, Any]] = [
        {"stepType": "Log", "id": "start", "message": f"bench variant {variant}"}
    ]
    plan: list[dict[str, str]] = []
    exits = ["start"]
    k = 0
    while len(steps) < n - 1:
        kind = k % len(BLOCK_SIZES)
        if BLOCK_SIZES[kind] > n - 1 - len(steps):
            kind = 0
        block, inner, block_exits = _block(kind, k)
        plan += [{"fromStep": e, "toStep": block[0]["id"]} for e in exits]
        plan += [{"fromStep": a, "toStep": b, "label": label} for a, b, label in inner]
        steps += block
        exits = block_exits
        k += 1
    outputs = {
        f"out_{s['id']}": _ref(f"steps.{s['id']}.outputs")
        for s in steps
        if s["stepType"] in ("Agent", "Switch", "Filter")
    }
    steps.append({"stepType": "Finish", "id": "finish", "inputMapping": outputs})
    plan += [{"fromStep": e, "toStep": "finish"} for e in exits]
    assert len(steps) == n
    return {
        "name": f"bench-{n}",
        "inputSchema": {"x": {"type": "integer"}, "items": {"type": "array"}},
        "steps": {s["id"]: s for s in steps},
        "entryPoint": "start",
        "executionPlan": plan,
    }


BENCH_INPUT = {"data": {"x": 42, "items": [{"v": 1}, {"v": 7}, {"v": 3}]}}


# --------------------------------------------------------------------------- measuring


@dataclass
class Row:
    steps: int
    runtara_seconds: list[float] = field(default_factory=list)
    runtara_actions_seconds: list[float] = field(default_factory=list)
    runtara_bytes: int = 0
    runtara_stripped_bytes: int = 0
    cargo_seconds: list[float] = field(default_factory=list)
    cargo_bytes: int = 0
    cargo_stripped_bytes: int = 0
    source_lines: int = 0
    source_files: int = 0
    baseline_error: str | None = None

    def summary(self) -> dict[str, Any]:
        rt = _median(self.runtara_seconds)
        cg = _median(self.cargo_seconds)
        out = asdict(self)
        out |= {
            "runtara_median_seconds": rt,
            "runtara_actions_median_seconds": _median(self.runtara_actions_seconds),
            "cargo_median_seconds": cg,
            "time_ratio_runtara_over_cargo": rt / cg if rt and cg else None,
            "size_ratio_runtara_over_cargo": (
                self.runtara_stripped_bytes / self.cargo_stripped_bytes
                if self.cargo_stripped_bytes
                else None
            ),
        }
        return out


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _env(cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RUNTARA_")}
    env["XDG_CACHE_HOME"] = str(cache)
    return env


def _stripped_size(binary: Path) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "bin"
        subprocess.run(["strip", "-o", str(copy), str(binary)], check=True)
        return copy.stat().st_size


def runtara_build(scenario: dict[str, Any], work: Path, cache: Path) -> tuple[float, float | None]:
    """Build `scenario` in the empty directory `work`: (wall seconds, seconds of the actions).

    The second figure is the sum of `duration_ms` of the targets that `--events` (DSL §11.4)
    reports as built: the time spent generating, compiling and linking, without the
    interpreter's start-up, loading and validation.
    """
    work.mkdir(parents=True)
    (work / "bench.json").write_text(json.dumps(scenario, indent=2))
    start = time.perf_counter()
    proc = subprocess.run(
        [str(CLI), "build", "bench.json", "-o", "wf", "--events", "events.jsonl"],
        cwd=work,
        env=_env(cache),
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"runtara-build failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    events = work / "events.jsonl"
    if not events.is_file():
        return seconds, None
    records = [json.loads(line) for line in events.read_text().splitlines() if line.strip()]
    built = [r["duration_ms"] for r in records if r.get("outcome") == "built"]
    return seconds, sum(built) / 1000 if built else None


@dataclass(frozen=True)
class Generated:
    """The Rust a build left under `runtara-out/src`, in either layout the tool has used."""

    files: list[Path]  # every .rs file
    main: Path | None  # one program with `fn main` (a single crate)
    libs: list[Path]  # or one library crate per scenario document (`lib.rs`), main not kept


def generated_sources(work: Path) -> Generated:
    files = sorted((work / "runtara-out" / "src").rglob("*.rs"))
    mains = [f for f in files if re.search(r"^\s*(pub\s+)?fn\s+main\s*\(", f.read_text(), re.M)]
    if len(mains) > 1:
        raise RuntimeError(f"expected at most one generated file with fn main, found {mains}")
    libs = [f for f in files if f.name == "lib.rs"]
    return Generated(files, mains[0] if mains else None, libs)


# --------------------------------------------------------------------------- cargo baseline

CARGO_TOML = """[package]
name = "wf_bench"
version = "0.0.0"
edition = "2021"
publish = false
{lib}
[[bin]]
name = "wf_bench"
path = "{main}"

[dependencies]
runtara_runtime = {{ path = "{runtime}" }}

# The profile runtara-build compiles with (toolchain/rustc.py, runtime/Cargo.toml).
[profile.release]
opt-level = "s"
panic = "unwind"
codegen-units = 16
debug = 0
strip = "symbols"

[workspace]
"""

#: The main crate runtara-build links for a root scenario without children when it keeps
#: only the library crates (`codegen/main.py`, `emit_main`); the baseline writes the same.
MAIN_RS = """extern crate runtara_runtime as rt;
extern crate {crate} as root;

static SCENARIO: rt::ScenarioDef = rt::ScenarioDef {{
    scenario_id: root::SCENARIO_ID,
    graph: &root::G0,
    required: root::REQUIRED,
    debug_mode: false,
    default_tenant: "default",
}};

static CHILDREN: rt::ChildTable = &[];

fn main() {{
    rt::main_with_children(&SCENARIO, CHILDREN)
}}
"""


class CargoBaseline:
    """A one-off crate in `home` whose deps are built once in a shared target directory."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.crate = home / "crate"
        self.target_dir = home / "target"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CARGO_", "RUSTFLAGS"))}
        env |= {
            "PATH": "/usr/bin:" + env.get("PATH", ""),
            "RUSTC": RUSTC,
            "CARGO_TARGET_DIR": str(self.target_dir),
            f"CC_{TARGET.replace('-', '_')}": "musl-gcc",
        }
        if "CARGO_HOME" in os.environ:
            env["CARGO_HOME"] = os.environ["CARGO_HOME"]
        return env

    def place(self, generated: Generated) -> None:
        """Copy the generated sources into the crate, keeping their layout around the root."""
        src = self.crate / "src"
        shutil.rmtree(src, ignore_errors=True)
        if generated.main is not None:  # one program: copy it with everything beside it
            base, lib = generated.main.parent, ""
            main = (Path("src") / generated.main.relative_to(base)).as_posix()
        elif len(generated.libs) == 1:  # one library crate plus the main the tool links
            base = generated.libs[0].parent
            name = base.name if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", base.name) else "wf_gen"
            lib = f'\n[lib]\nname = "{name}"\npath = "src/lib.rs"\n'
            main = "src/bin_main.rs"
            src.mkdir(parents=True)
            (src / "bin_main.rs").write_text(MAIN_RS.format(crate=name))
        else:
            raise RuntimeError(f"no single crate root among the generated files {generated.files}")
        for f in generated.files:
            if not f.is_relative_to(base):
                raise RuntimeError(f"{f} is outside the crate root's directory {base}")
            (src / f.relative_to(base)).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(f, src / f.relative_to(base))
        toml = CARGO_TOML.format(lib=lib, main=main, runtime=(REPO / "runtime").as_posix())
        (self.crate / "Cargo.toml").write_text(toml)
        lock = self.crate / "Cargo.lock"
        if not lock.exists():
            shutil.copy2(REPO / "runtime" / "Cargo.lock", lock)
        # The runtime's cargo settings (e.g. the SQLite build flags) apply only to cargo runs
        # inside runtime/; the baseline builds the dependencies the same way.
        config = REPO / "runtime" / ".cargo" / "config.toml"
        if config.is_file():
            (self.crate / ".cargo").mkdir(exist_ok=True)
            shutil.copy2(config, self.crate / ".cargo" / "config.toml")

    def build(self) -> float:
        argv = [CARGO, "build", "--release", "--offline", "--target", TARGET, "-q"]
        start = time.perf_counter()
        proc = subprocess.run(argv, cwd=self.crate, env=self.env(), capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"cargo build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
        return seconds

    @property
    def binary(self) -> Path:
        return self.target_dir / TARGET / "release" / "wf_bench"


# --------------------------------------------------------------------------- main


def _check_binary(binary: Path, expected: str | None = None) -> str:
    proc = subprocess.run(
        [str(binary), "--input", "-", "--store", str(binary.parent / "state.db")],
        input=json.dumps(BENCH_INPUT),
        capture_output=True,
        text=True,
        timeout=60,
    )
    if proc.returncode != 0:
        raise SystemExit(f"{binary} exited {proc.returncode}: {proc.stderr[-2000:]}")
    if expected is not None and proc.stdout != expected:
        raise SystemExit(f"{binary}: output differs from the runtara-build binary's")
    return proc.stdout


def measure(n: int, repeat: int, scratch: Path, cache: Path, cargo: CargoBaseline | None) -> Row:
    row = Row(n)
    for rep in range(repeat):
        # A variant no cache has seen (run nonce + repetition): a cold build, also for a tool
        # with an action cache; the cargo crate's source changes with it, so cargo rebuilds it.
        work = scratch / f"rb-{n}-{rep}"
        variant = f"{NONCE}-{rep}"
        seconds, reported = runtara_build(make_scenario(n, variant), work, cache)
        row.runtara_seconds.append(seconds)
        if reported is not None:
            row.runtara_actions_seconds.append(reported)
        binary = work / "wf"
        row.runtara_bytes = binary.stat().st_size
        row.runtara_stripped_bytes = _stripped_size(binary)
        output = _check_binary(binary)
        generated = generated_sources(work)
        row.source_files = len(generated.files)
        row.source_lines = sum(len(f.read_text().splitlines()) for f in generated.files)
        if cargo is None or row.baseline_error:
            continue
        try:
            cargo.place(generated)
            row.cargo_seconds.append(cargo.build())
            row.cargo_bytes = cargo.binary.stat().st_size
            row.cargo_stripped_bytes = _stripped_size(cargo.binary)
            _check_binary(cargo.binary, expected=output)
        except RuntimeError as exc:
            row.baseline_error = str(exc)
    return row


def _mb(size: int) -> str:
    return f"{size / 1e6:.2f}"


def _secs(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def print_table(rows: list[dict[str, Any]]) -> None:
    head = (
        f"{'steps':>5}  {'rs lines':>8}  {'runtara s':>9}  {'actions s':>8}  {'cargo s':>8}  "
        f"{'time x':>6}  {'runtara MB':>10}  {'cargo MB':>8}  {'size x':>6}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        tr, sr = r["time_ratio_runtara_over_cargo"], r["size_ratio_runtara_over_cargo"]
        print(
            f"{r['steps']:>5}  {r['source_lines']:>8}  {_secs(r['runtara_median_seconds']):>9}  "
            f"{_secs(r['runtara_actions_median_seconds']):>8}  "
            f"{_secs(r['cargo_median_seconds']):>8}  {'n/a' if tr is None else f'{tr:.2f}':>6}  "
            f"{_mb(r['runtara_stripped_bytes']):>10}  "
            f"{_mb(r['cargo_stripped_bytes']) if r['cargo_stripped_bytes'] else 'n/a':>8}  "
            f"{'n/a' if sr is None else f'{sr:.2f}':>6}"
        )
        if r["baseline_error"]:
            print(f"       baseline failed: {r['baseline_error'].splitlines()[0]}")


def goals(rows: list[dict[str, Any]]) -> dict[str, Any]:
    fifty = next((r for r in rows if r["steps"] == 50), None)
    if fifty is None:
        return {}
    seconds, size = fifty["runtara_median_seconds"], fifty["runtara_stripped_bytes"]
    return {
        "compile_50_steps_seconds": seconds,
        "compile_50_steps_goal_seconds": GOAL_SECONDS_50,
        "compile_50_steps_met": seconds <= GOAL_SECONDS_50,
        "binary_50_steps_stripped_bytes": size,
        "binary_goal_bytes": GOAL_BYTES,
        "binary_met": size <= GOAL_BYTES,
    }


def _toolchain() -> str:
    proc = subprocess.run([RUSTC, "-vV"], capture_output=True, text=True, check=False)
    return proc.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,50,200", help="step counts, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the cargo baseline")
    parser.add_argument(
        "--cache",
        type=Path,
        default=REPO / "cache" / "test",
        help="XDG_CACHE_HOME for runtara-build: default the tests' cache, whose runtime rlib "
        "is usually built already (else the warm-up builds it, unmeasured)",
    )
    parser.add_argument("--out", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    with tempfile.TemporaryDirectory(prefix="rb-bench-") as tmp:
        scratch = Path(tmp)
        # Warm-up: make sure the runtime rlib exists (built once, not measured).
        start = time.perf_counter()
        runtara_build(make_scenario(2, f"{NONCE}-warmup"), scratch / "warmup", args.cache)
        warmup = time.perf_counter() - start
        print(f"warm-up build (runtime rlib ready): {warmup:.2f}s", file=sys.stderr)

        cargo = None
        prebuild = None
        if not args.no_baseline:
            cargo = CargoBaseline(REPO / "cache" / "bench" / "cargo-baseline")
            cargo.place(generated_sources(scratch / "warmup"))
            start = time.perf_counter()
            cargo.build()  # the dependencies and the runtime crate, once
            prebuild = time.perf_counter() - start
            print(f"cargo baseline deps prebuilt: {prebuild:.2f}s", file=sys.stderr)

        rows = [measure(n, args.repeat, scratch, args.cache, cargo).summary() for n in sizes]

    print_table(rows)
    result = {
        "benchmark": "compile",
        "repeat": args.repeat,
        "statistic": "median",
        "rustc": _toolchain(),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "warmup_seconds": warmup,
        "cargo_prebuild_seconds": prebuild,
        "rows": rows,
        "goals": goals(rows),
    }
    for key, value in result["goals"].items():
        print(f"{key}: {value}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
