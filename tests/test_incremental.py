"""The incremental engine end to end: per-target outcomes after edits, never timings.

One store is shared by the module (cold builds after the first are cache hits), and every
test lays out its own workspace, so an edit in one test never meets another test's entries:
each test edits to values no other test uses.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from runtara_build.build import BuildOptions, BuildResult, Overrides, build
from runtara_build.cache.local import LocalStore
from runtara_build.check import Request
from runtara_build.toolchain.identity import Identity, identify
from tests.support.binaries import TEST_CACHE

pytestmark = [pytest.mark.rustc, pytest.mark.slow]

IMM = "immediate"


def finish(mapping: dict[str, Any], step_id: str = "f") -> dict[str, Any]:
    return {
        "steps": {"f": {"stepType": "Finish", "id": step_id, "inputMapping": mapping}},
        "entryPoint": "f",
    }


def value(v: Any) -> dict[str, Any]:
    return {"valueType": IMM, "value": v}


def caller(child: str) -> dict[str, Any]:
    return {
        "steps": {
            "call": {
                "stepType": "StartScenario",
                "id": "call",
                "childScenarioId": child,
                "childVersion": "latest",
            },
            "f": {
                "stepType": "Finish",
                "id": "f",
                "inputMapping": {"got": {"valueType": "reference", "value": "steps.call.outputs"}},
            },
        },
        "entryPoint": "call",
        "executionPlan": [{"fromStep": "call", "toStep": "f"}],
    }


DOCS = {
    "leaf": finish({"b": value(1), "a": value(2)}),
    "shared": finish({"who": value("shared")}),
    "p1": caller("shared"),
    "p2": caller("shared"),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, runtime_cache: Path) -> Iterator[LocalStore]:
    with LocalStore(tmp_path_factory.mktemp("store"), 2**31) as found:
        yield found


class Ws:
    def __init__(self, root: Path, store: LocalStore) -> None:
        self.root, self.store = root, store
        self.identity: Identity | None = None
        (root / "WORKSPACE").write_text('[cache]\ndir = "cache"\n')
        for name, doc in DOCS.items():
            self.write(name, doc)

    def write(self, name: str, doc: dict[str, Any], indent: int = 2) -> None:
        path = self.root / "acme" / name / "scenario.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(doc, indent=indent))

    def build(self, *targets: str) -> BuildResult:
        overrides = Overrides(self.store, self.identity, TEST_CACHE / "runtara-build")
        request = Request(targets or ("//...",))
        return build(request, cwd=self.root, options=BuildOptions(jobs=4), overrides=overrides)


def built(result: BuildResult) -> set[str]:
    return {str(o.target) for o in result.outcomes if o.outcome == "built" and not o.target.shared}


def rustc_runs(result: BuildResult) -> set[str]:
    return {t for t in built(result) if t.endswith((":obj", ":bin"))}


@pytest.fixture
def ws(tmp_path: Path, store: LocalStore) -> Ws:
    workspace = Ws(tmp_path, store)
    workspace.build()
    return workspace


def run_bin(ws: Ws, name: str) -> Any:
    binary = ws.root / "runtara-out" / "bin" / "acme" / name / "bin"
    proc = subprocess.run(
        [str(binary), "--store", str(ws.root / f"{name}.db")],
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return json.loads(proc.stdout)


def test_second_build_is_all_hits(ws: Ws) -> None:
    result = ws.build()
    assert built(result) == set()
    assert {o.outcome for o in result.outcomes} == {"hit"}
    assert run_bin(ws, "p1") == {"got": {"who": "shared"}}


def test_cosmetic_edit_runs_no_rustc(ws: Ws) -> None:
    doc = copy.deepcopy(DOCS["leaf"])
    doc["description"] = "documentation only"  # a member codegen never reads
    doc["steps"]["f"]["unknownMember"] = True  # the DSL ignores unknown members
    ws.write("leaf", doc, indent=7)
    assert rustc_runs(ws.build()) == set()


def test_input_mapping_order_rebuilds(ws: Ws) -> None:
    source = ws.root / "runtara-out" / "src" / "acme" / "leaf" / "lib.rs"
    before = source.read_text()
    ws.write("leaf", finish({"a": value(2), "b": value(1)}))
    assert built(ws.build()) == {"//acme/leaf:src", "//acme/leaf:obj", "//acme/leaf:bin"}
    assert source.read_text() != before


def test_leaf_edit_reruns_exactly_its_reverse_deps(ws: Ws) -> None:
    ws.write("leaf", finish({"b": value("leaf edit"), "a": value(2)}))
    assert built(ws.build()) == {"//acme/leaf:src", "//acme/leaf:obj", "//acme/leaf:bin"}
    assert run_bin(ws, "leaf") == {"b": "leaf edit", "a": 2}


def test_child_edit_reruns_the_child_and_relinks_only(ws: Ws) -> None:
    ws.write("shared", finish({"who": value("child edit")}))
    result = ws.build()
    child = {"//acme/shared:src", "//acme/shared:obj", "//acme/shared:bin"}
    assert built(result) == child | {"//acme/p1:bin", "//acme/p2:bin"}
    assert run_bin(ws, "p2") == {"got": {"who": "child edit"}}


def test_toolchain_change_reruns_every_rustc(ws: Ws) -> None:
    real = identify("/usr/bin/rustc", "x86_64-unknown-linux-musl", TEST_CACHE / "runtara-build")
    ws.identity = replace(real, sysroot_digest="0" * 31 + "1")
    result = ws.build()
    compiled = {f"//acme/{n}:{k}" for n in DOCS for k in ("obj", "bin")}
    assert built(result) == compiled
    assert any("toolchain: rustc" in line for o in result.outcomes for line in o.explain)


def test_corrupt_cas_entry_is_detected_and_rebuilt(ws: Ws) -> None:
    rlib = next((ws.root / "runtara-out" / "obj" / "acme" / "leaf").glob("*.rlib"))
    digest = ws.store.put_file(rlib)
    ws.store._cas.set(digest, b"not the rlib")  # simulate a disk that flipped the blob
    (ws.root / "runtara-out" / ".runtara" / "records.sqlite").unlink()  # force materialising
    rlib.unlink()
    result = ws.build()
    assert result.outcome("//acme/leaf:obj") == "built"
    assert rustc_runs(result) == {"//acme/leaf:obj"}
    assert run_bin(ws, "leaf") == {"b": 1, "a": 2}


def test_an_output_changed_in_place_is_restored_from_the_cache(ws: Ws) -> None:
    # Unchanged fields with unchanged output stats are up to date without a cache read;
    # an output whose stat changed goes to the action cache, which puts it back.
    binary = ws.root / "runtara-out" / "bin" / "acme" / "leaf" / "bin"
    good = binary.read_bytes()
    binary.write_bytes(good[:-8] + b"tampered")
    result = ws.build()
    assert result.outcome("//acme/leaf:bin") == "hit" and rustc_runs(result) == set()
    assert binary.read_bytes() == good
    assert run_bin(ws, "leaf") == {"b": 1, "a": 2}


def test_explain_says_a_missing_output_was_rebuilt(ws: Ws, tmp_path: Path) -> None:
    (ws.root / "runtara-out" / "bin" / "acme" / "leaf" / "bin").unlink()
    with LocalStore(tmp_path / "empty-store", 2**31) as empty:  # as if evicted
        ws.store = empty
        result = ws.build()
    assert built(result) == {"//acme/leaf:bin"}
    lines = [line for o in result.outcomes for line in o.explain]
    assert len(lines) == 1, lines
    assert re.fullmatch(r"//acme/leaf:bin output: \(missing\) → [0-9a-f]{12}", lines[0])


def test_explain_names_the_changed_field(ws: Ws) -> None:
    ws.write("leaf", finish({"b": value("explained"), "a": value(2)}))
    result = ws.build()
    lines = [line for o in result.outcomes for line in o.explain]
    assert any(line.startswith("//acme/leaf:src scenario.json: ") for line in lines)
    assert any(line.startswith("//acme/leaf:obj dep //acme/leaf:src: ") for line in lines)
