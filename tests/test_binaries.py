"""End-to-end acceptance of the built binaries (issue 9), through the real CLI only.

- the project's own cases (tests/cases/e2e, the shared conformance format) cover every compiled
  step type even without ../shared;
- the binaries are static and run in an empty directory with an empty environment;
- builds are reproducible: two copies of a workspace at different absolute paths, and a
  workspace built twice, give bit-identical binaries;
- a rustc failure on generated code is a tool bug (exit 70, RB399, the kept source named);
- a missing toolchain is a coded user error (exit 1, RB4xx, `make setup`);
- `runtara-build run` and the bare `runtara-build //tenant/scenario` form.

Workspaces get their own local cache (so no build here is served from another test's
results), whose `runtime/` is a symlink to the runtime rlib the `runtime_cache` fixture built.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.support.binaries import build_env, runtara_build
from tests.support.cases import check_case

pytestmark = [pytest.mark.rustc, pytest.mark.slow]

E2E = Path(__file__).resolve().parent / "cases" / "e2e"
E2E_CASES = sorted(p.name for p in E2E.iterdir() if p.is_dir())
#: Cases where the binary disagrees with the spec: the spec's answer is kept (strict xfail).
SPEC_DISAGREES: dict[str, str] = {}

REAL_RUSTC = "/usr/bin/rustc"


# --------------------------------------------------------------------------- own cases


@pytest.mark.parametrize("name", E2E_CASES)
def test_e2e_case(name: str, tmp_path: Path, runtime_cache: Path) -> None:
    if name in SPEC_DISAGREES:
        pytest.xfail(SPEC_DISAGREES[name])
    check_case(E2E / name, tmp_path, runtime_cache, f"e2e-{name[:3]}")


def test_e2e_cases_cover_every_compiled_step_type() -> None:
    compiled = {
        *("Finish", "Agent", "Conditional", "Switch", "Split", "StartScenario", "While"),
        *("Log", "Error", "Filter", "GroupBy", "Delay", "WaitForSignal"),
    }
    found: set[str] = set()
    agents: set[str] = set()
    on_error = False
    for case in E2E.iterdir():
        for doc in [case / "scenario.json", *(case / "children").glob("*.json")]:
            for step in _steps(json.loads(doc.read_text())):
                found.add(step["stepType"])
                if step["stepType"] == "Agent":
                    agents.add(step["agentId"])
            on_error |= '"onError"' in doc.read_text()
    assert compiled <= found, compiled - found
    assert {"utils", "transform", "text"} <= agents
    assert on_error


def _steps(graph: dict[str, Any]) -> list[dict[str, Any]]:
    graph = graph.get("executionGraph", graph)
    found = []
    for step in graph["steps"].values():
        found.append(step)
        for nested in ("subgraph", "onWait"):
            if nested in step:
                found += _steps(step[nested])
    return found


# --------------------------------------------------------------------------- a workspace


def _ref(path: str) -> dict[str, Any]:
    return {"valueType": "reference", "value": path}


#: //acme/greet calls //acme/shout. Input {"data": {"name": s, "fail"?: bool}}: "fail" makes
#: an Error step fail the run (exit 1); a missing "name" is invalid input (exit 2).
GREET = {
    "inputSchema": {
        "name": {"type": "string", "required": True},
        "fail": {"type": "boolean"},
    },
    "entryPoint": "check",
    "steps": {
        "check": {
            "stepType": "Conditional",
            "id": "check",
            "condition": {
                "type": "operation",
                "op": "EQ",
                "arguments": [_ref("data.fail"), {"valueType": "immediate", "value": True}],
            },
        },
        "boom": {
            "stepType": "Error",
            "id": "boom",
            "code": "ASKED_TO_FAIL",
            "message": "asked to fail",
        },
        "hello": {
            "stepType": "Agent",
            "id": "hello",
            "agentId": "text",
            "capabilityId": "case-conversion",
            "inputMapping": {
                "text": {"valueType": "template", "value": "hello {{ data.name }}"},
                "format": {"valueType": "immediate", "value": "title-case"},
            },
        },
        "call": {
            "stepType": "StartScenario",
            "id": "call",
            "childScenarioId": "shout",
            "childVersion": "latest",
            "inputMapping": {"text": _ref("steps.hello.outputs")},
        },
        "finish": {
            "stepType": "Finish",
            "id": "finish",
            "inputMapping": {
                "greeting": _ref("steps.hello.outputs"),
                "loud": _ref("steps.call.outputs.loud"),
                "tenant": _ref("variables._tenant_id"),
                "scenario": _ref("variables._scenario_id"),
            },
        },
    },
    "executionPlan": [
        {"fromStep": "check", "toStep": "boom", "label": "true"},
        {"fromStep": "check", "toStep": "hello", "label": "false"},
        {"fromStep": "hello", "toStep": "call"},
        {"fromStep": "call", "toStep": "finish"},
    ],
}
SHOUT = {
    "inputSchema": {"text": {"type": "string", "required": True}},
    "entryPoint": "up",
    "steps": {
        "up": {
            "stepType": "Agent",
            "id": "up",
            "agentId": "text",
            "capabilityId": "case-conversion",
            "inputMapping": {
                "text": _ref("data.text"),
                "format": {"valueType": "immediate", "value": "uppercase"},
            },
        },
        "done": {
            "stepType": "Finish",
            "id": "done",
            "inputMapping": {"loud": _ref("steps.up.outputs")},
        },
    },
    "executionPlan": [{"fromStep": "up", "toStep": "done"}],
}


def make_workspace(root: Path, runtime_cache: Path, workspace_file: str = "") -> Path:
    """A workspace with //acme/greet and //acme/shout and its own cache (runtime shared)."""
    root.mkdir(parents=True)
    (root / "WORKSPACE").write_text(workspace_file)
    for name, doc in (("greet", GREET), ("shout", SHOUT)):
        (root / "acme" / name).mkdir(parents=True)
        (root / "acme" / name / "scenario.json").write_text(json.dumps(doc, indent=2) + "\n")
    share_runtime(root / "cache", runtime_cache)
    return root


