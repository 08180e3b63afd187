"""Golden codegen cases (STYLE §7): text, determinism, and validity against the runtime.

Each `tests/cases/codegen/NNN-slug/` holds `scenario.json` (and `children/<id>.json`) and the
golden `expected.rs`: the generated Rust of the scenario's own crate (`:src`).
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path
from typing import Any

import pytest

from runtara_build import translate_scenario, validate_workflow
from runtara_build.errors import render
from runtara_build.registry import builtin_rules
from tests.support.goldens import case_dirs, compare

CODEGEN = case_dirs("codegen")
FAILING = case_dirs("failing")
NOT_COMPILED = {"AiAgent"}  # E120 (DSL §5.15): covered by a failing case instead


def _children(case: Path) -> dict[str, str]:
    return {p.stem: p.read_text() for p in sorted((case / "children").glob("*.json"))}


def _translate(case: Path, text: str | None = None) -> str:
    scenario = text if text is not None else (case / "scenario.json").read_text()
    return translate_scenario(scenario, children=_children(case))


@pytest.mark.parametrize("case", CODEGEN, ids=[c.name for c in CODEGEN])
def test_codegen_golden(case: Path, request: pytest.FixtureRequest) -> None:
    update = bool(request.config.getoption("--update-goldens"))
    rerun = f"pytest tests/test_codegen_cases.py --update-goldens -k {case.name}"
    compare(_translate(case), case / "expected.rs", update, rerun)


def _shuffled(value: Any, rng: random.Random) -> Any:
    """Every object reordered except InputMapping-like ones, whose order is semantic."""
    if isinstance(value, list):
        return [_shuffled(v, rng) for v in value]
    if not isinstance(value, dict):
        return value
    items = [(k, _shuffled(v, rng)) for k, v in value.items()]
    if not any(isinstance(v, dict) and "valueType" in v for _, v in items):
        rng.shuffle(items)
    return dict(items)


@pytest.mark.parametrize("case", CODEGEN, ids=[c.name for c in CODEGEN])
def test_codegen_is_deterministic(case: Path) -> None:
    first = _translate(case)
    assert _translate(case) == first
    doc = json.loads((case / "scenario.json").read_text())
    assert _translate(case, json.dumps(_shuffled(doc, random.Random(7)), indent=1)) == first
    assert "/work/" not in first and "/tmp/" not in first and "/root/" not in first


def test_every_compiled_step_type_has_a_golden_case() -> None:
    used: set[str] = set()
    for case in CODEGEN:
        for path in [case / "scenario.json", *(case / "children").glob("*.json")]:
            used |= set(_step_types(json.loads(path.read_text())))
    assert set(builtin_rules()) - NOT_COMPILED <= used


def _step_types(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["stepType"]] if isinstance(value.get("stepType"), str) else []
        return found + [t for v in value.values() for t in _step_types(v)]
    if isinstance(value, list):
        return [t for v in value for t in _step_types(v)]
    return []


@pytest.mark.rustc
@pytest.mark.parametrize("case", CODEGEN, ids=[c.name for c in CODEGEN])
def test_golden_compiles_against_the_runtime(
    case: Path, tmp_path: Path, runtime_cache: Path
) -> None:
    from runtara_build.runtime_lib import ensure_runtime
    from runtara_build.toolchain.detect import detect

    runtime = ensure_runtime(runtime_cache / "runtara-build", detect())
    (tmp_path / "lib.rs").write_text((case / "expected.rs").read_text())
    argv = [
        "/usr/bin/rustc", "--edition", "2021", "--target", "x86_64-unknown-linux-musl",
        "--crate-type", "rlib", "--crate-name", "golden", "--emit=metadata",
        "--extern", f"runtara_runtime={runtime.rlib}", "-L", f"dependency={runtime.deps}",
        "lib.rs",
    ]  # fmt: skip
    proc = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]


@pytest.mark.parametrize("case", FAILING, ids=[c.name for c in FAILING])
def test_failing_golden(case: Path, request: pytest.FixtureRequest) -> None:
    update = bool(request.config.getoption("--update-goldens"))
    found = validate_workflow((case / "scenario.json").read_bytes(), children=_children(case))
    if not any(d.is_error for d in found):
        from runtara_build import BuildError

        with pytest.raises(BuildError) as err:
            _translate(case)
        found = list(err.value.diagnostics)
    text = "\n".join(render(d) for d in found) + "\n"
    rerun = f"pytest tests/test_codegen_cases.py --update-goldens -k {case.name}"
    compare(text, case / "expected.txt", update, rerun)
