"""The real console script, end to end: exit codes 0/1/2/70, help, outputs, file mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.binaries import without_runtara

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "workspace"
SCRIPT = Path(sys.executable).with_name("runtara-build")
FINISH = {"steps": {"f": {"stepType": "Finish", "id": "f"}}, "entryPoint": "f"}
DIAGNOSTIC_KEYS = ["file", "line", "column", "pointer", "code", "severity", "message", "hint"]


def run(
    *args: str, cwd: Path = REPO, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    clean = without_runtara()
    result = subprocess.run(
        [str(SCRIPT), *args],
        cwd=cwd,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 70:
        assert "Traceback" not in result.stderr, result.stderr
    return result


def call(child: str, version: Any = "latest") -> dict[str, Any]:
    return {
        "steps": {
            "call": {
                "stepType": "StartScenario",
                "id": "call",
                "childScenarioId": child,
                "childVersion": version,
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


# --------------------------------------------------------------------------- help and usage


@pytest.mark.parametrize("args", [["--help"], ["check", "--help"], ["query", "--help"], ["-h"]])
def test_help_on_every_command(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 0
    assert result.stdout.startswith("usage: runtara-build")


def test_top_level_help_lists_the_commands() -> None:
    out = run("--help").stdout
    assert "check" in out and "query" in out and "--debug" in out


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["frobnicate"],
        ["check", "--frob"],
        ["check", "x.json", "--child", "no-equals-sign"],
        ["check", "x.json", "--child", "=path"],
        ["check", "--output=yaml"],
        ["query", "deps"],
        ["query", "sideways", "//a/b"],
        ["query", "somepath", "//a/b"],
        ["query", "allpaths", "//a/b", "//a/c", "//a/d"],
        ["query", "deps", "//a/b", "--output=xml"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    if args:
        assert "error[RB030]" in result.stderr


def test_cli_import_is_cheap() -> None:
    code = (
        "import sys, runtara_build.cli; print('pydantic' in sys.modules, 'networkx' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# --------------------------------------------------------------------------- internal errors


def _crashing_env(tmp_path: Path) -> dict[str, str]:
    hook = tmp_path / "hook"
    write(
        hook,
        {
            "sitecustomize.py": (
                "import runtara_build.cli as cli\n"
                "def boom(args):\n"
                "    raise RuntimeError('simulated bug')\n"
                "old = cli.COMMANDS['check']\n"
                "cli.COMMANDS['check'] = cli.Command(old.help, old.arguments, boom)\n"
            )
        },
    )
    return {"PYTHONPATH": str(hook)}


def test_internal_error_exits_70_naming_the_tracker(tmp_path: Path) -> None:
    result = run("check", cwd=EXAMPLE, env=_crashing_env(tmp_path))
    assert result.returncode == 70
    assert "error[RB399]" in result.stderr
    assert "simulated bug" in result.stderr
    assert "issue tracker" in result.stderr
    assert "bug in runtara-build" in result.stderr
    assert "Traceback" not in result.stderr


def test_debug_prints_the_traceback(tmp_path: Path) -> None:
    for args in (["--debug", "check"], ["check", "--debug"]):
        result = run(*args, cwd=EXAMPLE, env=_crashing_env(tmp_path))
        assert result.returncode == 70
        assert "Traceback" in result.stderr and "error[RB399]" in result.stderr


# --------------------------------------------------------------------------- check


def test_check_example_workspace_is_clean() -> None:
    result = run("check", cwd=EXAMPLE)
    assert result.returncode == 0, result.stderr
    assert "0 error(s), 0 warning(s)" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    "targets", [["//..."], ["//acme/..."], ["//acme/orders:src", "//globex/greeter"]]
)
def test_check_example_targets(targets: list[str]) -> None:
    result = run("check", *targets, "--output=json", cwd=EXAMPLE / "acme")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_check_json_schema(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"bad.json": {"steps": {"f": {"stepType": "Finish", "id": "f"}}, "entryPoint": "x"}},
    )
    result = run("check", "bad.json", "--output=json", cwd=tmp_path)
    assert result.returncode == 1
    diagnostics = json.loads(result.stdout)
    assert diagnostics and all(list(d) == DIAGNOSTIC_KEYS for d in diagnostics)
    first = diagnostics[0]
    assert first["file"] == "bad.json"
    assert first["severity"] == "error"
    assert isinstance(first["line"], int) and isinstance(first["column"], int)
    assert not first["pointer"].startswith("#")


def test_check_text_diagnostics(tmp_path: Path) -> None:
    write(tmp_path, {"main.json": call("lef"), "children/leaf.json": FINISH})
    result = run("check", "main.json", "--children", "children", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert (
        'main.json:6:26: error[E057]: child "lef" must resolve to a workflow file, but '
        "children has no lef.json and no --child was given\n"
        "  at #/steps/call/childScenarioId\n"
        '  hint: did you mean "leaf"?\n'
    ) in result.stderr


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    dangling = {"steps": {"l": {"stepType": "Log", "id": "l", "message": "m"}}, "entryPoint": "l"}
    write(tmp_path, {"w.json": dangling})
    result = run("check", "w.json", "--output=json", cwd=tmp_path)
    found = json.loads(result.stdout)
    assert found and {d["severity"] for d in found} == {"warning"}
    assert result.returncode == 0


def test_file_mode_children(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "main.json": call("leaf"),
            "children/leaf.json": call("other", 3),
            "elsewhere/o.json": FINISH,
        },
    )
    bad = run("check", "main.json", "--children", "children", cwd=tmp_path)
    assert bad.returncode == 1 and "E057" in bad.stderr and "children/leaf.json" in bad.stderr
    good = run(
        "check",
        "main.json",
        "--children",
        "children",
        "--child",
        "other=elsewhere/o.json",
        cwd=tmp_path,
    )
    assert good.returncode == 0, good.stderr
    assert "3 document(s)" in good.stderr


def test_file_mode_cycle(tmp_path: Path) -> None:
    write(tmp_path, {"main.json": call("a"), "c/a.json": call("b"), "c/b.json": call("a", 2)})
    result = run("check", "main.json", "--children", "c", cwd=tmp_path)
    assert result.returncode == 1
    assert "error[E056]" in result.stderr and "c/a.json → c/b.json → c/a.json" in result.stderr


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["missing.json"], "RB023"),
        (["."], "RB023"),
        (["x" * 5000 + ".json"], "RB023"),
        (["//../x"], "RB001"),
        (["//acme/orders"], "RB002"),
        (["\u202e\x1b[31m.json"], "RB023"),
    ],
)
def test_bad_targets_are_coded(tmp_path: Path, args: list[str], code: str) -> None:
    result = run("check", *args, "--output=json", cwd=tmp_path)
    assert result.returncode == 1
    assert code in {d["code"] for d in json.loads(result.stdout)}


def test_hostile_text_is_escaped(tmp_path: Path) -> None:
    result = run("check", "\x1b[31mred.json", cwd=tmp_path)
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\\u001b" in result.stderr


def test_bad_workspace_is_exit_1(tmp_path: Path) -> None:
    write(tmp_path, {"WORKSPACE": "[cache\n", "acme/a/scenario.json": FINISH})
    result = run("check", cwd=tmp_path)
    assert result.returncode == 1 and "error[RB005]" in result.stderr


def test_missing_package_and_escape(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"scenario.json": FINISH})
    root = write(tmp_path / "ws", {"WORKSPACE": "", "acme/orders/scenario.json": FINISH})
    os.symlink(outside, root / "acme" / "evil")
    missing = run("check", "//acme/order", cwd=root)
    assert missing.returncode == 1 and 'did you mean "//acme/orders"?' in missing.stderr
    escaped = run("check", "//acme/evil", cwd=root)
    assert escaped.returncode == 1 and "error[RB022]" in escaped.stderr
    everything = run("check", cwd=root)
    assert everything.returncode == 1 and "error[RB022]" in everything.stderr


# --------------------------------------------------------------------------- query


def test_query_label_output() -> None:
    deps = run("query", "deps", "//acme/orders", cwd=EXAMPLE)
    assert deps.returncode == 0, deps.stderr
    assert deps.stdout == "//acme/billing@1\n//acme/orders\n//acme/shipping\n"
    rdeps = run("query", "rdeps", "//acme/billing@1", cwd=EXAMPLE)
    assert rdeps.stdout == "//acme/billing@1\n//acme/orders\n"
    path = run("query", "somepath", "//acme/orders", "//acme/shipping", cwd=EXAMPLE)
    assert path.stdout == "//acme/orders\n//acme/shipping\n"
    none = run("query", "allpaths", "//acme/shipping", "//acme/orders", cwd=EXAMPLE)
    assert (none.returncode, none.stdout) == (0, "")


def test_query_json_output() -> None:
    result = run("query", "deps", "//acme/orders", "--output=json", cwd=EXAMPLE)
    data = json.loads(result.stdout)
    assert list(data) == ["query", "targets", "nodes", "edges"]
    assert (data["query"], data["targets"]) == ("deps", ["//acme/orders"])
    node_keys = ["name", "label", "file", "scenario_id", "tenant", "version", "agents", "children"]
    assert all(list(n) == node_keys for n in data["nodes"])
    assert {(e["from"], e["to"], e["step"]) for e in data["edges"]} == {
        ("//acme/orders", "//acme/billing@1", "invoice"),
        ("//acme/orders", "//acme/shipping", "ship"),
    }
    shipping = next(n for n in data["nodes"] if n["name"] == "//acme/shipping")
    assert shipping["agents"] == ["utils/return-input"]


def test_query_dot_output() -> None:
    result = run(
        "query", "somepath", "//acme/orders", "//acme/shipping", "--output=dot", cwd=EXAMPLE
    )
    assert result.stdout == (
        "digraph runtara {\n"
        '  "//acme/orders";\n'
        '  "//acme/shipping";\n'
        '  "//acme/orders" -> "//acme/shipping" [label="ship"];\n'
        "}\n"
    )


def test_query_file_mode(tmp_path: Path) -> None:
    write(tmp_path, {"main.json": call("leaf"), "children/leaf.json": FINISH})
    result = run("query", "deps", "main.json", "--children", "children", cwd=tmp_path)
    assert result.stdout == "children/leaf.json\nmain.json\n"
    universe = ["--universe", "main.json", "--children", "children"]
    rdeps = run("query", "rdeps", "children/leaf.json", *universe, cwd=tmp_path)
    assert rdeps.stdout == "children/leaf.json\nmain.json\n"


def test_query_errors_exit_1() -> None:
    result = run("query", "deps", "//acme/nope", cwd=EXAMPLE)
    assert (result.returncode, result.stdout) == (1, "")
    assert "error[RB020]" in result.stderr


def test_strict_turns_warnings_e052_e054_into_errors(tmp_path: Path) -> None:
    mapping = {"x": {"valueType": "immediate", "value": 1}}
    parent = call("leaf")
    parent["steps"]["call"]["inputMapping"] = mapping
    write(tmp_path, {"main.json": parent, "leaf.json": FINISH})
    relaxed = run("check", "main.json", "--child", "leaf=leaf.json", cwd=tmp_path)
    assert relaxed.returncode == 0 and "warning[E054]" in relaxed.stderr
    strict = run("check", "main.json", "--child", "leaf=leaf.json", "--strict", cwd=tmp_path)
    assert strict.returncode == 1 and "error[E054]" in strict.stderr