def share_runtime(cache_dir: Path, runtime_cache: Path) -> None:
    """Give a fresh local cache the already-built runtime rlib (a symlink, not a copy)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    (cache_dir / "runtime").symlink_to(runtime_cache / "runtara-build" / "runtime")


def build_label(workspace: Path, runtime_cache: Path, *args: str) -> Path:
    proc = runtara_build(["build", *args], cwd=workspace, env=build_env(runtime_cache))
    assert proc.returncode == 0, proc.stderr[-4000:]
    binary = Path(proc.stdout.splitlines()[-1])
    assert binary.is_absolute() and binary.is_file(), proc.stdout
    return binary


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory, runtime_cache: Path) -> Path:
    return make_workspace(tmp_path_factory.mktemp("ws") / "workspace", runtime_cache)


@pytest.fixture(scope="module")
def greet_binary(workspace: Path, runtime_cache: Path) -> Path:
    """`runtara-build //acme/greet`: the bare form builds and prints the binary's path."""
    proc = runtara_build(["//acme/greet"], cwd=workspace, env=build_env(runtime_cache))
    assert proc.returncode == 0, proc.stderr[-4000:]
    binary = Path(proc.stdout.splitlines()[-1])
    assert binary.is_file() and os.access(binary, os.X_OK), proc.stdout
    assert binary.is_relative_to(workspace / "runtara-out"), binary
    return binary


