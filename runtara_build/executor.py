"""Running processes and the build engine: the one place (with toolchain/detect) that
imports subprocess.

`Engine.run` walks the target graph one topological layer at a time; inside a layer the
targets are independent and run on up to `jobs` threads (each rustc is a subprocess, so
threads are enough). For every target it composes the key (static fields + the identity of
each dependency's outputs), looks it up in the store and, on a hit whose outputs are all in
the CAS, materialises them; otherwise it runs the action, stores its outputs and its key
fields (for `--explain`) and materialises them. A corrupt or missing blob is a miss.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from runtara_build.actions import (
    Action,
    CompileRust,
    GenerateRust,
    LinkBinary,
    Output,
    SharedInput,
)
from runtara_build.cache import ActionResult
from runtara_build.explain import MISSING, Records, changed_fields
from runtara_build.keys import action_key, digest_json
from runtara_build.toolchain.rustc import RustcFlags, compile_argv, link_argv

if TYPE_CHECKING:
    from runtara_build.cache import Store
    from runtara_build.graph import Target, TargetGraph


@dataclass(frozen=True, slots=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def scrubbed_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: nothing from the caller but a fixed PATH and locale."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    env.update(extra or {})
    return env


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 1800,
) -> Completed:
    """Run a tool to completion, capturing its output; never raises on a non-zero exit."""
    try:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Completed(tuple(argv), 127, "", str(exc))
    return Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


def exec_binary(argv: Sequence[str]) -> int:
    """Replace this process with the workflow binary (`run`): its streams and code are ours."""
    os.execv(argv[0], list(argv))
    return 127  # not reached


# --------------------------------------------------------------------------- the engine

Outcome_ = Literal["hit", "built", "failed"]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What happened to one target, with the `--explain` lines when it was rebuilt."""

    target: Target
    mnemonic: str
    outcome: Outcome_
    duration_ms: int
    explain: tuple[str, ...] = ()
    digest: str = ""  # identity of the outputs, for the keys of dependents
    error: str = ""

    @property
    def reason(self) -> str:
        return "; ".join(self.explain)

    def event(self) -> dict[str, Any]:
        """The `--events` line of this target."""
        return {"label": str(self.target), "kind": self.target.kind, "outcome": self.outcome,
                "duration_ms": self.duration_ms, "reason": self.reason}  # fmt: skip


@dataclass(frozen=True, slots=True)
class RustcContext:
    """What rustc actions need at run time: the compiler and, lazily, the runtime."""

    rustc: str
    flags: RustcFlags
    runtime: Callable[[], tuple[str, str]]  # (rlib, deps dir), built on first use
    scratch: Path


@dataclass(frozen=True, slots=True)
class _Miss:
    """A target to build: its key, the key's fields (for --explain) and why it missed."""

    key: str
    fields: dict[str, str]
    explain: tuple[str, ...]


