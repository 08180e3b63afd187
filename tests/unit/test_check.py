"""`check` orchestration and the public `validate_workflow` API (in process)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import runtara_build
from runtara_build import validate_workflow
from runtara_build.check import Request, check

FINISH: dict[str, Any] = {"steps": {"f": {"stepType": "Finish", "id": "f"}}, "entryPoint": "f"}


def call(
    child: str, version: Any = "latest", mapping: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "steps": {
            "call": {
                "stepType": "StartScenario",
                "id": "call",
                "childScenarioId": child,
                "childVersion": version,
                "inputMapping": mapping or {},
            },
            "f": {"stepType": "Finish", "id": "f"},
        },
        "entryPoint": "call",
        "executionPlan": [{"fromStep": "call", "toStep": "f"}],
    }


def write(root: Path, files: dict[str, Any]) -> Path:
    for name, value in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(value if isinstance(value, str) else json.dumps(value, indent=2))
    return root


def codes(result: Any) -> list[str]:
    return [d.code for d in result.diagnostics]


def test_public_api_is_lazy_and_complete() -> None:
    assert set(runtara_build.__all__) == {
        "BuildError",
        "CompilationInput",
        "CompilationResult",
        "compile_scenario",
        "translate_scenario",
        "workflow_has_side_effects",
        "DependencyGraph",
        "Diagnostic",
        "Label",
        "ScenarioReference",
        "__version__",
        "validate_workflow",
    }
    assert runtara_build.__version__ == "0.1.0"
    assert runtara_build.DependencyGraph.__name__ == "DependencyGraph"
    with pytest.raises(AttributeError):
        runtara_build.nope  # noqa: B018


@pytest.mark.parametrize("form", ["dict", "str", "bytes", "path"])
def test_validate_workflow_accepts_every_form(form: str, tmp_path: Path) -> None:
    text = json.dumps(FINISH)
    doc: Any = {
        "dict": FINISH,
        "str": text,
        "bytes": text.encode(),
        "path": write(tmp_path, {"w.json": text}) / "w.json",
    }[form]
    assert validate_workflow(doc) == []


def test_validate_workflow_children() -> None:
    parent = call("leaf")
    assert [d.code for d in validate_workflow(parent)] == ["E057"]
    assert validate_workflow(parent, children={"leaf": FINISH}) == []
    (diag,) = validate_workflow(parent, children={"lef": FINISH})
    assert (diag.code, diag.hint, diag.location.file) == (
        "E057",
        'did you mean "lef"?',
        "scenario.json",
    )
    cyclic = validate_workflow(parent, children={"leaf": call("leaf")})
    assert [(d.code, d.location.file) for d in cyclic] == [("E056", "children/leaf.json")]


def test_validate_workflow_never_raises_for_bad_input(tmp_path: Path) -> None:
    assert [d.code for d in validate_workflow("{")] == ["E000"]
    assert [d.code for d in validate_workflow(b"\xff")] == ["E000"]
    assert [d.code for d in validate_workflow({"x": {1, 2}})] == ["E000"]
    assert [d.code for d in validate_workflow(tmp_path / "missing.json")] == ["RB023"]
    assert [d.code for d in validate_workflow("\ud800")] == ["E000"]


def test_strict_turns_e054_into_an_error() -> None:
    parent = call("leaf", mapping={"x": {"valueType": "immediate", "value": 1}})
    relaxed = validate_workflow(parent, children={"leaf": FINISH})
    strict = validate_workflow(parent, children={"leaf": FINISH}, strict=True)
    assert [(d.code, d.severity) for d in relaxed] == [("E054", "warning")]
    assert [(d.code, d.severity) for d in strict] == [("E054", "error")]


def test_each_document_is_validated_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad_leaf = {"steps": {"f": {"stepType": "Finish", "id": "f"}}, "entryPoint": "nope"}
    write(tmp_path, {"a.json": call("leaf"), "b.json": call("leaf", 3), "c/leaf.json": bad_leaf})
    monkeypatch.chdir(tmp_path)
    result = check(Request(("a.json", "b.json", "./a.json"), "c"), cwd=tmp_path)
    assert result.documents == 3
    assert codes(result).count("E001") == 1
    assert not result.ok and result.errors == 1 and result.warnings == 0


def _workspace(tmp_path: Path, files: dict[str, Any]) -> Path:
    return write(tmp_path, {"WORKSPACE": "", **files})


def test_workspace_problems_do_not_hide_each_other(tmp_path: Path) -> None:
    root = _workspace(
        tmp_path,
        {
            "acme/broken/scenario.json": FINISH,
            "acme/broken/BUILD.toml": "versoin = 1\n",
            "acme/caller/scenario.json": call("nobody"),
            "acme/fine/scenario.json": FINISH,
        },
    )
    result = check(Request(), cwd=root)
    assert codes(result) == ["RB011", "E057"]
    assert [d.location.file for d in result.diagnostics] == [
        "acme/broken/BUILD.toml",
        "acme/caller/scenario.json",
    ]
    assert len(result.roots) == 2


def test_undeclared_variable_override_is_rb014(tmp_path: Path) -> None:
    graph = dict(FINISH, variables={"limit": {"type": "integer", "value": 1}})
    root = _workspace(
        tmp_path,
        {
            "acme/a/scenario.json": graph,
            "acme/a/BUILD.toml": "[variables]\nlimit = 5\nlimt = 6\n",
        },
    )
    result = check(Request(("//acme/a",)), cwd=root)
    (diag,) = result.diagnostics
    assert (diag.code, diag.location.file, diag.location.line) == ("RB014", "acme/a/BUILD.toml", 3)
    ref = result.roots[0]
    assert ref.variables == (("limit", 5), ("limt", 6))


def test_duplicate_ids_are_reported_without_a_caller(tmp_path: Path) -> None:
    root = _workspace(
        tmp_path,
        {
            "acme/a/scenario.json": FINISH,
            "acme/b/scenario.json": FINISH,
            "acme/b/BUILD.toml": 'scenario_id = "a"\n',
        },
    )
    assert codes(check(Request(("//acme/a",)), cwd=root)) == ["RB015"]


def test_workspace_children_versions_and_cycles(tmp_path: Path) -> None:
    root = _workspace(
        tmp_path,
        {
            "acme/app/scenario.json": call("lib", 1),
            "acme/lib/scenario.json": call("app"),
            "acme/lib/versions/1.json": FINISH,
        },
    )
    assert codes(check(Request(("//acme/app",)), cwd=root)) == []
    assert codes(check(Request(("//acme/lib",)), cwd=root)) == []  # lib → app → lib@1
    write(root, {"acme/lib/versions/1.json": call("app")})
    (diag,) = check(Request(("//acme/...",)), cwd=root).diagnostics
    assert diag.code == "E056"
    assert "//acme/app → //acme/lib@1 → //acme/app" in diag.message


def test_escaping_child_is_rb022_and_e057(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"scenario.json": FINISH})
    root = _workspace(tmp_path / "ws", {"acme/app/scenario.json": call("evil")})
    os.symlink(outside, root / "acme" / "evil")
    found = codes(check(Request(("//acme/app",)), cwd=root))
    assert "RB022" in found and "E057" in found