def test_bare_label_builds_and_prints_the_binary(greet_binary: Path, tmp_path: Path) -> None:
    proc = subprocess.run(
        [str(greet_binary), "--input", "-", "--store", str(tmp_path / "s.db")],
        input='{"data": {"name": "ada"}}',
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["loud"] == "HELLO ADA"


# --------------------------------------------------------------------------- static


def test_binary_is_static(greet_binary: Path) -> None:
    headers = subprocess.run(
        ["readelf", "-l", "-d", str(greet_binary)], capture_output=True, text=True, check=True
    ).stdout
    assert "interpreter" not in headers.lower(), headers
    assert "INTERP" not in headers
    assert "(NEEDED)" not in headers, headers


def test_binary_runs_in_an_empty_directory_with_an_empty_environment(
    greet_binary: Path, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = subprocess.run(
        [str(greet_binary), "--input", "-"],
        input='{"data": {"name": "grace hopper"}}',
        cwd=empty,
        env={},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("\n") == 1
    output = json.loads(proc.stdout)
    assert output["greeting"] == "Hello Grace Hopper" and output["loud"] == "HELLO GRACE HOPPER"
    assert output["scenario"] == "greet"


# --------------------------------------------------------------------------- reproducible


def test_same_scenario_from_two_paths_is_bit_identical(tmp_path: Path, runtime_cache: Path) -> None:
    first = make_workspace(tmp_path / "one" / "clone", runtime_cache)
    second = make_workspace(tmp_path / "elsewhere" / "deeper" / "other-clone", runtime_cache)
    a = build_label(first, runtime_cache, "//acme/greet")
    b = build_label(second, runtime_cache, "//acme/greet")
    assert a.relative_to(first) == b.relative_to(second)
    assert a.read_bytes() == b.read_bytes()
    for root in (first, second):  # neither checkout's path reaches the binary
        assert str(root).encode() not in a.read_bytes()
        assert str(root).encode() not in b.read_bytes()

    # The same workspace built again from scratch (outputs and local cache removed).
    shutil.rmtree(first / "runtara-out")
    shutil.rmtree(first / "cache")
    share_runtime(first / "cache", runtime_cache)
    again = build_label(first, runtime_cache, "//acme/greet")
    assert again.read_bytes() == a.read_bytes()


def test_file_mode_is_bit_identical_from_two_directories(
    tmp_path: Path, runtime_cache: Path
) -> None:
    case = E2E / "006-start-scenario-and-onerror"
    binaries = []
    for where in (tmp_path / "a", tmp_path / "b" / "c"):
        copy = shutil.copytree(case, where / "case")
        out = where / "out"
        out.mkdir()
        proc = runtara_build(
            ["build", str(copy / "scenario.json"), "--children", str(copy / "children"),
             "-o", str(out / "wf")],
            cwd=out,
            env=build_env(runtime_cache),
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-4000:]
        binaries.append((out / "wf").read_bytes())
    assert binaries[0] == binaries[1]


# --------------------------------------------------------------------------- toolchain errors

#: Delegates to the real rustc (so `-vV`, and any other query or a cargo build of the runtime,
#: see the real toolchain and the runtime cache key is unchanged), but fails every compilation
#: of generated code: a source argument whose first line carries the `@generated` header.
FAKE_RUSTC = """#!/bin/sh
for arg in "$@"; do
  case "$arg" in
    *.rs)
      if [ -f "$arg" ] && head -n 1 "$arg" | grep -q '@generated'; then
        echo "error: fake-rustc refuses to compile $arg (injected by tests/test_binaries.py)" >&2
        exit 1
      fi;;
  esac
done
exec {real} "$@"
"""


def fake_toolchain(root: Path) -> Path:
    """`root/bin/rustc` (the fake) beside `root/lib/rustlib`, the real musl sysroot."""
    (root / "bin").mkdir(parents=True)
    (root / "lib").mkdir()
    (root / "lib" / "rustlib").symlink_to(Path(REAL_RUSTC).resolve().parents[1] / "lib/rustlib")
    rustc = root / "bin" / "rustc"
    rustc.write_text(FAKE_RUSTC.format(real=REAL_RUSTC))
    rustc.chmod(0o755)
    return rustc


def test_rustc_failure_on_generated_code_is_a_tool_bug(tmp_path: Path, runtime_cache: Path) -> None:
    rustc = fake_toolchain(tmp_path / "toolchain")
    real = subprocess.run([REAL_RUSTC, "-vV"], capture_output=True, text=True, check=True)
    assert subprocess.run([rustc, "-vV"], capture_output=True, text=True).stdout == real.stdout
    ws = make_workspace(tmp_path / "ws", runtime_cache, f'[toolchain]\nrustc = "{rustc}"\n')
    proc = runtara_build(["build", "//acme/greet"], cwd=ws, env=build_env(runtime_cache))
    assert proc.returncode == 70, proc.stderr
    assert "error[RB399]" in proc.stderr, proc.stderr
    assert "bug" in proc.stderr
    hint = next(line for line in proc.stderr.splitlines() if line.lstrip().startswith("hint:"))
    kept = [Path(p) for p in re.findall(r"(/\S+\.rs)\b", hint)]
    assert kept, hint
    assert all(p.is_file() and "@generated" in p.read_text() for p in kept), kept
    assert not (ws / "runtara-out" / "bin" / "acme" / "greet" / "bin").exists()


def test_missing_toolchain_is_a_coded_user_error(tmp_path: Path, runtime_cache: Path) -> None:
    missing = tmp_path / "nowhere" / "bin" / "rustc"
    ws = make_workspace(tmp_path / "ws", runtime_cache, f'[toolchain]\nrustc = "{missing}"\n')
    proc = runtara_build(["build", "//acme/greet"], cwd=ws, env=build_env(runtime_cache))
    assert proc.returncode == 1, proc.stderr
    assert re.search(r"error\[RB4\d\d\]", proc.stderr), proc.stderr
    assert "make setup" in proc.stderr, proc.stderr
    assert proc.stdout == ""


# --------------------------------------------------------------------------- run


@pytest.mark.parametrize(
    ("data", "extra", "code"),
    [
        ({"name": "ada lovelace"}, [], 0),
        ({"name": "ada lovelace"}, ["--tenant", "globex"], 0),
        ({"name": "ada lovelace", "fail": True}, [], 1),
        ({}, [], 2),
    ],
    ids=["completed", "explicit-tenant", "failed", "invalid-input"],
)
def test_run_label(
    data: dict[str, Any], extra: list[str], code: int, workspace: Path, runtime_cache: Path
) -> None:
    here = workspace / "work" / f"run-{code}-{len(extra)}"  # the invocation directory
    here.mkdir(parents=True)
    (here / "in.json").write_text(json.dumps({"data": data}))
    proc = runtara_build(
        ["run", "//acme/greet", "--", "--input", "in.json", *extra],
        cwd=here,
        env=build_env(runtime_cache),
    )
    assert proc.returncode == code, proc.stderr
    if code != 2:  # the binary's default store, ./runtara-state.db, is in the invocation dir
        assert (here / "runtara-state.db").is_file()
    if code == 0:
        assert proc.stdout.count("\n") == 1, proc.stdout
        assert json.loads(proc.stdout) == {
            "greeting": "Hello Ada Lovelace",
            "loud": "HELLO ADA LOVELACE",
            "tenant": "globex" if extra else "acme",
            "scenario": "greet",
        }
        return
    assert proc.stdout == ""
    last = json.loads([line for line in proc.stderr.splitlines() if line.strip()][-1])
    if code == 1:
        assert last["code"] == "ASKED_TO_FAIL" and last["stepType"] == "Error", last
    else:
        assert last["code"] == "INVALID_INPUT", last