class Engine:
    def __init__(
        self,
        store: Store,
        records: Records,
        rustc: RustcContext,
        *,
        jobs: int = 1,
        progress: Callable[[Outcome, int, int], None] | None = None,
    ) -> None:
        self.store, self.records, self.rustc = store, records, rustc
        self.jobs = max(1, jobs)
        self.progress = progress
        self.done: dict[Target, Outcome] = {}

    def run(self, graph: TargetGraph, actions: Mapping[Target, Action]) -> list[Outcome]:
        """Every target of `graph`, layer by layer; stops after a layer with a failure.

        Keys and cache lookups are cheap and stay on this thread; only targets that must be
        built go to the pool, so a build of a thousand hits and one rustc costs one thread
        hop, not a thousand.
        """
        total = len(actions)
        with ThreadPoolExecutor(max_workers=self.jobs) as pool:
            for layer in graph.layers():
                jobs = []
                for target in layer:
                    action, start = actions[target], time.monotonic()
                    probed = self._guard(action, start, self._probe, graph.dependencies(target))
                    if isinstance(probed, Outcome):
                        self._record(probed, total)
                    else:
                        jobs.append(pool.submit(self._guard, action, start, self._build, probed))
                for job in jobs:
                    self._record(job.result(), total)
                if any(self.done[t].outcome == "failed" for t in layer):
                    break
        return [self.done[t] for t in sorted(self.done)]

    def _record(self, outcome: Outcome, total: int) -> None:
        self.done[outcome.target] = outcome
        if self.progress is not None:
            self.progress(outcome, len(self.done), total)

    def _guard(self, action: Action, start: float, step: Callable[..., Any], arg: Any) -> Any:
        """`step(action, arg)`, with an OSError as the target's failure and its duration."""
        try:
            result = step(action, arg)
        except OSError as exc:
            result = Outcome(action.target, action.mnemonic, "failed", 0, error=str(exc))
        if isinstance(result, Outcome):
            return replace(result, duration_ms=int((time.monotonic() - start) * 1000))
        return result

    def _probe(self, action: Action, deps: tuple[Target, ...]) -> Outcome | _Miss:
        """The outcome of a cache hit, or what building the target needs."""
        if isinstance(action, SharedInput):
            return _Miss("", {}, ())  # resolving may build the runtime: on the pool
        label = str(action.target)
        fields = dict(action.fields)
        for dep in deps:
            name = dep.kind if dep.shared else f"dep {dep}"
            fields[name] = self.done[dep].digest
        recorded = self.records.fields(label)
        if recorded == fields:
            placed = self._in_place(action)
            if placed is not None:
                return Outcome(action.target, action.mnemonic, "hit", 0, digest=_identity(placed))
        key = action_key(action.mnemonic, fields)
        cached = self.store.get_action(key)
        if cached is not None and cached.exit_code == 0 and self._materialize(action, cached):
            return Outcome(action.target, action.mnemonic, "hit", 0,
                           digest=_identity(cached.outputs))  # fmt: skip
        # No changed field: the same inputs, but their outputs were evicted, missing or
        # corrupt; `_build` says so once it knows the new output (STYLE §6).
        return _Miss(key, fields, changed_fields(label, recorded, fields))

    def _build(self, action: Action, miss: _Miss) -> Outcome:
        if isinstance(action, SharedInput):
            identity, built = action.resolve()
            return Outcome(action.target, action.mnemonic, "built" if built else "hit", 0,
                           digest=identity)  # fmt: skip
        result, error = self._execute(action)
        if result is None:
            return Outcome(action.target, action.mnemonic, "failed", 0, miss.explain, error=error)
        result = ActionResult(result.outputs, 0, "", tuple(sorted(miss.fields.items())))
        self.store.put_action(miss.key, result)
        if not self._materialize(action, result):
            raise OSError(f"the outputs of {action.target} could not be stored in the cache")
        identity = _identity(result.outputs)
        explain = miss.explain or (f"{action.target} output: {MISSING} → {identity[:12]}",)
        return Outcome(action.target, action.mnemonic, "built", 0, explain, identity)

    def _in_place(self, action: Action) -> tuple[tuple[str, str], ...] | None:
        """The outputs, when the last build of this target had the same key fields and every
        output still stats as it placed it: the no-op fast path's trust (STYLE §4), per
        target, so a thousand unchanged targets cost a thousand stats, not a thousand
        cache transactions. Anything else goes to the action cache, which verifies."""
        label, placed = str(action.target), []
        for out in action.outputs:
            digest = self._still_placed(label, out)
            if digest is None:
                return None
            placed.append((out.name, digest))
        return tuple(placed)

    def _still_placed(self, label: str, out: Output) -> str | None:
        """The digest recorded for an output whose file still stats as it was placed."""
        recorded = self.records.output_stat(label, out.name)
        if not recorded or recorded[1:] != stat_tuple(out.path):
            return None
        return str(recorded[0])

    def _materialize(self, action: Action, result: ActionResult) -> bool:
        """Place every output; an output whose file still stats as recorded is kept."""
        label = str(action.target)
        placed: dict[str, list[Any]] = {}
        for out in action.outputs:
            digest = result.output(out.name)
            if digest is None:
                return False
            fresh = self._still_placed(label, out) == digest
            if not fresh and not self.store.materialize(
                digest, out.path, executable=out.executable
            ):
                return False
            placed[out.name] = [digest, *stat_tuple(out.path)]
        self.records.update(label, dict(result.meta), placed)
        return True

    def _execute(self, action: Action) -> tuple[ActionResult | None, str]:
        if isinstance(action, GenerateRust):
            digest = self.store.put_blob(action.emit().encode())
            return ActionResult(((action.outputs[0].name, digest),), 0), ""
        assert not isinstance(action, SharedInput)
        with tempfile.TemporaryDirectory(dir=_mkdir(self.rustc.scratch)) as tmp:
            work = Path(tmp)
            argv = self._argv(action, work)
            done = run(argv, cwd=work, env=scrubbed_env())
            if done.returncode != 0:
                return None, done.stderr.strip()[-6000:]
            digest = self.store.put_file(work / "out")
            return ActionResult(((action.outputs[0].name, digest),), 0), ""

    def _argv(self, action: CompileRust | LinkBinary, work: Path) -> tuple[str, ...]:
        ctx = self.rustc
        if isinstance(action, CompileRust):
            shutil.copyfile(action.source, work / "lib.rs")
            return compile_argv(
                ctx.rustc, "lib.rs", "out", crate_name=action.crate,
                runtime=ctx.runtime(), remap_from=str(work), flags=ctx.flags,
            )  # fmt: skip
        (work / "main.rs").write_text(action.main_source, "utf-8")
        crates = tuple((name, str(path)) for name, path in action.crates)
        return link_argv(ctx.rustc, "main.rs", "out", crates=crates, runtime=ctx.runtime(),
                         remap_from=str(work), flags=ctx.flags)  # fmt: skip


def _identity(outputs: Sequence[tuple[str, str]]) -> str:
    """One digest for all (name, digest) outputs of a target: what dependents put in keys."""
    if len(outputs) == 1:
        return outputs[0][1]
    return digest_json([list(p) for p in outputs])


def stat_tuple(path: Path) -> list[int]:
    """(mtime_ns, size, inode) of a file, or [] when it is missing."""
    try:
        st = os.stat(path)
    except OSError:
        return []
    return [st.st_mtime_ns, st.st_size, st.st_ino]


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
